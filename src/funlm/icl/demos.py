"""What in the demonstrations matters (Min et al. 2022), with SmolLM2 on a shipped topic task.

The model classifies each test item from a k-shot prompt by comparing the log-probabilities of
the label words after the prompt (:func:`funlm.gpt3.fewshot.score_continuations`). The conditions:

- ``none``: no demonstrations (zero-shot);
- ``gold``: k demonstrations with their true labels;
- ``random``: the same k demonstrations, each with a label drawn uniformly from the label set.

Min et al. (k = 16 demonstrations) found that replacing gold labels by random ones costs only
0-5 points on most tasks: the demonstrations teach the model the label space, the input
distribution and the format more than the input-label mapping. One demonstration set (drawn
with the seed) is shared by all test items, so its keys and values are computed once.

Every condition scores the **same** test items, so conditions are compared item by item
(:func:`min_intervals`): the paired difference of two conditions is the mean over items of the
difference of their per-item scores, with a paired bootstrap interval
(:func:`funlm.stats.paired_bootstrap_diff`). Pairing removes the item-difficulty variance that
two separate intervals would count twice.

This module generalises :func:`funlm.gpt3.fewshot.shared_demo_prompts` to demonstrations whose
labels we choose (:func:`demo_prompts`); everything else is reused from :mod:`funlm.gpt3.fewshot`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from funlm.answer_keys import answer_key
from funlm.data import read_jsonl
from funlm.gpt3.fewshot import ClassificationTask, classify, draw_demos
from funlm.gpt3.prompting import Example, PromptFormat, format_query, prompt_prefix
from funlm.stats import Interval, bootstrap_mean, paired_bootstrap_diff

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

TOPIC_FILE = "ch03_topics.jsonl"
CONDITIONS = ("gold", "random")

#: ``(input, label)`` pairs: a demonstration or a test item, as an :class:`Example` or a tuple
Pair = Example | tuple[str, str]
#: ``classify(demos, inputs) -> labels``: one predicted label per input, all with these demos
Classifier = Callable[[Sequence[Pair], Sequence[str]], Sequence[str]]


def load_topic_task(instruction: str = "") -> ClassificationTask:
    """The shipped topic task: 64 test items and a pool of 24 demonstrations, 4 labels.

    No instruction by default, as in Min et al.: the demonstrations alone specify the task.
    """
    rows = read_jsonl(TOPIC_FILE)

    def pick(split: str) -> tuple[Example, ...]:
        return tuple(Example(r["text"], r["label"]) for r in rows if r["split"] == split)

    return ClassificationTask(
        name="topic",
        instruction=instruction,
        labels=("sports", "food", "science", "business"),
        fmt=PromptFormat(input_prefix="Text: ", output_prefix="Topic:"),
        test=pick("test"),
        demos=pick("demo"),
    )


def _pair(item: Pair) -> tuple[str, str]:
    return (item.input, item.output) if isinstance(item, Example) else (item[0], item[1])


@answer_key
def random_labels(
    demos: Sequence[Example], labels: Sequence[str], rng: np.random.Generator
) -> list[Example]:
    """The same inputs, each with a label drawn uniformly at random from ``labels``."""
    return [Example(demo.input, labels[int(rng.integers(len(labels)))]) for demo in demos]


def demo_prompts(
    task: ClassificationTask, demos: Sequence[Pair], items: Sequence[Pair]
) -> tuple[str, list[str]]:
    """``(prefix, queries)`` for these demonstrations: ``prefix + queries[i]`` is the prompt."""
    demos = [Example(*_pair(d)) for d in demos]
    prefix = prompt_prefix(task.instruction, demos, task.fmt)
    glue = task.fmt.separator if prefix else ""  # the prefix ends on a word
    return prefix, [glue + format_query(_pair(item)[0], task.fmt) for item in items]


def condition_demos(task: ClassificationTask, condition: str, k: int, seed: int) -> list[Example]:
    """The k demonstrations of one condition and seed (``random`` relabels the ``gold`` set)."""
    if condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {CONDITIONS}")
    demos = draw_demos(task.demos, k, np.random.default_rng([seed, k]))
    if condition == "random":
        demos = random_labels(demos, task.labels, np.random.default_rng([seed, k, 1]))
    return demos


def task_classifier(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    task: ClassificationTask,
    *,
    batch_size: int = 32,
) -> Classifier:
    """``classify(demos, inputs)``: the model's label for every input after these demos.

    The demonstrations form a prefix shared by all inputs (its keys and values are computed
    once); each input is scored by the log-probability of every label word after it.
    """

    def predict(demos: Sequence[Pair], inputs: Sequence[str]) -> list[str]:
        prefix, queries = demo_prompts(task, demos, [(x, "") for x in inputs])
        return classify(
            model, tokenizer, queries, task.labels, prefix=prefix, batch_size=batch_size
        )

    return predict


@answer_key
def score_conditions(
    classify_fn: Classifier, conditions: Mapping[str, Sequence[Pair]], items: Sequence[Pair]
) -> dict[str, np.ndarray]:
    """Per-item correctness (1.0 or 0.0) of the same ``items`` under every condition.

    ``conditions`` maps a name to its demonstrations (``[]``: no demonstrations). Each
    condition calls ``classify_fn`` once, with all item inputs in order.
    """
    inputs = [_pair(item)[0] for item in items]
    gold = [_pair(item)[1] for item in items]
    scores = {}
    for name, demos in conditions.items():
        predictions = list(classify_fn(demos, inputs))
        if len(predictions) != len(items):
            raise ValueError(f"{name}: {len(predictions)} predictions for {len(items)} items")
        scores[name] = np.array([float(p == g) for p, g in zip(predictions, gold, strict=True)])
    return scores


def condition_correct(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    task: ClassificationTask,
    demos: Sequence[Pair],
    *,
    items: Sequence[Example] | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """1.0 where the model labels an item (default: all test items) correctly, else 0.0."""
    items = task.test if items is None else items
    classify_fn = task_classifier(model, tokenizer, task, batch_size=batch_size)
    return score_conditions(classify_fn, {"demos": demos}, items)["demos"]


def condition_accuracy(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    task: ClassificationTask,
    demos: Sequence[Pair],
    *,
    items: Sequence[Example] | None = None,
    batch_size: int = 32,
) -> float:
    """Accuracy on ``items`` (default: all test items) with these demonstrations."""
    correct = condition_correct(model, tokenizer, task, demos, items=items, batch_size=batch_size)
    return float(correct.mean())


def min_item_scores(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    task: ClassificationTask,
    *,
    ks: Sequence[int] = (4, 8),
    seeds: Sequence[int] = (0, 1, 2),
    n_items: int | None = None,
    batch_size: int = 32,
) -> dict[str, list[list[float]]]:
    """Per-item correctness, per seed: ``scores[condition][seed_index][item]``.

    Conditions: ``none`` (one run: there is nothing to draw) and ``gold_k{k}`` /
    ``random_k{k}`` for each k; all score the same first ``n_items`` test items.
    """
    items = task.test if n_items is None else task.test[:n_items]
    classify_fn = task_classifier(model, tokenizer, task, batch_size=batch_size)
    out: dict[str, list[list[float]]] = {
        "none": [score_conditions(classify_fn, {"none": []}, items)["none"].tolist()]
    }
    for k in ks:
        for condition in CONDITIONS:
            out[f"{condition}_k{k}"] = []
        for seed in seeds:
            conditions = {
                f"{condition}_k{k}": condition_demos(task, condition, k, seed)
                for condition in CONDITIONS
            }
            for name, scores in score_conditions(classify_fn, conditions, items).items():
                out[name].append(scores.tolist())
    return out


def per_seed_accuracy(scores: Mapping[str, Sequence[Sequence[float]]]) -> dict[str, list[float]]:
    """Accuracy of every seed's run, per condition."""
    return {name: [float(np.mean(run)) for run in runs] for name, runs in scores.items()}


