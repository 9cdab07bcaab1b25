"""Hostile and broken submissions of ``ch00_orientation``, generated from the real notebooks.

Each :class:`Case` is a file a student could hand in, with the score and the recorded reason
the grader must produce. They are built from ``exercises/ch00_orientation`` (what students get)
and the answers in ``solutions/`` (to make some parts genuinely correct), so that a case can
also show that earned points survive (a crash in part 2 must not cost part 1's points).

Used by ``tests/test_grade_hostile.py`` and ``make bench-grade`` (``python -m
autograder.benches.grading``), which prints how many cases were graded correctly and how many
escaped (earned points they did not earn). The notebooks come from the configured course
(:class:`autograder.course.CourseLayout`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from autograder.course import CourseLayout, graded_parts

ASSIGNMENT = "ch00_orientation"
ANSWERS = {
    "count_tokens": "test_count_tokens",
    "next_token": "test_next_token",
    "greedy": "test_greedy",
    "chat": "test_chat",
    "perplexity": "test_perplexity",
}


@dataclass(frozen=True)
class Case:
    """One submission and what grading it must give."""

    name: str
    build: Callable[[Context], bytes]
    score: float
    status: str = "ok"
    reason: tuple[str, ...] = ()  # substrings the reason column must contain
    what: str = ""
    clean: bool = False  # the reason column must stay empty (innocent code: no false alarm)


@dataclass
class Context:
    """Paths a hostile notebook aims at (they must stay out of its reach)."""

    out: Path
    canary: Path  # a host file the notebook tries to delete
    extra: dict = field(default_factory=dict)


def course() -> CourseLayout:
    """The course whose ``ch00_orientation`` notebooks the cases are built from."""
    return CourseLayout.find()


def points() -> dict[str, float]:
    """``{test cell grade_id: points}`` of the assignment, read from its source notebook."""
    return graded_parts(nbformat.read(course().source_notebook(ASSIGNMENT), as_version=4))


def _exercise() -> NotebookNode:
    return nbformat.read(course().release_notebook(ASSIGNMENT), as_version=4)


def solution_answer(grade_id: str) -> str:
    """The reference answer of one answer cell, without nbgrader's markers."""
    notebook = nbformat.read(course().source_notebook(ASSIGNMENT), as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return "\n".join(
                line
                for line in cell.source.splitlines()
                if "### BEGIN" not in line and "### END" not in line
            )
    raise KeyError(grade_id)


def _gid(cell: NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def notebook(
    answers: dict[str, str] | None = None, extra: dict[str, str] | None = None
) -> NotebookNode:
    """The exercise with some answers filled in and extra cells after given cells."""
    nb = _exercise()
    answers = answers or {}
    extra = extra or {}
    cells = []
    for cell in nb.cells:
        gid = _gid(cell)
        if gid in answers:
            cell.source = answers[gid]
        cells.append(cell)
        if gid in extra:
            cells.append(nbformat.v4.new_code_cell(extra[gid]))
    nb.cells = cells
    return nb


def _bytes(nb: NotebookNode) -> bytes:
    return nbformat.writes(nb).encode("utf-8")


def _with_part1(**extra: str) -> Callable[[Context], bytes]:
    return lambda ctx: _bytes(notebook({"count_tokens": solution_answer("count_tokens")}, extra))


# -- builders that need more than an extra cell --------------------------------------------------


def _correct(ctx: Context) -> bytes:
    return _bytes(notebook({gid: solution_answer(gid) for gid in ANSWERS}))


def _partial(ctx: Context) -> bytes:
    wrong_chat = solution_answer("chat").replace(
        "add_generation_prompt=True", "add_generation_prompt=False"
    )
    return _bytes(
        notebook(
            {
                "count_tokens": solution_answer("count_tokens"),
                "greedy": solution_answer("greedy"),
                "chat": wrong_chat,
            }
        )
    )


def _infinite_loop(ctx: Context) -> bytes:
    loop = (
        "def next_token_probs(model, tokenizer, prompt):\n"
        "    while True:\n"
        "        try:\n"
        "            pass\n"
        "        except BaseException:\n"
        "            pass\n"
    )
    return _bytes(notebook({"count_tokens": solution_answer("count_tokens"), "next_token": loop}))


def _kernel_crash(ctx: Context) -> bytes:
    crash = "import os\n\ndef next_token_probs(model, tokenizer, prompt):\n    os.abort()\n"
    return _bytes(notebook({"count_tokens": solution_answer("count_tokens"), "next_token": crash}))


def _exit_in_answer(ctx: Context) -> bytes:
    quit_ = "import os\n\ndef next_token_probs(model, tokenizer, prompt):\n    os._exit(0)\n"
    return _bytes(notebook({"count_tokens": solution_answer("count_tokens"), "next_token": quit_}))


def _edit_tests(ctx: Context) -> bytes:
    nb = notebook()
    tests_ids = points()
    for cell in nb.cells:
        if _gid(cell) in tests_ids:
            cell.source = "passed('쉬운 테스트')"
    return _bytes(nb)


def _delete_tests(ctx: Context) -> bytes:
    nb = notebook({"count_tokens": solution_answer("count_tokens")})
    tests_ids = points()
    nb.cells = [c for c in nb.cells if _gid(c) not in tests_ids]
    return _bytes(nb)


def _reorder(ctx: Context) -> bytes:
    nb = notebook({"count_tokens": solution_answer("count_tokens")})
    tests_ids = points()
    tests = [c for c in nb.cells if _gid(c) in tests_ids]
    rest = [c for c in nb.cells if _gid(c) not in tests_ids]
    nb.cells = rest[:1] + tests[::-1] + rest[1:]
    return _bytes(nb)


def _tamper_metadata(ctx: Context) -> bytes:
    nb = notebook()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "test_count_tokens":
            meta["points"] = 1000
            meta["checksum"] = "0" * 32
        elif meta.get("grade_id") == "test_next_token":
            meta["grade"] = False
            meta["locked"] = False
        elif meta.get("grade_id") == "count_tokens":
            meta["grade"] = True
            meta["points"] = 100
    return _bytes(nb)


def _stripped_metadata(ctx: Context) -> bytes:
    nb = notebook({"count_tokens": solution_answer("count_tokens")})
    for cell in nb.cells:
        cell.metadata = {}
    return _bytes(nb)


def _wrong_assignment(ctx: Context) -> bytes:
    nb = _exercise()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta:
            meta["grade_id"] = "ch01_" + meta["grade_id"]
        cell.source = cell.source.replace("def ", "def other_")
    return _bytes(nb)


def _forged_evidence(ctx: Context) -> bytes:
    cell = (
        "import re\n"
        "def _fake(lines):\n"
        "    text = ''.join(lines)\n"
        '    m = re.search(r\'"(test_\\w+)", "(\\w+)"\', text)\n'
        "    if m:\n"
        "        fake = 'ab' * 32\n"
        "        return [f'print(\"[funlm-grader-evidence] {m[1]} {m[2]} {fake}\")\\n']\n"
        "    return lines\n"
        "get_ipython().input_transformers_cleanup.append(_fake)\n"
    )
    return _bytes(notebook(extra={"load_model": cell}))


# -- cells that attack from inside ----------------------------------------------------------------

EMPTY_TESTS = """\
def _skip_tests(lines):
    text = "".join(lines)
    if "check" in text or "audit" in text or "passed(" in text:
        return ["pass\\n"]
    return lines
get_ipython().input_transformers_cleanup.append(_skip_tests)
def count_tokens(text, tokenizer):
    return 0
"""

AST_AND_EXC = """\
import ast
class _Nothing(ast.NodeTransformer):
    def visit_Module(self, node):
        node.body = [ast.Pass()]
        return node
get_ipython().ast_transformers.append(_Nothing())
get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)
import sys
sys.excepthook = lambda *args: None
"""

PATCH_GRADING = """\
import builtins
import funlm.grading as grading
def _ok(*args, **kwargs):
    return None
for _name in ["check", "check_close", "check_equal", "check_shape", "check_type", "_fail"]:
    setattr(grading, _name, _ok)
check = check_close = check_equal = check_shape = check_type = _ok
class AssertionError(Exception):
    pass
builtins.AssertionError = AssertionError
def count_tokens(text, tokenizer):
    return 0
"""

SETTRACE = """\
import sys, threading
def _tracer(frame, event, arg):
    if event == "exception":
        return None
    return _tracer
try:
    sys.settrace(_tracer)
except Exception as error:
    print("settrace:", type(error).__name__)
try:
    threading.settrace(_tracer)
except Exception as error:
    print("threading.settrace:", type(error).__name__)
import gc
try:
    gc.get_objects()
except Exception as error:
    print("gc:", type(error).__name__)
"""

HUGE_OUTPUT = """\
while True:
    print("x" * 100_000)
"""

MEMORY = """\
blocks = []
try:
    while True:
        blocks.append(bytearray(256 * 2**20))
finally:
    blocks.clear()
"""

NETWORK = """\
import socket, urllib.request
for attempt in (
    lambda: socket.create_connection(("pypi.org", 443), timeout=3),
    lambda: urllib.request.urlopen("https://example.com", timeout=3),
):
    try:
        attempt()
        print("NETWORK REACHED")
    except Exception as error:
        print("network blocked:", type(error).__name__)
"""


def _escape_cell(ctx: Context) -> str:
    targets = [str(ctx.out / "grades.csv"), str(ctx.out / "gradebook.db"), "/etc/funlm-evil"]
    targets.append(str(course().root / "README.md"))
    return f"""\
import os, shutil
for path in {targets!r}:
    try:
        with open(path, "w") as handle:
            handle.write("pwned")
        print("WROTE", path)
    except Exception as error:
        print("write blocked:", type(error).__name__)
for path in [{str(ctx.canary)!r}]:
    try:
        os.remove(path)
        print("DELETED", path)
    except Exception as error:
        print("delete blocked:", type(error).__name__)
try:
    shutil.rmtree({str(course().solutions)!r})
except Exception as error:
    print("rmtree blocked:", type(error).__name__)
"""


def _read_cell(ctx: Context) -> str:
    solution = course().source_notebook(ASSIGNMENT)
    return f"""\
import json, os
stolen = None
for path in [{str(solution)!r}, {str(ctx.out / "gradebook.db")!r}, {str(ctx.out)!r}]:
    try:
        if os.path.isdir(path):
            print("LISTED", os.listdir(path))
        else:
            with open(path, "rb") as handle:
                data = handle.read()
            print("READ", path, len(data))
            if path.endswith(".ipynb"):
                stolen = json.loads(data)
    except Exception as error:
        print("read blocked:", type(error).__name__)
if stolen:
    for cell in stolen["cells"]:
        if "BEGIN SOLUTION" in "".join(cell["source"]):
            exec("".join(cell["source"]))
"""


# -- innocent code that once raised false alarms (must grade 100 with an empty reason) ------

DYNAMO = """\
import torch
# creating an optimizer imports torch._dynamo, which wraps torch.manual_seed once
optimizer = torch.optim.AdamW(torch.nn.Linear(2, 2).parameters(), lr=1e-3)
"""

PYPLOT = """\
import matplotlib.pyplot as plt
# the first figure registers pyplot's post_execute hook with IPython
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([1, 2, 3], [3, 1, 2])
plt.show()
"""

THREAD_LIMITER = """\
import numpy as np
from funlm.double_descent import one_thread
# the course's own limiter sets BLAS threads through threadpoolctl (ctypes)
with one_thread():
    print(round(float(np.linalg.svd(np.eye(40) * 2.0, compute_uv=False)[0]), 1))
"""

LIBRARY_SUBPROCESS = """\
import matplotlib.font_manager as font_manager
# a fresh matplotlib lists the system fonts with `fc-list` (a new process) unless cached
print(len(font_manager.fontManager.ttflist) > 0)
"""

BACKGROUND_THREAD = """\
import threading
import time
# a helper thread that ends while a later test is still running
threading.Thread(target=time.sleep, args=(6,), daemon=True).start()
"""

TRIPWIRE_TAMPER = """\
import funlm.answer_keys as answer_keys
answer_keys._ARMED = {}  # disarm the delegation tripwire
"""


def _correct_with(extra: str) -> Callable[[Context], bytes]:
    answers = {gid: solution_answer(gid) for gid in ANSWERS}
    return lambda ctx: _bytes(notebook(answers, {"load_model": extra}))


def _visible_only(ctx: Context) -> bytes:
    """Part 1 passes its visible tests by a lookup table and fails the hidden ones."""
    answers = {gid: solution_answer(gid) for gid in ANSWERS}
    answers["count_tokens"] = (
        "def count_tokens(text: str, tokenizer) -> int:\n"
        '    return {"Hello, world!": 4, "": 0}.get(text, 1)\n'
    )
    return _bytes(notebook(answers))


def cases() -> list[Case]:
    """The hostile suite (the order is the grading order of the batch)."""
    worth = points()
    part1 = worth["test_count_tokens"]
    return [
        Case("correct", _correct, 100, clean=True, what="every part answered correctly"),
        Case(
            "untouched",
            lambda ctx: _bytes(notebook()),
            0,
            clean=True,
            what="the exercise as released",
        ),
        Case(
            "partial",
            _partial,
            part1 + worth["test_greedy"],
            what="parts 1 and 3 right, part 4 wrong",
        ),
        Case(
            "infinite_loop",
            _infinite_loop,
            part1,
            reason=("timeout",),
            what="loop ignoring interrupts in part 2",
        ),
        Case(
            "huge_output",
            _with_part1(count_tokens=HUGE_OUTPUT),
            part1,
            reason=("output limit",),
            what="prints forever",
        ),
        Case(
            "memory_blowup",
            _with_part1(count_tokens=MEMORY),
            part1,
            reason=("MemoryError",),
            what="allocates without end",
        ),
        Case(
            "kernel_crash",
            _kernel_crash,
            part1,
            reason=("kernel died",),
            what="os.abort() inside a test",
        ),
        Case(
            "exit_in_answer",
            _exit_in_answer,
            part1,
            reason=("kernel died",),
            what="os._exit(0) inside a test",
        ),
        Case(
            "write_delete_outside",
            lambda ctx: _bytes(
                notebook(
                    {"count_tokens": solution_answer("count_tokens")},
                    {"load_model": _escape_cell(ctx)},
                )
            ),
            part1,
            reason=("write outside",),
            what="writes the grades/gradebook/repo, deletes a host file, rmtree solutions/",
        ),
        Case(
            "read_instructor_files",
            lambda ctx: _bytes(notebook(extra={"load_model": _read_cell(ctx)})),
            0,
            reason=("instructor files",),
            what="reads solutions/ and the gradebook and runs the stolen solution",
        ),
        Case(
            "network",
            _with_part1(load_model=NETWORK),
            part1,
            reason=("network",),
            what="opens sockets / HTTP",
        ),
        Case(
            "edit_tests", _edit_tests, 0, reason=("edited",), what="test cells replaced by passed()"
        ),
        Case("delete_tests", _delete_tests, part1, reason=("missing",), what="test cells deleted"),
        Case(
            "reorder_tests",
            _reorder,
            part1,
            reason=("reordered",),
            what="test cells moved to the top, reversed",
        ),
        Case(
            "tamper_metadata",
            _tamper_metadata,
            0,
            reason=("metadata",),
            what="points 1000, grade flags, checksums",
        ),
        Case(
            "input_transformer",
            lambda ctx: _bytes(notebook(extra={"load_model": EMPTY_TESTS})),
            0,
            reason=("no evidence",),
            what="get_ipython().input_transformers_cleanup empties every test cell",
        ),
        Case(
            "ast_transformer_and_exc",
            lambda ctx: _bytes(notebook(extra={"load_model": AST_AND_EXC})),
            0,
            reason=("no evidence",),
            what="AST transformer drops all code; custom exception handler swallows errors",
        ),
        Case(
            "patch_grading",
            lambda ctx: _bytes(notebook(extra={"load_model": PATCH_GRADING})),
            0,
            reason=("integrity",),
            what="funlm.grading, check_* names and AssertionError monkeypatched",
        ),
        Case(
            "settrace_gc",
            lambda ctx: _bytes(notebook(extra={"load_model": SETTRACE})),
            0,
            reason=("sys.settrace",),
            what="sys.settrace / threading.settrace / gc introspection",
        ),
        Case(
            "forged_evidence",
            _forged_evidence,
            0,
            reason=("no evidence",),
            what="prints fake grader evidence",
        ),
        Case(
            "stripped_metadata",
            _stripped_metadata,
            part1,
            reason=("signature",),
            what="an editor dropped nbgrader metadata",
        ),
        Case(
            "tamper_tripwire",
            _correct_with(TRIPWIRE_TAMPER),
            0,
            reason=("funlm.answer_keys._ARMED",),
            what="rebinds the delegation tripwire's state",
        ),
        Case(
            "visible_only",
            _visible_only,
            100 - part1,
            clean=True,
            what="part 1 fits the visible tests only; its hidden tests fail",
        ),
        Case(
            "innocent_dynamo",
            _correct_with(DYNAMO),
            100,
            clean=True,
            what="creates a torch optimizer (torch._dynamo rewraps torch.manual_seed)",
        ),
        Case(
            "innocent_pyplot",
            _correct_with(PYPLOT),
            100,
            clean=True,
            what="draws a matplotlib figure (pyplot hooks into IPython)",
        ),
        Case(
            "innocent_thread_limiter",
            _correct_with(THREAD_LIMITER),
            100,
            clean=True,
            what="uses funlm's one_thread() (threadpoolctl calls BLAS through ctypes)",
        ),
        Case(
            "innocent_library_subprocess",
            _correct_with(LIBRARY_SUBPROCESS),
            100,
            clean=True,
            what="imports matplotlib's font manager (runs fc-list without a font cache)",
        ),
        Case(
            "innocent_background_thread",
            _correct_with(BACKGROUND_THREAD),
            100,
            clean=True,
            what="a background thread ends while a test runs (the test still counts)",
        ),
        Case(
            "invalid_json",
            lambda ctx: b'{"cells": [',
            0,
            status="error",
            reason=("invalid notebook JSON",),
        ),
        Case("empty_file", lambda ctx: b"", 0, status="error", reason=("empty file",)),
        Case(
            "wrong_assignment",
            _wrong_assignment,
            0,
            status="error",
            reason=("not a notebook of this assignment",),
        ),
    ]


def write(folder: Path, ctx: Context, selected: list[Case] | None = None) -> list[Case]:
    """Write ``<case>.ipynb`` for every case into ``folder``; returns the cases written."""
    folder.mkdir(parents=True, exist_ok=True)
    chosen = selected if selected is not None else cases()
    for case in chosen:
        (folder / f"{case.name.replace('_', '-')}.ipynb").write_bytes(case.build(ctx))
    return chosen


def student_id(case: Case) -> str:
    return case.name.replace("_", "-")


def judge(case: Case, row: dict[str, str]) -> list[str]:
    """Problems with one graded row (empty: graded correctly)."""
    problems = []
    if float(row["score"]) != case.score:
        problems.append(f"score {row['score']} != {case.score:g}")
    if row["status"] != case.status:
        problems.append(f"status {row['status']} != {case.status}")
    for text in case.reason:
        if text not in row["reason"]:
            problems.append(f"reason lacks {text!r}: {row['reason']!r}")
    if case.clean and row["reason"]:
        problems.append(f"false alarm: reason {row['reason']!r} should be empty")
    return problems


def escaped(case: Case, row: dict[str, str]) -> bool:
    """Did the submission earn points it did not earn?"""
    return float(row["score"]) > case.score


__all__ = ["Case", "Context", "cases", "copy", "escaped", "json", "judge", "student_id", "write"]
