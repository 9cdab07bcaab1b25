"""``python -m funlm COMMAND``: ``doctor`` (is this machine ready?) and ``repro`` (reproductions).

Kept importable by old Pythons: a wrong version gets one Korean + English line with the fix
instead of a traceback from somewhere inside the package.
"""

from __future__ import annotations

import sys

MIN_PYTHON = (3, 11)  # pyproject.toml: requires-python = ">=3.11"
USAGE = "usage: python -m funlm doctor [--json] | python -m funlm repro CHAPTER [...]"


def python_too_old(version: tuple[int, ...] | None = None) -> str | None:
    """The one-line message for a Python older than 3.11, else None."""
    version = tuple(version or sys.version_info[:3])
    if version[:2] >= MIN_PYTHON:
        return None
    have = ".".join(str(v) for v in version)
    need = ".".join(str(v) for v in MIN_PYTHON)
    return (
        f"FunLM은 Python {need} 이상이 필요합니다(지금 {have}) / FunLM needs Python {need}+ "
        f"(found {have}): install Python {need}+ and recreate the venv, e.g. "
        f"`make PYTHON=python{need}` or `conda env create -f environment.yml`."
    )


def main(argv: list[str] | None = None) -> int:
    message = python_too_old()
    if message:
        print(message, file=sys.stderr)
        return 2
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "doctor":
        from funlm.doctor import main as doctor

        return doctor(rest)
    if command == "repro":
        from funlm.repro.__main__ import main as repro

        return repro(rest)
    print(f"알 수 없는 명령 {command!r} / unknown command. {USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
