"""The grader's limits, and the one place their defaults are written.

``funlm-grade``'s options (``--timeout``, ``--notebook-timeout``, ``--memory-mb``,
``--workers``), the traits of :class:`autograder.grading.execute.SandboxedExecute`, the
course's ``autograder/nbgrader_config.py`` (plain ``nbgrader autograde``) and the sandbox's
``prlimit`` all take their defaults from :data:`DEFAULT_LIMITS` and :func:`default_workers`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission."""

    cell_timeout: int = 120  # seconds per cell (nbgrader's Execute.timeout)
    notebook_timeout: int = 600  # seconds for the whole notebook, restarts included
    memory_mb: int = 8192  # address-space limit of the kernel (RLIMIT_AS)
    output_mb: float = 2.0  # text a cell may print before the rest is dropped
    notebook_output_mb: float = 20.0  # all output of one notebook; beyond: the kernel is killed
    output_lines: int = 1000  # lines of output kept per cell (nbgrader's LimitOutput)
    traceback_lines: int = 100  # traceback lines kept per error (nbgrader's LimitOutput)
    file_mb: int = 256  # largest file the kernel may write (RLIMIT_FSIZE)
    tmp_mb: int = 512  # size of the private /tmp
    threads: int = 1  # torch/OpenMP threads per kernel
    max_restarts: int = 3  # kernel restarts per notebook before the rest of it fails


DEFAULT_LIMITS = Limits()
#: The smallest kernel memory limit the command accepts (MiB).
MIN_MEMORY_MB = 256


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """Notebooks graded at once when ``--workers`` is not given: one per core."""
    return cores()


def threads_per_kernel(workers: int) -> int:
    """torch/OpenMP threads of each kernel when ``workers`` kernels share the cores."""
    return max(1, cores() // max(1, workers))
