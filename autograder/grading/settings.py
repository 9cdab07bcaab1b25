"""What one ``funlm-grade`` batch tells each worker (plain data: it crosses a process boundary)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from autograder.grading.limits import DEFAULT_LIMITS, Limits


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs to grade one student of the batch."""

    assignment: str
    out: str  # the command's OUT folder (feedback, grades.csv)
    db_url: str  # the gradebook
    workdir: str  # throw-away nbgrader course folder under OUT (submitted/, autograded/, …)
    config_file: str  # the course's nbgrader configuration (autograder/nbgrader_config.py)
    source: str  # nbgrader source folder (solutions + hidden tests)
    notebook_name: str  # the assignment's notebook, without .ipynb
    sandboxed: bool
    forbidden: tuple[str, ...]  # paths whose access the guard reports (hidden anyway)
    lock_path: str | None  # SQLite: serialise gradebook access
    limits: Limits = field(default=DEFAULT_LIMITS)
    matplotlib_dir: str = ""  # prebuilt matplotlib font list (empty: none)

    def with_threads(self, threads: int) -> Settings:
        """The same settings with ``threads`` torch/OpenMP threads per kernel."""
        return replace(self, limits=replace(self.limits, threads=threads))
