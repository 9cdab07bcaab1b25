"""The hostile suite: cheating and broken ch00 submissions, graded in one sandboxed batch.

Every case must get exactly the score it earned, the status and a recorded reason; none may
earn points it did not earn; nothing outside a submission's scratch folder may change.
"""

from __future__ import annotations

import csv
import hashlib
import html
import re
from pathlib import Path

import nbformat
import pytest

from autograder.benches import hostile
from autograder.grading import cli as grade
from autograder.grading.sandbox import bwrap_problem

CASES = hostile.cases()
README = hostile.course().root / "README.md"


@pytest.fixture(scope="module")
def batch(tmp_path_factory, small_lm):
    if bwrap_problem():
        pytest.skip(f"no sandbox here: {bwrap_problem()} (run autograder/ensure_system_deps.sh)")
    tmp = tmp_path_factory.mktemp("hostile")
    out = tmp / "out"
    canary = tmp / "canary.txt"
    canary.write_text("must survive")
    readme_hash = hashlib.sha256(README.read_bytes()).hexdigest()
    hostile.write(tmp / "subs", hostile.Context(out=out, canary=canary))
    argv = ["ch00_orientation", str(tmp / "subs"), "--out", str(out)]
    argv += ["--workers", "2", "--timeout", "60", "--memory-mb", "4096"]
    code = grade.run(argv)
    with (out / "grades.csv").open(encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    return {
        "code": code,
        "rows": rows,
        "out": out,
        "canary": canary,
        "readme_same": hashlib.sha256(README.read_bytes()).hexdigest() == readme_hash,
    }


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case_is_graded_correctly(batch, case):
    row = batch["rows"][hostile.student_id(case)]
    assert not hostile.escaped(case, row), row
    assert hostile.judge(case, row) == [], row


@pytest.mark.slow
def test_the_batch_finishes_and_nothing_outside_the_scratch_changed(batch):
    assert batch["code"] == 0
    assert len(batch["rows"]) == len(CASES)
    assert batch["canary"].read_text() == "must survive"
    assert batch["readme_same"]
    assert not Path("/etc/funlm-evil").exists()
    assert "pwned" not in (batch["out"] / "grades.csv").read_text()
    assert hostile.course().source_notebook(hostile.ASSIGNMENT).is_file()


@pytest.mark.slow
def test_feedback_shows_korean_hints(batch):
    for case in CASES:
        assert (batch["out"] / "feedback" / f"{hostile.student_id(case)}.html").is_file()
    partial = (batch["out"] / "feedback" / "partial.html").read_text(encoding="utf-8")
    assert "힌트" in partial and "assistant" in partial


def _feedback_text(batch, student: str) -> str:
    """The feedback page as a reader sees it (tags removed, entities decoded)."""
    raw = (batch["out"] / "feedback" / f"{student}.html").read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def _hidden_lines() -> list[str]:
    """Distinctive lines of the assignment's hidden tests (none that the notebook shows
    elsewhere, e.g. in a reference answer the submission contains anyway)."""
    notebook = nbformat.read(hostile.course().source_notebook(hostile.ASSIGNMENT), as_version=4)
    hidden, shown, hiding = [], [], False
    for cell in notebook.cells:
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                hiding = True
            elif "END HIDDEN TESTS" in line:
                hiding = False
            else:
                (hidden if hiding else shown).append(line.strip())
    public = "\n".join(shown)
    return [line for line in hidden if len(line) >= 20 and line not in public]


@pytest.mark.slow
def test_feedback_shows_a_failed_hidden_test_but_never_its_source(batch):
    text = _feedback_text(batch, "visible-only")
    # the failed hidden test: its hint and its points are shown ...
    assert "영어 문장의 토큰 수가 다릅니다" in text
    assert "숨은 테스트 (test_count_tokens, 20점)" in text
    # ... its code is not, nor that of any other hidden test
    hidden = _hidden_lines()
    assert len(hidden) > 10
    assert [line for line in hidden if line in text] == []
    assert "BEGIN HIDDEN TESTS" not in text


@pytest.mark.slow
def test_feedback_says_what_is_unanswered_and_how_to_get_a_regrade(batch):
    untouched = _feedback_text(batch, "untouched")
    assert untouched.count("아직 답을 작성하지 않았습니다") == len(hostile.points())
    tampered = _feedback_text(batch, "patch-grading")
    assert "채점 환경이 바뀌어" in tampered and "다시 채점할 수 있습니다" in tampered
    tripwire = _feedback_text(batch, "tamper-tripwire")
    assert "funlm.answer_keys._ARMED" in tripwire
