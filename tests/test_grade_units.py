"""Unit tests of the grader's pieces that need no kernel: ids, collection, re-layout, evidence."""

from __future__ import annotations

import ast
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.benches import hostile
from autograder.grading import guard_kernel
from autograder.grading.evidence import VerifyEvidence
from autograder.grading.execute import summarise_events
from autograder.grading.feedback import HideHiddenTests, hide_hidden_tests
from autograder.grading.limits import Limits
from autograder.grading.run_state import (
    EVIDENCE_KEY,
    RUN_KEY,
    GradingRun,
    add_note,
    grading_run,
)
from autograder.grading.sandbox import (
    MATPLOTLIB_SUBDIR,
    SandboxError,
    check_exposure,
    kernel_command,
    matplotlib_cache,
    sandbox_env,
)
from autograder.grading.submissions import (
    InputError,
    SubmissionError,
    check_zip,
    collect,
    load,
    rebuild,
    sanitise_student_id,
)
from autograder.grading.worker import CourseAutograde

RELEASE = hostile.course().release_notebook(hostile.ASSIGNMENT)


def _release():
    return nbformat.read(RELEASE, as_version=4)


def _ids(notebook) -> list[str | None]:
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice", "alice"),
        ("  s2024-001 ", "s2024-001"),
        ("kim min", "kim_min"),
        ("ｓ１２３", "s123"),  # full-width digits and letters (NFKC)
        ("a.b@uni.ac.kr", "a.b@uni.ac.kr"),
        ("../../etc/passwd", None),
        ("", None),
        ("학생", None),
        (".hidden", None),
        ("x" * 65, None),
    ],
)
def test_student_ids_are_sanitised_not_guessed(raw, expected):
    assert sanitise_student_id(raw) == expected


def test_collect_reads_a_folder_and_reports_bad_names(tmp_path):
    (tmp_path / "alice.ipynb").write_text("{}")
    (tmp_path / "bad name!.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("hi")
    found = collect(tmp_path, tmp_path / "work")
    assert set(found.submissions) == {"alice"}
    reasons = dict(found.skipped)
    assert reasons["bad name!.ipynb"] == "no valid student id in the file name"
    assert reasons["notes.txt"] == "not a notebook (.ipynb)"


def test_collect_reads_an_lms_zip_with_a_custom_pattern(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("Kim Minsu_12345_assignsubmission_file_/ch00_orientation.ipynb", "{}")
        handle.writestr("Lee Jia_67890_assignsubmission_file_/ch00_orientation.ipynb", "{}")
        handle.writestr("Nobody_assignsubmission_file_/ch00_orientation.ipynb", "{}")
    pattern = r"^[^/]*_(?P<student_id>\d+)_assignsubmission_file_/.*\.ipynb$"
    found = collect(archive, tmp_path / "work", pattern)
    assert sorted(found.submissions) == ["12345", "67890"]
    assert [why for _, why in found.skipped] == ["no valid student id in the file name"]


def test_two_files_for_one_student_are_reported(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "kim.ipynb").write_text("{}")
    (tmp_path / "b" / "kim.ipynb").write_text("{}")
    found = collect(tmp_path, tmp_path / "work")
    assert found.submissions == {}
    assert "several files" in found.skipped[0][1]


def test_a_broken_zip_is_an_input_error(tmp_path):
    bad = tmp_path / "x.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError):
        check_zip(bad)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty file"), (b'{"cells": [', "invalid notebook JSON"), (b"[1, 2]", "not a Jupyter")],
)
def test_load_rejects_broken_files(tmp_path, content, reason):
    path = tmp_path / "x.ipynb"
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match=reason):
        load(path)


def _case(name: str, tmp_path: Path):
    ctx = hostile.Context(out=tmp_path / "out", canary=tmp_path / "canary")
    case = next(c for c in hostile.cases() if c.name == name)
    path = tmp_path / f"{name}.ipynb"
    path.write_bytes(case.build(ctx))
    return load(path)


@pytest.mark.parametrize(
    ("name", "note"),
    [
        ("edit_tests", "locked cell test_chat edited (restored)"),
        ("delete_tests", "instructor cell test_greedy missing (restored)"),
        ("reorder_tests", "cells reordered (restored)"),
        ("tamper_metadata", "nbgrader metadata of test_count_tokens changed (restored)"),
        ("stripped_metadata", "answers matched by function signature"),
    ],
)
def test_rebuild_restores_the_released_layout(tmp_path, name, note):
    release = _release()
    rebuilt, notes = rebuild(_case(name, tmp_path), release)
    assert any(note in text for text in notes), notes
    graded = [i for i in _ids(rebuilt) if i is not None]
    assert graded == [i for i in _ids(release) if i is not None]
    by_id = {
        c.metadata["nbgrader"]["grade_id"]: c for c in rebuilt.cells if "nbgrader" in c.metadata
    }
    test_cells = hostile.points()
    for cell in release.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in test_cells:
            assert by_id[gid].source == cell.source
            assert by_id[gid].metadata == cell.metadata


