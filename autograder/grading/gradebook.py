"""nbgrader's gradebook, as the grader uses it: a lock for SQLite, scores in and out."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


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


class GradebookLock:
    """An inter-process lock around gradebook access (SQLite); a no-op without a path.

    Each grading makes its own; :meth:`released` is what the grading run's execution gate
    calls while a kernel runs (:class:`autograder.grading.run_state.GradingRun`).
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.fd: int | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if self.path is None:
            yield
            return
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
                os.close(self.fd)
                self.fd = None

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Inside `held`: let other workers use the gradebook while a kernel runs."""
        if self.fd is None:
            yield
            return
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_EX)


def zero_grades(db_url: str, assignment: str, student: str) -> None:
    """Record an ungradable submission in the gradebook: auto scores 0, manual ones kept."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, "funlm") as gradebook:
        gradebook.update_or_create_student(student)
        submission = gradebook.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
        gradebook.db.commit()


def read_grade(db_url: str, assignment: str, student_id: str) -> GradeResult:
    """Scores of one submission, read back from the gradebook."""
    from nbgrader.api import Gradebook

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
