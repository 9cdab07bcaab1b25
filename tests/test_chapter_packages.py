"""One house per chapter: a package with ``settings(profile)`` and ``run_experiment``, a thin
``funlm.repro.chNN`` wrapper over it, a documented chapter → package map, pages and notebooks
that import the package (not ``funlm.repro``), and one reader for the shipped data files."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import re
import types
from pathlib import Path

import pytest

import funlm
from funlm.data import data_path, read_jsonl
from funlm.experiment import ExperimentSettings
from funlm.records import read_record, record_path
from funlm.repro import chapters

SRC = Path(funlm.__file__).resolve().parent
MAX_WRAPPER_LINES = 40
# Pages about the records themselves, which may read them through funlm.repro.
RECORD_PAGES = {"ch07_outro/numbers.ipynb", "environment.ipynb", "instructor/schedule.ipynb"}


def chapter_package(chapter: str) -> types.ModuleType:
    """The one ``funlm`` package that ``funlm.repro.<chapter>`` wraps."""
    wrapper = importlib.import_module(f"funlm.repro.{chapter}")
    found = [
        value
        for value in vars(wrapper).values()
        if isinstance(value, types.ModuleType)
        and value.__name__.startswith("funlm.")
        and hasattr(value, "__path__")
    ]
    assert len(found) == 1, f"{chapter}: wraps {[m.__name__ for m in found]}"
    return found[0]


@pytest.mark.parametrize("chapter", chapters())
def test_every_chapter_package_has_one_settings_shape(chapter):
    package = chapter_package(chapter)
    for name in funlm.PROFILES:
        settings = package.settings(funlm.profile(name))
        assert isinstance(settings, ExperimentSettings), type(settings)
        assert dataclasses.is_dataclass(settings)
        with pytest.raises(dataclasses.FrozenInstanceError):
            settings.profile = "changed"
        assert settings.profile == name and settings.device == funlm.profile(name).device
        assert "profile" not in settings.sizes() and "device" not in settings.sizes()
    assert next(iter(inspect.signature(package.run_experiment).parameters)) == "settings"


@pytest.mark.parametrize("chapter", chapters())
def test_repro_wrappers_are_thin(chapter):
    path = SRC / "repro" / f"{chapter}.py"
    assert len(path.read_text("utf-8").splitlines()) <= MAX_WRAPPER_LINES
    wrapper = importlib.import_module(f"funlm.repro.{chapter}")
    assert wrapper.HEADLINE_KEYS and callable(wrapper.run)


def _where_things_are(readme: str) -> str:
    start = readme.index("## Where things are")
    return readme[start : readme.index("\n## ", start + 1)]


@pytest.mark.parametrize("chapter", chapters())
def test_the_chapter_map_is_documented(chapter, repo_root):
    package = chapter_package(chapter).__name__
    number = int(chapter[2:])
    section = _where_things_are((repo_root / "README.md").read_text("utf-8"))
    rows = [line for line in section.splitlines() if line.startswith(f"| {number} |")]
    assert len(rows) == 1 and f"`{package}`" in rows[0], rows
    assert f"chapter {number} (``ch{number:02d}_" in funlm.__doc__
    assert f":mod:`{package}`" in funlm.__doc__


def _code_cells(path: Path) -> list[str]:
    notebook = json.loads(path.read_text("utf-8"))
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]


def _imported_modules(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: no imports to check there
        return []
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_pages_and_notebooks_import_chapter_packages_not_repro(repo_root):
    offenders = []
    notebooks = [
        *(repo_root / "book").rglob("*.ipynb"),
        *(repo_root / "solutions").rglob("*.ipynb"),
    ]
    for path in notebooks:
        if "_build" in path.parts:
            continue
        page = path.relative_to(repo_root / "book").as_posix() if "book" in path.parts else ""
        if page in RECORD_PAGES:
            continue
        for source in _code_cells(path):
            offenders += [
                f"{path.relative_to(repo_root)}: {name}"
                for name in _imported_modules(source)
                if name == "funlm.repro" or name.startswith("funlm.repro.")
            ]
    assert offenders == []


def test_no_chapter_package_imports_repro():
    offenders = []
    folders = [Path(chapter_package(chapter).__file__).parent for chapter in chapters()]
    for path in (path for folder in folders for path in folder.rglob("*.py")):
        relative = path.relative_to(SRC)
        for name in _imported_modules(path.read_text("utf-8")):
            if name == "funlm.repro" or name.startswith("funlm.repro."):
                offenders.append(f"{relative}: {name}")
    assert offenders == []


def test_the_import_check_catches_repro_imports():
    assert _imported_modules("from funlm.repro.ch03 import x\nimport funlm.repro") == [
        "funlm.repro.ch03",
        "funlm.repro.ch03.x",
        "funlm.repro",
    ]
    assert _imported_modules("%env FUNLM_PROFILE=grade") == []


# --- shipped data --------------------------------------------------------------------------


def test_read_jsonl_reads_every_shipped_file():
    files = sorted(p.name for p in data_path("x").parent.glob("*.jsonl"))
    assert len(files) >= 6
    for name in files:
        lines = data_path(name).read_text("utf-8").splitlines()
        rows = read_jsonl(name)
        assert rows == [json.loads(line) for line in lines if line.strip()], name
        assert rows and all(isinstance(row, dict) for row in rows), name
    with pytest.raises(FileNotFoundError):
        read_jsonl("no_such_file.jsonl")


_LOADER = re.compile(r"json\.loads\(\s*line\b|\.jsonl[\"'].*read_text|resources\.files\(")


def test_no_other_module_reads_the_data_files_itself():
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts[0] != "data" and _LOADER.search(path.read_text("utf-8"))
    ]
    assert offenders == []
    assert _LOADER.search("rows = [json.loads(line) for line in text.splitlines()]")


# --- recorded runs ---------------------------------------------------------------------------


def test_read_record_returns_the_record_or_none(tmp_path):
    record_path("ch09", "cpu", tmp_path).write_text('{"chapter": "ch09", "x": 1}', "utf-8")
    assert read_record("ch09", "cpu", tmp_path) == {"chapter": "ch09", "x": 1}
    assert read_record("ch09", "grade", tmp_path) is None  # no such file
    record_path("ch08", "cpu", tmp_path).write_text("{not json", "utf-8")
    assert read_record("ch08", "cpu", tmp_path) is None
    record_path("ch07", "cpu", tmp_path).write_text("[1, 2]", "utf-8")
    assert read_record("ch07", "cpu", tmp_path) is None  # a record is an object
