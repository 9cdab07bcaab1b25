"""Chapter 4 figures (matplotlib, English labels), from a live run or from the recorded cpu run.

Every function takes plain dicts of lists, so the same code draws

- the recorded full-size run: ``measured_result()["rf_curve"]["synthetic"]`` or
  ``measured_result()["nn_widthwise"]`` (``results/repro/ch04-cpu.json``), and
- a small run executed on the page: ``_curve_json``-like dicts or ``WidthSweep.to_dict()``.

Titles say which of the two a figure shows (``label``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def measured_result(profile: str = "cpu") -> dict[str, Any] | None:
    """The committed ``results/repro/ch04-<profile>.json`` as a dict, or None if absent."""
    from funlm.records import read_record

    return read_record("ch04", profile)


def _axes(ax: Any, ncols: int, width: float) -> Any:
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    return plt.subplots(1, ncols, figsize=(width, 3.8))[1]


def plot_rf_curve_record(curve: dict[str, Any], *, label: str, axes: Any = None) -> Any:
    """The U-curve alone (``p <= 0.9 n``, linear axes) and the whole curve (log-log).

    ``curve`` needs ``p_over_n``, ``test_error`` and ``train_error`` (medians over trials), as
    in the record's ``rf_curve/synthetic``.
    """
    left, right = _axes(axes, 2, 11)
    ratio = np.asarray(curve["p_over_n"], dtype=float)
    test = np.asarray(curve["test_error"], dtype=float)
    train = np.asarray(curve["train_error"], dtype=float)
    under = ratio <= 0.9
    left.plot(ratio[under], test[under], "o-", color="tab:blue")
    left.set_xlabel("p / n")
    left.set_ylabel("test MSE (median)")
    left.set_title("What the textbook shows: p < n (linear axes)")
    right.loglog(ratio, test, "o-", color="tab:blue", label="test")
    right.loglog(ratio, np.maximum(train, 1e-8), "s--", ms=3, color="tab:gray", label="train")
    right.axvspan(ratio.min(), 0.9, color="tab:blue", alpha=0.08)
    right.axvline(1.0, color="tab:red", ls=":", lw=1)
    right.set_ylim(1e-3, None)
    right.set_xlabel("p / n")
    right.set_title("The whole curve (log-log): double descent")
    right.legend()
    left.figure.suptitle(label)
    return left, right


def _nn_view(nn: dict[str, Any]) -> dict[str, Any]:
    """The record's ``nn_widthwise`` and ``WidthSweep.to_dict()`` under the same names."""
    steps = nn["logged_steps"] if "logged_steps" in nn else nn["steps"]
    by_step = np.asarray(nn["test_mse_by_step"], dtype=float)
    early = nn.get("early_stopped_test_mse")
    return {
        "widths": list(nn["widths"]),
        "x": np.asarray(nn["params_over_nk"], dtype=float),
        "steps": np.asarray(steps, dtype=float),
        "by_step": by_step,
        "early": np.asarray(early if early is not None else by_step.min(axis=1), dtype=float),
        **{
            key: np.asarray(nn[key], dtype=float)
            for key in ("train_mse", "test_mse", "train_class_error", "test_class_error")
        },
    }


def plot_width_sweep(nn: dict[str, Any], *, label: str, axes: Any = None) -> Any:
    """Test and train MSE / classification error of the MLPs over parameters / (n K)."""
    v = _nn_view(nn)
    a, b = _axes(axes, 2, 11)
    a.semilogx(v["x"], v["test_mse"], "o-", label="test MSE")
    a.semilogx(v["x"], np.maximum(v["train_mse"], 1e-4), "s--", ms=3, color="tab:gray",
               label="train MSE (noisy labels)")  # fmt: skip
    a.set_ylabel("MSE")
    b.semilogx(v["x"], v["test_class_error"], "o-", color="tab:green", label="test error")
    b.semilogx(v["x"], v["train_class_error"], "s--", ms=3, color="tab:gray",
               label="train error (noisy labels)")  # fmt: skip
    b.set_ylabel("classification error")
    for ax in (a, b):
        ax.axvline(1.0, color="tab:red", ls=":", lw=1)
        ax.set_xlabel("parameters / (n K)")
        ax.legend(fontsize=8)
    a.figure.suptitle(label)
    return a, b


def plot_epochwise(nn: dict[str, Any], *, label: str, axes: Any = None) -> Any:
    """Test MSE during training for every width, and the width sweep with early stopping."""
    import matplotlib.pyplot as plt

    v = _nn_view(nn)
    a, b = _axes(axes, 2, 11)
    cmap = plt.get_cmap("viridis")
    last = max(1, len(v["widths"]) - 1)
    for i, w in enumerate(v["widths"]):
        a.loglog(v["steps"], v["by_step"][i], "-", color=cmap(i / last), label=f"width {w}")
    a.set_xlabel("training step")
    a.set_ylabel("test MSE")
    a.legend(fontsize=7, ncol=2)
    a.set_title("Test MSE during training")
    b.semilogx(v["x"], v["test_mse"], "o-", label="end of training")
    b.semilogx(v["x"], v["early"], "s-", label="best step (early stopping)")
    b.axvline(1.0, color="tab:red", ls=":", lw=1)
    b.set_xlabel("parameters / (n K)")
    b.set_ylabel("test MSE")
    b.legend(fontsize=8)
    b.set_title("Width sweep, with and without early stopping")
    a.figure.suptitle(label)
    return a, b


def plot_gd_path(
    steps: Sequence[int],
    distance_from_zero: Sequence[float],
    distance_from_random: Sequence[float],
    *,
    ax: Any = None,
) -> Any:
    """``||beta_t - beta_min_norm||`` of gradient descent started at zero and at random."""
    ax = _axes(ax, 1, 6)
    ax.loglog(steps, distance_from_zero, "o-", label="start at 0")
    ax.loglog(steps, distance_from_random, "s-", label="random start")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("||beta_t - beta_min-norm||")
    ax.legend()
    return ax
