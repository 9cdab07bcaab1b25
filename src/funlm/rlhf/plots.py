"""Figures of chapter 2, drawn from a run's numbers: the recorded cpu run or a live demo run.

Every function takes the dictionaries :func:`funlm.rlhf.experiment.run_experiment` produces
(``Outcome.numbers`` / ``Outcome.curves``), which are also what ``python -m funlm.repro ch02``
records in ``results/repro/ch02-<profile>.json`` (the curves under ``"curves"``). So the book
draws its headline figures from the committed record with the same code that draws the small
demo it runs at build time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from funlm.rlhf.experiment import METHODS

STAGES = ("base", "large_base", "sft", *METHODS)
LABELS = {
    "base": "small base",
    "large_base": "large base",
    "sft": "SFT",
    "dpo": "DPO (judge labels)",
    "dpo_rm": "DPO (RM labels)",
    "rlhf": "RLHF (REINFORCE, RM)",
}
COLORS = {"dpo": "tab:blue", "dpo_rm": "tab:green", "rlhf": "tab:red"}
PARTS = ("form", "topic", "sentiment", "length")

# (interval key, label) of the comparisons the chapter's page reads, in reading order.
COMPARISONS = (
    ("sft_minus_base", "SFT - small base"),
    ("dpo_minus_sft", "DPO (judge) - SFT"),
    ("dpo_rm_minus_sft", "DPO (RM) - SFT"),
    ("rlhf_minus_sft", "RLHF - SFT"),
    ("dpo_rm_minus_rlhf", "DPO (RM) - RLHF"),
    ("dpo_minus_dpo_rm", "DPO (judge) - DPO (RM)"),
)
WINRATES = (
    ("winrate_dpo_vs_large_base", "DPO (judge) vs large base"),
    ("winrate_dpo_rm_vs_large_base", "DPO (RM) vs large base"),
    ("winrate_rlhf_vs_large_base", "RLHF vs large base"),
    ("winrate_sft_vs_large_base", "SFT vs large base"),
    ("winrate_large_base_vs_base", "large base vs small base"),
)


def recorded_result(profile: str = "cpu") -> dict[str, Any] | None:
    """The committed ``results/repro/ch02-<profile>.json`` as a dict, or None if absent."""
    from funlm.records import read_record

    return read_record("ch02", profile)


def _interval_error(interval: Mapping[str, float]) -> tuple[float, float]:
    return interval["mean"] - interval["lo"], interval["hi"] - interval["mean"]


def plot_stage_rewards(numbers: Mapping[str, Any], *, title: str, ax: Any = None) -> Any:
    """Mean judged reward per stage, stacked by requirement, with its 95 % interval."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.8))
    stages = [s for s in STAGES if s in numbers["judge_parts"]]
    labels = [LABELS[s].replace(" (", "\n(") for s in stages]
    bottom = np.zeros(len(stages))
    for part in PARTS:
        values = np.array([numbers["judge_parts"][s][part] for s in stages])
        ax.bar(labels, values, bottom=bottom, label=part)
        bottom += values
    intervals = numbers.get("intervals", {})
    if all(f"reward_{s}" in intervals for s in stages):
        means = [intervals[f"reward_{s}"]["mean"] for s in stages]
        errors = np.array([_interval_error(intervals[f"reward_{s}"]) for s in stages]).T
        ax.errorbar(labels, means, yerr=errors, fmt="none", ecolor="k", capsize=3,
                    label="95% interval")  # fmt: skip
    ax.axhline(numbers["reward_demonstrations"], color="k", ls=":", lw=1,
               label="labeller demonstrations")  # fmt: skip
    ax.set_ylabel("mean judged reward")
    ax.set_ylim(0, 1.05)
    ax.legend(ncol=3, fontsize=8, loc="upper left")
    ax.set_title(title)
    ax.tick_params(axis="x", labelsize=8)
    ax.figure.tight_layout()
    return ax


