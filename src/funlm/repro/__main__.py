"""``python -m funlm.repro chNN [--profile cpu|gpu|grade] [--out FILE] [--compare [FILE]]``.

``--compare FILE`` compares a record written earlier with ``--out`` against the book's record
``results/repro/chNN-<profile>.json`` without running anything; ``--compare`` alone runs the
chapter once and then compares. ``--reference FILE`` names another book record.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from funlm.profile import PROFILES, ProfileError
from funlm.repro import chapters, run_chapter, write_result

RUN_NOW = "-"


def _compare(chapter: str, mine: dict, mine_name: str, reference: Path | None) -> int:
    from funlm.repro.compare import compare_records, load_record, reference_path, render, verdict

    if mine.get("chapter") != chapter:
        raise ValueError(f"the record is for {mine.get('chapter')!r}, not {chapter!r}")
    path = reference or reference_path(chapter, str(mine.get("profile", "cpu")))
    if not path.is_file():
        raise FileNotFoundError(
            f"책의 기록이 없습니다 / no book record {path}: run from the course repository "
            f"or pass --reference FILE"
        )
    rows = compare_records(mine, load_record(path))
    print(render(rows, mine_name, str(path)))
    result = verdict(rows)
    print(json.dumps({"chapter": chapter, "reference": str(path), **result}, ensure_ascii=False))
    return 0 if result["agree"] else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m funlm.repro", description=__doc__)
    parser.add_argument("chapter", help=f"one of: {', '.join(chapters()) or '(none yet)'}")
    parser.add_argument("--profile", choices=PROFILES, default=None,
                        help="run profile (default: $FUNLM_PROFILE or cpu)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--compare", nargs="?", const=RUN_NOW, default=None, metavar="FILE",
                        help="compare FILE (a record from --out; no run) or, without FILE, this "
                        "run with the book's record")  # fmt: skip
    parser.add_argument(
        "--reference", type=Path, default=None,
        help="the book's record (default: results/repro/CHAPTER-PROFILE.json)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.chapter not in chapters():
        return _fail(f"unknown chapter {args.chapter!r}; available: {', '.join(chapters())}")
    if args.compare not in (None, RUN_NOW):  # a record from an earlier run: nothing to run
        from funlm.repro.compare import load_record

        try:
            return _compare(args.chapter, load_record(Path(args.compare)), args.compare,
                            args.reference)  # fmt: skip
        except (ValueError, OSError) as error:
            return _fail(error)
    if args.profile:
        os.environ["FUNLM_PROFILE"] = args.profile  # notebooks/subprocesses see the same profile
    from funlm.models.small_lm import SmallLMUnavailable

    try:
        result = run_chapter(args.chapter, args.profile)
    except (ProfileError, SmallLMUnavailable) as error:  # setup problems: one line with the fix
        return _fail(error)
    if args.out:
        write_result(result, args.out)
    status = 0
    if args.compare == RUN_NOW:
        try:
            status = _compare(args.chapter, result, "(이번 실행 / this run)", args.reference)
        except (ValueError, OSError) as error:
            _fail(error)
            status = 2
    print(json.dumps(result, ensure_ascii=False))
    return status


def _fail(error: object) -> int:
    """One line on stderr (Korean / English where the error has both), exit status 2."""
    text = " / ".join(line.strip() for line in str(error).splitlines() if line.strip())
    print(f"python -m funlm.repro: {text}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
