"""``constraints.txt``: the exact versions of the tested environment, for every install.

``pyproject.toml`` declares ranges (what the code is written for); ``constraints.txt`` records
the one combination the test suite last passed with, so that ``make`` (``pip install -c
constraints.txt``), ``environment.yml`` (conda, Binder) and the Colab cell install the same
versions tomorrow as today, whatever upstream releases in between.

- ``python -m autograder.authoring.constraints`` (``make constraints``) writes
  ``constraints.txt`` from the environment it runs in (the project's ``.venv`` after
  ``make test`` passed), and rewrites the pins in ``environment.yml`` to match;
- ``python -m autograder.authoring.constraints --check`` lists packages whose installed version
  differs from the file (exit 1), e.g. after an install without ``-c``.

To move to newer releases: ``make constraints-upgrade`` (a fresh venv installed from the ranges
alone), run the tests, then ``make constraints`` and commit the two files.

Local version labels are dropped (``torch 2.13.0+cpu`` is pinned as ``torch==2.13.0``, which
the CPU index and every other platform can satisfy). Pip's own tooling and the course package
itself are not pinned.
"""

from __future__ import annotations

import argparse
import platform
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from autograder.course import CourseLayout, CourseNotFound
from funlm.doctor import (
    COLAB_PINNED,
    installed_versions,
    normalize,
    public_version,
    read_constraints,
)

__all__ = [
    "COLAB_PINNED",
    "ENVIRONMENT_PIP_OPTIONS",
    "declared_requirements",
    "environment_pip_lines",
    "freeze",
    "main",
    "normalize",
    "write_environment",
]

#: Not pinned: the course itself and the installer's own tools.
UNPINNED = frozenset({"funlm", "pip", "setuptools", "wheel"})


def render(pins: dict[str, str]) -> str:
    python = ".".join(platform.python_version_tuple()[:2])
    header = [
        "# Exact versions of the tested environment (generated: `make constraints`, i.e.",
        "# `python -m autograder.authoring.constraints`; do not edit by hand). `make` installs"
        " with",
        "# `pip install -c constraints.txt`; environment.yml and the Colab cell use the same pins",
        "# (tests/test_environment.py, tests/test_colab.py).",
        f"# Generated with Python {python} on {platform.system()} {platform.machine()}.",
    ]
    lines = [f"{name}=={version}" for name, version in sorted(pins.items())]
    return "\n".join(header + lines) + "\n"


def freeze(packages: dict[str, str] | None = None) -> dict[str, str]:
    packages = installed_versions() if packages is None else packages
    return {
        name: public_version(version) for name, version in packages.items() if name not in UNPINNED
    }


def declared_names(pyproject: Path | None = None) -> list[str]:
    """Normalized names of every requirement in pyproject.toml (all extras)."""
    return [normalize(_requirement_name(r)) for r in declared_requirements(pyproject)]


def declared_requirements(pyproject: Path | None = None) -> list[str]:
    """Every requirement of ``pyproject`` (default: the course's pyproject.toml), extras too."""
    import tomllib

    pyproject = pyproject or CourseLayout.find().pyproject
    project = tomllib.loads(pyproject.read_text("utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return requirements


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0]


#: Options at the top of environment.yml's pip list: the CPU build of torch (the pinned version
#: without a multi-GB CUDA download; conda users with a GPU install their CUDA torch after).
#: No `-c constraints.txt` line: micromamba (Binder) runs pip on a copy of this list in /tmp,
#: where a relative path breaks; the declared packages are pinned here instead, and
#: `pip install -c constraints.txt -e .` in the environment pins the rest.
ENVIRONMENT_PIP_OPTIONS: tuple[str, ...] = (
    "--extra-index-url https://download.pytorch.org/whl/cpu",
)


def environment_pip_lines(pins: dict[str, str], pyproject: Path | None = None) -> list[str]:
    """environment.yml's pip list: every pyproject requirement pinned as in ``pins``."""
    lines = []
    for requirement in declared_requirements(pyproject):
        name = _requirement_name(requirement)
        extras = re.match(r"[^\[]*(\[[^\]]*\])?", requirement.strip()).group(1) or ""
        lines.append(f"{name}{extras}=={pins[normalize(name)]}")
    return lines


def write_environment(
    pins: dict[str, str], path: Path | None = None, pyproject: Path | None = None
) -> None:
    """Replace environment.yml's pip list (and Python version) with the pinned one."""
    path = path or CourseLayout.find().environment
    text = path.read_text("utf-8")
    head, _, _ = text.partition("  - pip:\n")
    python = ".".join(platform.python_version_tuple()[:2])
    head = re.sub(r"  - python=[0-9.]+\n", f"  - python={python}\n", head)
    lines = [*ENVIRONMENT_PIP_OPTIONS, *environment_pip_lines(pins, pyproject)]
    body = "".join(f"      - {line}\n" for line in lines)
    path.write_text(head + "  - pip:\n" + body, "utf-8")


def differences(pins: dict[str, str], packages: dict[str, str]) -> list[str]:
    """Pinned packages whose installed version differs (missing ones are not listed)."""
    return [
        f"{name}: installed {packages[name]}, constraints.txt {version}"
        for name, version in sorted(pins.items())
        if name in packages and public_version(packages[name]) != version
    ]


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.authoring.constraints", description=__doc__
    )
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--course", type=Path, help="the course folder (default: configured)")
    parser.add_argument("--out", type=Path, help="default: the course's constraints.txt")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        course = CourseLayout.resolve(args.course)
    except CourseNotFound as error:
        print(f"constraints: {error}", file=sys.stderr)
        return 2
    args.out = args.out or course.constraints
    if args.check:
        problems = differences(read_constraints(args.out), installed_versions())
        for problem in problems:
            print(problem)
        print("constraints.txt: " + ("differs" if problems else "matches this environment"))
        return 1 if problems else 0
    pins = freeze()
    missing = [n for n in declared_names(course.pyproject) if n not in pins]
    if missing:
        print(f"not installed here, cannot pin: {', '.join(missing)}", file=sys.stderr)
        return 2
    args.out.write_text(render(pins), "utf-8")
    write_environment(pins, course.environment, course.pyproject)
    print(f"wrote {args.out.name} ({len(pins)} pins) and {course.environment.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
