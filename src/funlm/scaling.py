"""Fitting scaling laws: ``L(N) = (N_c / N) ** alpha`` by least squares in log-log space.

Kaplan et al. (2020) found that the test loss of language models trained long enough falls as a
power law in the number of non-embedding parameters ``N``. Taking logs turns the power law into a
straight line,

    log L = alpha * log N_c - alpha * log N,

so an ordinary least-squares line through ``(log N, log L)`` gives the slope ``-alpha`` and the
intercept ``alpha * log N_c``. ``r2`` is the coefficient of determination of that line (in log
space): 1 means the points lie exactly on a power law.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from funlm.answer_keys import answer_key


@dataclass(frozen=True)
class PowerLawFit:
    """A fitted ``L(N) = (n_c / N) ** alpha`` and the R² of the log-log fit."""

    n_c: float
    alpha: float
    r2: float

    def predict(self, n: float | Sequence[float] | np.ndarray) -> np.ndarray:
        """Loss the fitted law predicts for ``n`` parameters."""
        return (self.n_c / np.asarray(n, dtype=float)) ** self.alpha


@answer_key
def fit_power_law(
    n: Sequence[float] | np.ndarray, loss: Sequence[float] | np.ndarray
) -> PowerLawFit:
    """Least-squares fit of ``log loss = alpha * log n_c - alpha * log n``."""
    x = np.log(np.asarray(n, dtype=float))
    y = np.log(np.asarray(loss, dtype=float))
    if x.shape != y.shape or x.size < 2:
        raise ValueError("need at least two (n, loss) pairs of equal length")
    if np.ptp(x) == 0:
        raise ValueError("all n are equal: the slope is undefined")
    slope, intercept = np.polyfit(x, y, 1)
    alpha = -slope
    residual = y - (slope * x + intercept)
    total = y - y.mean()
    r2 = 1.0 - float(residual @ residual) / float(total @ total) if total.any() else 1.0
    n_c = float(np.exp(intercept / alpha)) if alpha != 0 else float("inf")
    return PowerLawFit(n_c=n_c, alpha=float(alpha), r2=float(r2))
