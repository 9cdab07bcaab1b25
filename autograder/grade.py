"""`funlm-grade`: grade a whole class's notebooks in one command, sandboxed and in parallel.

    funlm-grade ASSIGNMENT SUBMISSIONS --out OUT [--db URL] [--workers N] [--timeout S]

SUBMISSIONS is a folder of ``<student_id>.ipynb`` or an LMS zip (``--name-pattern`` says how a
file name carries the student id). Writes ``OUT/grades.csv`` (one row per student found:
``student_id,assignment,score,max_score,status,reason`` and one column per graded part) and
``OUT/feedback/<student_id>.html``. The gradebook is nbgrader's: SQLite in ``OUT`` by default,
or any SQLAlchemy URL (``postgresql+psycopg://…``) with ``--db``.

The grader process owns the gradebook and OUT. Per submission it checks and re-lays the
notebook (:mod:`autograder.submissions`), then runs nbgrader's autograde converter whose
``Execute`` step is :class:`autograder.execute.SandboxedExecute` (the kernel runs in bubblewrap,
the tests under :mod:`autograder.guard_kernel`) followed by
:class:`autograder.execute.VerifyEvidence`; nbgrader's ``SaveAutoGrades`` writes the scores
(manual grades are kept) and ``generate_feedback`` writes the HTML. Submissions run in
``--workers`` processes; with SQLite, gradebook writes are serialised by a file lock that is
released while a kernel runs.

Exit status: 0 when every submission was graded or given a recorded error, 2 when the command
itself could not start (one line on stderr, nothing graded).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import csv
import fcntl
import html
import json
import logging
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.course import SOLUTIONS_DIR, assignments, load_config, make_api
from autograder.submissions import (
    DEFAULT_NAME_PATTERN,
    InputError,
    SubmissionError,
    collect,
    load,
    rebuild,
)

UNSAFE_REASON = "UNSAFE: graded without a sandbox (--unsafe-no-sandbox)"
BASE_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "reason"]


@dataclass
class Settings:
    """Everything a worker needs (plain data: it crosses a process boundary)."""

    assignment: str
    out: str
    db_url: str
    course_root: str
    notebook_name: str
    cell_timeout: int
    notebook_timeout: int
    memory_mb: int
    threads: int
    sandboxed: bool
    forbidden: list[str]
    lock_path: str | None  # SQLite: serialise gradebook access
    matplotlib_dir: str = ""  # prebuilt matplotlib font list (empty: none)
    source: str = str(SOLUTIONS_DIR)  # nbgrader source folder (solutions + hidden tests)


@dataclass
class Outcome:
    """One student's result (what the CSV row is made from)."""

    student_id: str
    status: str = "ok"
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


# -- locking --------------------------------------------------------------------------------


class GradebookLock:
    """An inter-process lock around gradebook access (SQLite); a no-op without a path."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.fd: int | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if self.path is None:
            yield
            return
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
                os.close(self.fd)
                self.fd = None

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Inside `held`: let other workers use the gradebook while a kernel runs."""
        if self.fd is None:
            yield
            return
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_EX)


# -- nbgrader set-up ------------------------------------------------------------------------


def _config(settings: Settings):
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from autograder.execute import SandboxedExecute, VerifyEvidence

    root = Path(settings.course_root)
    config = load_config(root, Path(settings.source), root / "release", settings.db_url)
    config.Autograde.autograde_preprocessors = [
        SandboxedExecute,
        VerifyEvidence,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    from autograder.feedback import HideHiddenTests

    config.GenerateFeedback.preprocessors = [HideHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]
    config.SandboxedExecute.timeout = settings.cell_timeout
    config.SandboxedExecute.notebook_timeout = settings.notebook_timeout
    config.SandboxedExecute.memory_mb = settings.memory_mb
    config.SandboxedExecute.threads = settings.threads
    config.SandboxedExecute.sandboxed = settings.sandboxed
    config.SandboxedExecute.forbidden_paths = settings.forbidden
    config.SandboxedExecute.release_dir = str(root / "release" / settings.assignment)
    config.SandboxedExecute.matplotlib_dir = settings.matplotlib_dir
    return config


def _zero_grades(settings: Settings, student: str) -> None:
    """Record an ungradable submission in the gradebook: auto scores 0, manual ones kept."""
    from nbgrader.api import Gradebook

    with Gradebook(settings.db_url, "funlm") as gradebook:
        gradebook.update_or_create_student(student)
        submission = gradebook.update_or_create_submission(settings.assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
        gradebook.db.commit()


# -- one student (runs in a worker process) ----------------------------------------------------

_LOCK: GradebookLock | None = None


def _init_worker(lock_path: str | None) -> None:
    global _LOCK
    from autograder import execute

    _LOCK = GradebookLock(lock_path)
    execute.EXECUTION_GATE[0] = _LOCK.released
    os.environ["FUNLM_PROFILE"] = "grade"
    _quiet_library_warnings()


def _quiet_library_warnings() -> None:
    """nbgrader's own SQLAlchemy/nbformat warnings are noise in a grading log."""
    import warnings

    from nbformat.warnings import MissingIDFieldWarning
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)
    warnings.filterwarnings("ignore", category=MissingIDFieldWarning)
    # nbclient leaves a kernel-alive poller behind when we kill a runaway kernel
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)


