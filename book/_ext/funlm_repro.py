"""Sphinx role ``repro``: measured numbers in the prose come from the reproduction outputs.

``python -m funlm.repro chNN --profile cpu --out results/repro/chNN-cpu.json`` records what a
chapter measured. Pages quote those numbers through this role instead of typing them::

    보상 모델의 정확도는 {repro}`ch02:rm_accuracy` 입니다.
    KL 은 {repro}`ch02:kl_by_beta/0.1|.2f` 에서 {repro}`ch02:kl_by_beta/1.0|.2f` 로 줄었습니다.
    8샷 정확도 {repro}`ch01:fewshot_acc/8|.0%`, 걸린 시간 {repro}`ch01:seconds|.0f` 초.

- Before ``:`` is the result file's stem under ``results/repro/``: ``ch02`` means
  ``ch02-cpu.json``; ``ch03-gpu`` names ``ch03-gpu.json`` itself.
- After it, a path of dict keys / list indices separated by ``/``.
- After ``|``, an optional Python format spec (default: 3 significant digits for floats).

A missing file or key is a build warning naming the page, the file and the key, so the strict
build (``-W``) fails rather than print a stale or invented number. Each page depends on the
files it quotes: a new result rebuilds the page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole

logger = logging.getLogger(__name__)

RESULTS_SUBDIR = Path("results") / "repro"


class ResultError(LookupError):
    """The quoted file or key does not exist."""


def results_dir(srcdir: Path, path_to_docs: str) -> Path:
    """``results/repro`` of the repository that holds the book."""
    root = srcdir
    for _ in Path(path_to_docs or ".").parts:
        root = root.parent
    return root / RESULTS_SUBDIR


def parse_target(target: str) -> tuple[str, list[str], str]:
    """``"ch02:kl_by_beta/0.1|.2f"`` -> ``("ch02-cpu", ["kl_by_beta", "0.1"], ".2f")``."""
    spec = ""
    if "|" in target:
        target, spec = target.rsplit("|", 1)
    if ":" not in target:
        raise ResultError(f"expected FILE:KEY[/KEY…][|FORMAT], got {target!r}")
    stem, path = target.split(":", 1)
    stem = stem.strip()
    if "-" not in stem:
        stem += "-cpu"
    keys = [k for k in path.strip().split("/") if k]
    if not keys:
        raise ResultError(f"no key after {stem!r}")
    return stem, keys, spec.strip()


def lookup(data: Any, keys: list[str]) -> Any:
    """Follow ``keys`` through nested dicts (by key) and lists (by integer index)."""
    value = data
    for i, key in enumerate(keys):
        where = "/".join(keys[: i + 1])
        if isinstance(value, dict):
            if key not in value:
                raise ResultError(f"no key {where!r}")
            value = value[key]
        elif isinstance(value, list):
            try:
                value = value[int(key)]
            except (ValueError, IndexError):
                raise ResultError(f"no index {where!r}") from None
        else:
            raise ResultError(f"{'/'.join(keys[:i])!r} is not a dict or list")
    return value


def render(value: Any, spec: str = "") -> str:
    """Format one quoted value."""
    if isinstance(value, bool):
        return "예" if value else "아니오"
    if spec:
        return format(value, spec)
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, int | str):
        return str(value)
    raise ResultError(f"{type(value).__name__} needs a path down to a single number")


class ReproRole(SphinxRole):
    """Inline role that prints one number from a reproduction's JSON output."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        config = self.env.config
        path_to_docs = config.html_theme_options.get("path_to_docs", "")
        folder = results_dir(Path(self.env.srcdir), path_to_docs)
        try:
            stem, keys, spec = parse_target(self.text)
            path = folder / f"{stem}.json"
            self.env.note_dependency(str(path))
            if not path.is_file():
                raise ResultError(
                    f"{path} does not exist; run `python -m funlm.repro {stem.split('-')[0]} "
                    f"--profile {stem.split('-', 1)[1]} --out {RESULTS_SUBDIR / path.name}`"
                )
            data = json.loads(path.read_text(encoding="utf-8"))
            text = render(lookup(data, keys), spec)
        except (ResultError, ValueError, json.JSONDecodeError) as error:
            logger.warning(
                "repro: %s (in {repro}`%s`)", error, self.text, location=self.get_location()
            )
            text = "??"
        return [nodes.inline(self.rawtext, text, classes=["funlm-repro"])], []


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_role("repro", ReproRole())
    return {"version": "0.1.0", "parallel_read_safe": True, "parallel_write_safe": True}
