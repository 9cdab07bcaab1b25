"""`make bench`: time the graded run (grade profile) of every solution notebook.

``python -m autograder.bench ch01_gpt3 ch05_small_lm`` times only the named assignments.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from autograder.course import SOLUTIONS_DIR, assignments, autograde


def main(names: list[str] | None = None) -> int:
    import funlm

    chosen = [n for n in assignments() if not names or n in names]
    if names and len(chosen) != len(set(names)):
        print(f"unknown assignment among {names}; known: {assignments()}", file=sys.stderr)
        return 2

    funlm.load_small_lm()  # warm the converted-model cache, as a grader's machine would be
    report = {}
    for name in chosen:
        with tempfile.TemporaryDirectory(prefix=f"funlm-bench-{name}-") as tmp:
            start = time.perf_counter()
            result = autograde(
                name, {"solution": SOLUTIONS_DIR / name / f"{name}.ipynb"}, Path(tmp)
            )
            seconds = time.perf_counter() - start
        report[name] = {"seconds": round(seconds, 1), "score": result["solution"].score}
        print(f"{name}: graded in {seconds:.1f} s, score {result['solution'].score:g}", flush=True)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