def test_rebuild_keeps_answers_and_extra_cells_in_place():
    answer = hostile.solution_answer("count_tokens")
    student = hostile.notebook({"count_tokens": answer}, {"count_tokens": "print('mine')"})
    student.cells.insert(0, nbformat.v4.new_code_cell("print('top')"))
    rebuilt, notes = rebuild(student, _release())
    sources = [c.source for c in rebuilt.cells]
    assert notes == []
    answer_at = sources.index(answer)
    assert sources[answer_at + 1] == "print('mine')"
    # a cell written above the instructor's setup runs after it, before the first answer
    assert sources.index("print('top')") == answer_at - 1


def test_rebuild_refuses_another_assignment(tmp_path):
    with pytest.raises(SubmissionError, match="not a notebook of this assignment"):
        rebuild(_case("wrong_assignment", tmp_path), _release())


def _test_cell(text: str, output_type: str = "stream"):
    cell = nbformat.v4.new_code_cell("...")
    if output_type == "stream":
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    else:
        cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "20"})]
    return cell


def _verify(cell, key=b"k" * 32, nonce="n1"):
    notebook = nbformat.v4.new_notebook(cells=[cell])
    resources = {"funlm_grader": {"key": key, "nonces": {0: ("test_a", nonce)}}}
    VerifyEvidence().preprocess(notebook, resources)
    return notebook.cells[0]


def test_valid_evidence_keeps_the_points_and_is_removed_from_the_output():
    mac = guard_kernel.evidence(b"k" * 32, "test_a", "n1")
    cell = _verify(_test_cell(f"✅ ok\n{guard_kernel.EVIDENCE_PREFIX} test_a n1 {mac}\n"))
    assert [o.output_type for o in cell.outputs] == ["stream"]
    assert cell.outputs[0].text == "✅ ok\n"


@pytest.mark.parametrize(
    "text",
    [
        "✅ ok\n",  # no evidence at all (test skipped)
        f"{guard_kernel.EVIDENCE_PREFIX} test_a n1 {'ab' * 32}\n",  # forged
        f"{guard_kernel.EVIDENCE_PREFIX} test_b n1 "
        + guard_kernel.evidence(b"k" * 32, "test_b", "n1")
        + "\n",  # evidence of another test
        f"{guard_kernel.EVIDENCE_PREFIX} test_a n2 "
        + guard_kernel.evidence(b"k" * 32, "test_a", "n2")
        + "\n",  # of another run
    ],
)
def test_missing_or_forged_evidence_fails_the_test(text):
    cell = _verify(_test_cell(text))
    assert cell.outputs[-1].output_type == "error"
    assert cell.outputs[-1].ename == "GraderIntegrityError"


def test_a_claimed_partial_grade_is_dropped():
    cell = _verify(_test_cell("", output_type="execute_result"))
    assert [o.output_type for o in cell.outputs] == ["error"]


def test_event_log_becomes_short_reasons():
    raw = (
        "network\tsocket.__new__\nwrite\t/etc/evil\nwrite\t/tmp/ok\nforbidden-read\t/x/solutions\n"
        "denied\tsys.settrace\nhooks\tchanged\n"
    )
    assert summarise_events(raw, Path("/scratch")) == [
        "IPython execution hooks modified: changed",
        "blocked by the sandbox: sys.settrace",
        "network access blocked",
        "tried to read instructor files (not visible)",
        "tried to write outside its folder (blocked)",
    ]


