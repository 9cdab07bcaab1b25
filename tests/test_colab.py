"""Every course notebook starts with the same Colab setup cell, built from one repository
setting (URL + release tag) and the tested versions in constraints.txt."""

from __future__ import annotations

import ast
import re
import tomllib

import nbformat
import pytest

from autograder.authoring.colab import (
    SETUP_CELL_ID,
    colab_pins,
    release_tag,
    repository_url,
    setup_cell_source,
    stamp_setup_cells,
)
from autograder.authoring.constraints import COLAB_PINNED
from autograder.course import CourseLayout
from funlm.doctor import normalize, read_constraints

COURSE = CourseLayout.find()
NOTEBOOKS = sorted([*COURSE.solutions.rglob("*.ipynb"), *COURSE.exercises.rglob("*.ipynb")])
PIN = re.compile(r'"([A-Za-z0-9_.-]+)==([^"]+)"')


def test_repository_url_comes_from_the_book_config():
    assert repository_url().startswith("https://github.com/")


def test_release_tag_is_the_package_version(repo_root):
    version = tomllib.loads((repo_root / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert release_tag() == f"v{version}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_first_cell_is_the_current_setup_cell(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.metadata["nbgrader"]["grade_id"] == SETUP_CELL_ID
    assert first.metadata["nbgrader"]["locked"] is True
    assert first.source == setup_cell_source(), "run `make exercises` to restamp"


def test_cell_installs_the_release_with_the_constraints(repo_root):
    """The cell and constraints.txt agree: the tag, and every pinned package at its version."""
    source = setup_cell_source()
    assert f"funlm @ git+{repository_url()}.git@{release_tag()}" in source
    in_cell = {normalize(name): version for name, version in PIN.findall(source)}
    pins = read_constraints(repo_root / "constraints.txt")
    assert set(in_cell) == set(COLAB_PINNED)
    assert in_cell == {name: pins[name] for name in COLAB_PINNED}
    assert "torch" not in in_cell, "Colab keeps its own CUDA build of torch"


def test_cell_follows_a_changed_pin(tmp_path, repo_root):
    text = (repo_root / "constraints.txt").read_text("utf-8")
    changed = tmp_path / "constraints.txt"
    changed.write_text(re.sub(r"(?m)^transformers==.*$", "transformers==5.0.0", text), "utf-8")
    source = setup_cell_source(pins=colab_pins(changed))
    assert '"transformers==5.0.0"' in source and source != setup_cell_source()


def test_setup_cell_is_a_no_op_outside_colab():
    namespace: dict = {}
    exec(compile(setup_cell_source(), "setup", "exec"), namespace)  # must not install anything
    assert "subprocess" in namespace and "pins" not in namespace


def test_setup_cell_is_valid_python():
    ast.parse(setup_cell_source())


def test_stamping_replaces_a_stale_setup_cell(tmp_path):
    path = tmp_path / "nb.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# title")])
    nbformat.write(notebook, path)
    fork = "https://github.com/someone/fork"
    assert stamp_setup_cells(tmp_path, url=fork, tag="v9.9.9") == [path]
    first = nbformat.read(path, as_version=4).cells[0]
    assert "git+https://github.com/someone/fork.git@v9.9.9" in first.source
    assert stamp_setup_cells(tmp_path, url=fork, tag="v9.9.9") == []
