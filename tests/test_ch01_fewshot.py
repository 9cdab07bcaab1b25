"""Chapter 1: the k-shot prompt builder, the shipped task and batched label scoring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from funlm.gpt3.fewshot import (
    accuracy,
    classify,
    draw_demos,
    kshot_accuracy,
    kshot_predictions,
    kshot_prompts,
    load_sentiment_task,
    score_continuations,
    shared_demo_prompts,
)
from funlm.gpt3.prompting import Example, PromptFormat, build_prompt

FMT = PromptFormat(input_prefix="Review: ", output_prefix="Sentiment:")


def test_zero_and_two_shot_prompts_have_the_documented_layout():
    assert build_prompt("Classify.", [], "Nice.", FMT) == "Classify.\n\nReview: Nice.\nSentiment:"
    demos = [Example("Good.", "positive"), Example("Bad.", "negative")]
    assert build_prompt("Classify.", demos, "Nice.", FMT) == (
        "Classify.\n\nReview: Good.\nSentiment: positive\n\n"
        "Review: Bad.\nSentiment: negative\n\nReview: Nice.\nSentiment:"
    )
    assert (
        build_prompt("", demos[:1], "Nice.")
        == "Input: Good.\nOutput: positive\n\nInput: Nice.\nOutput:"
    )


def test_shipped_task_is_balanced_and_large_enough():
    task = load_sentiment_task()
    assert len(task.test) >= 40 and len(task.demos) >= 8
    for split in (task.test, task.demos):
        labels = [e.output for e in split]
        assert set(labels) == set(task.labels)
        assert labels.count("positive") == labels.count("negative")
    assert not {e.input for e in task.test} & {e.input for e in task.demos}


def test_demos_are_distinct_seeded_and_drawn_per_item():
    task = load_sentiment_task()
    demos = draw_demos(task.demos, 8, np.random.default_rng(0))
    assert len(set(demos)) == 8
    with pytest.raises(ValueError):
        draw_demos(task.demos, len(task.demos) + 1, np.random.default_rng(0))
    a = kshot_prompts(task, 4, seed=0)
    assert a == kshot_prompts(task, 4, seed=0) and a != kshot_prompts(task, 4, seed=1)
    assert len(set(p.split("\n\n")[1] for p in a)) > 1  # not one fixed demo set
    assert all(p.count("Review: ") == 5 for p in a)
    assert kshot_prompts(task, 0)[0] == build_prompt(task.instruction, [], task.test[0].input, FMT)


def test_shared_demo_prompts_are_nested_and_rebuild_the_full_prompt():
    task = load_sentiment_task()
    prefix4, queries = shared_demo_prompts(task, 4, seed=3)
    prefix8, _ = shared_demo_prompts(task, 8, seed=3)
    assert prefix8.startswith(prefix4) and prefix4.count("Review: ") == 4
    demos = draw_demos(task.demos, 4, np.random.default_rng(3))
    for item, query in zip(task.test, queries, strict=True):
        assert prefix4 + query == build_prompt(task.instruction, demos, item.input, task.fmt)
    prefix0, queries0 = shared_demo_prompts(task, 0)
    assert prefix0 == task.instruction and queries0[0].startswith("\n\nReview: ")


def test_accuracy():
    items = [Example("a", "positive"), Example("b", "negative")]
    assert accuracy(["positive", "positive"], items) == 0.5


@pytest.mark.slow
def test_batched_scores_equal_one_prompt_at_a_time(small_lm):
    model, tokenizer = small_lm
    prompts = ["The capital of France is", "One, two, three,", "Review: Awful.\nSentiment:"]
    single = [" Paris", " four", " negative"]
    scores = score_continuations(model, tokenizer, prompts, single, batch_size=2)
    multi = [" Paris is nice", " four five"]  # several tokens each: the general path
    multi_scores = score_continuations(model, tokenizer, prompts, multi, batch_size=4)
    assert scores.shape == (3, 3) and multi_scores.shape == (3, 2)
    for i, prompt in enumerate(prompts):
        ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt").input_ids
        with torch.no_grad():
            logprobs = torch.log_softmax(model(ids).logits[0, -1].float(), -1)
        for j, word in enumerate(single):
            (token,) = tokenizer(word, add_special_tokens=False).input_ids
            assert scores[i, j] == pytest.approx(float(logprobs[token]), abs=1e-3)
        for j, text in enumerate(multi):
            cont = tokenizer(text, add_special_tokens=False).input_ids
            full = torch.cat([ids, torch.tensor([cont])], dim=1)
            with torch.no_grad():
                lp = torch.log_softmax(model(full).logits[0].float(), -1)
            n = ids.shape[1]
            expected = sum(float(lp[n - 1 + t, c]) for t, c in enumerate(cont))
            assert multi_scores[i, j] == pytest.approx(expected, abs=1e-3)
    assert scores[0].argmax() == 0  # " Paris" is the likeliest of the three


@pytest.mark.slow
def test_smollm2_classifies_obvious_reviews(small_lm):
    model, tokenizer = small_lm
    task = load_sentiment_task()
    prompts = [
        build_prompt(task.instruction, task.demos[:4], text, task.fmt)
        for text in ["I loved it, wonderful!", "Terrible, it broke at once and I hate it."]
    ]
    assert classify(model, tokenizer, prompts, task.labels) == ["positive", "negative"]


@pytest.mark.slow
def test_shared_prefix_tokenizes_like_the_whole_prompt(small_lm):
    _, tokenizer = small_lm
    task = load_sentiment_task()

    def encode(text):
        return tokenizer(text, add_special_tokens=False).input_ids

    for k in (0, 1, 4):
        prefix, queries = shared_demo_prompts(task, k, items=task.test[:5])
        for query in queries:
            assert encode(prefix) + encode(query) == encode(prefix + query)
            assert encode(prefix + query) + encode(" positive") == encode(
                prefix + query + " positive"
            )


@pytest.mark.slow
def test_cached_prefix_gives_the_same_scores(small_lm):
    model, tokenizer = small_lm
    prefix = "Classify.\n\nReview: Good food.\nSentiment: positive"
    prompts = ["\n\nReview: Bad.\nSentiment:", "\n\nReview: A long, slow film.\nSentiment:"]
    for conts in ([" positive", " negative"], [" very good", " bad"]):
        cached = score_continuations(model, tokenizer, prompts, conts, prefix=prefix)
        plain = score_continuations(model, tokenizer, [prefix + p for p in prompts], conts)
        torch.testing.assert_close(cached, plain, atol=2e-3, rtol=0)


@pytest.mark.slow
def test_kshot_accuracy_on_a_few_items(small_lm):
    model, tokenizer = small_lm
    task = load_sentiment_task()
    items = task.test[:6]
    acc = kshot_accuracy(model, tokenizer, task, (0, 2), n_items=6, seeds=(0, 1))
    assert set(acc) == {0, 2} and all(0 <= a <= 1 for a in acc.values())
    runs = [kshot_predictions(model, tokenizer, task, 2, seed=s, items=items) for s in (0, 1)]
    assert acc[2] == pytest.approx(np.mean([accuracy(r, items) for r in runs]))
    per_item = kshot_predictions(model, tokenizer, task, 2, items=items, shared_demos=False)
    assert set(per_item) <= set(task.labels) and len(per_item) == 6


def test_fewshot_intervals_average_draws_per_item_and_pair_with_zero_shot():
    from funlm.gpt3.experiment import fewshot_intervals

    zero = np.array([[1, 0, 1, 0]])
    two_draws = np.array([[1, 1, 1, 0], [1, 0, 1, 1]])  # per item: 1, .5, 1, .5
    out = fewshot_intervals({0: zero, 4: two_draws})
    assert set(out) == {"fewshot_acc_k0", "fewshot_acc_k4", "fewshot_k4_minus_k0"}
    assert out["fewshot_acc_k4"]["mean"] == pytest.approx(0.75)
    assert out["fewshot_acc_k4"]["n"] == 4  # items, not item x draw
    diff = out["fewshot_k4_minus_k0"]
    assert diff["mean"] == pytest.approx(0.25)
    assert diff["lo"] <= diff["mean"] <= diff["hi"] and diff["level"] == 0.95
    same = fewshot_intervals({0: zero, 1: zero})["fewshot_k1_minus_k0"]
    assert same["lo"] == same["hi"] == 0.0  # identical answers: no difference at all


def test_plot_kshot_uses_record_keys_and_interval_bars():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from funlm.gpt3.fewshot import plot_kshot

    acc = {"0": [0.5], "4": [0.6, 0.8]}
    pos = {"0": [0.9], "4": [0.5, 0.4]}
    intervals = {"fewshot_acc_k0": {"lo": 0.4, "hi": 0.6}, "fewshot_acc_k4": {"lo": 0.5, "hi": 0.9}}
    fig = plot_kshot(acc, pos, intervals=intervals, label="recorded")
    left, right = fig.axes
    mean_line = next(line for line in left.lines if line.get_color() == "tab:blue")
    np.testing.assert_allclose(mean_line.get_ydata(), [0.5, 0.7])
    assert len(left.collections) == 1  # the error bars
    assert "recorded" in right.get_title()
    plt.close(fig)
