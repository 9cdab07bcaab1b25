"""Grading notebooks from Python, through ``funlm-grade`` itself.

:func:`autograde` is what the pipeline tests (every solution scores full marks, every untouched
exercise zero), ``tests/test_delegation.py`` and ``make bench`` call: it writes the notebooks
into a folder and runs :func:`autograder.grading.cli.run` on it, so they are graded by the same
engine (sandbox, guard kernel, evidence check) as a class. :func:`solved_notebook` builds what
a student who wrote the reference answers hands in.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import nbformat

from autograder.course import CourseLayout, PipelineError, notebook_name
from autograder.grading import cli
from autograder.grading.gradebook import GradeResult, read_grade

__all__ = ["GradeResult", "PipelineError", "autograde", "solved_notebook"]


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


def solved_notebook(
    assignment: str,
    course: CourseLayout | None = None,
    source: Path | None = None,
    release: Path | None = None,
) -> nbformat.NotebookNode:
    """What a student who wrote the reference answers hands in.

    The released notebook (``release/<assignment>/``, default: the course's ``exercises/``)
    with every answer cell holding the source's (default: the course's ``solutions/``)
    solution code, nbgrader's ``### BEGIN/END SOLUTION`` lines removed; test cells, metadata
    and checksums stay as released.
    """
    if source is None or release is None:
        course = course or CourseLayout.find()
        source = source or course.solutions
        release = release or course.exercises
    name = notebook_name(assignment, source)
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


def solved_notebook_with(
    assignment: str, answers: Mapping[str, str], course: CourseLayout | None = None
) -> nbformat.NotebookNode:
    """The solved notebook with the answer cells named in ``answers`` (grade_id -> source)
    replaced: a submission that differs from the reference in those parts only.

    Raises ``ValueError`` when a grade_id in ``answers`` is not an answer cell.
    """
    notebook = solved_notebook(assignment, course)
    answer_cells = {
        cell.metadata["nbgrader"]["grade_id"]
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }
    unknown = sorted(set(answers) - answer_cells)
    if unknown:
        raise ValueError(f"{assignment}: not answer cells: {unknown}")
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def strip_solution_markers(source: str) -> str:
    """A solution cell's code without nbgrader's solution delimiter lines."""
    return "\n".join(
        line
        for line in source.splitlines()
        if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
    )


def autograde(
    assignment: str,
    submissions: Mapping[str, Path | nbformat.NotebookNode],
    workdir: Path,
    course: CourseLayout | None = None,
    source: Path | None = None,
    db_url: str | None = None,
    workers: int | None = None,
    timeout: int | None = None,
) -> dict[str, GradeResult]:
    """Grade ``{student_id: notebook file or notebook}`` exactly as ``funlm-grade`` does.

    The submissions go through the one grading path students get (sandbox, guard kernel,
    evidence check; :func:`autograder.grading.cli.run`) for ``course`` (default: the configured
    one), with ``source`` (default: its ``solutions/``) as the nbgrader source and the
    command's default limits unless ``timeout`` (seconds per cell) is given.
    Raises :class:`PipelineError` when the command cannot run or a row is missing.
    """
    course = course or CourseLayout.find()
    folder = workdir / "submissions"
    folder.mkdir(parents=True, exist_ok=True)
    for student_id, notebook in submissions.items():
        target = folder / f"{student_id}.ipynb"
        if isinstance(notebook, Path):
            shutil.copyfile(notebook, target)
        else:
            nbformat.write(notebook, target)
    out = workdir / "graded"
    argv = [assignment, str(folder), "--out", str(out), "--course", str(course.root)]
    if source is not None:
        argv += ["--source", str(source)]
    if timeout is not None:
        argv += ["--timeout", str(timeout)]
    if workers:
        argv += ["--workers", str(workers)]
    if db_url:
        argv += ["--db", db_url]
    with _env(FUNLM_PROFILE="grade"):
        code = cli.run(argv)
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
