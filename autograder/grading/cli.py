"""`funlm-grade`: grade a whole class's notebooks in one command, sandboxed and in parallel.

    funlm-grade ASSIGNMENT SUBMISSIONS --out OUT [--db URL] [--workers N] [--timeout S]
                [--course DIR] [--source DIR]

SUBMISSIONS is a folder of ``<student_id>.ipynb`` or an LMS zip (``--name-pattern`` says how a
file name carries the student id). Writes ``OUT/grades.csv`` (one row per student found:
``student_id,assignment,score,max_score,status,reason`` and one column per graded part) and
``OUT/feedback/<student_id>.html``. The gradebook is nbgrader's: SQLite in ``OUT`` by default,
or any SQLAlchemy URL (``postgresql+psycopg://…``) with ``--db``.

The course (``--course``, else ``$FUNLM_COURSE``, else the course folder at or above the
current directory: :class:`autograder.course.CourseLayout`) gives the nbgrader configuration
and the default ``--source`` (its ``solutions/``). The grader process owns the gradebook and
OUT; each submission is graded by :func:`autograder.grading.worker.grade_student` in one of
``--workers`` processes (sandbox, guard kernel, evidence check, nbgrader's scores and
feedback); with SQLite, gradebook writes are serialised by a file lock that is released while
a kernel runs. Default limits: :mod:`autograder.grading.limits`.

Exit status: 0 when every submission was graded or given a recorded error, 2 when the command
itself could not start (one line on stderr, nothing graded).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.course import (
    CourseLayout,
    CourseNotFound,
    assignments,
    graded_parts,
    load_config,
    make_api,
)
from autograder.grading.gradebook import GradebookLock, read_grade, zero_grades
from autograder.grading.limits import (
    DEFAULT_LIMITS,
    MIN_MEMORY_MB,
    Limits,
    default_workers,
    threads_per_kernel,
)
from autograder.grading.settings import Settings
from autograder.grading.submissions import DEFAULT_NAME_PATTERN, InputError, collect
from autograder.grading.worker import Outcome, grade_student, init_worker

UNSAFE_REASON = "UNSAFE: graded without a sandbox (--unsafe-no-sandbox)"
BASE_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "reason"]


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
    limits = DEFAULT_LIMITS
    parser = argparse.ArgumentParser(
        prog="funlm-grade",
        description="Grade a class's notebooks for one assignment (sandboxed, in parallel).",
    )
    parser.add_argument("assignment", help="assignment name, e.g. ch00_orientation")
    parser.add_argument("submissions", type=Path, help="folder of <student_id>.ipynb, or a zip")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--db", help="gradebook SQLAlchemy URL (default: SQLite in OUT)")
    parser.add_argument(
        "--workers", type=int, default=None, help="parallel kernels (default: one per core)"
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=limits.cell_timeout,
        help=f"seconds per cell (default {limits.cell_timeout})",
    )
    parser.add_argument(
        "--notebook-timeout",
        type=int,
        default=limits.notebook_timeout,
        help=f"seconds per notebook (default {limits.notebook_timeout})",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=limits.memory_mb,
        help=f"kernel memory limit in MiB (default {limits.memory_mb})",
    )
    parser.add_argument(
        "--name-pattern",
        default=DEFAULT_NAME_PATTERN,
        help="regex with a (?P<student_id>…) group, matched against each file's path inside "
        "the folder or zip (default: <student_id>.ipynb)",
    )
    parser.add_argument(
        "--course",
        type=Path,
        default=None,
        help="the course folder (default: $FUNLM_COURSE, else the course at or above the "
        "current directory)",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="nbgrader source folder with the solutions and hidden tests (default: the "
        "course's solutions/)",
    )
    parser.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="grade without bubblewrap (only where it is unavailable; every row says so)",
    )
    return parser.parse_args(argv)


def _course(args: argparse.Namespace) -> CourseLayout:
    try:
        return CourseLayout.resolve(args.course)
    except CourseNotFound as error:
        raise CommandError(str(error)) from error


def prepare(args: argparse.Namespace) -> tuple[Settings, Path]:
    """All checks that must pass before any grading; raises CommandError."""
    from autograder.grading.sandbox import (
        SandboxError,
        bwrap_problem,
        check_exposure,
        matplotlib_cache,
        readonly_paths,
    )

    course = _course(args)
    source: Path = (args.source or course.solutions).resolve()
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
        from autograder.grading.submissions import check_zip

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
    workers = args.workers or default_workers()
    if (
        workers < 1
        or args.timeout < 1
        or args.notebook_timeout < 1
        or args.memory_mb < MIN_MEMORY_MB
    ):
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
    workdir = out / ".funlm" / "course"
    workdir.mkdir(parents=True, exist_ok=True)
    fonts = matplotlib_cache(out / ".funlm" / "matplotlib")
    limits = Limits(
        cell_timeout=args.timeout,
        notebook_timeout=args.notebook_timeout,
        memory_mb=args.memory_mb,
        threads=threads_per_kernel(workers),
    )
    settings = Settings(
        assignment=args.assignment,
        out=str(out),
        db_url=db_url,
        workdir=str(workdir),
        config_file=str(course.config_file),
        source=str(source),
        notebook_name=notebooks[0].stem,
        sandboxed=problem is None,
        forbidden=tuple(str(p) for p in secret),
        lock_path=str(out / ".funlm" / "gradebook.lock") if db_url.startswith("sqlite") else None,
        limits=limits,
        matplotlib_dir=str(fonts or ""),
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

    release = Path(settings.workdir) / "release" / settings.assignment
    notebook = nbformat.read(release / f"{settings.notebook_name}.ipynb", as_version=4)
    return list(graded_parts(notebook).items())


def _row(settings: Settings, outcome: Outcome, parts: list[tuple[str, float]]) -> dict:
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
        workdir = Path(settings.workdir)
        api = make_api(
            load_config(
                Path(settings.config_file),
                workdir,
                Path(settings.source),
                workdir / "release",
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
    workers = min(args.workers or default_workers(), max(1, len(found.submissions)))
    # the cores are shared by the kernels that actually run
    settings = settings.with_threads(threads_per_kernel(workers))
    print(
        f"funlm-grade: {len(found.submissions)} submission(s) of {settings.assignment}, "
        f"{workers} worker(s), gradebook {_redact(settings.db_url)}",
        file=sys.stderr,
    )
    outcomes: dict[str, Outcome] = {}
    start = time.monotonic()
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=init_worker
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
                    zero_grades(settings.db_url, settings.assignment, student)
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


__all__ = ["BASE_COLUMNS", "UNSAFE_REASON", "CommandError", "main", "parse_args", "run"]
