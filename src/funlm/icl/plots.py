"""Figures of chapter 3 (matplotlib, English labels) and the measured cpu-profile numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

CONDITION_ORDER = ("none", "gold_k4", "random_k4", "gold_k8", "random_k8")


def measured_result(profile: str = "cpu") -> dict[str, Any] | None:
    """The committed ``results/repro/ch03-<profile>.json`` as a dict, or None if absent."""
    from funlm.records import read_record

    return read_record("ch03", profile)


def plot_min_bars(
    mean: dict[str, float],
    std: dict[str, float] | None = None,
    *,
    chance: float | None = None,
    intervals: dict[str, dict[str, float]] | None = None,
    ax: Any = None,
    title: str = "SmolLM2-135M: gold vs random labels",
) -> Any:
    """Accuracy bars per condition (none, gold/random at k = 4, 8).

    Error bars: the interval ``intervals[name] = {"lo", "hi"}`` of each condition when given
    (e.g. the record's ``min_acc_<name>`` bootstrap intervals), else the spread over seeds.
    """
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    names = [n for n in CONDITION_ORDER if n in mean]
    colours = [
        "gray" if n == "none" else "tab:blue" if n.startswith("gold") else "tab:orange"
        for n in names
    ]
    if intervals:
        errors: Any = [
            [mean[n] - intervals[n]["lo"] for n in names],
            [intervals[n]["hi"] - mean[n] for n in names],
        ]
    else:
        errors = [std.get(n, 0.0) for n in names] if std else None
    ax.bar(names, [mean[n] for n in names], yerr=errors, color=colours, capsize=4)
    if chance is not None:
        ax.axhline(chance, color="black", ls=":", label="chance")
        ax.legend()
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    return ax


PAIRED_ORDER = (
    ("min_gap_k4", "gold - random, k=4"),
    ("min_gap_k8", "gold - random, k=8"),
    ("min_gold_k4_minus_none", "gold k=4 - none"),
    ("min_random_k4_minus_none", "random k=4 - none"),
    ("min_gold_k8_minus_none", "gold k=8 - none"),
    ("min_random_k8_minus_none", "random k=8 - none"),
)


def plot_paired_differences(
    intervals: dict[str, dict[str, float]], *, ax: Any = None, title: str = ""
) -> Any:
    """Paired accuracy differences with their intervals, one row each, and a line at 0."""
    import matplotlib.pyplot as plt

    rows = [(key, label) for key, label in PAIRED_ORDER if key in intervals]
    ax = ax or plt.subplots(figsize=(6, 0.45 * len(rows) + 1.2))[1]
    for y, (key, _) in enumerate(rows):
        iv = intervals[key]
        clear = iv["lo"] > 0 or iv["hi"] < 0
        colour = "tab:red" if clear else "tab:gray"
        ax.plot([iv["lo"], iv["hi"]], [y, y], color=colour, lw=3)
        ax.plot([iv["mean"]], [y], "o", color="black")
    ax.axvline(0, color="black", ls=":")
    ax.set_yticks(range(len(rows)), [label for _, label in rows])
    ax.invert_yaxis()
    ax.set_xlabel("accuracy difference (paired over items)")
    ax.set_title(title or "paired differences, intervals over test items")
    return ax


def plot_error_curves(
    errors: dict[str, Sequence[float]], d: int, *, ax: Any = None, title: str = ""
) -> Any:
    """Normalised squared error vs number of in-context examples k, one line per predictor."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    for name, values in errors.items():
        style = dict(lw=2.5, color="black") if name == "transformer" else dict(lw=1.2)
        ax.plot(range(len(values)), values, marker="o", ms=3, label=name, **style)
    ax.axvline(d, color="gray", ls=":", lw=1)
    ax.set_ylim(0, 1.6)
    ax.set_xlabel("in-context examples k")
    ax.set_ylabel("normalised squared error")
    ax.set_title(title or f"linear regression in context, d = {d}")
    ax.legend()
    return ax


def plot_phase_change(
    curves: dict[str, Sequence[Sequence[float]]], phase_step: int | None = None, *, ax: Any = None
) -> Any:
    """Repeated-token loss vs step for each model, with the phase change marked."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    for name, curve in curves.items():
        ax.plot([s for s, _ in curve], [v for _, v in curve], marker="o", ms=3, label=name)
    if phase_step is not None:
        ax.axvline(phase_step, color="red", ls="--", label=f"phase change (step {phase_step})")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss on repeated tokens")
    ax.set_title("induction heads: loss on the repeated part")
    ax.legend()
    return ax


def plot_attention_grid(maps: Sequence[Any], row: int = 0, period: int | None = None) -> Any:
    """Heatmaps of every head's attention (query x key) for one sequence, one row per layer."""
    import matplotlib.pyplot as plt

    n_layer, n_head = len(maps), maps[0].shape[1]
    fig, axes = plt.subplots(n_layer, n_head, figsize=(2.2 * n_head, 2.3 * n_layer), squeeze=False)
    for layer in range(n_layer):
        for head in range(n_head):
            ax = axes[layer][head]
            ax.imshow(maps[layer][row, head].numpy(), cmap="viridis", vmin=0, vmax=1)
            ax.set_title(f"L{layer} H{head}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    if period is not None:
        fig.suptitle(f"attention patterns (query rows, key columns), period {period}")
    fig.tight_layout()
    return fig
