"""Where the course is, and its nbgrader configuration.

Every tool works on a :class:`CourseLayout`: the course root and the folders under it. The
layout comes from configuration, never from where this package happens to be installed:

1. an explicit root (``--course DIR`` of the commands, :meth:`CourseLayout.at`);
2. the environment variable ``FUNLM_COURSE``;
3. the nearest folder at or above the current directory that holds the course's nbgrader
   configuration, ``autograder/nbgrader_config.py`` (the marker file).

The source and release folder names are read from that nbgrader configuration
(``CourseDirectory.source_directory`` / ``release_directory``: ``solutions`` and
``exercises``), so plain ``nbgrader`` commands and the course's own tools agree. An instructor
can point every tool at a fork or a copy of the course with ``FUNLM_COURSE=/path/to/copy``.

This module imports neither nbgrader nor torch (``make gpu-check`` runs on bare GPU machines);
:func:`make_api` imports nbgrader when it is called.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

COURSE_ENV = "FUNLM_COURSE"
#: The course's nbgrader configuration, relative to the course root; its presence marks a root.
CONFIG_RELPATH = Path("autograder") / "nbgrader_config.py"


class CourseNotFound(RuntimeError):
    """No course at the configured or discovered place (the message says how to point at one)."""


class PipelineError(RuntimeError):
    """An nbgrader step failed; the message carries nbgrader's log."""


def read_nbgrader_config(config_file: Path) -> Config:
    """The nbgrader configuration in ``config_file`` (a traitlets Python config file)."""
    from traitlets.config import PyFileConfigLoader

    return PyFileConfigLoader(config_file.name, path=str(config_file.parent)).load_config()


@dataclass(frozen=True)
class CourseLayout:
    """The course's folders. Build one with :meth:`find` (configuration) or :meth:`at`."""

    root: Path
    config_file: Path  # the course's nbgrader configuration
    solutions: Path  # nbgrader source: solutions + hidden tests
    exercises: Path  # nbgrader release: the student notebooks (generated, committed)
    results: Path  # recorded runs (results/repro/*.json, results/gpu-check.json)

    @classmethod
    def at(cls, root: Path | str) -> CourseLayout:
        """The course rooted at ``root``; raises :class:`CourseNotFound` without its config."""
        root = Path(root).expanduser().resolve()
        config_file = root / CONFIG_RELPATH
        if not config_file.is_file():
            raise CourseNotFound(f"{root} is not a FunLM course (no {CONFIG_RELPATH.as_posix()})")
        course = read_nbgrader_config(config_file).CourseDirectory
        return cls(
            root=root,
            config_file=config_file,
            solutions=root / str(course.get("source_directory", "source")),
            exercises=root / str(course.get("release_directory", "release")),
            results=root / "results",
        )

    @classmethod
    def find(cls, start: Path | str | None = None) -> CourseLayout:
        """The configured course: ``$FUNLM_COURSE``, else the marker at or above ``start``.

        ``start`` defaults to the current directory.
        """
        configured = os.environ.get(COURSE_ENV)
        if configured:
            try:
                return cls.at(configured)
            except CourseNotFound as error:
                raise CourseNotFound(f"{COURSE_ENV}={configured}: {error}") from error
        here = Path(start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / CONFIG_RELPATH).is_file():
                return cls.at(folder)
        raise CourseNotFound(
            f"no FunLM course at or above {here} (looked for {CONFIG_RELPATH.as_posix()}): "
            f"run from the course folder, pass --course DIR or set {COURSE_ENV}=DIR"
        )

    @classmethod
    def resolve(cls, root: Path | str | None = None) -> CourseLayout:
        """The course at ``root`` when given (a ``--course`` option), else :meth:`find`."""
        return cls.at(root) if root else cls.find()

    # -- files of the course --------------------------------------------------------------------

    @property
    def book_config(self) -> Path:
        """``book/_config.yml``: the repository URL and release tag (Colab cell, launch buttons)."""
        return self.root / "book" / "_config.yml"

    @property
    def constraints(self) -> Path:
        return self.root / "constraints.txt"

    @property
    def environment(self) -> Path:
        return self.root / "environment.yml"

    @property
    def pyproject(self) -> Path:
        return self.root / "pyproject.toml"

    def assignments(self) -> list[str]:
        """Assignment names (folders of ``solutions/`` holding a notebook), sorted."""
        return assignments(self.solutions)

    def source_notebook(self, assignment: str) -> Path:
        """The one source notebook of ``assignment`` (raises PipelineError unless exactly one)."""
        return self.solutions / assignment / notebook_name(assignment, self.solutions)

    def release_notebook(self, assignment: str) -> Path:
        """The released (student) notebook of ``assignment``."""
        return self.exercises / assignment / notebook_name(assignment, self.solutions)


def assignments(source: Path) -> list[str]:
    """Assignment names in an nbgrader source folder (folders holding a notebook), sorted."""
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def notebook_name(assignment: str, source: Path) -> str:
    """File name of the one notebook of ``assignment`` in ``source``."""
    notebooks = sorted((source / assignment).glob("*.ipynb"))
    if len(notebooks) != 1:
        raise PipelineError(f"{assignment}: expected one source notebook, found {len(notebooks)}")
    return notebooks[0].name


# -- nbgrader -----------------------------------------------------------------------------------


def load_config(
    config_file: Path, root: Path, source: Path, release: Path, db_url: str | None = None
) -> Config:
    """The course's nbgrader config with paths redirected to a working course ``root``.

    The course's own tools never grade or generate inside the repository: ``root`` is a
    throw-away nbgrader course folder whose source is ``source`` (usually ``solutions/``).
    """
    config = read_nbgrader_config(config_file)
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.source_directory = str(source)
    config.CourseDirectory.release_directory = str(release)
    config.CourseDirectory.db_url = db_url or f"sqlite:///{root / 'gradebook.db'}"
    return config


def make_api(config: Config) -> NbGraderAPI:
    """nbgrader's Python API on ``config``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def check_step(step: str, result: Mapping[str, object]) -> None:
    """Raise :class:`PipelineError` when an nbgrader API call did not succeed."""
    if not result.get("success"):
        raise PipelineError(
            f"nbgrader {step} failed:\n{result.get('log', '')}\n{result.get('error', '')}"
        )


def graded_parts(notebook: Any) -> dict[str, float]:
    """``{test cell grade_id: points}`` of an nbgrader notebook (a ``NotebookNode``), in order."""
    parts = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            parts[meta["grade_id"]] = float(meta.get("points", 0))
    return parts
