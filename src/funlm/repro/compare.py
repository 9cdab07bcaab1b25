"""A learner's reproduction beside the book's record: ``python -m funlm.repro chNN --compare``.

The learner runs a chapter once (``python -m funlm.repro ch03 --out my-ch03.json``, or
``--compare`` alone, which runs and then compares) and compares the record with the book's
``results/repro/ch03-<profile>.json`` without running again (``--compare my-ch03.json``).

What is compared: every number and yes/no under the chapter's ``HEADLINE_KEYS`` (nested dicts
flattened to ``a.b.c``; lists of up to :data:`MAX_LIST` numbers element by element, longer
ones, i.e. whole training curves, left out as in chapter 7's table). Timing (``seconds``,
``*_seconds``, ``load_average``) is shown for information only: it measures the machine.

Tolerance bands, in this order:

1. **The record's own interval.** Where the book's record has ``"intervals": {name: {"lo",
   "hi", ...}}`` (:mod:`funlm.stats`, a 95 % bootstrap interval over the evaluation items) and
   ``name`` is the flattened key (``.`` or ``/``) or its last part, the band is ``[lo, hi]``:
   the book's own uncertainty about that number. A learner's value inside it is as close to the
   book as another draw of the same items would be.
2. **Yes/no criteria** (the paper's qualitative claims, e.g. ``criteria.*``) and positions
   (:data:`EXACT`, e.g. which layer and head is the induction head): must be equal.
3. **Stated tolerances** (:data:`TOLERANCES`) otherwise: ``|mine - book| <= max(atol,
   rtol * |book|)``. The runs are seeded, so on the book's setup (x86 CPU, the pinned torch) a
   re-run repeats the numbers; what moves them elsewhere is floating-point order (another CPU,
   BLAS, torch build or MPS). Accuracies and rates over the chapters' 32–64 evaluation items
   move in steps of 1/64–1/32, so ``atol = 0.05`` allows about two to three items; losses,
   exponents and other continuous numbers get ``rtol = 0.10`` (``atol = 0.02`` near zero);
   counts and step numbers (integers) get ``rtol = 0.15`` (one evaluation interval of the
   phase-change step, for instance).
"""

from __future__ import annotations

import fnmatch
import json
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funlm.repro.summary import MAX_LIST, default_results_dir

__all__ = ["TOLERANCES", "Row", "compare_records", "load_record", "render", "verdict"]

INFO_KEYS = ("seconds", "*_seconds", "*.seconds", "load_average*", "*.train_seconds")
#: (pattern on the flattened key, atol, rtol); the first matching pattern wins.
TOLERANCES: list[tuple[str, float, float]] = [
    ("*acc*", 0.05, 0.0),
    ("*rate*", 0.05, 0.0),
    ("*winrate*", 0.05, 0.0),
    ("*blocked*", 0.05, 0.0),
    ("*followed*", 0.05, 0.0),
    ("*success*", 0.05, 0.0),
    ("*gap*", 0.05, 0.0),
    ("*delta*", 0.05, 0.0),
    ("*", 0.02, 0.10),
]
INTEGER_RTOL = 0.15
#: Flattened keys that name a position rather than measure an amount: equal or not.
EXACT: tuple[str, ...] = ("*induction_head.*",)


@dataclass(frozen=True)
class Row:
    key: str
    mine: Any
    book: Any
    band: tuple[float, float] | None  # numbers; None for yes/no and info rows
    source: str  # "interval", "equal", "tolerance", "info", "missing"
    agrees: bool | None  # None: information only


def load_record(path: Path) -> dict[str, Any]:
    data = json.loads(Path(path).read_text("utf-8"))
    if not isinstance(data, dict) or "chapter" not in data:
        raise ValueError(f"{path}: not a reproduction record (no 'chapter' key)")
    return data


def reference_path(chapter: str, profile: str, directory: Path | None = None) -> Path:
    return (directory or default_results_dir()) / f"{chapter}-{profile}.json"


