"""Run every solution notebook and every chapter reproduction in the ``gpu`` profile.

``make gpu-check`` (= ``python -m autograder.benches.gpu_check``) is the check an instructor
runs on a GPU machine before a term: each ``solutions/<assignment>/<assignment>.ipynb`` is
executed top to bottom (its hidden tests included) and each ``python -m funlm.repro chNN
--profile gpu`` is run, every job in its own process with a time limit. The summary JSON (default
``results/gpu-check.json``) records, per job, whether it passed, its run time and — for the
reproductions — the chapter's headline numbers; the per-chapter outputs go to
``results/repro/chNN-gpu.json`` where the book's chapter 7 table finds them. The course is
``--course DIR``, else ``$FUNLM_COURSE``, else the course folder at or above the current
directory (:class:`autograder.course.CourseLayout`).

Notebooks run through nbclient (a real Jupyter kernel) when it is installed. On a bare GPU
machine without Jupyter, ``--executor inprocess`` runs the notebook's code cells one after the
other in one Python namespace, which executes the same code but without a kernel (no magics are
used in the course notebooks); the summary says which executor ran.

A device loan is short, so a check may take several runs: ``--failed-only`` re-runs just the
jobs that did not pass in the existing summary (and any job it lacks) and merges the new results
into it; ``--merge`` does the same for an explicit ``--notebooks`` / ``--chapters`` selection.
The merged summary lists every run (machine, executor, limit, commit, date) under ``runs`` and
tags each job with the run that produced its row, so a row that failed on older code says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# No nbgrader import here (autograder.course imports none): a bare GPU machine has only torch
# and the course's runtime deps.
from autograder.course import CourseLayout, CourseNotFound
from funlm.repro.summary import load_gpu_check, normalise_gpu_check

#: This module, as the in-process executor's child processes run it.
MODULE = "autograder.benches.gpu_check"
TAIL_CHARS = 2000


@dataclass
class JobResult:
    """Outcome of one notebook or reproduction run."""

    kind: str  # "notebook" or "repro"
    name: str
    ok: bool
    seconds: float
    returncode: int | None
    timed_out: bool = False
    headline: dict[str, Any] = field(default_factory=dict)
    error_tail: str = ""
    run: int = 1  # index into the summary's ``runs`` (set when results are merged)


def execute_notebook_inprocess(path: Path) -> None:
    """Execute a notebook's code cells in order in one namespace (no kernel, no magics)."""
    import matplotlib

    matplotlib.use("Agg")
    notebook = json.loads(path.read_text(encoding="utf-8"))
    # IPython puts `display` among a kernel's builtins; notebooks call it without an import.
    try:
        from IPython.display import display
    except ImportError:  # pragma: no cover - a bare machine without IPython

        def display(*objects: Any, **_: Any) -> None:
            print(*objects)

    namespace: dict[str, Any] = {"__name__": "__main__", "display": display}
    os.chdir(path.parent)
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell["source"])
        if any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()):
            raise RuntimeError(f"cell {index} uses IPython magics; run with --executor nbclient")
        exec(compile(source, f"{path.name}[cell {index}]", "exec"), namespace)


def _notebook_command(path: Path, executor: str, timeout: int) -> list[str]:
    if executor == "inprocess":
        return [sys.executable, "-m", MODULE, "--exec-notebook", str(path)]
    return [
        sys.executable,
        "-m",
        "jupyter",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        f"--ExecutePreprocessor.timeout={timeout}",
        "--stdout",
        str(path),
    ]