def plot_reward_vs_kl(numbers: Mapping[str, Any], *, title: str) -> Any:
    """Each method's beta grid: judged reward (left) and reward-model score (right) vs KL.

    Filled markers are the betas chosen on the selection split; the values plotted are the
    evaluation split's.
    """
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for method in METHODS:
        grid = numbers[f"{method}_by_beta"]
        betas = sorted(grid, key=float)
        kl = [grid[b]["kl"] for b in betas]
        chosen = str(numbers["selection"]["chosen"][method])
        for ax, key in ((left, "judged"), (right, "rm_score")):
            y = [grid[b][key] for b in betas]
            ax.plot(kl, y, "o-", mfc="white", color=COLORS[method], label=LABELS[method])
            ax.plot([grid[chosen]["kl"]], [grid[chosen][key]], "o", color=COLORS[method])
        for b, x, y in zip(betas, kl, [grid[b]["judged"] for b in betas], strict=True):
            left.annotate(f"{b}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7,
                          color=COLORS[method])  # fmt: skip
    left.plot([0], [numbers["reward_sft"]], "ks", label="SFT (reference)")
    right.plot([0], [numbers["rm_score"]["sft"]], "ks")
    left.set_ylabel("judged reward (evaluation split)")
    right.set_ylabel("reward-model score (proxy)")
    for ax in (left, right):
        ax.set_xlabel("KL(policy || SFT) per response [nats]")
    left.legend(fontsize=7)
    left.set_title("judge (the 'human')")
    right.set_title("reward model (what RLHF optimises)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_comparisons(numbers: Mapping[str, Any], *, title: str) -> Any:
    """The page's comparisons with their 95 % intervals: paired reward differences (left) and
    win rates against a base model (right)."""
    import matplotlib.pyplot as plt

    intervals = numbers["intervals"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, rows, zero in ((left, COMPARISONS, 0.0), (right, WINRATES, 0.5)):
        rows = [(k, label) for k, label in rows if k in intervals]
        y = np.arange(len(rows))[::-1]
        means = [intervals[k]["mean"] for k, _ in rows]
        errors = np.array([_interval_error(intervals[k]) for k, _ in rows]).T
        ax.errorbar(means, y, xerr=errors, fmt="o", color="k", capsize=3)
        ax.axvline(zero, color="gray", ls=":")
        ax.set_yticks(y, [label for _, label in rows], fontsize=8)
    left.set_xlabel("difference in mean judged reward (paired over instructions)")
    right.set_xlabel("win rate (judge; ties count one half)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _smooth(values: Any, k: int = 10) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    k = max(1, min(k, len(values) // 3 or 1))
    return np.convolve(values, np.ones(k) / k, mode="valid")


def plot_training_curves(
    curves: Mapping[str, Any], numbers: Mapping[str, Any], *, title: str
) -> Any:
    """Reward-model loss, DPO losses of both label sources, and the RLHF batches (chosen beta)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(15, 3.4))
    axes[0].plot(_smooth(curves["rm_loss"]))
    axes[0].set_title("reward model: pairwise loss")
    for ax, key, name in ((axes[1], "dpo_loss", "judge"), (axes[2], "dpo_rm_loss", "RM")):
        for beta, losses in curves[key].items():
            ax.plot(_smooth(losses), label=f"beta={beta}")
        ax.set_title(f"DPO loss ({name} labels)")
        ax.legend(fontsize=7)
    for ax in axes[:3]:
        ax.axhline(np.log(2), color="gray", ls=":")
        ax.set_xlabel("step")
    beta = str(numbers["selection"]["chosen"]["rlhf"])
    rl = curves["rlhf"][beta]
    scale = max(1e-9, max(abs(v) for v in rl["rm_reward"]))
    axes[3].plot(rl["judged"], label="judged reward")
    axes[3].plot(np.asarray(rl["rm_reward"]) / scale, label="RM score (scaled)")
    axes[3].plot(rl["kl"], label="KL estimate")
    axes[3].set_title(f"RLHF batches (beta={beta})")
    axes[3].set_xlabel("step")
    axes[3].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
