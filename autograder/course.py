"""The course's nbgrader pipeline, driven through nbgrader's Python API.

Everything runs in a throw-away nbgrader course directory whose ``source`` is the repository's
``solutions/`` folder, so the repository itself never receives a gradebook or stray files.
Grading (:func:`autograde`) always goes through ``funlm-grade`` (:mod:`autograder.grade`): the
pipeline tests, ``make bench`` and a class of students are graded by the same engine.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config, PyFileConfigLoader

REPO_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS_DIR = REPO_ROOT / "solutions"
EXERCISES_DIR = REPO_ROOT / "exercises"
CONFIG_FILE = Path(__file__).resolve().parent / "nbgrader_config.py"


class PipelineError(RuntimeError):
    """An nbgrader step failed; the message carries nbgrader's log."""


@dataclass(frozen=True)
class GradeResult:
    """One autograded submission."""

    student_id: str
    assignment: str
    score: float
    max_score: float
    parts: dict[str, tuple[float, float]] = field(default_factory=dict)  # grade_id: (got, max)
    status: str = "ok"  # funlm-grade's status column
    reason: str = ""  # funlm-grade's reason column (what the grader noticed)
    feedback: Path | None = None  # the student's feedback HTML
    seconds: float = 0.0  # graded run time of this submission
    autograded: Path | None = None  # the executed notebook, hidden tests and outputs included


def assignments(source: Path = SOLUTIONS_DIR) -> list[str]:
    """Assignment names (folders holding at least one notebook), sorted."""
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def load_config(root: Path, source: Path, release: Path, db_url: str | None = None) -> Config:
    """The repository's nbgrader config with paths redirected to a working course ``root``."""
    config = PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.source_directory = str(source)
    config.CourseDirectory.release_directory = str(release)
    config.CourseDirectory.db_url = db_url or f"sqlite:///{root / 'gradebook.db'}"
    return config


def make_api(config: Config) -> NbGraderAPI:
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def _run(step: str, result: Mapping[str, object]) -> None:
    if not result.get("success"):
        raise PipelineError(
            f"nbgrader {step} failed:\n{result.get('log', '')}\n{result.get('error', '')}"
        )


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def generate_exercises(
    dest: Path, workdir: Path, source: Path = SOLUTIONS_DIR, names: list[str] | None = None
) -> list[str]:
    """Generate the student version of every assignment in ``source`` into ``dest``.

    ``dest/<assignment>/`` is replaced as a whole, so removed notebooks disappear too.
    Returns the assignment names generated.
    """
    names = names or assignments(source)
    workdir.mkdir(parents=True, exist_ok=True)
    release = workdir / "release"
    api = make_api(load_config(workdir, source, release))
    for name in names:
        _run(f"generate_assignment {name}", api.generate_assignment(name, force=True))
        target = dest / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(release / name, target)
    return names


def solved_notebook(
    assignment: str, source: Path = SOLUTIONS_DIR, release: Path = EXERCISES_DIR
) -> nbformat.NotebookNode:
    """What a student who wrote the reference answers hands in.

    The released notebook (``release/<assignment>/``) with every answer cell holding the
    source's solution code, nbgrader's ``### BEGIN/END SOLUTION`` lines removed; test cells,
    metadata and checksums stay as released.
    """
    name = _notebook_name(assignment, source)
    solved = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in nbformat.read(source / assignment / name, as_version=4).cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }
    notebook = nbformat.read(release / assignment / name, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in solved:
            cell.source = strip_solution_markers(solved[grade_id])
    return notebook


def strip_solution_markers(source: str) -> str:
    """A solution cell's code without nbgrader's solution delimiter lines."""
    return "\n".join(
        line
        for line in source.splitlines()
        if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
    )


def _notebook_name(assignment: str, source: Path) -> str:
    notebooks = sorted((source / assignment).glob("*.ipynb"))
    if len(notebooks) != 1:
        raise PipelineError(f"{assignment}: expected one source notebook, found {len(notebooks)}")
    return notebooks[0].name


def autograde(
    assignment: str,
    submissions: Mapping[str, Path | nbformat.NotebookNode],
    workdir: Path,
    source: Path = SOLUTIONS_DIR,
    db_url: str | None = None,
    workers: int | None = None,
    timeout: int = 120,
) -> dict[str, GradeResult]:
    """Grade ``{student_id: notebook file or notebook}`` exactly as ``funlm-grade`` does.

    The submissions go through the one grading path students get (sandbox, guard kernel,
    evidence check; :func:`autograder.grade.run`), with ``source`` as the nbgrader source.
    Raises :class:`PipelineError` when the command cannot run or a row is missing.
    """
    from autograder import grade

    folder = workdir / "submissions"
    folder.mkdir(parents=True, exist_ok=True)
    for student_id, notebook in submissions.items():
        target = folder / f"{student_id}.ipynb"
        if isinstance(notebook, Path):
            shutil.copyfile(notebook, target)
        else:
            nbformat.write(notebook, target)
    out = workdir / "graded"
    argv = [assignment, str(folder), "--out", str(out), "--source", str(source)]
    argv += ["--timeout", str(timeout)]
    if workers:
        argv += ["--workers", str(workers)]
    if db_url:
        argv += ["--db", db_url]
    with _env(FUNLM_PROFILE="grade"):
        code = grade.run(argv)
    if code != 0:
        raise PipelineError(f"funlm-grade {' '.join(argv)} exited with {code}")
    with (out / "grades.csv").open(encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    timings = json.loads((out / "timings.json").read_text(encoding="utf-8"))["students"]
    results: dict[str, GradeResult] = {}
    for student_id in submissions:
        if student_id not in rows:
            raise PipelineError(f"funlm-grade gave no row for {student_id}")
        row = rows[student_id]
        graded = read_grade(db_url or f"sqlite:///{out / 'gradebook.db'}", assignment, student_id)
        results[student_id] = replace(
            graded,
            status=row["status"],
            reason=row["reason"],
            feedback=out / "feedback" / f"{student_id}.html",
            seconds=float(timings.get(student_id, 0.0)),
            autograded=out / ".funlm" / "course" / "autograded" / student_id / assignment,
        )
    return results


def read_grade(db_url: str, assignment: str, student_id: str) -> GradeResult:
    """Scores of one submission, read back from the gradebook."""
    with Gradebook(db_url) as gradebook:
        submission = gradebook.find_submission(assignment, student_id)
        parts: dict[str, tuple[float, float]] = {}
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                parts[grade.name] = (float(grade.score), float(grade.max_score))
        return GradeResult(
            student_id=student_id,
            assignment=assignment,
            score=float(submission.score),
            max_score=float(submission.max_score),
            parts=parts,
        )
