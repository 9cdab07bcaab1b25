"""The nbgrader preprocessor that runs a submission in the sandbox.

`SandboxedExecute` replaces nbgrader's `Execute` in the autograde chain. The notebook client
stays in the (trusted) grader process; only the kernel runs inside bubblewrap
(:mod:`autograder.grading.sandbox`) with :mod:`autograder.grading.guard_kernel` guarding the
tests. It adds what a whole class of untrusted notebooks needs: a whole-notebook time limit on
top of the per-cell one, an output cap enforced while messages arrive, and recovery from a dead
or stuck kernel (restart, replay the earlier cells silently, carry on with the next cell) so
that one broken part costs only its own points.

It hands the HMAC key and the test nonces to :class:`autograder.grading.evidence.VerifyEvidence`
and reports what it noticed to the grading run, both through nbgrader's ``resources``
(:mod:`autograder.grading.run_state`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader import utils as nbutils
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, List, Unicode

from autograder.grading import guard_kernel
from autograder.grading.limits import DEFAULT_LIMITS, Limits
from autograder.grading.run_state import EVIDENCE_KEY, add_note, grading_run
from autograder.grading.sandbox import MATPLOTLIB_SUBDIR, kernel_command


def is_test_cell(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and nbutils.is_grade(cell) and not nbutils.is_solution(cell)


def is_setup_cell(cell: NotebookNode) -> bool:
    """Locked, ungraded code written by the instructor."""
    return (
        cell.cell_type == "code"
        and nbutils.is_locked(cell)
        and not nbutils.is_grade(cell)
        and not nbutils.is_solution(cell)
    )


class OutputLimitExceeded(RuntimeError):
    """The notebook printed more than the grader accepts."""


class SandboxKernelManager(AsyncKernelManager):
    """Starts the kernel with our sandbox command instead of the kernelspec's argv."""

    kernel_argv = List(Unicode())

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return [arg.replace("{connection_file}", self.connection_file) for arg in self.kernel_argv]


