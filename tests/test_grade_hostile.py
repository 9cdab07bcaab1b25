"""The hostile suite: cheating and broken ch00 submissions, graded in one sandboxed batch.

Every case must get exactly the score it earned, the status and a recorded reason; none may
earn points it did not earn; nothing outside a submission's scratch folder may change.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from autograder import grade, hostile
from autograder.sandbox import bwrap_problem

CASES = hostile.cases()
README = hostile.SOLUTIONS_DIR.parent / "README.md"


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
    assert (hostile.SOLUTIONS_DIR / hostile.ASSIGNMENT / f"{hostile.ASSIGNMENT}.ipynb").is_file()


@pytest.mark.slow
def test_feedback_shows_korean_hints(batch):
    for case in CASES:
        assert (batch["out"] / "feedback" / f"{hostile.student_id(case)}.html").is_file()
    partial = (batch["out"] / "feedback" / "partial.html").read_text(encoding="utf-8")
    assert "힌트" in partial and "assistant" in partial
