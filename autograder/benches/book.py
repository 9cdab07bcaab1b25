"""``make bench-book``: how long the book takes to build from scratch, and to rebuild unchanged.

    python -m autograder.benches.book [--profile cpu|gpu|grade] [--out DIR] [--keep]

1. clean build: ``jupyter-book build book --path-output DIR`` into an empty folder (no Sphinx
   environment, empty jupyter-cache: every demo notebook is executed);
2. no-change rebuild: the same command again (Sphinx finds nothing out of date; jupyter-cache
   would serve any notebook that needed re-reading).

Prints both wall-clock times against the targets (clean <= 600 s, rebuild <= 60 s on a 2-core
machine), the per-notebook execution times jupyter-cache recorded, the CPU count and the load
average (a busy, shared machine makes every number pessimistic). Exit status 1 when a build
fails; the times are reported, not asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.course import CourseLayout, CourseNotFound

CLEAN_TARGET_S = 600.0
REBUILD_TARGET_S = 60.0


def build(book: Path, out: Path, profile: str, strict: bool = False) -> tuple[float, str, int]:
    """One ``jupyter-book build`` of ``book``; (seconds, combined output, return code)."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    env = dict(os.environ, FUNLM_PROFILE=profile)
    cmd = [str(jupyter_book), "build", str(book), "--path-output", str(out)]
    cmd += ["-W", "-n", "--keep-going"] if strict else ["--keep-going"]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    return time.perf_counter() - start, result.stdout + result.stderr, result.returncode


def notebook_seconds(book: Path, out: Path, profile: str) -> dict[str, float]:
    """Execution time per notebook, as jupyter-cache recorded it (empty if unavailable)."""
    try:
        from jupyter_cache import get_cache
    except ImportError:
        return {}
    cache_dir = out / "_build" / f".jupyter_cache-{profile}"  # see book/_ext/funlm_book.py
    if not cache_dir.is_dir():
        return {}
    seconds: dict[str, float] = {}
    for record in get_cache(cache_dir).list_cache_records():
        value = (record.data or {}).get("execution_seconds")
        if value is not None:
            uri = Path(record.uri)
            try:
                name = uri.relative_to(book).as_posix()
            except ValueError:
                name = uri.name
            seconds[name] = float(value)
    return dict(sorted(seconds.items()))


def _status(seconds: float, target: float) -> str:
    return "within target" if seconds <= target else "OVER TARGET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profile",
        default=os.environ.get("FUNLM_PROFILE", "cpu"),
        help="FUNLM_PROFILE for the executed notebooks (default: $FUNLM_PROFILE or cpu, "
        "which is what `make book` builds)",
    )
    parser.add_argument("--out", type=Path, help="build folder (default: a fresh temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the build folder")
    parser.add_argument(
        "--strict", action="store_true", help="build as the tests do (-W -n: warnings are errors)"
    )
    args = parser.parse_args(argv)
    try:
        book = CourseLayout.find().root / "book"
    except CourseNotFound as error:
        print(f"bench-book: {error}", file=sys.stderr)
        return 2

    out = args.out or Path(tempfile.mkdtemp(prefix="funlm-bench-book-"))
    if out.exists() and any(out.iterdir()):
        print(
            f"bench-book: {out} is not empty; a clean build needs an empty folder", file=sys.stderr
        )
        return 2
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"bench-book: profile={args.profile}, strict={args.strict}, {os.cpu_count()} CPUs, "
          f"load average {load}, build folder {out}", flush=True)  # fmt: skip
    try:
        clean_s, log, code = build(book, out, args.profile, args.strict)
        if code != 0:
            print(log[-6000:], file=sys.stderr)
            print(f"bench-book: the clean build failed (exit {code})", file=sys.stderr)
            return 1
        rebuild_s, log2, code2 = build(book, out, args.profile, args.strict)
        if code2 != 0:
            print(log2[-6000:], file=sys.stderr)
            print(f"bench-book: the rebuild failed (exit {code2})", file=sys.stderr)
            return 1
        for name, seconds in notebook_seconds(book, out, args.profile).items():
            print(f"  executed {name}: {seconds:.1f} s")
        unchanged = "0 added, 0 changed, 0 removed" in log2
        print(f"clean build:       {clean_s:7.1f} s  (target <= {CLEAN_TARGET_S:.0f} s: "
              f"{_status(clean_s, CLEAN_TARGET_S)})")  # fmt: skip
        print(f"no-change rebuild: {rebuild_s:7.1f} s  (target <= {REBUILD_TARGET_S:.0f} s: "
              f"{_status(rebuild_s, REBUILD_TARGET_S)}; "
              f"{'nothing re-read' if unchanged else 'some pages were re-read'})")  # fmt: skip
    finally:
        if not args.keep and not args.out:
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