def grade_student(settings: Settings, student: str, source: str) -> Outcome:
    """Check, re-lay, autograde and write feedback for one submission."""
    from nbgrader.api import Gradebook

    from autograder import execute

    lock = _LOCK or GradebookLock(settings.lock_path)
    start = time.monotonic()
    outcome = Outcome(student)
    root = Path(settings.course_root)
    submitted = root / "submitted" / student / settings.assignment
    for folder in (submitted, root / "autograded" / student, root / "feedback" / student):
        shutil.rmtree(folder, ignore_errors=True)
    release = root / "release" / settings.assignment / f"{settings.notebook_name}.ipynb"
    feedback = Path(settings.out) / "feedback" / f"{student}.html"
    try:
        import nbformat

        notebook, notes = rebuild(load(Path(source)), nbformat.read(release, as_version=4))
        outcome.notes += notes
    except SubmissionError as error:
        outcome.status = "error"
        outcome.notes.append(str(error))
        with lock.held():
            _zero_grades(settings, student)
        _write_error_feedback(feedback, student, str(error))
        outcome.seconds = time.monotonic() - start
        return outcome
    submitted.mkdir(parents=True)
    nbformat.write(notebook, submitted / f"{settings.notebook_name}.ipynb")
    config = _config(settings)
    api = make_api(config)
    execute.NOTES.pop(student, None)
    with lock.held():
        result = api.autograde(settings.assignment, student, force=True, create=True)
    outcome.notes += execute.NOTES.pop(student, [])
    if not result.get("success"):
        outcome.status = "error"
        log = (result.get("error") or result.get("log") or "").strip().splitlines()
        message = next((line for line in reversed(log) if "Error" in line), "autograde failed")
        outcome.notes.append(f"grader error: {message[:200]}")
        with lock.held():
            _zero_grades(settings, student)
        _write_error_feedback(feedback, student, "; ".join(outcome.notes))
    else:
        with lock.held():
            fb = api.generate_feedback(settings.assignment, student, force=True)
        html_file = root / "feedback" / student / settings.assignment
        html_file = html_file / f"{settings.notebook_name}.html"
        if fb.get("success") and html_file.is_file():
            feedback.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(html_file, feedback)
        else:
            _write_error_feedback(feedback, student, "feedback generation failed")
    with lock.held(), Gradebook(settings.db_url, "funlm"):
        pass  # make sure the gradebook is readable before the parent reads it
    outcome.seconds = time.monotonic() - start
    return outcome


def _write_error_feedback(path: Path, student: str, reason: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!DOCTYPE html><html lang='ko'><meta charset='utf-8'>"
        f"<title>{html.escape(student)}</title><body><h1>채점 결과</h1>"
        "<p>제출한 노트북을 채점할 수 없었습니다 (the notebook could not be graded).</p>"
        f"<p>이유 (reason): <code>{html.escape(reason)}</code></p></body></html>\n",
        encoding="utf-8",
    )


# -- the command ------------------------------------------------------------------------------


class CommandError(Exception):
    """The command cannot run; the message is its one error line."""


def _check_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".funlm-write-test-"):
            pass
    except OSError as error:
        raise CommandError(f"output folder {out} is not writable: {error}") from error


def _check_db(url: str) -> None:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url, connect_args=_connect_args(url))
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
        engine.dispose()
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CommandError(f"cannot use the gradebook database: {first}") from error


def _connect_args(url: str) -> dict:
    return {"connect_timeout": 10} if url.startswith("postgresql") else {}


