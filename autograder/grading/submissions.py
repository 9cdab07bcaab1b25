"""Finding the class's submissions and turning each into a notebook nbgrader can grade.

* :func:`collect` reads a folder of ``<student_id>.ipynb`` files or an LMS zip (extracted with
  nbgrader's own ``unzip`` and matched with nbgrader's ``FileNameCollectorPlugin``; the file-name
  pattern is configurable). Ids are sanitised; a file that yields no valid id is reported.
* :func:`load` checks one file (size, JSON, notebook format) and :func:`rebuild` lays it out
  on the released notebook: the instructor's cells (setup, tests, markdown) come from the
  release in the release's order, the student's answer cells are matched by nbgrader
  ``grade_id`` (or, when the metadata was stripped, by the function signature the answer
  starts with), and the student's own extra cells keep their place after the cell they
  followed. Deleted, edited, duplicated or reordered instructor cells and tampered metadata
  are thereby undone (nbgrader's ``OverwriteCells`` then restores the gradebook's versions,
  hidden tests included), and each is recorded as a note.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.plugins.zipcollect import FileNameCollectorPlugin
from nbgrader.utils import unzip

# `<student_id>.ipynb` anywhere in the folder or zip (the default for a folder of notebooks).
DEFAULT_NAME_PATTERN = r"^(?:.*/)?(?P<student_id>[^/]+?)\.ipynb$"
STUDENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_ZIP_BYTES = 2 * 2**30
MAX_ZIP_FILES = 20_000


class InputError(ValueError):
    """The command's input cannot be used (reported before any grading)."""


@dataclass
class Collected:
    """Submissions found: ``{student_id: path}`` plus the files that were skipped and why."""

    submissions: dict[str, Path] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def sanitise_student_id(raw: str) -> str | None:
    """A safe student id (NFKC, trimmed, spaces to '_'), or None when none can be made."""
    text = unicodedata.normalize("NFKC", raw).strip().replace(" ", "_")
    if STUDENT_ID_RE.fullmatch(text) and ".." not in text:
        return text
    return None


