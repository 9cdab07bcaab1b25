"""``python -m funlm.repro chNN [--profile cpu|gpu|grade] [--out FILE]``."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from funlm.profile import PROFILES
from funlm.repro import chapters, run_chapter, write_result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m funlm.repro", description=__doc__)
    parser.add_argument("chapter", help=f"one of: {', '.join(chapters()) or '(none yet)'}")
    parser.add_argument("--profile", choices=PROFILES, default=None,
                        help="run profile (default: $FUNLM_PROFILE or cpu)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.profile:
        os.environ["FUNLM_PROFILE"] = args.profile  # notebooks/subprocesses see the same profile
    result = run_chapter(args.chapter, args.profile)
    if args.out:
        write_result(result, args.out)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
