"""What in the demonstrations matters (Min et al. 2022), with SmolLM2 on a shipped topic task.

The model classifies each test item from a k-shot prompt by comparing the log-probabilities of
the label words after the prompt (:func:`funlm.fewshot.score_continuations`). The conditions:

- ``none``: no demonstrations (zero-shot);
- ``gold``: k demonstrations with their true labels;
- ``random``: the same k demonstrations, each with a label drawn uniformly from the label set.

Min et al. found that replacing gold labels by random ones costs only 0-5 points on most
tasks: the demonstrations teach the model the label space, the input distribution and the
format more than the input-label mapping. One demonstration set (drawn with the seed) is shared
by all test items, so its keys and values are computed once.

This module generalises :func:`funlm.fewshot.shared_demo_prompts` to demonstrations whose
labels we choose (:func:`demo_prompts`); everything else is reused from :mod:`funlm.fewshot`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from funlm.fewshot import ClassificationTask, accuracy, classify, draw_demos
from funlm.prompting import Example, PromptFormat, format_query, prompt_prefix

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

TOPIC_FILE = "ch03_topics.jsonl"
CONDITIONS = ("gold", "random")


def load_topic_task(instruction: str = "") -> ClassificationTask:
    """The shipped topic task: 64 test items and a pool of 24 demonstrations, 4 labels.

    No instruction by default, as in Min et al.: the demonstrations alone specify the task.
    """
    text = resources.files("funlm").joinpath("data", "files", TOPIC_FILE).read_text("utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]

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


def random_labels(
    demos: Sequence[Example], labels: Sequence[str], rng: np.random.Generator
) -> list[Example]:
    """The same inputs, each with a label drawn uniformly at random from ``labels``."""
    return [Example(demo.input, labels[int(rng.integers(len(labels)))]) for demo in demos]


def demo_prompts(
    task: ClassificationTask, demos: Sequence[Example], items: Sequence[Example]
) -> tuple[str, list[str]]:
    """``(prefix, queries)`` for these demonstrations: ``prefix + queries[i]`` is the prompt."""
    prefix = prompt_prefix(task.instruction, demos, task.fmt)
    glue = task.fmt.separator if prefix else ""  # the prefix ends on a word
    return prefix, [glue + format_query(item.input, task.fmt) for item in items]


def condition_demos(task: ClassificationTask, condition: str, k: int, seed: int) -> list[Example]:
    """The k demonstrations of one condition and seed (``random`` relabels the ``gold`` set)."""
    if condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {CONDITIONS}")
    demos = draw_demos(task.demos, k, np.random.default_rng([seed, k]))
    if condition == "random":
        demos = random_labels(demos, task.labels, np.random.default_rng([seed, k, 1]))
    return demos


def condition_accuracy(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    task: ClassificationTask,
    demos: Sequence[Example],
    *,
    items: Sequence[Example] | None = None,
    batch_size: int = 32,
) -> float:
    """Accuracy on ``items`` (default: all test items) with these demonstrations."""
    items = task.test if items is None else items
    prefix, queries = demo_prompts(task, demos, items)
    preds = classify(model, tokenizer, queries, task.labels, prefix=prefix, batch_size=batch_size)
    return accuracy(preds, items)


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
    items = task.test if n_items is None else task.test[:n_items]
    results: dict[str, list[float]] = {
        "none": [condition_accuracy(model, tokenizer, task, [], items=items, batch_size=batch_size)]
    }
    for k in ks:
        for condition in CONDITIONS:
            results[f"{condition}_k{k}"] = [
                condition_accuracy(
                    model,
                    tokenizer,
                    task,
                    condition_demos(task, condition, k, seed),
                    items=items,
                    batch_size=batch_size,
                )
                for seed in seeds
            ]
    return results


def summarise(results: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Mean and standard deviation (over seeds) of every condition."""
    return {
        name: {"mean": float(np.mean(accs)), "std": float(np.std(accs))}
        for name, accs in results.items()
    }
