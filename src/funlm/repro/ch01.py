"""Chapter 1 headline: a scaling law for tiny GPTs, and SmolLM2's accuracy vs number of shots.

1. **Scaling sweep.** Five or more GPT sizes (:func:`funlm.pretrain.sweep_settings`) are trained
   on the same number of tokens of the generated TinyWorld corpus; ``L(N) = (N_c / N) ** alpha``
   is fitted to (non-embedding parameters, validation loss) by log-log least squares. The JSON
   carries every (N, loss) point and one boolean per success criterion of the issue, computed
   from the measured numbers: loss decreases with size, ``0.02 < alpha < 0.3``, ``R² > 0.9``,
   every model beats the unigram baseline.
2. **Few-shot.** SmolLM2-135M-Instruct classifies the shipped review-sentiment items from
   k-shot prompts (k = 0, 1, 4, 8) by comparing the log-probabilities of the label words, over
   several draws of demonstrations. We also report how often it answers "positive" (half the
   items are positive): a rate far from 0.5 is a label bias (Zhao et al. 2021).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from funlm.profile import Profile, seed_everything

HEADLINE_KEYS = ["scaling_alpha", "scaling_r2", "fewshot_acc"]
SHOTS = (0, 1, 4, 8)
ALPHA_RANGE = (0.02, 0.3)
MIN_R2 = 0.9


def scaling_part(profile: Profile) -> dict[str, Any]:
    """Train the sweep and fit the power law."""
    from funlm.data.corpus import load_corpus
    from funlm.pretrain import scaling_sweep, sweep_settings
    from funlm.scaling import fit_power_law

    settings = sweep_settings(profile)
    corpus = load_corpus(settings.n_train_chars, settings.n_val_chars)
    points = scaling_sweep(corpus, settings, device=profile.device, progress=False)
    n = [p.n_params for p in points]
    loss = [p.val_loss for p in points]
    fit = fit_power_law(n, loss)
    unigram = corpus.unigram_loss()
    return {
        "scaling_alpha": round(fit.alpha, 4),
        "scaling_r2": round(fit.r2, 4),
        "scaling_n_c": float(f"{fit.n_c:.4g}"),
        "scaling_points": [
            {key: value for key, value in p.as_dict().items() if key != "eval_loss"} for p in points
        ],
        "unigram_loss": round(unigram, 4),
        "tokens_per_model": settings.tokens_per_model,
        "scaling_criteria": {
            "at_least_5_sizes": len(points) >= 5,
            "loss_decreases_with_size": all(b < a for a, b in itertools.pairwise(loss)),
            "alpha_in_range": ALPHA_RANGE[0] < fit.alpha < ALPHA_RANGE[1],
            "r2_above_0.9": fit.r2 > MIN_R2,
            "all_below_unigram": all(v < unigram for v in loss),
        },
    }


def fewshot_part(profile: Profile) -> dict[str, Any]:
    """SmolLM2's accuracy (and rate of answering "positive") for k = 0, 1, 4, 8 shots.

    Each draw (seed) picks one set of demonstrations shared by every test item, nested across k
    (the 1-shot demonstration opens the 4-shot set, which opens the 8-shot set). Accuracy is
    the mean over draws; min and max show how much the choice of demonstrations matters.
    """
    import numpy as np

    import funlm
    from funlm.fewshot import accuracy, kshot_predictions, load_sentiment_task

    model, tokenizer = funlm.load_small_lm(profile.device)
    task = load_sentiment_task()
    items = task.test[: profile.pick(grade=8, cpu=len(task.test), gpu=len(task.test))]
    seeds = profile.pick(grade=(0,), cpu=tuple(range(5)), gpu=tuple(range(10)))
    acc: dict[str, float] = {}
    spread: dict[str, list[float]] = {}
    positive: dict[str, float] = {}
    for k in SHOTS:
        runs = [
            kshot_predictions(model, tokenizer, task, k, seed=s, items=items)
            for s in (seeds if k > 0 else seeds[:1])  # zero-shot has nothing to draw
        ]
        per_draw = [accuracy(r, items) for r in runs]
        acc[str(k)] = round(float(np.mean(per_draw)), 4)
        spread[str(k)] = [round(min(per_draw), 4), round(max(per_draw), 4)]
        positive[str(k)] = round(float(np.mean([r.count("positive") / len(r) for r in runs])), 4)
    return {
        "fewshot_acc": acc,
        "fewshot_acc_min_max": spread,
        "fewshot_positive_rate": positive,
        "fewshot_items": len(items),
        "fewshot_demo_draws": len(seeds),
        "fewshot_task": task.name,
    }


def run(profile: Profile) -> dict[str, Any]:
    seed_everything(0)
    start = time.perf_counter()
    result = scaling_part(profile)
    result["scaling_seconds"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    result.update(fewshot_part(profile))
    result["fewshot_seconds"] = round(time.perf_counter() - start, 1)
    return result
