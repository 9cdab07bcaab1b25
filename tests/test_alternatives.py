"""Correct work written differently from the reference solution gets full marks through the
real grader (``funlm-grade``: sandbox, guard kernel, evidence check), with a clean reason column.

Every ``tests/alternatives/<assignment>.py`` is discovered and defines
``CASES: dict[str, str]``: answer cell grade_id -> the source of a correct answer cell written
another way than the solution (other APIs, loops instead of vectorised code, helper functions,
different numerics within the stated tolerance). All of an assignment's cases go into one
submission (the solved exercise with those cells replaced), graded once.
"""

from __future__ import annotations

import pytest
from submission_cases import case_assignments, grade_id, load_cases

from autograder.course import CourseLayout
from autograder.grading.pipeline import autograde, solved_notebook, solved_notebook_with

ASSIGNMENTS = case_assignments("alternatives")


def test_every_alternatives_module_names_an_assignment_and_its_answer_cells():
    known = set(CourseLayout.find().assignments())
    assert ASSIGNMENTS, "no tests/alternatives/*.py found"
    assert sorted(known - set(ASSIGNMENTS)) == [], (
        "every assignment needs tests/alternatives/<it>.py"
    )
    for name in ASSIGNMENTS:
        assert name in known, f"tests/alternatives/{name}.py names no assignment"
        cases = load_cases("alternatives", name).CASES
        assert cases, name
        solved_notebook_with(name, cases)  # raises on unknown answer cells
    with pytest.raises(ValueError, match="not answer cells"):
        solved_notebook_with(ASSIGNMENTS[0], {"no_such_cell": "pass"})


def test_the_alternatives_differ_from_the_reference_answers():
    for name in ASSIGNMENTS:
        solved = {grade_id(c): c.source for c in solved_notebook(name).cells}
        same = [
            gid
            for gid, source in load_cases("alternatives", name).CASES.items()
            if source == solved[gid]
        ]
        assert same == [], f"{name}: alternatives identical to the solution: {same}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_correct_work_written_differently_gets_full_marks(tmp_path, small_lm, name):
    submission = solved_notebook_with(name, load_cases("alternatives", name).CASES)
    result = autograde(name, {"alternative": submission}, tmp_path)["alternative"]
    lost = {part: (got, top) for part, (got, top) in result.parts.items() if got != top}
    assert lost == {}, f"correct alternative answers lost points: {lost}; {result.reason}"
    assert result.score == result.max_score == 100
    assert result.status == "ok" and result.reason == "", result.reason
