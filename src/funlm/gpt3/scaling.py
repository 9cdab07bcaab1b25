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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from funlm.answer_keys import answer_key

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


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


def plot_scaling(
    points: Sequence[Mapping[str, Any]],
    *,
    tokens_per_step: int,
    baseline: float | None = None,
    label: str = "",
) -> tuple[Figure, PowerLawFit]:
    """Learning curves and the log-log fit of a model-size sweep; returns ``(figure, fit)``.

    ``points`` are sweep points as dicts (``SweepPoint.as_dict()``, or the ``scaling_points``
    of a ``python -m funlm.repro ch01`` record): ``n_params``, ``val_loss`` and ``eval_loss``
    (``[step, loss]`` pairs). ``tokens_per_step`` (batch size x block size) turns steps into
    training tokens; ``baseline`` draws the unigram loss; ``label`` names the run in the titles
    (e.g. ``"cpu profile, recorded"``), so a reader knows where the figure comes from.
    """
    import matplotlib.pyplot as plt

    n = np.array([p["n_params"] for p in points], dtype=float)
    loss = np.array([p["val_loss"] for p in points], dtype=float)
    fit = fit_power_law(n, loss)
    suffix = f" ({label})" if label else ""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for p in points:
        curve = np.asarray(p.get("eval_loss") or [], dtype=float).reshape(-1, 2)
        if len(curve):
            ax1.plot(curve[:, 0] * tokens_per_step, curve[:, 1], "o-", ms=3,
                     label=f"N={int(p['n_params']):,}")  # fmt: skip
    if baseline is not None:
        ax1.axhline(baseline, color="gray", ls="--", label="unigram")
    ax1.set_xlabel("training tokens")
    ax1.set_ylabel("validation loss")
    ax1.set_title("Learning curves (same token budget)" + suffix, fontsize=10)
    ax1.legend(fontsize=7)
    grid = np.geomspace(n.min() / 2, n.max() * 2, 50)
    ax2.loglog(n, loss, "o", label="measured")
    ax2.loglog(grid, fit.predict(grid), "--", label=f"fit: alpha={fit.alpha:.3f}, R2={fit.r2:.3f}")
    ax2.set_xlabel("non-embedding parameters N")
    ax2.set_ylabel("validation loss")
    ax2.set_title("L(N) = (N_c / N)^alpha" + suffix, fontsize=10)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig, fit