def _redact(url: str) -> str:
    import sqlalchemy

    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database url>"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="funlm-grade",
        description="Grade a class's notebooks for one assignment (sandboxed, in parallel).",
    )
    parser.add_argument("assignment", help="assignment name, e.g. ch00_orientation")
    parser.add_argument("submissions", type=Path, help="folder of <student_id>.ipynb, or a zip")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--db", help="gradebook SQLAlchemy URL (default: SQLite in OUT)")
    parser.add_argument(
        "--workers", type=int, default=None, help="parallel kernels (default: cores)"
    )
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    parser.add_argument(
        "--notebook-timeout", type=int, default=600, help="seconds per notebook (default 600)"
    )
    parser.add_argument("--memory-mb", type=int, default=8192, help="kernel memory limit (MiB)")
    parser.add_argument(
        "--name-pattern",
        default=DEFAULT_NAME_PATTERN,
        help="regex with a (?P<student_id>…) group, matched against each file's path inside "
        "the folder or zip (default: <student_id>.ipynb)",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=SOLUTIONS_DIR,
        help="nbgrader source folder with the solutions and hidden tests (default: the "
        "repository's solutions/)",
    )
    parser.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="grade without bubblewrap (only where it is unavailable; every row says so)",
    )
    return parser.parse_args(argv)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


