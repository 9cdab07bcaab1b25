"""Chapter 3: the shipped topic set and the gold-vs-random-label experiment (Min et al. 2022)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from funlm.fewshot import score_continuations
from funlm.icl.demos import (
    condition_accuracy,
    condition_demos,
    demo_prompts,
    load_topic_task,
    min_experiment,
    random_labels,
    summarise,
)
from funlm.prompting import Example, build_prompt


def test_topic_set_is_balanced_and_large_enough() -> None:
    task = load_topic_task()
    assert len(task.test) + len(task.demos) >= 60
    assert Counter(e.output for e in task.test) == {label: 16 for label in task.labels}
    assert Counter(e.output for e in task.demos) == {label: 6 for label in task.labels}
    inputs = [e.input for e in task.test + task.demos]
    assert len(set(inputs)) == len(inputs)  # no duplicates, no leak between pool and test


def test_random_labels_keep_inputs_and_are_uniform() -> None:
    demos = [Example(f"s{i}", "sports") for i in range(4000)]
    labels = ("sports", "food", "science", "business")
    out = random_labels(demos, labels, np.random.default_rng(0))
    assert [e.input for e in out] == [e.input for e in demos]
    freq = Counter(e.output for e in out)
    assert all(abs(freq[label] / 4000 - 0.25) < 0.03 for label in labels)


def test_condition_demos_share_inputs_and_differ_in_labels() -> None:
    task = load_topic_task()
    gold = condition_demos(task, "gold", 8, seed=1)
    rand = condition_demos(task, "random", 8, seed=1)
    assert [e.input for e in gold] == [e.input for e in rand]
    assert all(e in task.demos for e in gold)
    assert condition_demos(task, "gold", 8, seed=1) == gold  # seeded
    assert condition_demos(task, "gold", 8, seed=2) != gold
    with pytest.raises(ValueError):
        condition_demos(task, "shuffled", 4, seed=0)


def test_demo_prompts_match_build_prompt() -> None:
    task = load_topic_task()
    demos = list(task.demos[:3])
    prefix, queries = demo_prompts(task, demos, task.test[:2])
    for item, query in zip(task.test[:2], queries, strict=True):
        assert prefix + query == build_prompt(task.instruction, demos, item.input, task.fmt)
    prefix0, queries0 = demo_prompts(task, [], task.test[:1])
    assert prefix0 == "" and queries0[0] == build_prompt("", [], task.test[0].input, task.fmt)


def test_summarise() -> None:
    out = summarise({"a": [0.5, 0.7], "b": [0.25]})
    assert out["a"]["mean"] == pytest.approx(0.6) and out["a"]["std"] == pytest.approx(0.1)
    assert out["b"] == {"mean": 0.25, "std": 0.0}


@pytest.mark.slow
def test_condition_accuracy_agrees_with_unbatched_scoring(small_lm) -> None:
    model, tokenizer = small_lm
    task = load_topic_task()
    demos = condition_demos(task, "gold", 4, seed=0)
    items = task.test[:6]
    acc = condition_accuracy(model, tokenizer, task, demos, items=items, batch_size=4)
    conts = [" " + label for label in task.labels]
    correct = 0
    for item in items:  # one prompt at a time, without the shared-prefix cache
        prompt = build_prompt("", demos, item.input, task.fmt)
        scores = score_continuations(model, tokenizer, [prompt], conts)[0]
        correct += task.labels[int(scores.argmax())] == item.output
    assert acc == pytest.approx(correct / len(items))


@pytest.mark.slow
def test_min_experiment_shape(small_lm) -> None:
    model, tokenizer = small_lm
    task = load_topic_task()
    results = min_experiment(model, tokenizer, task, ks=(4,), seeds=(0, 1), n_items=4)
    assert set(results) == {"none", "gold_k4", "random_k4"}
    assert len(results["gold_k4"]) == 2 and len(results["none"]) == 1
    assert all(0.0 <= a <= 1.0 for accs in results.values() for a in accs)
