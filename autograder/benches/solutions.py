"""`make bench`: time the graded run (grade profile) of every solution notebook.

Each assignment's solved exercise (the released notebook with the reference answers, what a
perfect student hands in) is graded by ``funlm-grade`` itself
(:func:`autograder.grading.pipeline.autograde`: sandbox, guard kernel, evidence check), one
notebook at a time so that its time is its own.
Prints, per assignment, the graded seconds of the submission (``timings.json``), the score and
the reason column, then one JSON line with all of them and the machine's load average.

``python -m autograder.benches.solutions ch01_gpt3 ch05_small_lm`` times only the named
assignments (of the configured course: :class:`autograder.course.CourseLayout`).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from autograder.course import CourseLayout, CourseNotFound
from autograder.grading.pipeline import autograde, solved_notebook


def main(names: list[str] | None = None) -> int:
    try:
        course = CourseLayout.find()
    except CourseNotFound as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    known = course.assignments()
    chosen = [n for n in known if not names or n in names]
    if names and len(chosen) != len(set(names)):
        print(f"unknown assignment among {names}; known: {known}", file=sys.stderr)
        return 2
    report: dict = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    full = True
    for name in chosen:
        with tempfile.TemporaryDirectory(prefix=f"funlm-bench-{name}-") as tmp:
            start = time.perf_counter()
            solution = solved_notebook(name, course)
            result = autograde(name, {"solution": solution}, Path(tmp), course=course, workers=1)
            wall = time.perf_counter() - start
        solution = result["solution"]
        full = full and solution.score == solution.max_score and not solution.reason
        report[name] = {
            "graded_seconds": round(solution.seconds, 1),
            "wall_seconds": round(wall, 1),
            "score": solution.score,
            "reason": solution.reason,
        }
        print(
            f"{name}: graded in {solution.seconds:.1f} s (funlm-grade wall {wall:.1f} s), "
            f"score {solution.score:g}/{solution.max_score:g}"
            + (f", reason: {solution.reason}" if solution.reason else ""),
            flush=True,
        )
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, ensure_ascii=False))
    return 0 if full else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