def prepare(args: argparse.Namespace) -> tuple[Settings, Path]:
    """All checks that must pass before any grading; raises CommandError."""
    from autograder.sandbox import (
        SandboxError,
        bwrap_problem,
        check_exposure,
        matplotlib_cache,
        readonly_paths,
    )

    source: Path = args.source.resolve()
    if not source.is_dir():
        raise CommandError(f"source folder not found: {source}")
    known = assignments(source)
    if args.assignment not in known:
        raise CommandError(f"unknown assignment {args.assignment!r} (known: {', '.join(known)})")
    notebooks = sorted((source / args.assignment).glob("*.ipynb"))
    if len(notebooks) != 1:
        raise CommandError(f"{args.assignment}: expected one notebook, found {len(notebooks)}")
    submissions: Path = args.submissions.absolute()
    if not submissions.exists():
        raise CommandError(f"submissions not found: {submissions}")
    if submissions.is_file():
        from autograder.submissions import check_zip

        try:
            check_zip(submissions)
        except InputError as error:
            raise CommandError(str(error)) from error
    elif not os.access(submissions, os.R_OK | os.X_OK):
        raise CommandError(f"submissions folder is not readable: {submissions}")
    if "student_id" not in args.name_pattern:
        raise CommandError("--name-pattern needs a (?P<student_id>...) group")
    out = args.out.resolve()
    _check_out(out)
    db_url = args.db or f"sqlite:///{out / 'gradebook.db'}"
    _check_db(db_url)
    workers = args.workers or _cores()
    if workers < 1 or args.timeout < 1 or args.notebook_timeout < 1 or args.memory_mb < 256:
        raise CommandError("--workers, --timeout, --notebook-timeout must be positive")
    problem = bwrap_problem()
    if problem and not args.unsafe_no_sandbox:
        raise CommandError(
            f"no sandbox: {problem}. Install it with `make system-deps` (as root) or "
            "`sudo apt-get install bubblewrap`, or pass --unsafe-no-sandbox to grade without one"
        )
    _ensure_model_cache()
    secret = [source, out, submissions.resolve()]
    if args.db is None:
        secret.append(out / "gradebook.db")
    try:
        check_exposure(readonly_paths(), secret)
    except SandboxError as error:
        raise CommandError(str(error)) from error
    course_root = out / ".funlm" / "course"
    course_root.mkdir(parents=True, exist_ok=True)
    fonts = matplotlib_cache(out / ".funlm" / "matplotlib")
    settings = Settings(
        assignment=args.assignment,
        out=str(out),
        db_url=db_url,
        course_root=str(course_root),
        notebook_name=notebooks[0].stem,
        cell_timeout=args.timeout,
        notebook_timeout=args.notebook_timeout,
        memory_mb=args.memory_mb,
        threads=max(1, _cores() // workers),
        sandboxed=problem is None,
        forbidden=[str(p) for p in secret],
        lock_path=str(out / ".funlm" / "gradebook.lock") if db_url.startswith("sqlite") else None,
        matplotlib_dir=str(fonts or ""),
        source=str(source),
    )
    return settings, submissions


def _ensure_model_cache() -> None:
    """Convert the small LM's offline weights once, before any kernel needs them.

    Kernels see the model cache read-only, so a first conversion inside the sandbox would
    fail. Done in a child process: the grader itself never holds the model.
    """
    from funlm.models.small_lm import CACHE_SUBDIR, cache_dir, gguf_path

    if (cache_dir() / CACHE_SUBDIR / "config.json").is_file() or gguf_path() is None:
        return
    print("funlm-grade: converting the small LM's weights once (30-60 s)...", file=sys.stderr)
    code = "import funlm; funlm.load_small_lm(device='cpu')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise CommandError(f"cannot prepare the small LM's cache: {tail[:200]}")


def _parts(settings: Settings) -> list[tuple[str, float]]:
    """Graded parts (grade_id, points) in notebook order, from the released notebook."""
    import nbformat

    release = Path(settings.course_root) / "release" / settings.assignment
    notebook = nbformat.read(release / f"{settings.notebook_name}.ipynb", as_version=4)
    parts = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            parts.append((meta["grade_id"], float(meta.get("points", 0))))
    return parts


def _row(settings: Settings, outcome: Outcome, parts: list[tuple[str, float]]) -> dict:
    from autograder.course import read_grade

    grade = read_grade(settings.db_url, settings.assignment, outcome.student_id)
    notes = sorted(set(outcome.notes))
    if not settings.sandboxed:
        notes.insert(0, UNSAFE_REASON)
    row = {
        "student_id": outcome.student_id,
        "assignment": settings.assignment,
        "score": f"{grade.score:g}",
        "max_score": f"{grade.max_score:g}",
        "status": outcome.status,
        "reason": "; ".join(notes),
    }
    for name, _ in parts:
        row[name] = f"{grade.parts.get(name, (0.0, 0.0))[0]:g}"
    return row


def run(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # nbgrader calls `alembic` for a new gradebook: the venv's bin must be on PATH
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    try:
        settings, submissions = prepare(args)
        work = Path(settings.out) / ".funlm"
        work.mkdir(parents=True, exist_ok=True)
        try:
            found = collect(submissions, work / "input", args.name_pattern)
        except InputError as error:
            raise CommandError(str(error)) from error
        api = make_api(
            load_config(
                Path(settings.course_root),
                Path(settings.source),
                Path(settings.course_root) / "release",
                settings.db_url,
            )
        )
        with GradebookLock(settings.lock_path).held():
            result = api.generate_assignment(settings.assignment, force=True)
        if not result.get("success"):
            raise CommandError(
                f"nbgrader could not generate {settings.assignment}: {result.get('error', '')}"
            )
    except CommandError as error:
        print(f"funlm-grade: error: {error}", file=sys.stderr)
        return 2
    for name, why in found.skipped:
        print(f"funlm-grade: skipped {name}: {why}", file=sys.stderr)
    if not settings.sandboxed:
        print(f"funlm-grade: WARNING: {UNSAFE_REASON}", file=sys.stderr)
    workers = min(args.workers or _cores(), max(1, len(found.submissions)))
    settings.threads = max(1, _cores() // workers)  # the cores are shared by the kernels that run
    print(
        f"funlm-grade: {len(found.submissions)} submission(s) of {settings.assignment}, "
        f"{workers} worker(s), gradebook {_redact(settings.db_url)}",
        file=sys.stderr,
    )
    outcomes: dict[str, Outcome] = {}
    start = time.monotonic()
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(settings.lock_path,),
    ) as pool:
        futures = {
            pool.submit(grade_student, settings, student, str(path)): student
            for student, path in sorted(found.submissions.items())
        }
        for future in concurrent.futures.as_completed(futures):
            student = futures[future]
            try:
                outcome = future.result()
            except Exception as error:  # a worker crashed: recorded, never aborts the batch
                outcome = Outcome(student, "error", [f"grader error: {type(error).__name__}"])
                with GradebookLock(settings.lock_path).held():
                    _zero_grades(settings, student)
            outcomes[student] = outcome
            print(
                f"funlm-grade: {student}: {outcome.status} ({outcome.seconds:.0f} s)",
                file=sys.stderr,
            )
    parts = _parts(settings)
    rows = [_row(settings, outcomes[s], parts) for s in sorted(outcomes)]
    _write_csv(Path(settings.out) / "grades.csv", rows, [name for name, _ in parts])
    (Path(settings.out) / "timings.json").write_text(
        json.dumps(
            {
                "wall_seconds": round(time.monotonic() - start, 1),
                "workers": workers,
                "students": {s: round(o.seconds, 1) for s, o in sorted(outcomes.items())},
            },
            indent=1,
        )
    )
    skipped = Path(settings.out) / "skipped.csv"
    with skipped.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "reason"])
        writer.writerows(sorted(found.skipped))
    print(f"funlm-grade: wrote {Path(settings.out) / 'grades.csv'}", file=sys.stderr)
    return 0


def _write_csv(path: Path, rows: list[dict], part_names: list[str]) -> None:
    columns = BASE_COLUMNS + part_names
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    return run(argv)


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["Outcome", "Settings", "asdict", "grade_student", "main", "run"]
