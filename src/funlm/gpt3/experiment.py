"""Chapter 1's headline experiment: a scaling law for tiny GPTs, SmolLM2's accuracy vs shots.

1. **Scaling sweep.** Five or more GPT sizes (:func:`funlm.gpt3.pretrain.sweep_settings`) are
   trained on the same number of tokens of the generated TinyWorld corpus; ``L(N) = (N_c / N) **
   alpha`` is fitted to (non-embedding parameters, validation loss) by log-log least squares.
   The result carries every (N, loss) point and one boolean per success criterion of the issue,
   computed from the measured numbers: loss decreases with size, ``0.02 < alpha < 0.3``,
   ``R² > 0.9``, every model beats the unigram baseline.
2. **Few-shot.** SmolLM2-135M-Instruct classifies the shipped review-sentiment items from
   k-shot prompts (k = 0, 1, 4, 8) by comparing the log-probabilities of the label words, over
   several draws of demonstrations. We also report how often it answers "positive" (half the
   items are positive): a rate far from 0.5 is a label bias (Zhao et al. 2021).

The result keeps what the book's figures need (every learning curve of the sweep, the accuracy
and "positive" rate of every demonstration draw) and, under ``"intervals"``, a 95 % bootstrap
interval for the accuracy at each k and a paired one for each k against zero-shot (the same
items, resampled together; see :mod:`funlm.stats`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from funlm.experiment import ExperimentSettings
from funlm.profile import Profile, seed_everything
from funlm.stats import bootstrap_mean, paired_bootstrap_diff

if TYPE_CHECKING:  # pragma: no cover
    from funlm.gpt3.pretrain import SweepSettings

SHOTS = (0, 1, 4, 8)
ALPHA_RANGE = (0.02, 0.3)
MIN_R2 = 0.9


@dataclass(frozen=True)
class Settings(ExperimentSettings):
    """Sizes of chapter 1's headline experiment for one profile."""

    sweep: SweepSettings  # the model sizes and the one training budget of the scaling sweep
    fewshot_items: int | None  # test items of the sentiment task (None: all of them)
    fewshot_seeds: tuple[int, ...]  # one draw of demonstrations per seed


def settings(profile: Profile) -> Settings:
    """Chapter 1's sizes for ``profile``."""
    from funlm.gpt3.pretrain import sweep_settings

    return Settings(
        profile=profile.name,
        device=profile.device,
        sweep=sweep_settings(profile),
        fewshot_items=profile.pick(grade=8, cpu=None, gpu=None),
        fewshot_seeds=profile.pick(grade=(0,), cpu=tuple(range(5)), gpu=tuple(range(10))),
    )