def test_kernel_command_isolates_and_binds_only_the_allow_list(tmp_path):
    argv = kernel_command(
        tmp_path, tmp_path / "k.json", tmp_path / "p", tmp_path / "e", Limits(memory_mb=1024)
    )
    joined = " ".join(argv)
    for flag in ("--unshare-all", "--die-with-parent", "--clearenv", "--cap-drop ALL"):
        assert flag in joined
    assert f"--as={1024 * 2**20}" in joined
    assert f"--bind {tmp_path} {tmp_path}" in joined
    bound = {argv[i + 1] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")}
    solutions = str(hostile.course().solutions)
    assert not any(solutions.startswith(path.rstrip("/") + "/") for path in bound), bound


def test_exposure_check_refuses_a_venv_that_contains_secrets(tmp_path):
    with pytest.raises(SandboxError):
        check_exposure([tmp_path], [tmp_path / "solutions"])
    check_exposure([tmp_path / "venv"], [tmp_path / "solutions"])


def test_private_tmp_is_mounted_before_the_allow_list(tmp_path):
    """A venv or model cache under /tmp must stay visible inside the sandbox."""
    argv = kernel_command(
        tmp_path, tmp_path / "k.json", tmp_path / "plan", tmp_path / "events", Limits()
    )
    tmpfs_at = argv.index("--tmpfs")
    venv = str(Path(sys.prefix).resolve())
    binds = [i for i, arg in enumerate(argv[:-1]) if arg == "--ro-bind" and argv[i + 1] == venv]
    assert binds and all(i > tmpfs_at for i in binds)


def test_feedback_replaces_hidden_blocks_with_a_note():
    source = (
        "a = 1\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS\nb = 2\n"
        "    ### BEGIN HIDDEN TESTS\n    more_secret()\n"
    )
    hidden = hide_hidden_tests(source, "# note", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    assert hidden == "a = 1\n# note\nb = 2\n    # note"


def test_feedback_preprocessor_touches_test_cells_only():
    release = _release()
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in release.cells}
    test, answer = by_id["test_count_tokens"], by_id["count_tokens"]
    test.source += "\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS"
    answer.source += "\n### BEGIN HIDDEN TESTS\nnot a test cell\n### END HIDDEN TESTS"
    release, _ = HideHiddenTests().preprocess(release, {})
    assert "secret()" not in test.source
    assert "숨은 테스트 (test_count_tokens, 20점)" in test.source
    assert "not a test cell" in answer.source


def test_hook_changes_name_what_was_added_and_removed():
    before = {"events.post_execute": {1: "IPython.core.displaypub.f"}, "ast_transformers": {}}
    after = {"events.post_execute": {2: "__main__.sneaky"}, "ast_transformers": {3: "x.T"}}
    assert guard_kernel._hook_changes(before, after) == [
        "+ast_transformers: x.T",
        "+events.post_execute: __main__.sneaky",
        "-events.post_execute: IPython.core.displaypub.f",
    ]
    assert guard_kernel._hook_changes(before, before) == []


def test_settling_libraries_makes_the_lazy_torch_dynamo_rewrap_happen_before_the_snapshot():
    import torch

    guard_kernel._settle_libraries()
    seed = torch.manual_seed
    torch.optim.AdamW(torch.nn.Linear(2, 2).parameters())  # imports torch._dynamo
    assert torch.manual_seed is seed


def test_only_threadpoolctl_code_is_a_trusted_ctypes_caller():
    import threadpoolctl

    _, trusted_globals, codes = guard_kernel._trusted_ctypes_callers()
    assert trusted_globals is vars(threadpoolctl)
    assert id(threadpoolctl.threadpool_limits.__init__.__code__) in codes
    assert id(test_only_threadpoolctl_code_is_a_trusted_ctypes_caller.__code__) not in codes


def test_matplotlib_font_list_is_built_once_outside_and_found_inside(tmp_path):
    folder = matplotlib_cache(tmp_path / "fonts")
    assert folder is not None
    (fontlist,) = folder.glob("fontlist-*.json")
    stamp = fontlist.stat().st_mtime_ns
    assert matplotlib_cache(folder) == folder and fontlist.stat().st_mtime_ns == stamp
    env = sandbox_env(tmp_path / "scratch", Limits())
    assert env["MPLCONFIGDIR"] == str(tmp_path / "scratch" / ".funlm" / MATPLOTLIB_SUBDIR)


# -- one grading's state travels in nbgrader's resources, never in module globals -------------


def test_two_gradings_in_one_process_keep_their_own_notes_and_gates():
    import contextlib
    import copy

    gates = [contextlib.nullcontext, contextlib.nullcontext]
    first, second = GradingRun(execution_gate=gates[0]), GradingRun(execution_gate=gates[1])
    chains = [{RUN_KEY: first, "nbgrader": {"student": "same"}}, {RUN_KEY: second}]
    # nbconvert deep-copies resources before the chain: the run must survive the copy
    copies = [copy.deepcopy(resources) for resources in chains]
    add_note(copies[0], "network access blocked")
    add_note(copies[1], "kernel died in test_a")
    add_note(copies[1], "kernel died in test_a")
    assert first.notes == ["network access blocked"]
    assert second.notes == ["kernel died in test_a"]
    assert grading_run(copies[0]).execution_gate is gates[0]
    assert grading_run(copies[1]) is second


def test_evidence_notes_go_to_the_grading_run_of_the_notebook():
    run = GradingRun()
    notebook = nbformat.v4.new_notebook(cells=[_test_cell("✅ ok\n")])
    resources = {RUN_KEY: run, EVIDENCE_KEY: {"key": b"k" * 32, "nonces": {0: ("test_a", "n")}}}
    VerifyEvidence().preprocess(notebook, resources)
    assert run.notes == ["test_a: no evidence that the test ran"]


def test_the_course_converter_puts_its_run_into_each_notebooks_resources(tmp_path):
    from nbgrader.coursedir import CourseDirectory

    run = GradingRun()
    converter = CourseAutograde(run, coursedir=CourseDirectory(root=str(tmp_path)))
    notebook = tmp_path / "submitted" / "alice" / "ch00_orientation" / "ch00_orientation.ipynb"
    resources = converter.init_single_notebook_resources(str(notebook))
    assert resources[RUN_KEY] is run
    assert resources["nbgrader"]["student"] == "alice"


_MUTATORS = {"append", "extend", "insert", "setdefault", "update", "pop", "clear", "add"}


def _module_state_writes(path: Path) -> list[str]:
    """Places where a function writes module-level state (``global``, ``NAME[...] =``,
    ``NAME.append(...)`` and the like on a module-level name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module_names = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        local = {a.arg for a in function.args.args + function.args.kwonlyargs}
        for node in ast.walk(function):
            if isinstance(node, ast.Global):
                found.append(f"{path.name}:{node.lineno}: global {', '.join(node.names)}")
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
                name = node.value
                if isinstance(name, ast.Name) and name.id in module_names - local:
                    found.append(f"{path.name}:{node.lineno}: {name.id}[...] =")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _MUTATORS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in module_names - local
            ):
                found.append(f"{path.name}:{node.lineno}: {node.func.value.id}.{node.func.attr}()")
    return found


def test_the_grader_process_keeps_no_state_in_module_globals():
    # guard_kernel runs inside the sandboxed kernel (one process per submission), not here
    grader = Path(guard_kernel.__file__).parent
    modules = [p for p in sorted(grader.glob("*.py")) if p.name != "guard_kernel.py"]
    assert len(modules) >= 10
    assert [w for p in modules for w in _module_state_writes(p)] == []


def test_the_module_state_check_sees_the_old_notes_and_gate_globals(tmp_path):
    old = tmp_path / "old_execute.py"
    old.write_text(
        "NOTES = {}\nGATE = [None]\n_LOCK = None\n"
        "def note(student, text):\n    NOTES.setdefault(student, []).append(text)\n"
        "def init(lock):\n    global _LOCK\n    _LOCK = lock\n    GATE[0] = lock.released\n"
        "def fine(NOTES):\n    NOTES.append(1)\n"
    )
    assert _module_state_writes(old) == [
        "old_execute.py:5: NOTES.setdefault()",
        "old_execute.py:7: global _LOCK",
        "old_execute.py:9: GATE[...] =",
    ]


def test_every_default_limit_comes_from_one_place():
    from autograder.course import CourseLayout, read_nbgrader_config
    from autograder.grading import cli
    from autograder.grading.execute import SandboxedExecute
    from autograder.grading.limits import DEFAULT_LIMITS as limits

    args = cli.parse_args(["ch00_orientation", "subs", "--out", "out"])
    assert (args.timeout, args.notebook_timeout, args.memory_mb, args.workers) == (
        limits.cell_timeout,
        limits.notebook_timeout,
        limits.memory_mb,
        None,  # one per core: limits.default_workers()
    )
    traits = SandboxedExecute.class_traits()
    for name in ("notebook_timeout", "memory_mb", "output_mb", "notebook_output_mb", "threads"):
        assert traits[name].default_value == getattr(limits, name), name
    assert traits["max_restarts"].default_value == limits.max_restarts
    config = read_nbgrader_config(CourseLayout.find().config_file)
    assert config.Execute.timeout == limits.cell_timeout
    assert (config.LimitOutput.max_lines, config.LimitOutput.max_traceback) == (
        limits.output_lines,
        limits.traceback_lines,
    )
    # and no other module of the grader writes one of those numbers again
    grader = Path(cli.__file__).parent
    values = {limits.cell_timeout, limits.notebook_timeout, limits.memory_mb}
    typed = [
        f"{path.name}:{node.lineno}"
        for path in sorted(grader.glob("*.py"))
        if path.name != "limits.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value in values
    ]
    assert typed == []
