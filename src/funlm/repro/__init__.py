"""Headline reproductions, one module per chapter: ``python -m funlm.repro chNN [--profile P]``.

A chapter's experiment lives in its package (``settings(profile)`` and ``run_experiment``, see
:mod:`funlm.experiment` and the chapter map in :mod:`funlm`); ``funlm.repro.chNN`` is a thin
wrapper over it that defines

- ``HEADLINE_KEYS``: the names of the numbers its issue asks for (the summary table of chapter
  7, ``--compare`` and ``make gpu-check`` read them), and
- ``run(profile: Profile) -> dict``: ``run_experiment(settings(profile))`` of the chapter's
  package, the measured numbers (JSON-serialisable).

The command adds ``"chapter"``, ``"profile"`` and ``"seconds"`` and prints the result as one
JSON object on its last line; ``--out`` also writes it to a file (the book reads these files).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import time
from pathlib import Path
from typing import Any

from funlm.profile import profile as get_profile


def chapters() -> list[str]:
    """Chapters that have a reproduction module, e.g. ``["ch01", "ch04"]``."""
    return sorted(
        m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("ch") and not m.ispkg
    )


def run_chapter(chapter: str, profile_name: str | None = None) -> dict[str, Any]:
    """Run one chapter's reproduction and return its numbers plus timing metadata."""
    if chapter not in chapters():
        raise ValueError(f"unknown chapter {chapter!r}; available: {', '.join(chapters())}")
    module = importlib.import_module(f"funlm.repro.{chapter}")
    active = get_profile(profile_name)
    start = time.perf_counter()
    numbers = module.run(active)
    missing = [key for key in module.HEADLINE_KEYS if key not in numbers]
    if missing:
        raise RuntimeError(f"{chapter}: reproduction did not report {missing}")
    result = {"chapter": chapter, "profile": active.name, **numbers}
    result["seconds"] = round(time.perf_counter() - start, 1)
    # How busy the machine was (1, 5, 15-minute load averages at the end): a run that shared
    # the CPU with other work is slower than the same run alone.
    if hasattr(os, "getloadavg"):
        result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return result


def write_result(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
