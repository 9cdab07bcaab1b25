"""`make bench`: time the graded run (grade profile) of every solution notebook."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from autograder.course import SOLUTIONS_DIR, assignments, autograde


def main() -> int:
    import funlm

    funlm.load_small_lm()  # warm the converted-model cache, as a grader's machine would be
    report = {}
    for name in assignments():
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
    raise SystemExit(main())
