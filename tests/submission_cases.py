"""Shared by the tests that grade hand-written variants of the solutions.

``tests/<folder>/<assignment>.py`` modules (``delegation/``, ``alternatives/``) each describe
answer cells to put in place of the reference answers; this module finds and loads them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

TESTS_DIR = Path(__file__).resolve().parent


def case_assignments(folder: str) -> list[str]:
    """The assignments that ``tests/<folder>/`` has a module for, sorted."""
    return sorted(p.stem for p in (TESTS_DIR / folder).glob("*.py") if not p.stem.startswith("_"))


def load_cases(folder: str, assignment: str) -> ModuleType:
    """``tests/<folder>/<assignment>.py`` as a module."""
    path = TESTS_DIR / folder / f"{assignment}.py"
    spec = importlib.util.spec_from_file_location(f"{folder}_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")
