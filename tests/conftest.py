"""Shared fixtures. The whole suite runs in the `grade` profile (smallest sizes, CPU)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["FUNLM_PROFILE"] = "grade"

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def small_lm():
    """SmolLM2-135M-Instruct, loaded once per test session (converts the GGUF on first use)."""
    import funlm

    return funlm.load_small_lm()
