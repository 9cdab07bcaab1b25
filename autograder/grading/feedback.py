"""Feedback preprocessor: a student's feedback never shows the source of hidden tests.

nbgrader's ``generate_feedback`` renders the autograded notebook, whose test cells hold the
gradebook's full source, hidden tests included. :class:`HideHiddenTests` runs first in the
feedback chain and replaces every hidden block of a test cell with one comment that names the
test and its points; the cell's output (the Korean hint of a failed check, trimmed to one line
by :class:`autograder.grading.evidence.VerifyEvidence`) and its score stay.
"""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbgrader import utils as nbutils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

HIDDEN_NOTE = (
    "# 숨은 테스트 ({grade_id}, {points:g}점): 채점할 때만 실행되며 코드는 공개하지 않습니다. "
    "실패했다면 아래 힌트를 보세요. (hidden tests: source not shown)"
)


def hide_hidden_tests(source: str, note: str, begin: str, end: str) -> str:
    """``source`` with every ``begin``…``end`` block (markers included) replaced by ``note``.

    An unterminated block hides everything after its ``begin`` line.
    """
    lines: list[str] = []
    hiding = False
    for line in source.splitlines():
        if not hiding and begin in line:
            hiding = True
            lines.append(line[: len(line) - len(line.lstrip())] + note)
        elif hiding and end in line:
            hiding = False
        elif not hiding:
            lines.append(line)
    return "\n".join(lines)


class HideHiddenTests(NbGraderPreprocessor):
    """Replace the hidden blocks of graded test cells with a short note (feedback only)."""

    begin_test_delimeter = Unicode(
        "BEGIN HIDDEN TESTS", help="The delimiter marking the start of hidden tests"
    ).tag(config=True)
    end_test_delimeter = Unicode(
        "END HIDDEN TESTS", help="The delimiter marking the end of hidden tests"
    ).tag(config=True)

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict, index: int
    ) -> tuple[NotebookNode, dict]:
        if cell.cell_type == "code" and nbutils.is_grade(cell) and not nbutils.is_solution(cell):
            meta = cell.metadata.get("nbgrader", {})
            note = HIDDEN_NOTE.format(
                grade_id=meta.get("grade_id", "?"), points=float(meta.get("points", 0) or 0)
            )
            cell.source = hide_hidden_tests(
                cell.source, note, self.begin_test_delimeter, self.end_test_delimeter
            )
        return cell, resources


__all__ = ["HIDDEN_NOTE", "HideHiddenTests", "hide_hidden_tests"]
