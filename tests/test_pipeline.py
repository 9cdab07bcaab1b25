"""The nbgrader pipeline holds: (a) no leaks, (b) no drift, (c) solutions score full marks,
(d) untouched exercises score zero. Each check is also run on a deliberately broken copy to show
that it can fail (a test of the test)."""

from __future__ import annotations

import ast
import importlib
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.authoring.checks import leaks, tree_differences, unexecuted_problems
from autograder.authoring.generate import generate_exercises
from autograder.course import CourseLayout, graded_parts
from autograder.grading.pipeline import autograde, solved_notebook
from funlm.answer_keys import is_answer_key

COURSE = CourseLayout.find()  # this checkout (tests/conftest.py sets FUNLM_COURSE)
SOLUTIONS_DIR, EXERCISES_DIR = COURSE.solutions, COURSE.exercises
ASSIGNMENTS = COURSE.assignments()  # derived from solutions/: a new chapter is picked up
REFERENCE = "ch00_orientation"  # the assignment used for the broken-copy tests


def _notebook(folder: Path, name: str) -> Path:
    return folder / name / f"{name}.ipynb"


ASSIGNMENT_NAME = re.compile(r"ch(\d\d)_[a-z0-9]+(?:_[a-z0-9]+)*")


def test_every_assignment_name_follows_the_contract():
    # chNN_<topic>, one assignment per chapter number, released, and named in the README's
    # chapter table: the list itself is never written down in a test.
    assert REFERENCE in ASSIGNMENTS
    numbers = [ASSIGNMENT_NAME.fullmatch(name) for name in ASSIGNMENTS]
    assert all(numbers), [n for n, m in zip(ASSIGNMENTS, numbers, strict=True) if not m]
    assert len({m.group(1) for m in numbers}) == len(ASSIGNMENTS), "two assignments per chapter"
    assert sorted(p.name for p in EXERCISES_DIR.iterdir() if p.is_dir()) == ASSIGNMENTS
    readme = (COURSE.root / "README.md").read_text(encoding="utf-8")
    assert [n for n in ASSIGNMENTS if f"`{n}`" not in readme] == [], "add it to README's table"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_assignment_has_five_or_more_graded_parts_worth_100(name):
    parts = graded_parts(nbformat.read(_notebook(SOLUTIONS_DIR, name), as_version=4))
    assert len(parts) >= 5, f"{name}: {len(parts)} graded parts: {sorted(parts)}"
    assert sum(parts.values()) == 100, parts
    assert all(points > 0 for points in parts.values()), parts


def test_the_name_check_rejects_names_outside_the_contract():
    for bad in ("ch7_agents", "ch07-agents", "ch07_Agents", "chapter07_agents", "ch07_"):
        assert ASSIGNMENT_NAME.fullmatch(bad) is None, bad
    assert ASSIGNMENT_NAME.fullmatch("ch08_multimodal_lm")


# (a) no solution code, markers or outputs -------------------------------------------------


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_exercises_contain_no_solutions_or_outputs(name):
    for exercise in sorted((EXERCISES_DIR / name).glob("*.ipynb")):
        assert leaks(exercise, SOLUTIONS_DIR / name / exercise.name) == []


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solutions_are_committed_without_outputs(name):
    for notebook in sorted((SOLUTIONS_DIR / name).glob("*.ipynb")):
        assert unexecuted_problems(notebook) == []


_REFERENCE_ALIAS = re.compile(r"\b(?:import|as)\s+(?:ref|reference)_\w+")


