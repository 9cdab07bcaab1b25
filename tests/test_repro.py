"""Every chapter's reproduction runs in the grade profile and reports its headline numbers.

(The cpu-profile runs are benchmarks, `make repro`, not part of the test suite.)
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from funlm.records import RESULTS_SUBDIR
from funlm.repro import chapters


def test_unknown_chapter_is_refused():
    from funlm.repro import run_chapter

    with pytest.raises(ValueError, match="unknown chapter"):
        run_chapter("ch99")


@pytest.mark.slow
@pytest.mark.parametrize("chapter", chapters())
def test_repro_smoke_grade_profile(chapter, small_lm, tmp_path):
    out = tmp_path / f"{chapter}.json"
    env = dict(os.environ, FUNLM_PROFILE="grade")
    proc = subprocess.run(
        [sys.executable, "-m", "funlm.repro", chapter, "--profile", "grade", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    assert last == json.loads(out.read_text("utf-8"))
    module = importlib.import_module(f"funlm.repro.{chapter}")
    for key in [*module.HEADLINE_KEYS, "seconds"]:
        assert key in last, key
    assert last["profile"] == "grade"


CPU_BUDGET_SECONDS = 600  # every chapter issue: "seconds <= 600 in the cpu profile"


@pytest.mark.parametrize("chapter", chapters())
def test_recorded_cpu_run_is_complete_and_within_the_budget(chapter):
    """The committed cpu records the book quotes carry every headline key and were measured
    within the chapters' ten-minute budget (the figure `python -m funlm.repro` printed)."""
    root = Path(__file__).resolve().parents[1]
    record = json.loads((root / RESULTS_SUBDIR / f"{chapter}-cpu.json").read_text("utf-8"))
    assert record["chapter"] == chapter
    assert record["profile"] == "cpu"
    module = importlib.import_module(f"funlm.repro.{chapter}")
    for key in module.HEADLINE_KEYS:
        assert key in record, key
    assert record["seconds"] <= CPU_BUDGET_SECONDS, record["seconds"]