def _leaves(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        pairs: list[tuple[str, Any]] = []
        for key, inner in value.items():
            pairs += _leaves(f"{prefix}.{key}" if prefix else str(key), inner)
        return pairs
    if isinstance(value, list):
        if len(value) > MAX_LIST or not all(_is_number(v) or isinstance(v, bool) for v in value):
            return []
        return [(f"{prefix}.{i}", v) for i, v in enumerate(value)]
    if _is_number(value) or isinstance(value, bool):
        return [(prefix, value)]
    return []  # strings (methods, examples) are not measurements


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _intervals(record: dict[str, Any]) -> dict[str, tuple[float, float]]:
    found: dict[str, tuple[float, float]] = {}
    for name, interval in (record.get("intervals") or {}).items():
        if isinstance(interval, dict) and _is_number(interval.get("lo")):
            found[name.replace("/", ".")] = (float(interval["lo"]), float(interval["hi"]))
    return found


def _interval_for(
    key: str, intervals: dict[str, tuple[float, float]]
) -> tuple[float, float] | None:
    if key in intervals:
        return intervals[key]
    last = key.rsplit(".", 1)[-1]
    matches = [band for name, band in intervals.items() if name.rsplit(".", 1)[-1] == last]
    return matches[0] if len(matches) == 1 else None


def _tolerance(key: str, book: float) -> tuple[float, float]:
    if isinstance(book, int):
        width = max(1.0, INTEGER_RTOL * abs(book))
        return book - width, book + width
    for pattern, atol, rtol in TOLERANCES:
        if fnmatch.fnmatch(key, pattern):
            width = max(atol, rtol * abs(book))
            return book - width, book + width
    raise AssertionError("the last pattern matches everything")  # pragma: no cover


def headline_keys(chapter: str, record: dict[str, Any]) -> list[str]:
    import importlib

    try:
        keys = list(importlib.import_module(f"funlm.repro.{chapter}").HEADLINE_KEYS)
    except (ImportError, AttributeError):
        keys = [k for k in record if k not in ("chapter", "profile", "intervals")]
    return keys + [k for k in record if k == "seconds"]


def compare_records(mine: dict[str, Any], book: dict[str, Any]) -> list[Row]:
    """One row per number of the book's headline keys (see the module docstring)."""
    intervals = _intervals(book)
    mine_leaves = dict(
        pair for key in headline_keys(book["chapter"], book) for pair in _leaves(key, mine.get(key))
    )
    rows: list[Row] = []
    for top in headline_keys(book["chapter"], book):
        for key, value in _leaves(top, book.get(top)):
            other = mine_leaves.get(key)
            if any(fnmatch.fnmatch(key, pattern) for pattern in INFO_KEYS):
                rows.append(Row(key, other, value, None, "info", None))
            elif other is None:
                rows.append(Row(key, None, value, None, "missing", False))
            elif (
                isinstance(value, bool)
                or isinstance(other, bool)
                or any(fnmatch.fnmatch(key, pattern) for pattern in EXACT)
            ):
                rows.append(Row(key, other, value, None, "equal", other == value))
            else:
                band = _interval_for(key, intervals)
                source = "interval" if band else "tolerance"
                band = band or _tolerance(key, value)
                inside = band[0] - 1e-9 <= other <= band[1] + 1e-9
                rows.append(Row(key, other, value, band, source, inside))
    return rows


def verdict(rows: list[Row]) -> dict[str, Any]:
    compared = [r for r in rows if r.agrees is not None]
    outside = [r.key for r in compared if not r.agrees]
    return {"agree": not outside and bool(compared), "compared": len(compared), "outside": outside}


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "예" if value else "아니오"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _width(text: str) -> int:
    """Terminal columns: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render(rows: list[Row], mine_name: str, book_name: str) -> str:
    """The comparison as a Korean table (plain text, one row per number) and a verdict."""
    marks = {True: "✅ 일치", False: "❌ 벗어남", None: "ℹ️  참고"}
    sources = {"interval": "기록의 95% 구간", "tolerance": "허용 오차", "equal": "같아야 함",
               "info": "기계마다 다름", "missing": "내 기록에 없음"}  # fmt: skip
    table = [("항목", "내 값", "책의 기록", "허용 범위", "기준", "판정")]
    for row in rows:
        band = f"[{row.band[0]:.4g}, {row.band[1]:.4g}]" if row.band else "—"
        table.append((row.key, _show(row.mine), _show(row.book), band, sources[row.source],
                      marks[row.agrees]))  # fmt: skip
    widths = [max(_width(str(line[i])) for line in table) for i in range(len(table[0]) - 1)]
    lines = [f"내 결과: {mine_name}", f"책의 기록: {book_name}", ""]
    for line in table:
        cells = [
            c + " " * (w - _width(c)) for c, w in zip(map(str, line[:-1]), widths, strict=True)
        ]
        lines.append("  ".join([*cells, line[-1]]))
    result = verdict(rows)
    lines.append("")
    if result["agree"]:
        lines.append(f"결론: {result['compared']}개 숫자가 모두 책의 기록과 일치합니다.")
    else:
        lines.append(
            f"결론: {result['compared']}개 중 {len(result['outside'])}개가 허용 범위를 벗어납니다"
            f"({', '.join(result['outside'][:6])}{' …' if len(result['outside']) > 6 else ''}). "
            "장치(FUNLM_DEVICE), 버전(python -m funlm doctor), 프로파일이 책과 같은지 확인하세요."
        )
    return "\n".join(lines)