def scaling_part(settings: Settings) -> dict[str, Any]:
    """Train the sweep and fit the power law."""
    from funlm.gpt3.corpus import load_corpus
    from funlm.gpt3.pretrain import scaling_sweep
    from funlm.gpt3.scaling import fit_power_law

    sweep = settings.sweep
    corpus = load_corpus(sweep.n_train_chars, sweep.n_val_chars)
    # five evaluations per model, so the record carries each learning curve for the book's figure
    points = scaling_sweep(
        corpus, sweep, device=settings.device, eval_every=max(1, sweep.steps // 5), progress=False
    )
    n = [p.n_params for p in points]
    loss = [p.val_loss for p in points]
    fit = fit_power_law(n, loss)
    unigram = corpus.unigram_loss()
    return {
        "scaling_alpha": round(fit.alpha, 4),
        "scaling_r2": round(fit.r2, 4),
        "scaling_n_c": float(f"{fit.n_c:.4g}"),
        "scaling_points": [
            {
                **{key: value for key, value in p.as_dict().items() if key != "eval_loss"},
                "eval_loss": [[step, round(value, 4)] for step, value in p.eval_loss],
            }
            for p in points
        ],
        "unigram_loss": round(unigram, 4),
        "tokens_per_model": sweep.tokens_per_model,
        "tokens_per_step": sweep.batch_size * sweep.block_size,
        "scaling_criteria": {
            "at_least_5_sizes": len(points) >= 5,
            "loss_decreases_with_size": all(b < a for a, b in itertools.pairwise(loss)),
            "alpha_in_range": ALPHA_RANGE[0] < fit.alpha < ALPHA_RANGE[1],
            "r2_above_0.9": fit.r2 > MIN_R2,
            "all_below_unigram": all(v < unigram for v in loss),
        },
    }


def fewshot_intervals(correct: Mapping[int, np.ndarray]) -> dict[str, dict[str, Any]]:
    """95 % intervals of the few-shot curve from per-item correctness.

    ``correct[k]`` has shape ``(draws, items)`` (1 for a right answer); ``correct[0]`` is the
    zero-shot run. An item's score at k is its mean correctness over the draws, so the
    intervals cover the sampling of *items* (the spread over draws is reported separately).
    Keys: ``fewshot_acc_k{k}`` (bootstrap over items) and ``fewshot_k{k}_minus_k0`` (paired
    over the same items: accuracy at k minus accuracy at zero-shot).
    """
    scores = {k: np.atleast_2d(np.asarray(c, dtype=float)).mean(axis=0) for k, c in correct.items()}
    out = {f"fewshot_acc_k{k}": bootstrap_mean(v).as_record() for k, v in scores.items()}
    for k, v in scores.items():
        if k != 0 and 0 in scores:
            out[f"fewshot_k{k}_minus_k0"] = paired_bootstrap_diff(scores[0], v).as_record()
    return out


def fewshot_part(settings: Settings) -> dict[str, Any]:
    """SmolLM2's accuracy (and rate of answering "positive") for k = 0, 1, 4, 8 shots.

    Each draw (seed) picks one set of demonstrations shared by every test item, nested across k
    (the 1-shot demonstration opens the 4-shot set, which opens the 8-shot set). Accuracy is
    the mean over draws; min and max show how much the choice of demonstrations matters.
    """
    from funlm.gpt3.fewshot import kshot_predictions, load_sentiment_task
    from funlm.models.small_lm import load_small_lm

    model, tokenizer = load_small_lm(settings.device)
    task = load_sentiment_task()
    n_items = settings.fewshot_items
    items = task.test if n_items is None else task.test[:n_items]
    seeds = settings.fewshot_seeds
    gold = [item.output for item in items]
    correct: dict[int, np.ndarray] = {}
    per_draw: dict[str, list[float]] = {}
    positive_per_draw: dict[str, list[float]] = {}
    for k in SHOTS:
        draws = seeds if k > 0 else seeds[:1]  # zero-shot has nothing to draw
        runs = [kshot_predictions(model, tokenizer, task, k, seed=s, items=items) for s in draws]
        correct[k] = np.array([[p == g for p, g in zip(r, gold, strict=True)] for r in runs])
        per_draw[str(k)] = [round(float(row.mean()), 4) for row in correct[k]]
        positive_per_draw[str(k)] = [round(r.count("positive") / len(r), 4) for r in runs]
    return {
        "fewshot_acc": {str(k): round(float(c.mean()), 4) for k, c in correct.items()},
        "fewshot_acc_min_max": {k: [min(v), max(v)] for k, v in per_draw.items()},
        "fewshot_positive_rate": {
            k: round(float(np.mean(v)), 4) for k, v in positive_per_draw.items()
        },
        "fewshot_acc_per_draw": per_draw,
        "fewshot_positive_rate_per_draw": positive_per_draw,
        "fewshot_seeds": list(seeds),
        "fewshot_items": len(items),
        "fewshot_demo_draws": len(seeds),
        "fewshot_task": task.name,
        "intervals": fewshot_intervals(correct),
    }


def run_experiment(settings: Settings) -> dict[str, Any]:
    """The scaling sweep, then the few-shot curve; each part's seconds are recorded too."""
    seed_everything(0)
    start = time.perf_counter()
    result = scaling_part(settings)
    result["scaling_seconds"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    result.update(fewshot_part(settings))
    result["fewshot_seconds"] = round(time.perf_counter() - start, 1)
    return result
