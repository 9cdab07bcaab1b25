"""The gpu-check machinery (the GPU run itself happens on a GPU machine, not in this suite)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import autograder
from autograder.benches import gpu_check
from autograder.course import CourseLayout


def _notebook(path: Path, *sources: str) -> Path:
    cells = [
        {"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
        for s in sources
    ]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_inprocess_executor_shares_one_namespace_and_runs_in_the_notebook_folder(tmp_path):
    nb = _notebook(
        tmp_path / "nb.ipynb",
        "import os\nx = 41",
        "x += 1\nopen('done.txt', 'w').write(str(x) + os.getcwd())",
    )
    cwd = os.getcwd()
    try:
        gpu_check.execute_notebook_inprocess(nb)
    finally:
        os.chdir(cwd)
    assert (tmp_path / "done.txt").read_text() == f"42{tmp_path}"


def test_inprocess_executor_offers_display_like_a_kernel(tmp_path, capsys):
    # notebooks call display() without importing it, as in Jupyter
    nb = _notebook(tmp_path / "show.ipynb", "display('shown by display')")
    cwd = os.getcwd()
    try:
        gpu_check.execute_notebook_inprocess(nb)
    finally:
        os.chdir(cwd)
    assert "shown by display" in capsys.readouterr().out


def test_inprocess_executor_propagates_a_failing_cell(tmp_path):
    nb = _notebook(tmp_path / "bad.ipynb", "x = 1", "assert x == 2, 'hidden test failed'")
    cwd = os.getcwd()
    try:
        with pytest.raises(AssertionError, match="hidden test failed"):
            gpu_check.execute_notebook_inprocess(nb)
    finally:
        os.chdir(cwd)


def test_inprocess_executor_refuses_magics(tmp_path):
    nb = _notebook(tmp_path / "magic.ipynb", "%pip install nothing")
    cwd = os.getcwd()
    try:
        with pytest.raises(RuntimeError, match="magics"):
            gpu_check.execute_notebook_inprocess(nb)
    finally:
        os.chdir(cwd)


def test_the_command_refuses_to_pretend_without_a_gpu(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the refusal path is for machines without it")
    assert gpu_check.main([]) == 2
    assert "no CUDA" in capsys.readouterr().out


def test_a_failing_job_is_reported_with_its_error(tmp_path):
    nb_dir = tmp_path / "solutions" / "broken"
    nb_dir.mkdir(parents=True)
    _notebook(nb_dir / "broken.ipynb", "raise ValueError('boom')")
    course = CourseLayout(
        root=tmp_path,
        config_file=tmp_path / "nbgrader_config.py",
        solutions=tmp_path / "solutions",
        exercises=tmp_path / "exercises",
        results=tmp_path / "results",
    )
    env = {**os.environ, "PYTHONPATH": str(Path(autograder.__file__).resolve().parents[1])}
    result = gpu_check.run_notebook_job(course, "broken", "inprocess", timeout=120, env=env)
    assert not result.ok and result.returncode not in (0, None)
    assert "ValueError: boom" in result.error_tail


# -- several short device loans make one check: --failed-only / --merge ----------------------


def _job(kind: str, name: str, ok: bool, seconds: float = 1.0, **extra) -> dict:
    return {"kind": kind, "name": name, "ok": ok, "seconds": seconds, "timed_out": False, **extra}


def _legacy_summary() -> dict:
    """A summary as the first version wrote it: one run, machine fields at the top level."""
    return {
        "profile": "gpu",
        "executor": "inprocess",
        "parallel_jobs": 13,
        "timeout_s": 330,
        "device": {"gpu": "NVIDIA H200"},
        "wall_seconds": 330.3,
        "all_ok": False,
        "jobs": [
            _job("repro", "ch01", True, 285.0),
            _job("repro", "ch02", False, 78.3, error_tail="RuntimeError: generator"),
            _job("notebook", "ch00_orientation", False, 20.5),
            _job("notebook", "ch01_gpt3", True, 109.0),
        ],
    }


def test_an_old_single_run_summary_reads_as_one_run():
    from funlm.repro.summary import gpu_check_markdown, normalise_gpu_check

    summary = normalise_gpu_check(_legacy_summary())
    assert [r["run"] for r in summary["runs"]] == [1]
    assert summary["runs"][0]["timeout_s"] == 330
    assert {j["run"] for j in summary["jobs"]} == {1}
    text = gpu_check_markdown(_legacy_summary())
    assert "Run 1: gpu NVIDIA H200" in text and "commit not recorded" in text
    assert "| repro | ch02 | failed | 78.3 | 1 | RuntimeError: generator |" in text


def test_only_jobs_that_did_not_pass_or_never_ran_are_rerun():
    notebooks, chapters = gpu_check.jobs_to_rerun(
        _legacy_summary(),
        notebooks=["ch00_orientation", "ch01_gpt3", "ch02_instructgpt"],
        chapters=["ch01", "ch02", "ch03"],
    )
    assert notebooks == ["ch00_orientation", "ch02_instructgpt"]
    assert chapters == ["ch02", "ch03"]


def test_a_rerun_replaces_its_rows_and_keeps_the_others_with_their_run():
    latest = {
        "profile": "gpu",
        "runs": [{"run": 1, "device": {"gpu": "NVIDIA H100"}, "commit": "abc1234"}],
        "all_ok": True,
        "jobs": [_job("repro", "ch02", True, 90.0), _job("repro", "ch03", True, 400.0)],
    }
    merged = gpu_check.merge_summaries(_legacy_summary(), latest)
    rows = {(j["kind"], j["name"]): j for j in merged["jobs"]}
    assert rows[("repro", "ch02")]["ok"] and rows[("repro", "ch02")]["run"] == 2
    assert rows[("repro", "ch03")]["run"] == 2  # a job the first run lacked is added
    assert rows[("repro", "ch01")]["run"] == 1 and rows[("repro", "ch01")]["seconds"] == 285.0
    assert [r["run"] for r in merged["runs"]] == [1, 2]
    assert merged["runs"][1]["commit"] == "abc1234"
    assert not merged["all_ok"]  # ch00_orientation still failed in run 1
    # the earlier order is kept; new jobs come after
    assert [j["name"] for j in merged["jobs"]][:4] == [
        "ch01", "ch02", "ch00_orientation", "ch01_gpt3"
    ]  # fmt: skip
    # once every row of run 1 has been re-run, run 1 is no longer listed
    again = {**latest, "jobs": [_job(j["kind"], j["name"], True) for j in merged["jobs"]]}
    final = gpu_check.merge_summaries(merged, again)
    assert [r["run"] for r in final["runs"]] == [3] and final["all_ok"]


def _tiny_course(root: Path) -> CourseLayout:
    (root / "autograder").mkdir(parents=True)
    (root / "autograder" / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.source_directory = 'solutions'\n"
        "c.CourseDirectory.release_directory = 'exercises'\n",
        encoding="utf-8",
    )
    for name, source in (("fixed", "x = 1"), ("fine", "y = 2")):
        (root / "solutions" / name).mkdir(parents=True)
        _notebook(root / "solutions" / name / f"{name}.ipynb", source)
    return CourseLayout.at(root)


def test_failed_only_runs_the_failed_notebook_and_merges_it(tmp_path, monkeypatch, capsys):
    course = _tiny_course(tmp_path / "course")
    out = tmp_path / "gpu-check.json"
    earlier = {
        "profile": "gpu",
        "executor": "inprocess",
        "timeout_s": 330,
        "jobs": [_job("notebook", "fixed", False, 2.0), _job("notebook", "fine", True, 3.0)],
    }
    out.write_text(json.dumps(earlier), encoding="utf-8")
    repo = Path(autograder.__file__).resolve().parents[1]
    monkeypatch.setenv("PYTHONPATH", str(repo))
    argv = ["--allow-cpu", "--failed-only", "--course", str(course.root), "--out", str(out)]
    argv += ["--chapters", "--executor", "inprocess", "--commit", "feedbee", "--timeout", "120"]
    assert gpu_check.main(argv) == 0
    merged = json.loads(out.read_text(encoding="utf-8"))
    rows = {j["name"]: j for j in merged["jobs"]}
    assert rows["fixed"]["ok"] and rows["fixed"]["run"] == 2
    assert rows["fine"]["run"] == 1 and rows["fine"]["seconds"] == 3.0  # not re-run
    assert merged["runs"][-1]["commit"] == "feedbee" and merged["all_ok"]
    printed = capsys.readouterr().out
    assert "(kept from run 1)" in printed
    # a second --failed-only finds nothing left to do and says so
    assert gpu_check.main(argv) == 0
    assert "nothing to re-run" in capsys.readouterr().out
