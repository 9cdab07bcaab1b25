"""Chapter 5 unit tests that need no model: templates, extraction, voting, constraints, data."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from funlm.data import read_jsonl
from funlm.prompt_eng import templates as T
from funlm.prompt_eng.constrained import DigitsLogitsProcessor, LabelLogitsProcessor
from funlm.prompt_eng.constrained import allowed_next_tokens as allowed
from funlm.prompt_eng.extraction import extract_json, extract_label, extract_number
from funlm.prompt_eng.harness import common_prefix_length, is_correct, prefix_batches, score
from funlm.prompt_eng.self_consistency import majority_vote, vote_share
from funlm.prompt_eng.specialise import IGNORE_INDEX, LoRALinear, collate_left, count_parameters
from funlm.prompt_eng.tasks import (
    SENTIMENT_LABELS,
    arith_train_items,
    load_arith,
    load_sentiment,
    shipped_arith_items,
    stratified_subset,
)

LABELS = ["positive", "negative"]

# ---------------------------------------------------------------- templates


def test_format_instruction():
    assert T.format_instruction(LABELS) == "Answer with exactly one word: positive or negative."
    assert T.format_instruction(["a", "b", "c"]) == "Answer with exactly one of: a, b, c."
    assert T.format_instruction(None) == "Answer with a single number."


def test_zero_and_few_shot_messages():
    fmt = T.format_instruction(LABELS)
    zero = T.zero_shot_messages("Classify.", "Great!", fmt)
    assert zero == [
        {"role": "system", "content": f"Classify. {fmt}"},
        {"role": "user", "content": "Great!"},
    ]
    few = T.few_shot_messages("Classify.", [("Good", "positive"), ("Bad", "negative")], "Ok", fmt)
    assert [m["role"] for m in few] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert few[2]["content"] == "positive" and few[-1]["content"] == "Ok"
    assert T.few_shot_messages("Classify.", [], "Great!", fmt) == zero


def test_cot_messages_answer_format():
    msgs = T.cot_messages("Solve.", [("1+1?", "1 + 1 = 2.", "2")], "2+2?")
    assert msgs[0]["content"] == f"Solve. {T.COT_INSTRUCTION}"
    assert msgs[2]["content"] == "1 + 1 = 2. Answer: 2"
    with_labels = T.cot_messages("Classify.", [], "x", labels=LABELS)
    assert with_labels[0]["content"].endswith("The answer is one of: positive, negative.")


def test_task_specs():
    assert T.SENTIMENT.fmt == "Answer with exactly one word: positive or negative."
    assert T.SENTIMENT_KO.labels == T.SENTIMENT.labels
    assert T.SENTIMENT_KO.shown_labels == ("긍정", "부정")
    assert T.ARITH.fmt == "Answer with a single number."


# ---------------------------------------------------------------- extraction


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("positive", "positive"),
        ("**Negative**", "negative"),
        ("The sentiment of the review is NEGATIVE.", "negative"),
        ("Positive or negative? Answer: negative", "negative"),
        ("The answer is: positive, not negative", "positive"),
        ("It was positively great", None),
        ("neutral", None),
        ("", None),
        ("'magnificent' is praise.", None),
    ],
)
def test_extract_label(text, expected):
    assert extract_label(text, LABELS) == expected


def test_extract_label_aliases():
    aliases = {"긍정": "positive", "부정": "negative"}
    assert extract_label("긍정적인 리뷰입니다.", LABELS, aliases) == "positive"
    assert extract_label("답: 부정", LABELS, aliases) == "negative"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17", 17),
        ("16 - 11 = 5. Answer: 5", 5),
        ("Answer: 12 apples. (She started with 3.)", 12),
        ("5 + 3 = 8 apples in total", 8),
        ("The answer is 1,250.", 1250),
        ("x = -4", -4),
        ("11-5", 5),
        ("It costs 2.50 dollars", 2.5),
        ("12.0", 12),
        ("Answer: seven", 7),
        ("I do not know", None),
        ("", None),
    ],
)
def test_extract_number(text, expected):
    got = extract_number(text)
    assert got == expected
    assert type(got) is type(expected)


def test_extract_json():
    assert extract_json('{"a": 1}') == {"a": 1}
    assert extract_json('Sure!\n```json\n{"label": "positive",}\n```\nDone.') == {
        "label": "positive"
    }
    assert extract_json("{'ok': True, 'n': None}") == {"ok": True, "n": None}
    assert extract_json('text {"s": "a } b", "x": [1, 2,]} more') == {"s": "a } b", "x": [1, 2]}
    assert extract_json("no braces here") is None
    assert extract_json("{broken") is None
    assert extract_json("[1, 2]") is None


# ---------------------------------------------------------------- scoring and voting


def test_score_and_is_correct():
    assert is_correct(17, "17") and is_correct(17.0, "17") and not is_correct(None, "17")
    assert is_correct("positive", "positive") and not is_correct("negative", "positive")
    acc, err = score(["positive", None, "negative", 3], ["positive", "negative", "positive", "3"])
    assert acc == pytest.approx(0.5) and err == pytest.approx(0.25)
    with pytest.raises(ValueError):
        score([1], [])


def test_paired_cot_intervals_come_from_per_item_correctness():
    from funlm.prompt_eng.experiment import Sweep, paired_intervals
    from funlm.prompt_eng.harness import StrategyResult
    from funlm.prompt_eng.tasks import Item

    items = [Item(f"q{i}", "test", f"question {i}", str(i), steps=1) for i in range(4)]

    def result(strategy, predictions):
        return StrategyResult.scored("arithmetic", strategy, items, [""] * 4, predictions, 0.0)

    few = result("few_shot", [0, 1, None, 9])  # right on items 0 and 1
    cot = result("cot", [0, 1, 2, 3])
    assert few.correct == [1.0, 1.0, 0.0, 0.0] and cot.correct == [1.0] * 4
    sweep = Sweep({}, {("arithmetic", "few_shot"): few, ("arithmetic", "cot"): cot})
    out = paired_intervals(sweep)
    assert set(out) == {"cot_delta"}  # only the comparisons whose two strategies ran
    assert out["cot_delta"]["mean"] == pytest.approx(cot.accuracy - few.accuracy)
    assert out["cot_delta"]["n"] == 4
    assert out["cot_delta"]["lo"] <= out["cot_delta"]["mean"] <= out["cot_delta"]["hi"]


def test_majority_vote_and_ties():
    assert majority_vote([3, 5, 5, None, 3]) == 3  # tie: the first seen wins
    assert majority_vote([5, 3, 3]) == 3
    assert majority_vote([None, "b", "a", "a"]) == "a"
    assert majority_vote([None, None]) is None
    assert majority_vote([]) is None
    assert vote_share([1, 1, 2, None]) == pytest.approx(0.5)


# ---------------------------------------------------------------- constrained decoding


def test_allowed_next_tokens():
    labels = [[5, 6], [5, 7], [9]]
    assert allowed([], labels, 0) == [5, 9]
    assert allowed([5], labels, 0) == [6, 7]
    assert allowed([5, 6], labels, 0) == [0]
    assert allowed([9, 0, 0], labels, 0) == [0]  # a finished row only gets EOS
    assert allowed([1], [[1], [1, 2]], 0) == [0, 2]  # a label that is a prefix of another


def test_label_logits_processor_masks_everything_else():
    proc = LabelLogitsProcessor([[5, 6], [9]], prompt_length=2, eos_token_id=0)
    scores = torch.zeros(2, 12)
    out = proc(torch.tensor([[1, 1], [1, 1]]), scores)
    assert torch.isfinite(out[0]).nonzero().flatten().tolist() == [5, 9]
    out = proc(torch.tensor([[1, 1, 5], [1, 1, 9]]), torch.zeros(2, 12))
    assert torch.isfinite(out[0]).nonzero().flatten().tolist() == [6]
    assert torch.isfinite(out[1]).nonzero().flatten().tolist() == [0]


def test_digits_logits_processor():
    digits = list(range(10, 20))
    proc = DigitsLogitsProcessor(digits, prompt_length=1, eos_token_id=0, max_digits=2)
    first = proc(torch.tensor([[3]]), torch.zeros(1, 25))
    assert torch.isfinite(first[0]).nonzero().flatten().tolist() == digits  # no empty answer
    second = proc(torch.tensor([[3, 12]]), torch.zeros(1, 25))
    assert torch.isfinite(second[0]).nonzero().flatten().tolist() == [0, *digits]
    full = proc(torch.tensor([[3, 12, 13]]), torch.zeros(1, 25))
    assert torch.isfinite(full[0]).nonzero().flatten().tolist() == [0]


# ---------------------------------------------------------------- batching


def test_common_prefix_and_prefix_batches():
    assert common_prefix_length([[1, 2, 3], [1, 2, 4], [1, 2]]) == 2
    assert common_prefix_length([]) == 0
    en = [[1, 2, 3, 4, 5, 6, k] for k in (9, 8, 7)]
    ko = [[1, 7, 7, 7, 7, 7, k] for k in (3, 2, 1)]
    rows = [en[0], ko[0], en[1], ko[1], en[2], ko[2]]
    batches = prefix_batches(rows, 8)
    assert sorted(map(sorted, batches)) == [[0, 2, 4], [1, 3, 5]]  # split at the demo switch
    assert sorted(i for b in prefix_batches(rows, 2) for i in b) == list(range(6))
    assert all(len(b) <= 2 for b in prefix_batches(rows, 2))


# ---------------------------------------------------------------- data


def test_sentiment_file():
    items = load_sentiment()
    assert len(items) == 200
    assert {it.answer for it in items} == set(SENTIMENT_LABELS)
    test = load_sentiment("test")
    assert len(test) == 64 and len(load_sentiment("train")) == 128
    assert len(load_sentiment("test", "ko")) == 32
    assert all(it.rationale for it in load_sentiment("demo"))
    texts = [it.text for it in items]
    assert len(set(texts)) == len(texts)  # no duplicates, so train/test never share a sentence


def test_arith_file_is_the_generators_output():
    assert read_jsonl("ch05_arith.jsonl") == [
        json.loads(it.to_json()) for it in shipped_arith_items()
    ]
    test = load_arith("test")
    assert len(test) == 60 and sum(it.steps == 2 for it in test) == 30
    for it in load_arith():
        # the rationale's last number is the answer
        assert extract_number(it.rationale) == int(it.answer)
    train = arith_train_items(50)
    assert not {it.text for it in train} & {it.text for it in load_arith()}


def test_stratified_subset_is_balanced_and_reproducible():
    test = load_sentiment("test")
    sub = stratified_subset(test, 8)
    assert len(sub) == 8
    assert {(it.lang, it.answer) for it in sub} == {
        (lang, lab) for lang in ("en", "ko") for lab in SENTIMENT_LABELS
    }
    assert sub == stratified_subset(test, 8)
    assert stratified_subset(test, None) == test
    arith = stratified_subset(load_arith("test"), 6)
    assert sorted(it.steps for it in arith) == [1, 1, 1, 2, 2, 2]


# ---------------------------------------------------------------- LoRA


def test_lora_linear_starts_equal_and_merges():
    torch.manual_seed(0)
    base = nn.Linear(6, 4)
    lora = LoRALinear(base, r=2, alpha=4)
    x = torch.randn(3, 6)
    assert torch.allclose(lora(x), base(x))
    trainable, total = count_parameters(lora)
    assert trainable == 2 * 6 + 4 * 2 and total == trainable + 6 * 4 + 4
    with torch.no_grad():
        lora.lora_B.normal_()
    merged = x @ lora.merged_weight().T + base.bias
    assert torch.allclose(lora(x), merged, atol=1e-6)
    lora(x).sum().backward()
    assert base.weight.grad is None and lora.lora_A.grad is not None


def test_collate_left_aligns_answers():
    ex = [
        {"input_ids": [1, 2, 3], "labels": [IGNORE_INDEX, 3, 4][:3]},
        {"input_ids": [5, 6], "labels": [IGNORE_INDEX, 6]},
    ]
    batch = collate_left(ex, pad_id=0)
    assert batch["input_ids"].tolist() == [[1, 2, 3], [0, 5, 6]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [0, 1, 1]]
    assert batch["labels"][1].tolist() == [IGNORE_INDEX, IGNORE_INDEX, 6]


def test_ch05_record_carries_the_paired_intervals_the_book_quotes():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "results" / "repro" / "ch05-cpu.json"
    record = json.loads(path.read_text("utf-8"))
    intervals = record["intervals"]
    for name in ("cot_delta", "zero_shot_cot_minus_zero_shot", "specialised_minus_best_prompt"):
        assert intervals[name]["lo"] <= intervals[name]["mean"] <= intervals[name]["hi"], name
    assert intervals["cot_delta"]["mean"] == pytest.approx(record["cot_delta"], abs=1e-3)
    assert intervals["cot_delta"]["n"] == record["n_items"]["arithmetic"]
    sv = record["specialised_vs_prompted"]
    gap = sv["specialised_acc"] - sv["best_prompt_acc"]
    assert intervals["specialised_minus_best_prompt"]["mean"] == pytest.approx(gap, abs=1e-3)
    korean = record["korean"]
    assert intervals["korean_minus_english_prompt_few_shot"]["n"] == korean["n_items"]
    ratio = korean["tokens_per_char"]["ko"] / korean["tokens_per_char"]["en"]
    assert korean["tokens_per_char_ratio"] == pytest.approx(ratio, abs=0.01)
