"""Run profiles: one switch (``FUNLM_PROFILE``) that sizes every experiment in the course.

- ``cpu`` (default): the real lesson on a 2-core laptop; a chapter in about ten minutes.
- ``gpu``: larger models, more steps, real-size data where a GPU is present.
- ``grade``: the smallest sizes that still test a student's code; used by the grader and CI.

Notebooks never hard-code sizes. They ask the active profile, e.g.::

    P = funlm.profile()
    n_steps = P.pick(grade=20, cpu=800, gpu=5000)
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

PROFILES: tuple[str, ...] = ("cpu", "gpu", "grade")
ENV_VAR = "FUNLM_PROFILE"
DEVICE_ENV_VAR = "FUNLM_DEVICE"


class ProfileError(ValueError):
    """An unknown profile name was requested."""


@dataclass(frozen=True)
class Profile:
    """The active run profile and the device it runs on."""

    name: str
    device: str

    def pick(self, *, cpu: T, gpu: T, grade: T) -> T:
        """Return the value for this profile (every profile must be given a value)."""
        return {"cpu": cpu, "gpu": gpu, "grade": grade}[self.name]

    @property
    def is_grading(self) -> bool:
        return self.name == "grade"


def _check_name(name: str) -> str:
    name = name.strip().lower()
    if name not in PROFILES:
        raise ProfileError(
            f"알 수 없는 프로파일 {name!r} 입니다 / unknown profile {name!r}: "
            f"{ENV_VAR} must be one of {', '.join(PROFILES)}."
        )
    return name


def default_device() -> str:
    """The best available device: cuda, then mps, then cpu."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def profile(name: str | None = None) -> Profile:
    """The active profile: ``name`` if given, else ``$FUNLM_PROFILE``, else ``cpu``.

    ``cpu`` and ``gpu`` use the best device present (cuda, then mps, then cpu); ``grade``
    always runs on the CPU so that a grade never depends on the grader's hardware.
    ``$FUNLM_DEVICE`` overrides the device choice.
    """
    chosen = _check_name(name if name is not None else os.environ.get(ENV_VAR, "cpu"))
    device = os.environ.get(DEVICE_ENV_VAR) or ("cpu" if chosen == "grade" else default_device())
    return Profile(name=chosen, device=device)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so that runs repeat exactly."""
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
    except ImportError:  # pragma: no cover
        pass
