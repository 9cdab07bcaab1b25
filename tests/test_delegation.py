"""No reference loophole: an answer cell that only hands the work to the matching ``funlm``
function (the part's answer key) scores 0 for that part under the real grader.

Every ``tests/delegation/<assignment>.py`` is discovered (one per assignment, written by the
chapter's engineer) and must define

- ``CASES: dict[str, str]``: answer cell grade_id -> the source of an answer cell that only
  delegates to funlm (same function signatures);
- ``ZERO_PARTS: list[str]``: the grade_ids of the test cells that must then score 0;
- optionally ``HINTS: dict[str, str]``: test grade_id -> text its failure message must contain
  (shows the part was zeroed by the tripwire, not by some unrelated error).

The submission is the solved exercise (reference answers everywhere) with those answer cells
replaced; it is graded through ``funlm-grade`` (sandbox, guard kernel, evidence), so every
other part must keep full marks.
"""

from __future__ import annotations

import nbformat
import pytest
from submission_cases import case_assignments, grade_id, load_cases

from autograder.course import CourseLayout
from autograder.grading.pipeline import autograde, solved_notebook, solved_notebook_with

ASSIGNMENTS = case_assignments("delegation")


def test_every_delegation_module_is_well_formed():
    known = set(CourseLayout.find().assignments())
    assert ASSIGNMENTS, "no tests/delegation/*.py found"
    for name in ASSIGNMENTS:
        module = load_cases("delegation", name)
        assert name in known, f"tests/delegation/{name}.py names no assignment"
        assert module.CASES and module.ZERO_PARTS, name
        assert set(getattr(module, "HINTS", {})) <= set(module.ZERO_PARTS), name


def test_the_submission_builder_replaces_only_the_named_answer_cells():
    name = ASSIGNMENTS[0]
    cases = load_cases("delegation", name).CASES
    built = solved_notebook_with(name, cases)
    solved = solved_notebook(name)
    for before, after in zip(solved.cells, built.cells, strict=True):
        expected = cases.get(grade_id(before), before.source)
        assert after.source == expected
        assert after.metadata == before.metadata


@pytest.fixture(scope="module")
def graded(tmp_path_factory, small_lm):
    cache: dict = {}

    def grade(name: str):
        if name not in cache:
            module = load_cases("delegation", name)
            submission = solved_notebook_with(name, module.CASES)
            work = tmp_path_factory.mktemp(f"delegation-{name}")
            cache[name] = (module, autograde(name, {"delegates": submission}, work)["delegates"])
        return cache[name]

    return grade


def _failure_messages(result) -> dict[str, str]:
    """grade_id -> the text of the test cell's error output in the autograded notebook."""
    (path,) = sorted(result.autograded.glob("*.ipynb"))
    notebook = nbformat.read(path, as_version=4)
    messages = {}
    for cell in notebook.cells:
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if grade_id(cell) and errors:
            messages[grade_id(cell)] = " ".join(f"{o.ename}: {o.evalue}" for o in errors)
    return messages


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_delegating_answers_score_zero_and_nothing_else_changes(graded, name):
    module, result = graded(name)
    zero = set(module.ZERO_PARTS)
    assert zero <= set(result.parts), f"unknown test cells: {sorted(zero - set(result.parts))}"
    scored = {part: got for part, (got, _) in result.parts.items()}
    assert {p: scored[p] for p in zero} == {p: 0.0 for p in zero}, result.reason
    kept = {p: got for p, (got, top) in result.parts.items() if p not in zero and got != top}
    assert kept == {}, f"parts without delegation lost points: {kept}; {result.reason}"
    assert result.status == "ok"
    messages = _failure_messages(result)
    for part, text in getattr(module, "HINTS", {}).items():
        assert text in messages.get(part, ""), (part, messages.get(part))
