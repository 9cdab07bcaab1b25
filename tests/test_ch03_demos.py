"""Chapter 3: the shipped topic set and the gold-vs-random-label experiment (Min et al. 2022)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from funlm.answer_keys import DelegationError, forbid_delegation, is_answer_key
from funlm.gpt3.fewshot import score_continuations
from funlm.gpt3.prompting import Example, build_prompt
from funlm.icl.demos import (
    condition_accuracy,
    condition_correct,
    condition_demos,
    demo_prompts,
    item_means,
    load_topic_task,
    min_experiment,
    min_intervals,
    min_item_scores,
    per_seed_accuracy,
    random_labels,
    score_conditions,
    summarise,
)
from funlm.stats import paired_bootstrap_diff


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


def test_demo_prompts_accept_tuples() -> None:
    task = load_topic_task()
    demos = list(task.demos[:2])
    as_tuples = [(d.input, d.output) for d in demos]
    assert demo_prompts(task, as_tuples, as_tuples) == demo_prompts(task, demos, demos)


def _first_label_classifier(calls: list):
    """A stand-in model: the first demonstration's label for inputs containing 'x'."""

    def classify(demos, inputs):
        calls.append(([tuple(d) for d in demos], list(inputs)))
        first = demos[0][1] if demos else "food"
        return [first if "x" in text else "sports" for text in inputs]

    return classify


def test_score_conditions_scores_the_same_items_once_per_condition() -> None:
    calls: list = []
    items = [("a x", "sports"), ("b", "sports"), ("c x", "food")]
    conditions = {"none": [], "gold": [("g", "sports")], "random": [("g", "food")]}
    got = score_conditions(_first_label_classifier(calls), conditions, items)
    assert list(got) == ["none", "gold", "random"]
    assert got["none"].tolist() == [0.0, 1.0, 1.0]
    assert got["gold"].tolist() == [1.0, 1.0, 0.0]
    assert got["random"].tolist() == [0.0, 1.0, 1.0]
    assert [inputs for _, inputs in calls] == [["a x", "b", "c x"]] * 3  # one call, in order
    examples = [Example(x, y) for x, y in items]  # Examples work as well as tuples
    again = score_conditions(_first_label_classifier([]), conditions, examples)
    assert all((again[n] == got[n]).all() for n in got)


def test_score_conditions_rejects_a_wrong_number_of_predictions() -> None:
    with pytest.raises(ValueError, match="predictions"):
        score_conditions(lambda demos, inputs: ["sports"], {"none": []}, [("a", "b")] * 2)


def test_min_intervals_are_paired_over_items() -> None:
    rng = np.random.default_rng(0)
    none = rng.integers(0, 2, 40).astype(float)
    gold = [np.where(rng.random(40) < 0.1, 1 - none, none) for _ in range(3)]  # close to none
    rand = [np.where(rng.random(40) < 0.5, 0.0, g) for g in gold]  # loses many items
    scores = {"none": [none], "gold_k4": gold, "random_k4": rand}
    out = min_intervals(scores, ks=(4,))
    gap = out["min_gap_k4"]
    assert gap.mean == pytest.approx(item_means(gold).mean() - item_means(rand).mean())
    assert gap == paired_bootstrap_diff(item_means(rand), item_means(gold))
    assert gap.lo > 0  # random labels clearly hurt in this made-up data
    assert out["min_gold_k4_minus_none"].lo < 0 < out["min_gold_k4_minus_none"].hi
    assert out["min_acc_none"].mean == pytest.approx(none.mean())
    accs = per_seed_accuracy(scores)
    assert accs["gold_k4"] == pytest.approx([g.mean() for g in gold])
    assert set(out) == {
        "min_acc_none", "min_acc_gold_k4", "min_acc_random_k4", "min_gap_k4",
        "min_gold_k4_minus_none", "min_random_k4_minus_none",
    }  # fmt: skip


def test_graded_answers_are_marked_and_forbidden_in_tests() -> None:
    from funlm.icl import induction, regression, regression_model

    keys = [
        random_labels, score_conditions,
        regression.sample_regression_prompts, regression.normalised_error_by_k,
        regression.least_squares_predictions, regression.nearest_neighbour_predictions,
        regression.averaging_predictions, regression_model.interleave,
        regression_model.regression_loss, induction.repeated_sequences,
        induction.induction_scores, induction.previous_token_scores,
    ]  # fmt: skip
    assert all(is_answer_key(key) for key in keys)
    with pytest.raises(AssertionError, match="모범 답안"):
        with forbid_delegation(score_conditions):
            with pytest.raises(DelegationError):
                score_conditions(lambda d, i: list(i), {"none": []}, [])
    # the model itself does not call the part-5 answer key, so a test can forbid it
    torch = pytest.importorskip("torch")
    net = regression_model.InContextRegressor(2, 3, n_layer=1, n_head=1, n_embd=8)
    with forbid_delegation(regression_model.interleave, regression_model.regression_loss):
        out = net(torch.zeros(1, 3, 2), torch.zeros(1, 3))
    assert out.shape == (1, 3)


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
    scores = min_item_scores(model, tokenizer, task, ks=(4,), seeds=(0, 1), n_items=4)
    assert per_seed_accuracy(scores) == results
    demos = condition_demos(task, "random", 4, seed=1)
    correct = condition_correct(model, tokenizer, task, demos, items=task.test[:4])
    assert correct.tolist() == scores["random_k4"][1]


def test_min_figures_draw_intervals() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from funlm.icl.plots import plot_min_bars, plot_paired_differences

    rng = np.random.default_rng(1)
    scores = {
        "none": [rng.integers(0, 2, 20).astype(float)],
        "gold_k4": [rng.integers(0, 2, 20).astype(float) for _ in range(2)],
        "random_k4": [np.zeros(20), np.zeros(20)],
    }
    records = {name: iv.as_record() for name, iv in min_intervals(scores, ks=(4,)).items()}
    accs = {name: float(np.mean(runs)) for name, runs in scores.items()}
    fig, (left, right) = plt.subplots(1, 2)
    intervals = {name: records[f"min_acc_{name}"] for name in accs}
    bars = plot_min_bars(accs, chance=0.25, intervals=intervals, ax=left)
    assert len(bars.patches) == 3
    diffs = plot_paired_differences(records, ax=right)
    labels = [t.get_text() for t in diffs.get_yticklabels()]
    assert labels == ["gold - random, k=4", "gold k=4 - none", "random k=4 - none"]
    plt.close(fig)
