"""Every course notebook starts with the same Colab setup cell, built from one URL."""

from __future__ import annotations

import nbformat
import pytest

from autograder.colab import SETUP_CELL_ID, repository_url, setup_cell_source, stamp_setup_cells
from autograder.course import EXERCISES_DIR, SOLUTIONS_DIR

NOTEBOOKS = sorted([*SOLUTIONS_DIR.rglob("*.ipynb"), *EXERCISES_DIR.rglob("*.ipynb")])


def test_repository_url_comes_from_the_book_config():
    assert repository_url().startswith("https://github.com/")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_first_cell_is_the_current_setup_cell(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.metadata["nbgrader"]["grade_id"] == SETUP_CELL_ID
    assert first.metadata["nbgrader"]["locked"] is True
    assert first.source == setup_cell_source(), "run `make exercises` to restamp"


def test_setup_cell_is_a_no_op_outside_colab():
    namespace: dict = {}
    exec(compile(setup_cell_source(), "setup", "exec"), namespace)  # must not install anything
    assert "subprocess" in namespace


def test_stamping_replaces_a_stale_setup_cell(tmp_path):
    path = tmp_path / "nb.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# title")])
    nbformat.write(notebook, path)
    assert stamp_setup_cells(tmp_path, url="https://github.com/someone/fork") == [path]
    first = nbformat.read(path, as_version=4).cells[0]
    assert "git+https://github.com/someone/fork.git" in first.source
    assert stamp_setup_cells(tmp_path, url="https://github.com/someone/fork") == []