def _run(
    cmd: list[str], env: dict[str, str], timeout: int, cwd: Path
) -> tuple[int | None, bool, str, str]:
    try:
        done = subprocess.run(
            cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout.decode() if isinstance(expired.stdout, bytes) else expired.stdout
        err = expired.stderr.decode() if isinstance(expired.stderr, bytes) else expired.stderr
        return None, True, out or "", err or ""
    return done.returncode, False, done.stdout, done.stderr


def run_notebook_job(
    course: CourseLayout, assignment: str, executor: str, timeout: int, env: dict[str, str]
) -> JobResult:
    path = course.solutions / assignment / f"{assignment}.ipynb"
    start = time.perf_counter()
    command = _notebook_command(path, executor, timeout)
    code, timed_out, _out, err = _run(command, env, timeout, course.root)
    seconds = round(time.perf_counter() - start, 1)
    ok = code == 0 and not timed_out
    tail = "" if ok else err[-TAIL_CHARS:]
    return JobResult("notebook", assignment, ok, seconds, code, timed_out, error_tail=tail)


def run_repro_job(
    course: CourseLayout, chapter: str, results_dir: Path, timeout: int, env: dict[str, str]
) -> JobResult:
    out = results_dir / f"{chapter}-gpu.json"
    cmd = [sys.executable, "-m", "funlm.repro", chapter, "--profile", "gpu", "--out", str(out)]
    start = time.perf_counter()
    code, timed_out, stdout, err = _run(cmd, env, timeout, course.root)
    seconds = round(time.perf_counter() - start, 1)
    headline: dict[str, Any] = {}
    if code == 0 and out.exists():
        data = json.loads(out.read_text(encoding="utf-8"))
        headline = _headline(chapter, data)
    ok = code == 0 and not timed_out and bool(headline)
    tail = "" if ok else (err or stdout)[-TAIL_CHARS:]
    return JobResult("repro", chapter, ok, seconds, code, timed_out, headline, tail)


def _headline(chapter: str, data: dict[str, Any]) -> dict[str, Any]:
    import importlib

    keys = list(importlib.import_module(f"funlm.repro.{chapter}").HEADLINE_KEYS)
    return {key: data[key] for key in [*keys, "seconds"] if key in data}


def device_description() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "cpu_count": os.cpu_count(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def gpu_check(
    *,
    course: CourseLayout,
    notebooks: list[str],
    chapters: list[str],
    executor: str,
    jobs: int,
    timeout: int,
    results_dir: Path,
    commit: str = "",
) -> dict[str, Any]:
    """Run the selected notebooks and reproductions in the gpu profile; return the summary."""
    env = {**os.environ, "FUNLM_PROFILE": "gpu", "PYTHONUNBUFFERED": "1"}
    src = str(course.root / "src")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(course.root), src, env.get("PYTHONPATH", "")) if p
    )
    results_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [
            pool.submit(run_repro_job, course, c, results_dir, timeout, env) for c in chapters
        ]
        futures += [
            pool.submit(run_notebook_job, course, a, executor, timeout, env) for a in notebooks
        ]
        results = [f.result() for f in futures]
    run = {
        "run": 1,
        "executor": executor,
        "parallel_jobs": jobs,
        "timeout_s": timeout,
        "device": device_description(),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "commit": commit or "not recorded",
        "date": time.strftime("%Y-%m-%d"),
    }
    return {
        "profile": "gpu",
        "runs": [run],
        "all_ok": all(r.ok for r in results),
        "jobs": [asdict(r) for r in results],
    }


def job_key(job: dict[str, Any]) -> tuple[str, str]:
    return (str(job["kind"]), str(job["name"]))


def merge_summaries(earlier: dict[str, Any], latest: dict[str, Any]) -> dict[str, Any]:
    """``earlier`` with the jobs of ``latest`` replacing (or adding) rows of the same job.

    The latest run gets the next run number; rows it did not re-run keep their run number, and
    runs no row refers to any more are dropped. Job order: earlier rows first, new ones after.
    """
    earlier, latest = normalise_gpu_check(earlier), normalise_gpu_check(latest)
    number = max((r["run"] for r in earlier["runs"]), default=0) + 1
    new_jobs = {job_key(j): {**j, "run": number} for j in latest["jobs"]}
    jobs = [new_jobs.pop(job_key(j), j) for j in earlier["jobs"]] + list(new_jobs.values())
    used = {j["run"] for j in jobs}
    runs = [r for r in earlier["runs"] if r["run"] in used]
    runs += [{**r, "run": number} for r in latest["runs"][:1]]
    return {
        "profile": latest.get("profile", "gpu"),
        "runs": runs,
        "all_ok": all(j.get("ok") for j in jobs),
        "jobs": jobs,
    }