class SandboxedExecute(Execute):
    """nbgrader's Execute, with the kernel in a sandbox and the tests guarded."""

    notebook_timeout = Integer(
        DEFAULT_LIMITS.notebook_timeout, help="Seconds for a whole notebook."
    ).tag(config=True)
    memory_mb = Integer(
        DEFAULT_LIMITS.memory_mb, help="Address-space limit of the kernel (MiB)."
    ).tag(config=True)
    output_mb = Float(
        DEFAULT_LIMITS.output_mb, help="Output (MiB) kept per cell; the rest is dropped."
    ).tag(config=True)
    notebook_output_mb = Float(
        DEFAULT_LIMITS.notebook_output_mb, help="Output (MiB) per notebook before a kill."
    ).tag(config=True)
    threads = Integer(DEFAULT_LIMITS.threads, help="torch/OpenMP threads in the kernel.").tag(
        config=True
    )
    sandboxed = Bool(True, help="Run the kernel inside bubblewrap.").tag(config=True)
    forbidden_paths = List(Unicode(), help="Paths whose access is reported.").tag(config=True)
    release_dir = Unicode("", help="Release folder copied into the scratch folder.").tag(
        config=True
    )
    max_restarts = Integer(DEFAULT_LIMITS.max_restarts, help="Kernel restarts per notebook.").tag(
        config=True
    )
    matplotlib_dir = Unicode(
        "", help="Folder with matplotlib's prebuilt font list, copied into each scratch folder."
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        self.nb, self.resources = nb, resources
        self.reset_execution_trackers()
        limits = Limits(
            cell_timeout=int(self.timeout or DEFAULT_LIMITS.cell_timeout),
            notebook_timeout=self.notebook_timeout,
            memory_mb=self.memory_mb,
            output_mb=self.output_mb,
            notebook_output_mb=self.notebook_output_mb,
            threads=self.threads,
            max_restarts=self.max_restarts,
        )
        key = secrets.token_bytes(32)
        plan_cells, tests = self._plan(nb)
        self._original_cells = list(nb.cells)
        self._test_sources = {gid: nb.cells[i].source for i, (gid, _) in sorted(tests.items())}
        scratch = Path(tempfile.mkdtemp(prefix="funlm-scratch-"))
        try:
            self._prepare_scratch(scratch)
            with grading_run(resources).execution_gate():
                executed = self._run(plan_cells, tests, key, scratch, limits)
        finally:
            events = self._read_events(scratch)
            shutil.rmtree(scratch, ignore_errors=True)
        for note in events:
            add_note(resources, note)
        for (index, kind, _), cell in zip(plan_cells, executed, strict=True):
            if index is None or kind == "test":
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and output.get("ename") not in (
                    "NotImplementedError",
                    "GraderError",
                ):
                    add_note(
                        resources, f"{output.get('ename')} in {self._label((index, kind, ''))}"
                    )
        # outputs back onto the notebook's own cells (sources untouched)
        for (index, _, _), cell in zip(plan_cells, executed, strict=True):
            if index is not None:
                nb.cells[index].outputs = cell.get("outputs", [])
                nb.cells[index].execution_count = cell.get("execution_count")
        resources[EVIDENCE_KEY] = {"key": key, "nonces": tests}
        self.nb = nb
        return nb, resources

    # -- plan ---------------------------------------------------------------------------------

    def _plan(self, nb: NotebookNode) -> tuple[list[tuple[int | None, str, str]], dict]:
        """(notebook index or None, kind, source to run) for every code cell, in order."""
        cells: list[tuple[int | None, str, str]] = []
        tests: dict[int, tuple[str, str]] = {}
        armed = False
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if not armed and not is_setup_cell(cell):
                cells.append((None, "arm", f'import sys\nsys.audit("{guard_kernel.ARM_EVENT}")'))
                armed = True
            if is_test_cell(cell):
                grade_id = cell.metadata["nbgrader"]["grade_id"]
                nonce = secrets.token_hex(8)
                tests[index] = (grade_id, nonce)
                source = (
                    f'import sys\nsys.audit("{guard_kernel.TEST_EVENT}", "{grade_id}", "{nonce}")'
                )
                cells.append((index, "test", source))
            else:
                cells.append((index, "setup" if not armed else "code", cell.source))
        if not armed:
            cells.append((None, "arm", f'import sys\nsys.audit("{guard_kernel.ARM_EVENT}")'))
        return cells, tests

    def _prepare_scratch(self, scratch: Path) -> None:
        if self.release_dir and Path(self.release_dir).is_dir():
            for item in Path(self.release_dir).iterdir():
                if item.suffix == ".ipynb":
                    continue
                if item.is_dir():
                    shutil.copytree(item, scratch / item.name)
                else:
                    shutil.copy2(item, scratch / item.name)
        private = scratch / ".funlm"
        private.mkdir(mode=0o700)
        if self.matplotlib_dir and Path(self.matplotlib_dir).is_dir():
            shutil.copytree(self.matplotlib_dir, private / MATPLOTLIB_SUBDIR)
        os.chmod(scratch, 0o777)

    def _write_plan(self, scratch: Path, key: bytes, tests: dict) -> Path:
        private = scratch / ".funlm"
        plan = {
            "key": key.hex(),
            "tests": self._test_sources,
            "forbidden": list(self.forbidden_paths),
        }
        path = private / "plan.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(plan, handle)
        return path

    # -- kernel lifecycle -----------------------------------------------------------------------

    def _start(self, scratch: Path, key: bytes, tests: dict, limits: Limits) -> None:
        private = scratch / ".funlm"
        plan = self._write_plan(scratch, key, tests)
        for stale in private.glob("k-*"):
            stale.unlink()
        connection = private / "kernel.json"
        argv = kernel_command(
            scratch, connection, plan, private / "events.log", limits, sandboxed=self.sandboxed
        )
        argv.append("--HistoryManager.enabled=False")
        km = SandboxKernelManager(
            kernel_name="python3",
            transport="ipc",
            ip=str(private / "k"),
            connection_file=str(connection),
            kernel_argv=argv,
        )
        import zmq

        # a single huge message disconnects the kernel instead of filling our memory
        km.context.setsockopt(zmq.MAXMSGSIZE, int(limits.notebook_output_mb * 2**20) + 2**20)
        self.km, self.kc = km, None
        self._total_output = 0  # outputs kept so far are capped per cell already
        self.owns_km = True
        self.shutdown_kernel = "immediate"
        with (private / "kernel.log").open("ab") as log:
            self.start_new_kernel(cwd=str(scratch), stdout=subprocess.DEVNULL, stderr=log)
        try:
            self.start_new_kernel_client()
        except Exception as error:
            tail = (private / "kernel.log").read_bytes()[-400:].decode("utf-8", "replace")
            raise RuntimeError(f"{error}; kernel log: {tail.strip()}") from error
        self.wait_for_reply(self.kc.kernel_info())

    def _stop(self) -> None:
        if self.km is not None:
            with contextlib.suppress(Exception):
                self._cleanup_kernel()
        self.km = self.kc = None

    def _run(
        self, plan_cells: list, tests: dict, key: bytes, scratch: Path, limits: Limits
    ) -> list[NotebookNode]:
        executed = [
            NotebookNode(
                cell_type="code",
                source=source,
                metadata=NotebookNode(),
                outputs=[],
                execution_count=None,
            )
            for _, _, source in plan_cells
        ]
        self._kinds = [kind for _, kind, _ in plan_cells]
        exec_nb = nbformat.v4.new_notebook(cells=executed, metadata=self.nb.metadata)
        self.nb = exec_nb
        deadline = time.monotonic() + limits.notebook_timeout
        self._total_output = 0
        self._limits = limits
        failed: set[int] = set()
        restarts = 0
        started = False
        position = 0
        try:
            while position < len(executed):
                if not started:
                    try:
                        self._start(scratch, key, tests, limits)
                    except Exception as error:  # the sandbox or kernel did not come up
                        raise RuntimeError(f"kernel failed to start: {error}") from error
                    started = True
                    if not self._replay(executed, position, failed, deadline):
                        self._fail_rest(executed, position, "the kernel could not be restored")
                        add_note(self.resources, "kernel could not be restored after a crash")
                        break
                remaining = deadline - time.monotonic()
                if remaining <= 1:
                    self._fail_rest(executed, position, "notebook time limit reached")
                    add_note(self.resources, f"notebook time limit ({limits.notebook_timeout} s)")
                    break
                problem = self._execute(executed[position], position, remaining)
                if problem is None:
                    position += 1
                    continue
                label = self._label(plan_cells[position])
                add_note(self.resources, f"{problem} in {label}")
                self._error_output(executed[position], problem)
                failed.add(position)
                position += 1
                self._stop()
                started = False
                restarts += 1
                if restarts > limits.max_restarts:
                    self._fail_rest(executed, position, "too many kernel restarts")
                    add_note(self.resources, "too many kernel restarts")
                    break
        finally:
            self._stop()
        return executed

    def _label(self, plan_cell: tuple[int | None, str, str]) -> str:
        index, _, _ = plan_cell
        if index is None:
            return "the grader's setup"
        grade_id = self._original_cells[index].metadata.get("nbgrader", {}).get("grade_id")
        return grade_id or f"cell {index}"

    def _execute(self, cell: NotebookNode, position: int, remaining: float) -> str | None:
        """Run one cell. None when the kernel is still usable, else what went wrong."""
        self.timeout = int(max(1, min(self._limits.cell_timeout, remaining)))
        self._cell_output = 0
        self._cell_truncated = False
        try:
            self.execute_cell(cell, position, store_history=False)
        except DeadKernelError:
            return "kernel died"
        except CellTimeoutError:
            return f"timeout ({self.timeout} s)"
        except OutputLimitExceeded:
            return "output limit exceeded"
        except Exception as error:  # zmq disconnect after an oversized message, …
            return f"kernel stopped responding ({type(error).__name__})"
        if self._cell_truncated:
            cell.outputs.append(
                nbformat.v4.new_output(
                    "stream", name="stdout", text="\n[출력이 너무 길어 나머지를 생략했습니다]\n"
                )
            )
            add_note(self.resources, "output truncated")
        return None

    def _replay(self, executed: list, upto: int, failed: set[int], deadline: float) -> bool:
        """Re-run the earlier code cells (not tests) after a restart; outputs are discarded."""
        for position in range(upto):
            if position in failed or self._kinds[position] == "test":
                continue
            cell = executed[position]
            copy = NotebookNode(dict(cell, outputs=[]))
            remaining = deadline - time.monotonic()
            if remaining <= 1:
                return False
            saved = self.nb.cells[position]
            problem = self._execute(copy, position, remaining)
            self.nb.cells[position] = saved
            if problem is not None:
                return False
        return True

    def _fail_rest(self, executed: list, start: int, why: str) -> None:
        for cell in executed[start:]:
            self._error_output(cell, why)

    @staticmethod
    def _error_output(cell: NotebookNode, why: str) -> None:
        cell.outputs.append(
            nbformat.v4.new_output(
                "error",
                ename="GraderError",
                evalue=f"채점기: {why}",
                traceback=[f"GraderError: 채점기가 이 셀을 끝까지 실행하지 못했습니다 ({why})."],
            )
        )

    # -- output cap -----------------------------------------------------------------------------

    def output(self, outs, msg, display_id, cell_index):  # type: ignore[override]
        content = msg.get("content", {})
        size = len(json.dumps(content, default=str)) if content else 0
        self._total_output += size
        if self._total_output > self._limits.notebook_output_mb * 2**20:
            raise OutputLimitExceeded("notebook output limit")
        self._cell_output += size
        if self._cell_output > self._limits.output_mb * 2**20:
            self._cell_truncated = True
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _read_events(self, scratch: Path) -> list[str]:
        path = scratch / ".funlm" / "events.log"
        try:
            raw = path.read_bytes()[: 256 * 1024].decode("utf-8", "replace")
        except OSError:
            return []
        return summarise_events(raw, scratch)


def summarise_events(raw: str, scratch: Path) -> list[str]:
    """The guard's event log as short, deterministic reason phrases."""
    found: set[str] = set()
    for line in raw.splitlines():
        kind, _, detail = line.partition("\t")
        if kind == "network":
            found.add("network access blocked")
        elif kind == "forbidden-read":
            found.add("tried to read instructor files (not visible)")
        elif kind == "write":
            path = detail
            if path.startswith("/") and not (
                path.startswith(str(scratch)) or path.startswith(("/tmp", "/dev/null"))
            ):
                found.add("tried to write outside its folder (blocked)")
        elif kind == "delete":
            path = detail
            if path.startswith("/") and not path.startswith((str(scratch), "/tmp")):
                found.add("tried to delete files outside its folder (blocked)")
        elif kind == "denied":
            what = detail.split(" ")[0]
            found.add(f"blocked by the sandbox: {what}")
        elif kind == "tamper":
            found.add("grader integrity check failed: " + detail.split(": ", 1)[-1][:80])
        elif kind == "hooks":
            found.add("IPython execution hooks modified: " + detail[:80])
    return sorted(found)


__all__ = [
    "SandboxKernelManager",
    "SandboxedExecute",
    "is_setup_cell",
    "is_test_cell",
    "summarise_events",
]
