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