def jobs_to_rerun(
    summary: dict[str, Any], notebooks: Iterable[str], chapters: Iterable[str]
) -> tuple[list[str], list[str]]:
    """(notebooks, chapters) among those given that did not pass in ``summary`` or are absent."""
    passed = {job_key(j) for j in normalise_gpu_check(summary)["jobs"] if j.get("ok")}
    return (
        [n for n in notebooks if ("notebook", n) not in passed],
        [c for c in chapters if ("repro", c) not in passed],
    )


def _git_commit(root: Path) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _default_executor() -> str:
    try:
        import nbclient  # noqa: F401
    except ImportError:
        return "inprocess"
    return "nbclient"


def main(argv: list[str] | None = None) -> int:
    from funlm.repro import chapters as repro_chapters

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exec-notebook", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--course", type=Path, help="the course folder (default: configured)")
    parser.add_argument("--out", type=Path, help="default: results/gpu-check.json")
    parser.add_argument("--results-dir", type=Path, help="default: results/repro")
    parser.add_argument("--notebooks", nargs="*", default=None, help="assignments (default: all)")
    parser.add_argument("--chapters", nargs="*", default=None, help="repro chapters (default: all)")
    parser.add_argument("--executor", choices=["nbclient", "inprocess"], default=None)
    parser.add_argument("--jobs", type=int, default=1, help="jobs run side by side")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per job")
    parser.add_argument(
        "--allow-cpu", action="store_true", help="run even without CUDA (machinery check only)"
    )
    parser.add_argument(
        "--merge", action="store_true", help="merge into the existing summary instead of replacing"
    )
    parser.add_argument(
        "--failed-only",
        action="store_true",
        help="re-run only the jobs that did not pass in the existing summary; merge the results",
    )
    parser.add_argument("--commit", default="", help="the course commit (default: git HEAD)")
    args = parser.parse_args(argv)
    if args.exec_notebook is not None:
        execute_notebook_inprocess(args.exec_notebook.resolve())
        return 0
    import torch

    if not torch.cuda.is_available() and not args.allow_cpu:
        print("gpu-check: no CUDA device here; run it on a GPU machine (or --allow-cpu).")
        return 2
    try:
        course = CourseLayout.resolve(args.course)
    except CourseNotFound as error:
        print(f"gpu-check: {error}")
        return 2
    args.out = args.out or course.results / "gpu-check.json"
    notebooks = course.assignments() if args.notebooks is None else args.notebooks
    chapters = repro_chapters() if args.chapters is None else args.chapters
    earlier = load_gpu_check(args.out) if (args.merge or args.failed_only) else None
    if args.failed_only and earlier is not None:
        notebooks, chapters = jobs_to_rerun(earlier, notebooks, chapters)
        if not notebooks and not chapters:
            print(f"gpu-check: every job in {args.out} passed; nothing to re-run.")
            return 0
    summary = gpu_check(
        course=course,
        notebooks=notebooks,
        chapters=chapters,
        executor=args.executor or _default_executor(),
        jobs=args.jobs,
        timeout=args.timeout,
        results_dir=args.results_dir or course.results / "repro",
        commit=args.commit or os.environ.get("FUNLM_COMMIT", "") or _git_commit(course.root),
    )
    ran = {job_key(j) for j in summary["jobs"]}
    if earlier is not None:
        summary = merge_summaries(earlier, summary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for job in summary["jobs"]:
        status = "ok " if job["ok"] else ("TIMEOUT" if job["timed_out"] else "FAIL")
        again = "" if job_key(job) in ran else f"  (kept from run {job['run']})"
        print(f"{status:7} {job['kind']:8} {job['name']:22} {job['seconds']:8.1f} s{again}")
    print(json.dumps({k: v for k, v in summary.items() if k != "jobs"}, ensure_ascii=False))
    return 0 if summary["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
