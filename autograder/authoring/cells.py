"""Small builders for nbgrader cells, used when writing or editing source notebooks.

A source notebook in ``solutions/`` is the one source of an assignment; these helpers only save
typing the nbgrader metadata by hand (and keep it uniform across chapters).
"""

from __future__ import annotations

from collections.abc import Iterable

import nbformat
from nbformat import NotebookNode

from autograder.authoring.colab import setup_cell

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: int = 0) -> dict:
    meta = {
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "grade_id": grade_id,
        "schema_version": 3,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def _cell(kind: str, source: str, grade_id: str, **flags) -> NotebookNode:
    maker = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
    cell = maker(source.strip("\n"))
    cell.id = grade_id.replace("_", "-")
    cell.metadata["nbgrader"] = _meta(grade_id, **flags)
    return cell


def text(source: str, grade_id: str) -> NotebookNode:
    """Locked markdown: instructions the student cannot edit."""
    return _cell("md", source, grade_id, grade=False, solution=False, locked=True)


def code(source: str, grade_id: str) -> NotebookNode:
    """Locked code the student runs but does not change (imports, model loading, demos)."""
    return _cell("code", source, grade_id, grade=False, solution=False, locked=True)


def scratch(source: str, grade_id: str) -> NotebookNode:
    """Free code cell for the student to experiment (ungraded, not locked)."""
    cell = nbformat.v4.new_code_cell(source.strip("\n"))
    cell.id = grade_id.replace("_", "-")
    return cell


def solution(source: str, grade_id: str) -> NotebookNode:
    """Autograded answer cell: code between ``### BEGIN SOLUTION`` / ``### END SOLUTION``."""
    return _cell("code", source, grade_id, grade=False, solution=True, locked=False)


def tests(source: str, grade_id: str, points: int) -> NotebookNode:
    """Locked test cell worth ``points``; may contain ``### BEGIN HIDDEN TESTS`` blocks."""
    return _cell("code", source, grade_id, grade=True, solution=False, locked=True, points=points)


def notebook(cells: Iterable[NotebookNode]) -> NotebookNode:
    """A source notebook: the Colab setup cell first, then ``cells``."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [setup_cell(), *cells]
    nb.cells[0].id = "colab-setup"
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    return nb
