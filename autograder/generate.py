"""`make exercises`: regenerate `exercises/` from `solutions/` with nbgrader.

Also stamps the Colab setup cell (built from the one repository URL in `book/_config.yml`)
into every solution notebook first, so that all notebooks carry the same install line.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from autograder.checks import leaks
from autograder.colab import stamp_setup_cells
from autograder.course import EXERCISES_DIR, SOLUTIONS_DIR, generate_exercises


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    args = parser.parse_args(argv)
    changed = stamp_setup_cells(SOLUTIONS_DIR)
    for path in changed:
        print(f"updated Colab setup cell: {path.relative_to(SOLUTIONS_DIR.parent)}")
    with tempfile.TemporaryDirectory(prefix="funlm-generate-") as tmp:
        names = generate_exercises(EXERCISES_DIR, Path(tmp), names=args.assignments or None)
    problems: list[str] = []
    for name in names:
        for exercise in sorted((EXERCISES_DIR / name).glob("*.ipynb")):
            problems += leaks(exercise, SOLUTIONS_DIR / name / exercise.name)
        print(f"generated exercises/{name}")
    for problem in problems:
        print(f"LEAK: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
