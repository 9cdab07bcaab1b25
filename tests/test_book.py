"""The book builds strictly (warnings are errors), executing its demo notebooks (grade profile)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_book_builds_strictly(repo_root, tmp_path, small_lm):
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    env = dict(os.environ, FUNLM_PROFILE="grade")
    result = subprocess.run(
        [str(jupyter_book), "build", str(repo_root / "book"), "--path-output", str(tmp_path),
         "-W", "-n", "--keep-going"],
        capture_output=True, text=True, env=env, timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
    html = tmp_path / "_build" / "html"
    assert (html / "index.html").is_file()
    assert (html / "ch00_intro" / "index.html").is_file()
    shutil.rmtree(tmp_path / "_build" / ".doctrees", ignore_errors=True)
