"""The course's nbgrader pipeline, driven through nbgrader's Python API.

Everything runs in a throw-away nbgrader course directory whose ``source`` is the repository's
``solutions/`` folder, so the repository itself never receives a gradebook or stray files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

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


def autograde(
    assignment: str,
    submissions: Mapping[str, Path],
    workdir: Path,
    source: Path = SOLUTIONS_DIR,
    db_url: str | None = None,
) -> dict[str, GradeResult]:
    """Autograde ``{student_id: notebook}`` for ``assignment`` in the grade profile.

    Each notebook is copied to ``workdir/submitted/<student>/<assignment>/<name>.ipynb`` under
    the name of the assignment's (single) source notebook, then graded by nbgrader.
    """
    notebooks = sorted((source / assignment).glob("*.ipynb"))
    if len(notebooks) != 1:
        raise PipelineError(f"{assignment}: expected one source notebook, found {len(notebooks)}")
    notebook_name = notebooks[0].name
    workdir.mkdir(parents=True, exist_ok=True)
    config = load_config(workdir, source, workdir / "release", db_url)
    api = make_api(config)
    _run(f"generate_assignment {assignment}", api.generate_assignment(assignment, force=True))
    results: dict[str, GradeResult] = {}
    with _env(FUNLM_PROFILE="grade"):
        for student_id, path in submissions.items():
            target = workdir / "submitted" / student_id / assignment / notebook_name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            _run(f"autograde {assignment} {student_id}", api.autograde(assignment, student_id))
            results[student_id] = read_grade(config.CourseDirectory.db_url, assignment, student_id)
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
