"""Checks that keep the released exercises honest (used by the tests and by `make exercises`)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

# Text that must never reach a student: nbgrader's markers and anything between them.
FORBIDDEN_MARKERS: tuple[str, ...] = (
    "BEGIN SOLUTION",
    "END SOLUTION",
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "BEGIN MARK SCHEME",
)


def solution_snippets(solution_nb: Path) -> list[str]:
    """Non-trivial lines found between solution/hidden-test markers of a source notebook."""
    notebook = nbformat.read(solution_nb, as_version=4)
    hidden: list[str] = []
    visible: set[str] = set()
    for cell in notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if "BEGIN SOLUTION" in stripped or "BEGIN HIDDEN TESTS" in stripped:
                inside = True
            elif "END SOLUTION" in stripped or "END HIDDEN TESTS" in stripped:
                inside = False
            elif inside:
                hidden.append(stripped)
            else:
                visible.add(stripped)
    # Short or generic lines (``return x``, ``pass``, brackets) say nothing about the solution,
    # and a line the source also shows outside the markers is public anyway.
    return [
        line
        for line in hidden
        if len(line) >= 25 and not line.startswith("#") and line not in visible
    ]


def leaks(exercise_nb: Path, solution_nb: Path | None = None) -> list[str]:
    """Problems that would give a student answers or stale output. Empty list: clean."""
    notebook = nbformat.read(exercise_nb, as_version=4)
    problems: list[str] = []
    text = "\n".join(cell.source for cell in notebook.cells)
    for marker in FORBIDDEN_MARKERS:
        if marker in text:
            problems.append(f"{exercise_nb.name}: contains marker {marker!r}")
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"{exercise_nb.name}: cell {index} has outputs")
    if solution_nb is not None:
        exercise_lines = {line.strip() for line in text.splitlines()}
        for snippet in solution_snippets(solution_nb):
            if snippet in exercise_lines:
                problems.append(f"{exercise_nb.name}: contains solution/hidden line {snippet!r}")
    return problems


def unexecuted_problems(notebook_path: Path) -> list[str]:
    """Outputs or execution counts left in a committed source notebook."""
    notebook = nbformat.read(notebook_path, as_version=4)
    return [
        f"{notebook_path.name}: cell {i} has outputs"
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]


def tree_differences(expected: Path, actual: Path) -> list[str]:
    """Files that differ between two exercise trees (notebooks compared as parsed JSON)."""

    def files(root: Path) -> set[Path]:
        return {p.relative_to(root) for p in root.rglob("*") if p.is_file()}

    problems: list[str] = []
    left, right = files(expected), files(actual)
    problems += [f"missing: {p}" for p in sorted(left - right)]
    problems += [f"unexpected: {p}" for p in sorted(right - left)]
    for rel in sorted(left & right):
        a, b = expected / rel, actual / rel
        if rel.suffix == ".ipynb":
            same = json.loads(a.read_text("utf-8")) == json.loads(b.read_text("utf-8"))
        else:
            same = a.read_bytes() == b.read_bytes()
        if not same:
            problems.append(f"differs: {rel}")
    return problems
