"""Shared fixtures. The whole suite runs in the `grade` profile (smallest sizes, CPU)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ["FUNLM_PROFILE"] = "grade"
# OpenMP workers sleep instead of spinning (set before torch loads; kernels inherit it): on a
# busy 2-core machine spinning threads made small torch models up to 4x slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO_ROOT = Path(__file__).resolve().parents[1]
# The course the tools work on is configured, not derived from where `autograder` is installed
# (autograder.course.CourseLayout): the tests check this checkout, wherever pytest runs from.
os.environ["FUNLM_COURSE"] = str(REPO_ROOT)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def small_lm():
    """SmolLM2-135M-Instruct, loaded once per test session (converts the GGUF on first use)."""
    import funlm

    return funlm.load_small_lm()


@dataclass(frozen=True)
class BookBuild:
    """One strict build of the book: where it went and what jupyter-book said."""

    out: Path  # --path-output; the site is out/_build/html
    returncode: int
    log: str
    prebuilt: bool = False

    @property
    def html(self) -> Path:
        return self.out / "_build" / "html"


@pytest.fixture(scope="session")
def built_book(tmp_path_factory, request) -> BookBuild:
    """The book built once per session, strictly (-W -n), executing its notebooks (grade).

    Shared by test_book (the build itself) and test_browser (the site in Chromium).
    ``FUNLM_BOOK_PREBUILT=<path-output folder>`` reuses an earlier build instead (development
    of the browser test only; test_book then skips, since nothing was built).
    """
    prebuilt = os.environ.get("FUNLM_BOOK_PREBUILT")
    if prebuilt:
        return BookBuild(Path(prebuilt), 0, "", prebuilt=True)
    request.getfixturevalue("small_lm")  # the model cache is warm before notebooks load it
    out = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    env = dict(os.environ, FUNLM_PROFILE="grade")
    result = subprocess.run(
        [str(jupyter_book), "build", str(REPO_ROOT / "book"), "--path-output", str(out),
         "-W", "-n", "--keep-going"],
        capture_output=True, text=True, env=env, timeout=1800,
    )  # fmt: skip
    shutil.rmtree(out / "_build" / ".doctrees", ignore_errors=True)
    return BookBuild(out, result.returncode, result.stdout[-6000:] + result.stderr[-4000:])