def check_zip(path: Path) -> None:
    """Raise InputError unless ``path`` is a readable zip of reasonable size."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile) as error:
        raise InputError(f"cannot read the zip file {path}: {error}") from error
    if len(infos) > MAX_ZIP_FILES or sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
        raise InputError(f"the zip file {path} is too large to extract safely")


def collect(source: Path, workdir: Path, name_pattern: str = DEFAULT_NAME_PATTERN) -> Collected:
    """Find ``{student_id: notebook}`` in a folder or an LMS zip (extracted into ``workdir``)."""
    if source.is_file():
        check_zip(source)
        root = workdir / "extracted"
        root.mkdir(parents=True, exist_ok=True)
        try:
            unzip(str(source), str(root), zip_ext=[".zip"], create_own_folder=False, tree=True)
        except Exception as error:  # a corrupt member, …
            raise InputError(f"cannot extract the zip file {source}: {error}") from error
    else:
        root = source
    plugin = FileNameCollectorPlugin(named_regexp=name_pattern, valid_ext=[".ipynb"])
    found = Collected()
    candidates: dict[str, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or "__MACOSX/" in relative or "/." in "/" + relative:
            continue
        if path.suffix != ".ipynb":
            found.skipped.append((relative, "not a notebook (.ipynb)"))
            continue
        groups = plugin.collect(relative)
        raw = (groups or {}).get("student_id")
        student = sanitise_student_id(raw) if raw else None
        if student is None:
            found.skipped.append((relative, "no valid student id in the file name"))
            continue
        candidates.setdefault(student, []).append(path)
    for student, paths in sorted(candidates.items()):
        if len(paths) > 1:
            names = ", ".join(p.relative_to(root).as_posix() for p in paths)
            found.skipped.append((names, f"several files for student {student!r}"))
        else:
            found.submissions[student] = paths[0]
    return found


class SubmissionError(ValueError):
    """This submission cannot be graded (recorded as status=error with this reason)."""


def load(path: Path) -> NotebookNode:
    """Read a submitted notebook, or raise SubmissionError with a short reason."""
    size = path.stat().st_size
    if size == 0:
        raise SubmissionError("empty file")
    if size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"file too large ({size // 2**20} MiB)")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SubmissionError(f"invalid notebook JSON ({type(error).__name__})") from error
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        raise SubmissionError("not a Jupyter notebook")
    try:
        notebook = nbformat.reads(json.dumps(data), as_version=4)
        for cell in notebook.cells:
            cell.setdefault("metadata", NotebookNode())
            if not isinstance(cell.get("source", ""), str):
                raise SubmissionError("malformed cell source")
    except SubmissionError:
        raise
    except Exception as error:
        raise SubmissionError(f"not a valid notebook ({type(error).__name__})") from error
    return notebook


def _grade_id(cell: NotebookNode) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
        return meta["grade_id"]
    return None


def _signature(source: str) -> str | None:
    for line in source.splitlines():
        line = line.strip()
        if line.startswith(("def ", "class ")):
            return line
    return None


def rebuild(student: NotebookNode, release: NotebookNode) -> tuple[NotebookNode, list[str]]:
    """The release notebook with the student's answers and extra cells in place (+ notes).

    Raises SubmissionError when the notebook is not for this assignment at all.
    """
    notes: list[str] = []
    release_ids = {gid: cell for cell in release.cells if (gid := _grade_id(cell))}
    answer_ids = [
        gid for gid, cell in release_ids.items() if cell.metadata["nbgrader"].get("solution")
    ]
    instructor_ids = set(release_ids) - set(answer_ids)

    # Which student cell is which release cell?
    matched: dict[int, str] = {}
    for index, cell in enumerate(student.cells):
        gid = _grade_id(cell)
        if gid in release_ids and gid not in matched.values():
            matched[index] = gid
        elif gid in release_ids:
            notes.append(f"duplicate cell {gid} ignored")
    if not any(gid in answer_ids for gid in matched.values()):
        # nbgrader metadata stripped (some editors do): match answers by their signature
        signatures = {
            sig: gid
            for gid in answer_ids
            if (sig := _signature(release_ids[gid].source)) is not None
        }
        for index, cell in enumerate(student.cells):
            if cell.cell_type != "code" or index in matched:
                continue
            for sig, gid in signatures.items():
                if gid not in matched.values() and sig in (
                    line.strip() for line in cell.source.splitlines()
                ):
                    matched[index] = gid
                    break
        if matched:
            notes.append("nbgrader metadata missing: answers matched by function signature")
    if not any(gid in answer_ids for gid in matched.values()):
        raise SubmissionError("not a notebook of this assignment (no answer cell found)")

    by_signature = any("function signature" in note for note in notes)
    instructor_sources = {release_ids[gid].source for gid in instructor_ids}
    # Extra student cells follow the matched cell they came after.
    after: dict[str | None, list[NotebookNode]] = {}
    anchor: str | None = None
    for index, cell in enumerate(student.cells):
        if index in matched:
            anchor = matched[index]
            continue
        if _grade_id(cell) is not None or cell.source in instructor_sources:
            continue  # a duplicate of an instructor/answer cell: the release's copy is used
        after.setdefault(anchor, []).append(copy.deepcopy(cell))

    # Detect tampering (for the notes only: the rebuild undoes it either way).
    order = [gid for _, gid in sorted(matched.items())]
    expected_order = [gid for gid in release_ids if gid in order]
    if order != expected_order:
        notes.append("cells reordered (restored)")
    by_id = {gid: student.cells[index] for index, gid in matched.items()}
    for gid in release_ids:
        if gid not in by_id:
            if not by_signature:
                kind = "answer" if gid in answer_ids else "instructor"
                notes.append(f"{kind} cell {gid} missing (restored)")
            continue
        cell, original = by_id[gid], release_ids[gid]
        if gid in instructor_ids and cell.source != original.source:
            notes.append(f"locked cell {gid} edited (restored)")
        their_meta = cell.metadata.get("nbgrader")
        mine = {k: v for k, v in original.metadata["nbgrader"].items() if k != "checksum"}
        theirs = (
            {k: v for k, v in their_meta.items() if k != "checksum"}
            if isinstance(their_meta, dict)
            else {}
        )
        if their_meta is not None and theirs != mine:
            notes.append(f"nbgrader metadata of {gid} changed (restored)")

    # Lay out: release order; free release cells are replaced by the student's free cells.
    cells: list[NotebookNode] = []
    for cell in release.cells:
        gid = _grade_id(cell)
        if gid is None:
            continue
        new = copy.deepcopy(cell)
        if gid in answer_ids and gid in by_id:
            new.source = by_id[gid].source
        cells.append(new)
        cells.extend(after.pop(gid, []))
    top = after.pop(None, [])
    if top:  # cells written above the instructor's setup run just before the first answer
        first = next((i for i, c in enumerate(cells) if _grade_id(c) in answer_ids), len(cells))
        cells[first:first] = top
    for leftover in after.values():
        cells.extend(leftover)
    for number, cell in enumerate(cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.id = f"cell-{number}"
    rebuilt = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(release.metadata))
    rebuilt.nbformat, rebuilt.nbformat_minor = release.nbformat, release.nbformat_minor
    return rebuilt, sorted(set(notes))
