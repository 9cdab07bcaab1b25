"""Where the recorded reproductions live, and reading one: ``results/repro/chNN-<profile>.json``.

``python -m funlm.repro chNN --profile cpu --out results/repro/chNN-cpu.json`` writes a
chapter's record; the book's pages draw their headline figures from it (``read_record``) and
quote its numbers with the ``{repro}`` role. Chapter packages read records through this module,
not through :mod:`funlm.repro` (which runs the chapters), so that nothing in a chapter imports
the code that imports the chapter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["RESULTS_ENV", "RESULTS_SUBDIR", "default_results_dir", "read_record", "record_path"]

RESULTS_ENV = "FUNLM_RESULTS"
RESULTS_SUBDIR = Path("results") / "repro"


def default_results_dir(start: Path | None = None) -> Path:
    """``$FUNLM_RESULTS``, else ``results/repro`` under the repository root above ``start``.

    The root is the first folder (from ``start``, default the working directory, upwards) that
    holds a ``pyproject.toml``; without one, ``start/results/repro``.
    """
    if os.environ.get(RESULTS_ENV):
        return Path(os.environ[RESULTS_ENV]).expanduser()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return folder / RESULTS_SUBDIR
    return here / RESULTS_SUBDIR


def record_path(chapter: str, profile: str = "cpu", directory: Path | None = None) -> Path:
    """The file of ``chapter``'s record in ``profile`` (``results/repro/ch03-cpu.json``)."""
    return (directory or default_results_dir()) / f"{chapter}-{profile}.json"


def read_record(
    chapter: str, profile: str = "cpu", directory: Path | None = None
) -> dict[str, Any] | None:
    """``chapter``'s committed record in ``profile`` as a dict, or None if absent or unreadable."""
    try:
        data = json.loads(record_path(chapter, profile, directory).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None