def item_means(runs: Sequence[Sequence[float]]) -> np.ndarray:
    """(n_items,) the score of each item averaged over the runs (seeds) of one condition."""
    return np.asarray(runs, dtype=float).mean(axis=0)


def min_intervals(
    scores: Mapping[str, Sequence[Sequence[float]]], ks: Sequence[int] = (4, 8)
) -> dict[str, Interval]:
    """Bootstrap intervals over test items for the Min et al. comparisons.

    Each item's score under a condition is its correctness averaged over the seeds (the
    demonstration sets), so an interval says how much the result could move with other test
    items *for these demonstration sets*; the spread between seeds is a separate question.

    - ``min_acc_{condition}``: accuracy of each condition;
    - ``min_gap_k{k}``: gold − random at k, paired by item;
    - ``min_{gold,random}_k{k}_minus_none``: a condition − no demonstrations, paired by item.
    """
    means = {name: item_means(runs) for name, runs in scores.items()}
    out = {f"min_acc_{name}": bootstrap_mean(values) for name, values in means.items()}
    for k in ks:
        gold, rand = means[f"gold_k{k}"], means[f"random_k{k}"]
        out[f"min_gap_k{k}"] = paired_bootstrap_diff(rand, gold)
        out[f"min_gold_k{k}_minus_none"] = paired_bootstrap_diff(means["none"], gold)
        out[f"min_random_k{k}_minus_none"] = paired_bootstrap_diff(means["none"], rand)
    return out


def min_experiment(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    task: ClassificationTask,
    *,
    ks: Sequence[int] = (4, 8),
    seeds: Sequence[int] = (0, 1, 2),
    n_items: int | None = None,
    batch_size: int = 32,
) -> dict[str, list[float]]:
    """Accuracy per seed for ``none`` and for ``gold_k{k}`` / ``random_k{k}`` for each k."""
    scores = min_item_scores(
        model, tokenizer, task, ks=ks, seeds=seeds, n_items=n_items, batch_size=batch_size
    )
    return per_seed_accuracy(scores)


def summarise(results: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Mean and standard deviation (over seeds) of every condition."""
    return {
        name: {"mean": float(np.mean(accs)), "std": float(np.std(accs))}
        for name, accs in results.items()
    }
