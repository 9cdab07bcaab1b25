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


DEVICE_KINDS: tuple[str, ...] = ("cpu", "cuda", "mps", "meta")


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return False
    return bool(torch.cuda.is_available())


def _mps_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return False
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def default_device(profile_name: str = "cpu") -> str:
    """The device a profile uses when ``$FUNLM_DEVICE`` is not set.

    - ``grade``: always ``cpu`` (a grade must not depend on the grader's hardware);
    - ``cpu``: ``cuda`` if present, else ``cpu``. Apple's MPS is *not* chosen automatically:
      its kernels give numbers that differ from the CPU runs the book quotes (and some
      operations fall back or fail), so a Mac reproduces the book on the CPU unless the
      learner opts in with ``FUNLM_DEVICE=mps``;
    - ``gpu``: ``cuda``, else ``mps``, else ``cpu`` (a learner who asks for the large sizes
      wants whatever accelerator there is).
    """
    if profile_name == "grade":
        return "cpu"
    if _cuda_available():
        return "cuda"
    if profile_name == "gpu" and _mps_available():
        return "mps"
    return "cpu"


def _check_device(value: str) -> str:
    """``$FUNLM_DEVICE`` checked: a known kind that this machine has."""
    device = value.strip().lower()
    kind = device.split(":", 1)[0]
    if kind not in DEVICE_KINDS:
        raise ProfileError(
            f"알 수 없는 장치 {device!r} 입니다 / unknown device {device!r}: "
            f"{DEVICE_ENV_VAR} must be one of {', '.join(DEVICE_KINDS)} "
            f"(fix: `unset {DEVICE_ENV_VAR}`)."
        )
    if kind == "mps" and not _mps_available():
        raise ProfileError(
            f"이 컴퓨터에서는 MPS를 쓸 수 없습니다 / {DEVICE_ENV_VAR}=mps but MPS is not "
            f"available here (Apple silicon + macOS 12.3+ only); fix: `unset {DEVICE_ENV_VAR}`."
        )
    if kind == "cuda" and not _cuda_available():
        raise ProfileError(
            f"CUDA GPU가 없습니다 / {DEVICE_ENV_VAR}={device} but torch sees no CUDA GPU; "
            f"fix: `unset {DEVICE_ENV_VAR}` (or choose a GPU runtime on Colab)."
        )
    return device


def profile(name: str | None = None) -> Profile:
    """The active profile: ``name`` if given, else ``$FUNLM_PROFILE``, else ``cpu``.

    The device is ``$FUNLM_DEVICE`` when set (``cpu``, ``cuda``, ``cuda:N``, ``mps``; checked
    against this machine), else :func:`default_device` for the profile: ``grade`` always runs
    on the CPU, ``cpu`` uses CUDA or the CPU (MPS only when opted in), ``gpu`` uses CUDA, MPS
    or the CPU.
    """
    chosen = _check_name(name if name is not None else os.environ.get(ENV_VAR, "cpu"))
    override = os.environ.get(DEVICE_ENV_VAR, "").strip()
    device = _check_device(override) if override else default_device(chosen)
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
