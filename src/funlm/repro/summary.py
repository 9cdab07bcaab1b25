"""Collect the chapters' reproduction results into one table (used by chapter 7).

``python -m funlm.repro chNN --profile cpu --out results/repro/chNN-cpu.json`` writes one
chapter's numbers; this module reads every ``results/repro/chNN-<profile>.json`` that exists and
renders their headline numbers as a Markdown or HTML table, so the closing chapter quotes
measured numbers instead of numbers typed by hand. Missing files are reported with the command
that produces them.

A record may carry a top-level ``"intervals"`` object, ``{name: Interval.as_record()}`` (see
:mod:`funlm.stats`): the bootstrap intervals of its small-sample comparisons. The table shows
each of them as a row with its interval, level and sample size; records without it show their
headline numbers alone.

``python -m funlm.repro.summary [--profile cpu] [--dir results/repro]`` prints the Markdown table.
"""

from __future__ import annotations

import argparse
import html
import importlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funlm.records import RESULTS_SUBDIR, default_results_dir

__all__ = [
    "ChapterResult",
    "IntervalRow",
    "command_for",
    "default_results_dir",
    "flatten",
    "format_interval",
    "format_value",
    "gpu_check_markdown",
    "load_gpu_check",
    "load_results",
    "missing_chapters",
    "normalise_gpu_check",
    "to_html",
    "to_markdown",
]

MAX_LIST = 8  # longer lists (curves) are left out of the table
INTERVALS_KEY = "intervals"
NO_RESULTS = "아직 재현 결과 파일이 없습니다"
_FILE = re.compile(r"^(ch\d\d)-(cpu|gpu|grade)\.json$")


@dataclass(frozen=True)
class ChapterResult:
    """One chapter's reproduction output, as written by ``python -m funlm.repro --out``."""

    chapter: str
    profile: str
    path: Path
    data: dict[str, Any]

    @property
    def seconds(self) -> float | None:
        value = self.data.get("seconds")
        return float(value) if isinstance(value, int | float) else None

    def headline(self) -> list[tuple[str, Any]]:
        """``(key, value)`` for the chapter's ``HEADLINE_KEYS`` (all numbers if unknown)."""
        keys = _headline_keys(self.chapter)
        if keys is None:
            skip = {"chapter", "profile", "seconds", INTERVALS_KEY}
            keys = [k for k in self.data if k not in skip]
        return [(k, self.data[k]) for k in keys if k in self.data and k != INTERVALS_KEY]

    def intervals(self) -> list[IntervalRow]:
        """The record's bootstrap intervals (``"intervals"``), in the record's order.

        Entries that are not ``{"mean", "lo", "hi", ...}`` objects are skipped.
        """
        found = self.data.get(INTERVALS_KEY)
        if not isinstance(found, dict):
            return []
        rows = []
        for name, item in found.items():
            try:
                rows.append(
                    IntervalRow(
                        name=str(name),
                        mean=float(item["mean"]),
                        lo=float(item["lo"]),
                        hi=float(item["hi"]),
                        n=int(item["n"]) if item.get("n") is not None else None,
                        level=float(item.get("level", 0.95)),
                    )
                )
            except (KeyError, TypeError, ValueError):
                continue
        return rows


@dataclass(frozen=True)
class IntervalRow:
    """One bootstrap interval of a record: ``mean`` in ``[lo, hi]`` at ``level``."""

    name: str
    mean: float
    lo: float
    hi: float
    n: int | None
    level: float

    @property
    def contains_zero(self) -> bool:
        return self.lo <= 0 <= self.hi


def _headline_keys(chapter: str) -> list[str] | None:
    try:
        module = importlib.import_module(f"funlm.repro.{chapter}")
    except Exception:  # a broken or missing module must not break the summary
        return None
    keys = getattr(module, "HEADLINE_KEYS", None)
    return list(keys) if keys else None


