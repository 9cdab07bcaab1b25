"""What the nbgrader preprocessors of one grading share, carried in nbgrader's ``resources``.

nbgrader builds a fresh ``resources`` dict for every notebook it converts and hands it down the
preprocessor chain. Two entries belong to the course's grader:

- ``resources[RUN_KEY]``: the :class:`GradingRun` of this grading, put there by
  :class:`autograder.grading.worker.CourseAutograde` (the autograde converter one grading
  owns). It holds what the run gives the chain (``execution_gate``: the worker lets other
  workers use the SQLite gradebook while a kernel runs) and what the chain gives back
  (``notes``: what the grader noticed, for the ``reason`` column).
- ``resources[EVIDENCE_KEY]``: the per-notebook HMAC key and test nonces that
  :class:`~autograder.grading.execute.SandboxedExecute` hands to
  :class:`~autograder.grading.evidence.VerifyEvidence`.

nbconvert deep-copies ``resources`` before the chain; a :class:`GradingRun` is a handle that
belongs to one grading, so copying returns the same object. Nothing here is a module global:
two gradings in one process each have their own run and cannot mix notes or locks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

RUN_KEY = "funlm_run"
EVIDENCE_KEY = "funlm_grader"


@dataclass(eq=False)
class GradingRun:
    """One grading of one submission: inputs for the chain and the notes it reports back."""

    execution_gate: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Record what the grader noticed (once)."""
        if text not in self.notes:
            self.notes.append(text)

    def __deepcopy__(self, memo: dict) -> GradingRun:
        return self  # a handle of this grading, not data: nbconvert's copy must share it

    def __copy__(self) -> GradingRun:
        return self


def grading_run(resources: dict) -> GradingRun:
    """This notebook's :class:`GradingRun` (a fresh one when nbgrader runs without the course's
    converter, e.g. plain ``nbgrader autograde`` or a unit test)."""
    run = resources.get(RUN_KEY)
    if not isinstance(run, GradingRun):
        run = resources[RUN_KEY] = GradingRun()
    return run


def add_note(resources: dict, text: str) -> None:
    """Record ``text`` for this notebook's grading (see :meth:`GradingRun.note`)."""
    grading_run(resources).note(text)
