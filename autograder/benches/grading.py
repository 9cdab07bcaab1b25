"""`make bench-grade`: time `funlm-grade` on a class of 40 and run the hostile suite.

1. 40 submissions of ch00_orientation (a mix of correct, partial and blank notebooks built from
   the real exercise and solution) graded with the default number of workers: prints the total
   wall time and the median time per submission.
2. The hostile suite (:mod:`autograder.benches.hostile`) in one batch: prints the cases tried,
   the cases graded correctly and the escapes (submissions that earned points they did not
   earn).

The figures are printed as JSON on the last line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from autograder.benches import hostile
from autograder.course import CourseNotFound
from autograder.grading.cli import run


def class_of(count: int, folder: Path) -> dict[str, float]:
    """``count`` notebooks cycling through correct / partial / blank; returns expected scores."""
    answers = {gid: hostile.solution_answer(gid) for gid in hostile.ANSWERS}
    kinds = [
        ("correct", answers, 100.0),
        ("partial", {k: answers[k] for k in ("count_tokens", "greedy")}, 50.0),
        ("blank", {}, 0.0),
        ("part1", {"count_tokens": answers["count_tokens"]}, 20.0),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for number in range(count):
        kind, filled, score = kinds[number % len(kinds)]
        student = f"s{number + 1:03d}-{kind}"
        (folder / f"{student}.ipynb").write_text(
            hostile.nbformat.writes(hostile.notebook(filled)), encoding="utf-8"
        )
        expected[student] = score
    return expected


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open(encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def bench_class(tmp: Path, count: int, workers: int | None) -> dict:
    expected = class_of(count, tmp / "class")
    argv = ["ch00_orientation", str(tmp / "class"), "--out", str(tmp / "class-out")]
    if workers:
        argv += ["--workers", str(workers)]
    start = time.perf_counter()
    code = run(argv)
    wall = time.perf_counter() - start
    rows = _rows(tmp / "class-out")
    timings = json.loads((tmp / "class-out" / "timings.json").read_text())
    wrong = [s for s, score in expected.items() if float(rows[s]["score"]) != score]
    return {
        "submissions": count,
        "exit_code": code,
        "workers": timings["workers"],
        "wall_seconds": round(wall, 1),
        "median_seconds_per_submission": round(statistics.median(timings["students"].values()), 1),
        "max_seconds_per_submission": round(max(timings["students"].values()), 1),
        "wrong_scores": wrong,
    }


def bench_hostile(tmp: Path, workers: int, timeout: int) -> dict:
    out = tmp / "hostile-out"
    canary = tmp / "canary.txt"
    canary.write_text("must survive")
    ctx = hostile.Context(out=out, canary=canary)
    cases = hostile.write(tmp / "hostile", ctx)
    argv = ["ch00_orientation", str(tmp / "hostile"), "--out", str(out)]
    argv += ["--workers", str(workers), "--timeout", str(timeout), "--memory-mb", "4096"]
    start = time.perf_counter()
    code = run(argv)
    rows = _rows(out)
    failures = {}
    escapes = []
    for case in cases:
        row = rows.get(hostile.student_id(case))
        problems = ["no row"] if row is None else hostile.judge(case, row)
        if problems:
            failures[case.name] = problems
        if row is not None and hostile.escaped(case, row):
            escapes.append(case.name)
    if not canary.exists():
        escapes.append("write_delete_outside (canary deleted)")
    return {
        "exit_code": code,
        "cases_tried": len(cases),
        "graded_correctly": len(cases) - len(failures),
        "escapes": len(escapes),
        "escaped_cases": escapes,
        "failures": failures,
        "wall_seconds": round(time.perf_counter() - start, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="class size (default 40)")
    parser.add_argument("--workers", type=int, default=None, help="default: cores")
    parser.add_argument("--skip-class", action="store_true", help="only the hostile suite")
    parser.add_argument("--skip-hostile", action="store_true", help="only the class")
    args = parser.parse_args(argv)
    try:
        hostile.course()  # the ch00 notebooks the class and the hostile cases are built from
    except CourseNotFound as error:
        print(f"bench-grade: {error}", file=sys.stderr)
        return 2
    report: dict = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory(prefix="funlm-bench-grade-") as name:
        tmp = Path(name)
        if not args.skip_class:
            report["class"] = bench_class(tmp, args.count, args.workers)
            print(
                f"class of {args.count}: graded in {report['class']['wall_seconds']} s "
                f"({json.dumps(report['class'])})",
                flush=True,
            )
        if not args.skip_hostile:
            report["hostile"] = bench_hostile(tmp, args.workers or 2, timeout=60)
            print(f"hostile suite: {json.dumps(report['hostile'], ensure_ascii=False)}", flush=True)
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, ensure_ascii=False))
    hostile_ok = report.get("hostile", {}).get("escapes", 0) == 0
    return 0 if hostile_ok else 1


if __name__ == "__main__":
    sys.exit(main())