def _answer_keys_imported(source: str) -> list[str]:
    """``module.name`` of every funlm answer key (or class holding one) a cell imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("funlm"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                obj = getattr(module, alias.name, None)
                members = vars(obj).values() if isinstance(obj, type) else ()
                if is_answer_key(obj) or any(is_answer_key(m) for m in members):
                    found.append(f"{node.module}.{alias.name}")
    return found


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_exercises_hand_out_no_reference_implementations(name):
    notebook = nbformat.read(_notebook(EXERCISES_DIR, name), as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    aliases = [m.group(0) for c in code for m in _REFERENCE_ALIAS.finditer(c.source)]
    assert aliases == [], "reference implementations imported under ref_/reference_ names"
    imports = next(c for c in code if c.metadata.get("nbgrader", {}).get("grade_id") == "imports")
    assert _answer_keys_imported(imports.source) == [], "the imports cell hands out answer keys"


def test_the_reference_check_catches_a_handed_out_answer_key():
    assert _answer_keys_imported("from funlm.gpt3.sampling import next_token_distribution") == [
        "funlm.gpt3.sampling.next_token_distribution"
    ]
    assert _answer_keys_imported("from funlm.models.gpt import GPT, GPTConfig") == [
        "funlm.models.gpt.GPT"
    ]
    assert _answer_keys_imported("import numpy as np\nfrom funlm.grading import check") == []
    assert _REFERENCE_ALIAS.search("from funlm.prompt_eng import templates as ref_templates")


def _broken_exercise(tmp_path: Path, how: str) -> Path:
    exercise = nbformat.read(_notebook(EXERCISES_DIR, REFERENCE), as_version=4)
    solution = nbformat.read(_notebook(SOLUTIONS_DIR, REFERENCE), as_version=4)
    if how == "solution_code":
        # what a broken generator might do: release the source cell unchanged
        solution_cells = [
            c for c in solution.cells if c.metadata.get("nbgrader", {}).get("solution")
        ]
        text = solution_cells[0].source
        text = "\n".join(line for line in text.splitlines() if "SOLUTION" not in line)
        exercise.cells.append(nbformat.v4.new_code_cell(text))
    elif how == "marker":
        exercise.cells.append(nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nassert True"))
    elif how == "output":
        cell = next(c for c in exercise.cells if c.cell_type == "code")
        cell.outputs = [nbformat.v4.new_output("stream", text="stale output\n")]
    path = tmp_path / f"{REFERENCE}.ipynb"
    nbformat.write(exercise, path)
    return path


@pytest.mark.parametrize("how", ["solution_code", "marker", "output"])
def test_leak_check_catches_a_broken_exercise(tmp_path, how):
    broken = _broken_exercise(tmp_path, how)
    assert leaks(broken, _notebook(SOLUTIONS_DIR, REFERENCE)) != []


# (b) the committed exercises equal a fresh generation ---------------------------------------


@pytest.fixture(scope="module")
def fresh_exercises(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("fresh-exercises")
    generate_exercises(dest, tmp_path_factory.mktemp("nbgrader-work"))
    return dest


def test_committed_exercises_equal_a_fresh_generation(fresh_exercises):
    assert tree_differences(fresh_exercises, EXERCISES_DIR) == [], "run `make exercises`"


def test_drift_check_catches_an_edited_exercise(fresh_exercises, tmp_path):
    drifted = tmp_path / "exercises"
    shutil.copytree(EXERCISES_DIR, drifted)
    path = _notebook(drifted, REFERENCE)
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[-1].source += "\n(edited by hand)"
    nbformat.write(notebook, path)
    assert tree_differences(fresh_exercises, drifted) == [f"differs: {REFERENCE}/{path.name}"]
    path.unlink()
    assert tree_differences(fresh_exercises, drifted) == [f"missing: {REFERENCE}/{path.name}"]


# (c) solutions get full marks, (d) untouched exercises get zero ------------------------------
# Graded by `funlm-grade` itself (autograder.grading.pipeline.autograde -> grading.cli.run): the
# sandbox, the guard kernel and the evidence check that grade students grade these too, so a
# solution that loses points (or earns a note in the reason column) under the real grader
# fails here.


class _LazyGrades(dict):
    """Grades an assignment's solved exercise and untouched exercise on first use, in one
    `funlm-grade` batch of two workers, then caches. Lazy so that ``pytest -k ch01`` grades
    only chapter 1."""

    def __init__(self, factory) -> None:
        super().__init__()
        self._factory = factory

    def __missing__(self, name: str):
        work = self._factory.mktemp(f"grade-{name}")
        submissions = {
            "solution": solved_notebook(name),
            "untouched": _notebook(EXERCISES_DIR, name),
        }
        self[name] = autograde(name, submissions, work, workers=2)
        return self[name]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, small_lm):
    """Each assignment's solution and untouched exercise, graded once (grade profile)."""
    return _LazyGrades(tmp_path_factory)


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_scores_full_marks_with_a_clean_reason(graded, name):
    result = graded[name]["solution"]
    assert result.max_score == 100
    failed = {part: got for part, (got, top) in result.parts.items() if got != top}
    assert failed == {}, result.reason
    assert result.score == result.max_score
    assert (result.status, result.reason) == ("ok", "")


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_untouched_exercise_scores_zero_without_crashing_the_grader(graded, name):
    result = graded[name]["untouched"]
    assert result.max_score == 100
    assert result.score == 0, result.parts
    assert result.status == "ok"
    # nothing but unanswered parts: no crash, no blocked call, no integrity note
    assert result.reason == "", result.reason


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_untouched_feedback_says_the_answer_is_missing(graded, name):
    html = graded[name]["untouched"].feedback.read_text(encoding="utf-8")
    assert "아직 답을 작성하지 않았습니다" in html


def test_solved_notebook_is_the_release_with_the_reference_answers():
    solved = solved_notebook(REFERENCE)
    release = nbformat.read(_notebook(EXERCISES_DIR, REFERENCE), as_version=4)
    assert [c.metadata for c in solved.cells] == [c.metadata for c in release.cells]
    answers = [c.source for c in solved.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and not any("NotImplementedError" in a or "### " in a for a in answers)
    assert "return len(tokenizer.encode(text, add_special_tokens=False))" in answers[0]


def _edit_source(tmp_path: Path, grade_id: str, edit) -> Path:
    """A copy of the reference assignment's source with one cell edited."""
    source = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS_DIR / REFERENCE, source / REFERENCE)
    path = _notebook(source, REFERENCE)
    notebook = nbformat.read(path, as_version=4)
    cell = next(
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )
    cell.source = edit(cell.source)
    nbformat.write(notebook, path)
    return source


@pytest.mark.slow
def test_full_marks_check_catches_a_wrong_solution(tmp_path, small_lm):
    # counting characters instead of tokens must lose exactly part 1's 20 points
    source = _edit_source(
        tmp_path,
        "count_tokens",
        lambda s: s.replace(
            "return len(tokenizer.encode(text, add_special_tokens=False))", "return len(text)"
        ),
    )
    wrong = solved_notebook(REFERENCE, source=source)
    result = autograde(REFERENCE, {"wrong": wrong}, tmp_path / "work", source=source)["wrong"]
    assert result.score == result.max_score - 20
    assert result.parts["test_count_tokens"] == (0.0, 20.0)


@pytest.mark.slow
def test_zero_check_catches_a_test_that_cannot_fail(tmp_path, small_lm):
    # a test cell that never calls the student's code gives an untouched exercise points
    source = _edit_source(tmp_path, "test_count_tokens", lambda s: "passed('always')")
    work = tmp_path / "work"
    generate_exercises(tmp_path / "exercises", tmp_path / "gen", source=source)
    untouched = _notebook(tmp_path / "exercises", REFERENCE)
    result = autograde(REFERENCE, {"untouched": untouched}, work, source=source)["untouched"]
    assert result.score == 20
