"""Uncertainty for small-sample comparisons: seeded bootstrap intervals.

The course's evaluations use tens of items, so a difference of a few points between two
conditions can be noise. Every such comparison a chapter reports carries a 95 % interval from
the functions here. They are deterministic (a fixed seed), so a record re-run on the same
numbers gives the same interval.

- :func:`bootstrap_mean` — the mean of one condition's per-item scores and its interval;
- :func:`paired_bootstrap_diff` — the mean of ``b - a`` over items scored under both
  conditions (the same items, resampled together), and its interval. Pairing removes the
  item-difficulty variance that two independent intervals would double count.

Both return an :class:`Interval`, whose :meth:`Interval.as_record` is the JSON form the
reproduction records store: ``{"mean": ..., "lo": ..., "hi": ..., "n": ..., "level": 0.95}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Interval", "bootstrap_mean", "paired_bootstrap_diff"]

DEFAULT_RESAMPLES = 10_000
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile-bootstrap confidence interval."""

    mean: float
    lo: float
    hi: float
    n: int
    level: float = 0.95

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies entirely on one side of zero."""
        return self.lo > 0 or self.hi < 0

    def as_record(self, digits: int = 4) -> dict[str, float | int]:
        return {
            "mean": round(self.mean, digits),
            "lo": round(self.lo, digits),
            "hi": round(self.hi, digits),
            "n": self.n,
            "level": self.level,
        }


def _scores(values: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size == 0:
        raise ValueError("need at least one per-item score")
    if not np.all(np.isfinite(array)):
        raise ValueError("per-item scores must be finite")
    return array


def _interval(scores: np.ndarray, level: float, resamples: int, seed: int) -> Interval:
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    rng = np.random.default_rng(seed)
    n = scores.size
    picks = rng.integers(0, n, size=(resamples, n))
    means = scores[picks].mean(axis=1)
    tail = (1 - level) / 2
    lo, hi = np.quantile(means, [tail, 1 - tail])
    return Interval(float(scores.mean()), float(lo), float(hi), int(n), level)


def bootstrap_mean(
    scores: Sequence[float] | np.ndarray,
    *,
    level: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """Mean of per-item ``scores`` (e.g. 0/1 correctness) with a percentile-bootstrap interval."""
    return _interval(_scores(scores), level, resamples, seed)


def paired_bootstrap_diff(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    level: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """Mean of ``b - a`` over paired items, with a paired percentile-bootstrap interval.

    ``a[i]`` and ``b[i]`` must score the same item ``i`` under the two conditions.
    """
    first, second = _scores(a), _scores(b)
    if first.shape != second.shape:
        raise ValueError(f"paired scores need equal lengths, got {first.size} and {second.size}")
    return _interval(second - first, level, resamples, seed)
