"""One student of a ``funlm-grade`` batch, graded in a worker process.

:func:`grade_student` checks and re-lays the submission (:mod:`autograder.grading.submissions`),
then runs nbgrader's autograde converter whose chain is :func:`autograde_chain`:
:class:`~autograder.grading.execute.SandboxedExecute` (the kernel in bubblewrap, the tests
under the guard), :class:`~autograder.grading.evidence.VerifyEvidence`, then nbgrader's own
steps (``SaveAutoGrades`` writes the scores; manual grades are kept); ``generate_feedback``
writes the HTML with :class:`~autograder.grading.feedback.HideHiddenTests` first.

The converter is :class:`CourseAutograde`, which one grading owns: it puts that grading's
:class:`~autograder.grading.run_state.GradingRun` into every notebook's ``resources``, so the
preprocessors receive the gradebook lock's gate and report their notes without any module
global.
"""

from __future__ import annotations

import html
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbgrader.converters import Autograde
from traitlets.config import Config

from autograder.course import load_config, make_api
from autograder.grading.gradebook import GradebookLock, zero_grades
from autograder.grading.run_state import RUN_KEY, GradingRun
from autograder.grading.settings import Settings
from autograder.grading.submissions import SubmissionError, load, rebuild


@dataclass
class Outcome:
    """One student's result (what the CSV row is made from)."""

    student_id: str
    status: str = "ok"
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


class CourseAutograde(Autograde):
    """nbgrader's autograde converter for one grading, with its run in ``resources``."""

    def __init__(self, run: GradingRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.grading_run = run

    def init_single_notebook_resources(self, notebook_filename: str) -> dict[str, Any]:
        resources = super().init_single_notebook_resources(notebook_filename)
        resources[RUN_KEY] = self.grading_run
        return resources


def autograde(api: Any, assignment: str, student: str, run: GradingRun) -> dict[str, Any]:
    """``api.autograde(assignment, student, force=True, create=True)`` with ``run`` attached.

    The same steps as nbgrader's ``NbGraderAPI.autograde``, with :class:`CourseAutograde`.
    """
    from nbgrader.utils import capture_log, temp_attrs

    with temp_attrs(api.coursedir, assignment_id=assignment, student_id=student):
        app = CourseAutograde(run, coursedir=api.coursedir, parent=api)
        app.force = True
        app.create_student = True
        return capture_log(app)


def autograde_chain(settings: Settings) -> Config:
    """The nbgrader configuration of one batch: the course's config, the grader's chains."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        GetGrades,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from autograder.grading.evidence import VerifyEvidence
    from autograder.grading.execute import SandboxedExecute
    from autograder.grading.feedback import HideHiddenTests

    root = Path(settings.workdir)
    config = load_config(
        Path(settings.config_file), root, Path(settings.source), root / "release", settings.db_url
    )
    config.Autograde.autograde_preprocessors = [
        SandboxedExecute,
        VerifyEvidence,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    config.GenerateFeedback.preprocessors = [HideHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]
    limits = settings.limits
    config.SandboxedExecute.timeout = limits.cell_timeout
    config.SandboxedExecute.notebook_timeout = limits.notebook_timeout
    config.SandboxedExecute.memory_mb = limits.memory_mb
    config.SandboxedExecute.output_mb = limits.output_mb
    config.SandboxedExecute.notebook_output_mb = limits.notebook_output_mb
    config.SandboxedExecute.threads = limits.threads
    config.SandboxedExecute.max_restarts = limits.max_restarts
    config.SandboxedExecute.sandboxed = settings.sandboxed
    config.SandboxedExecute.forbidden_paths = list(settings.forbidden)
    config.SandboxedExecute.release_dir = str(root / "release" / settings.assignment)
    config.SandboxedExecute.matplotlib_dir = settings.matplotlib_dir
    config.LimitOutput.max_lines = limits.output_lines
    config.LimitOutput.max_traceback = limits.traceback_lines
    return config


def init_worker() -> None:
    """Process set-up of a worker: the grade profile and a quiet log."""
    os.environ["FUNLM_PROFILE"] = "grade"
    quiet_library_warnings()


def quiet_library_warnings() -> None:
    """nbgrader's own SQLAlchemy/nbformat warnings are noise in a grading log."""
    import warnings

    from nbformat.warnings import MissingIDFieldWarning
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)
    warnings.filterwarnings("ignore", category=MissingIDFieldWarning)
    # nbclient leaves a kernel-alive poller behind when we kill a runaway kernel
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)


def grade_student(settings: Settings, student: str, source: str) -> Outcome:
    """Check, re-lay, autograde and write feedback for one submission."""
    import nbformat
    from nbgrader.api import Gradebook

    lock = GradebookLock(settings.lock_path)
    start = time.monotonic()
    outcome = Outcome(student)
    root = Path(settings.workdir)
    submitted = root / "submitted" / student / settings.assignment
    for folder in (submitted, root / "autograded" / student, root / "feedback" / student):
        shutil.rmtree(folder, ignore_errors=True)
    release = root / "release" / settings.assignment / f"{settings.notebook_name}.ipynb"
    feedback = Path(settings.out) / "feedback" / f"{student}.html"
    try:
        notebook, notes = rebuild(load(Path(source)), nbformat.read(release, as_version=4))
        outcome.notes += notes
    except SubmissionError as error:
        outcome.status = "error"
        outcome.notes.append(str(error))
        with lock.held():
            zero_grades(settings.db_url, settings.assignment, student)
        write_error_feedback(feedback, student, str(error))
        outcome.seconds = time.monotonic() - start
        return outcome
    submitted.mkdir(parents=True)
    nbformat.write(notebook, submitted / f"{settings.notebook_name}.ipynb")
    api = make_api(autograde_chain(settings))
    run = GradingRun(execution_gate=lock.released)
    with lock.held():
        result = autograde(api, settings.assignment, student, run)
    outcome.notes += run.notes
    if not result.get("success"):
        outcome.status = "error"
        log = (result.get("error") or result.get("log") or "").strip().splitlines()
        message = next((line for line in reversed(log) if "Error" in line), "autograde failed")
        outcome.notes.append(f"grader error: {message[:200]}")
        with lock.held():
            zero_grades(settings.db_url, settings.assignment, student)
        write_error_feedback(feedback, student, "; ".join(outcome.notes))
    else:
        with lock.held():
            fb = api.generate_feedback(settings.assignment, student, force=True)
        html_file = root / "feedback" / student / settings.assignment
        html_file = html_file / f"{settings.notebook_name}.html"
        if fb.get("success") and html_file.is_file():
            feedback.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(html_file, feedback)
        else:
            write_error_feedback(feedback, student, "feedback generation failed")
    with lock.held(), Gradebook(settings.db_url, "funlm"):
        pass  # make sure the gradebook is readable before the parent reads it
    outcome.seconds = time.monotonic() - start
    return outcome


def write_error_feedback(path: Path, student: str, reason: str) -> None:
    """The feedback page of a submission that could not be graded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!DOCTYPE html><html lang='ko'><meta charset='utf-8'>"
        f"<title>{html.escape(student)}</title><body><h1>채점 결과</h1>"
        "<p>제출한 노트북을 채점할 수 없었습니다 (the notebook could not be graded).</p>"
        f"<p>이유 (reason): <code>{html.escape(reason)}</code></p></body></html>\n",
        encoding="utf-8",
    )