def load_results(directory: Path | None = None, profile: str = "cpu") -> list[ChapterResult]:
    """Every readable ``chNN-<profile>.json`` in ``directory``, sorted by chapter."""
    directory = directory or default_results_dir()
    found: list[ChapterResult] = []
    if not directory.is_dir():
        return found
    for path in sorted(directory.iterdir()):
        match = _FILE.match(path.name)
        if not match or match.group(2) != profile:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict):
            found.append(ChapterResult(match.group(1), profile, path, data))
    return found


def command_for(chapter: str, profile: str = "cpu") -> str:
    """The command that writes ``results/repro/<chapter>-<profile>.json``."""
    out = (RESULTS_SUBDIR / f"{chapter}-{profile}.json").as_posix()
    return f"python -m funlm.repro {chapter} --profile {profile} --out {out}"


def missing_chapters(
    results: Sequence[ChapterResult], chapters: Sequence[str] | None = None
) -> list[str]:
    """Chapters with a reproduction module but no result file among ``results``."""
    if chapters is None:
        from funlm.repro import chapters as all_chapters

        chapters = all_chapters()
    have = {r.chapter for r in results}
    return [c for c in chapters if c not in have]


def format_value(value: Any, limit: int = 80) -> str:
    """A short rendering: 3 significant digits for floats, lists of numbers compact."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, int | str):
        text = str(value)
    elif isinstance(value, list | tuple) and all(
        isinstance(v, int | float | str | bool) or v is None for v in value
    ):
        shown = [format_value(v, limit) for v in value[:8]]
        text = "[" + ", ".join(shown) + (", …]" if len(value) > 8 else "]")
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_interval(row: IntervalRow) -> str:
    """``"[0.0521, 0.401] (95%, n=64)"``: the interval, its level and its sample size."""
    size = f", n={row.n}" if row.n is not None else ""
    return f"[{format_value(row.lo)}, {format_value(row.hi)}] ({row.level:.0%}{size})"


def flatten(key: str, value: Any, depth: int = 3) -> list[tuple[str, Any]]:
    """Nested dicts as ``("a.b.c", leaf)`` pairs (down to ``depth`` levels)."""
    if isinstance(value, dict) and depth > 0 and value:
        pairs: list[tuple[str, Any]] = []
        for sub, inner in value.items():
            pairs += flatten(f"{key}.{sub}", inner, depth - 1)
        return pairs
    return [(key, value)]


HEADER = ("장", "측정값", "값", "구간 (신뢰 수준, 표본 수)")


def _rows(results: Sequence[ChapterResult]) -> list[tuple[str, str, str, str]]:
    """``(chapter, name, value, interval)``: headline numbers, then intervals, then seconds."""
    rows = []
    for result in results:
        for key, value in result.headline():
            for name, leaf in flatten(key, value):
                if ".examples" in name or name.endswith(".method"):
                    continue  # example outputs and descriptions belong on the chapter's page
                if isinstance(leaf, list | tuple) and len(leaf) > MAX_LIST:
                    continue  # a whole curve is not a headline number (see the chapter's page)
                rows.append((result.chapter, name, format_value(leaf), ""))
        for row in result.intervals():
            name = f"{INTERVALS_KEY}.{row.name}"
            rows.append((result.chapter, name, format_value(row.mean), format_interval(row)))
        if result.seconds is not None:
            rows.append((result.chapter, "seconds", format_value(result.seconds), ""))
    return rows


def to_markdown(results: Sequence[ChapterResult]) -> str:
    """A Markdown table ``| chapter | number | value | interval |`` (a note when empty)."""
    if not results:
        return f"_({NO_RESULTS})_"
    lines = ["| " + " | ".join(HEADER) + " |", "|---|---|---|---|"]
    for chapter, key, value, interval in _rows(results):
        value, interval = value.replace("|", "\\|"), interval.replace("|", "\\|")
        lines.append(f"| {chapter} | `{key}` | {value} | {interval} |")
    return "\n".join(lines)


def to_html(results: Sequence[ChapterResult]) -> str:
    """The same table as HTML (no JavaScript, no pandas)."""
    if not results:
        return f"<p><em>({NO_RESULTS})</em></p>"
    body = "".join(
        f"<tr><td>{html.escape(c)}</td><td><code>{html.escape(k)}</code></td>"
        f"<td>{html.escape(v)}</td><td>{html.escape(i)}</td></tr>"
        for c, k, v, i in _rows(results)
    )
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in HEADER) + "</tr>"
    return f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"


def load_gpu_check(path: Path | None = None) -> dict[str, Any] | None:
    """The summary ``make gpu-check`` wrote (``results/gpu-check.json``), or None."""
    path = path or default_results_dir().parent / "gpu-check.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and "jobs" in data else None


def normalise_gpu_check(summary: dict[str, Any]) -> dict[str, Any]:
    """A gpu-check summary in the ``runs`` shape: ``{"runs": [...], "jobs": [... "run": n]}``.

    ``make gpu-check --failed-only`` merges several runs into one summary; a summary written by
    a single run of an older version (machine fields at the top level) becomes one run.
    """
    if "runs" in summary:
        return summary
    run_fields = ("executor", "parallel_jobs", "timeout_s", "device", "wall_seconds", "commit")
    run = {"run": 1, **{key: summary[key] for key in run_fields if key in summary}}
    jobs = [{**job, "run": job.get("run", 1)} for job in summary.get("jobs", [])]
    return {**summary, "runs": [run], "jobs": jobs}


def gpu_check_markdown(summary: dict[str, Any]) -> str:
    """The gpu-check runs as Markdown: one line per run, then one row per job with its run."""
    summary = normalise_gpu_check(summary)
    lines = []
    for run in summary["runs"]:
        device = run.get("device", {})
        machine = ", ".join(
            f"{key} {device[key]}"
            for key in ("gpu", "torch", "python", "cpu_count")
            if key in device
        )
        lines.append(
            f"- Run {run['run']}: {machine}. Executor: {run.get('executor', '?')}, "
            f"{run.get('parallel_jobs', '?')} jobs side by side, "
            f"limit {run.get('timeout_s', '?')} s per job, "
            f"wall time {run.get('wall_seconds', '?')} s; "
            f"commit {run.get('commit', 'not recorded')}, date {run.get('date', 'not recorded')}."
        )
    lines += ["", "| job | name | result | seconds | run | cause |", "|---|---|---|---|---|---|"]
    for job in summary["jobs"]:
        result = "ok" if job.get("ok") else ("time limit" if job.get("timed_out") else "failed")
        cause = _failure_cause(job.get("error_tail") or "") if result == "failed" else ""
        lines.append(
            f"| {job['kind']} | {job['name']} | {result} | {format_value(job['seconds'])} "
            f"| {job.get('run', 1)} | {cause} |"
        )
    return "\n".join(lines)


def _failure_cause(error_tail: str, width: int = 110) -> str:
    """The last line of a failed job's error output, shortened and safe inside a table cell."""
    lines = [line.strip() for line in error_tail.splitlines() if line.strip()]
    if not lines:
        return ""
    last = lines[-1].replace("|", "\\|").replace("`", "'")
    return last if len(last) <= width else last[: width - 1] + "…"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m funlm.repro.summary", description=__doc__)
    parser.add_argument("--profile", default="cpu", choices=("cpu", "gpu", "grade"))
    parser.add_argument("--dir", type=Path, default=None, help="default: results/repro")
    args = parser.parse_args(argv)
    results = load_results(args.dir, args.profile)
    print(to_markdown(results))
    for chapter in missing_chapters(results):
        print(f"\n(missing {chapter}: run `{command_for(chapter, args.profile)}`)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
