"""`make exercises` (``funlm-exercises``): regenerate `exercises/` from `solutions/` with nbgrader.

Also stamps the Colab setup cell (built from the one repository URL in `book/_config.yml`)
into every solution notebook first, so that all notebooks carry the same install line.
The course is ``--course DIR``, else ``$FUNLM_COURSE``, else the course folder at or above the
current directory (:class:`autograder.course.CourseLayout`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from autograder.authoring.checks import leaks
from autograder.authoring.colab import stamp_setup_cells
from autograder.course import (
    CourseLayout,
    CourseNotFound,
    assignments,
    check_step,
    load_config,
    make_api,
)


def generate_exercises(
    dest: Path,
    workdir: Path,
    course: CourseLayout | None = None,
    source: Path | None = None,
    names: list[str] | None = None,
) -> list[str]:
    """Generate the student version of every assignment in ``source`` into ``dest``.

    ``source`` defaults to the course's ``solutions/`` (``course``: the configured one).
    ``dest/<assignment>/`` is replaced as a whole, so removed notebooks disappear too.
    Returns the assignment names generated.
    """
    course = course or CourseLayout.find()
    source = source or course.solutions
    names = names or assignments(source)
    workdir.mkdir(parents=True, exist_ok=True)
    release = workdir / "release"
    api = make_api(load_config(course.config_file, workdir, source, release))
    for name in names:
        check_step(f"generate_assignment {name}", api.generate_assignment(name, force=True))
        target = dest / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(release / name, target)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="funlm-exercises", description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    parser.add_argument("--course", type=Path, help="the course folder (default: configured)")
    args = parser.parse_args(argv)
    try:
        course = CourseLayout.resolve(args.course)
    except CourseNotFound as error:
        print(f"funlm-exercises: error: {error}", file=sys.stderr)
        return 2
    changed = stamp_setup_cells(course.solutions, course=course)
    for path in changed:
        print(f"updated Colab setup cell: {path.relative_to(course.root)}")
    with tempfile.TemporaryDirectory(prefix="funlm-generate-") as tmp:
        names = generate_exercises(
            course.exercises, Path(tmp), course=course, names=args.assignments or None
        )
    problems: list[str] = []
    for name in names:
        for exercise in sorted((course.exercises / name).glob("*.ipynb")):
            problems += leaks(exercise, course.solutions / name / exercise.name)
        print(f"generated {course.exercises.relative_to(course.root).as_posix()}/{name}")
    for problem in problems:
        print(f"LEAK: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
