"""The chapter's interactive explorer: the random-features curve redrawn from sliders.

``plot_rf_curve`` draws one curve (used for static figures too); ``double_descent_explorer``
wraps it in ipywidgets sliders. Executed without a live kernel (book build, grader) the
explorer simply draws the curve for the default slider values once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funlm.double_descent.data import teacher_data
from funlm.double_descent.sweeps import feature_counts, rf_curve

LAMBDAS: tuple[float, ...] = (0.0, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def curve_ratios(p_max_ratio: float) -> list[float]:
    """A p/n grid from 0.1 to ``p_max_ratio``: log-spaced, plus points close to p = n."""
    grid = np.geomspace(0.1, p_max_ratio, 16)
    return sorted({*np.round(grid, 3).tolist(), 0.9, 1.0, 1.1})


def plot_rf_curve(
    n: int = 50,
    p_max_ratio: float = 10.0,
    noise: float = 0.5,
    lam: float = 0.0,
    *,
    trials: int = 3,
    ax: Any = None,
) -> Any:
    """Median test error of random-ReLU regression on the teacher problem over p/n (log-log)."""
    import matplotlib.pyplot as plt

    ps = feature_counts(n, [r for r in curve_ratios(p_max_ratio) if r <= p_max_ratio])
    curve = rf_curve(
        lambda seed: teacher_data(n, noise=noise, seed=seed), ps, lam=lam, trials=trials
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    ax.loglog(ps / n, curve.median, "o-", ms=3, label="test")
    ax.loglog(ps / n, np.maximum(curve.median_train, 1e-6), "s--", ms=2, alpha=0.6, label="train")
    ax.axvline(1.0, color="gray", ls=":", lw=1)
    ax.set_xlabel("p / n")
    ax.set_ylabel("MSE (median over trials)")
    ax.set_title(f"n = {n}, noise = {noise:g}, lambda = {lam:g}")
    ax.set_ylim(1e-6 if lam == 0 else None, None)
    ax.legend(loc="upper right")
    return ax


def double_descent_explorer(trials: int = 3) -> None:
    """Sliders for n, the largest p/n, label noise and the ridge lambda; redraws the curve.

    Displays the widget and returns ``None`` (so a notebook cell shows nothing else).
    """
    import matplotlib.pyplot as plt
    from ipywidgets import FloatSlider, IntSlider, SelectionSlider, interact

    def draw(n: int, p_max_ratio: float, noise: float, lam: float) -> None:
        plot_rf_curve(n, p_max_ratio, noise, lam, trials=trials)
        plt.show()

    interact(
        draw,
        n=IntSlider(value=50, min=20, max=200, step=10, description="n",
                    continuous_update=False),
        p_max_ratio=SelectionSlider(options=[2.0, 5.0, 10.0, 20.0], value=10.0,
                                    description="max p/n", continuous_update=False),
        noise=FloatSlider(value=0.5, min=0.0, max=1.5, step=0.25, description="noise",
                          continuous_update=False),
        lam=SelectionSlider(options=list(LAMBDAS), value=0.0, description="lambda",
                            continuous_update=False),
    )  # fmt: skip
