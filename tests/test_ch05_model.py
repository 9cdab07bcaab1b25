"""Chapter 5 tests with the real SmolLM2: batched generation, constraints, LoRA, SFT loss."""

from __future__ import annotations

import copy

import pytest
import torch

from funlm.prompt_eng import templates as T
from funlm.prompt_eng.constrained import (
    DigitsLogitsProcessor,
    LabelLogitsProcessor,
    digit_token_ids,
    label_token_ids,
)
from funlm.prompt_eng.harness import StrategySettings, generate, generate_samples, run_strategy
from funlm.prompt_eng.specialise import (
    IGNORE_INDEX,
    add_lora,
    answer_loss,
    collate_left,
    count_parameters,
    merge_lora,
    sft_example,
)
from funlm.prompt_eng.tasks import load_arith, load_sentiment, stratified_subset

pytestmark = pytest.mark.slow


def _prompts(tokenizer, strategy: str, n: int = 4) -> list[str]:
    from funlm.prompt_eng.harness import build_prompts

    items = stratified_subset(load_sentiment("test"), n)
    return build_prompts(tokenizer, T.SENTIMENT, strategy, items, load_sentiment("demo"))


def _plain_generate(model, tokenizer, prompts, max_new_tokens):
    enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    new = out[:, enc.input_ids.shape[1] :]
    return [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]


def test_prefix_cached_generation_equals_plain_generation(small_lm):
    model, tokenizer = small_lm
    prompts = _prompts(tokenizer, "few_shot")  # English and Korean demonstrations
    assert generate(model, tokenizer, prompts, max_new_tokens=5, batch_size=4) == _plain_generate(
        model, tokenizer, prompts, 5
    )


def test_sampling_is_seeded_and_shaped(small_lm):
    model, tokenizer = small_lm
    prompts = _prompts(tokenizer, "zero_shot", 2)
    kwargs = {"n": 3, "max_new_tokens": 4, "do_sample": True, "temperature": 1.0, "seed": 3}
    first = generate_samples(model, tokenizer, prompts, **kwargs)
    assert [len(s) for s in first] == [3, 3]
    assert first == generate_samples(model, tokenizer, prompts, **kwargs)


def test_label_constraint_on_the_model(small_lm):
    model, tokenizer = small_lm
    eos = tokenizer.eos_token_id
    for spec in (T.SENTIMENT, T.SENTIMENT_KO):
        words = list(spec.shown_labels)
        ids = label_token_ids(tokenizer, words)
        prompts = [
            T.render(tokenizer, T.zero_shot_messages(spec.instruction, it.text, spec.fmt))
            for it in stratified_subset(load_sentiment("test"), 4)
        ]
        outs = generate(
            model,
            tokenizer,
            prompts,
            max_new_tokens=max(map(len, ids)) + 1,
            processor=lambda n, ids=ids: LabelLogitsProcessor(ids, n, eos),
        )
        assert all(o in words for o in outs), outs


def test_digits_constraint_on_the_model(small_lm):
    model, tokenizer = small_lm
    digits = digit_token_ids(tokenizer)
    prompts = [
        T.render(tokenizer, T.zero_shot_messages(T.ARITH.instruction, it.text, T.ARITH.fmt))
        for it in load_arith("test")[:3]
    ]
    outs = generate(
        model,
        tokenizer,
        prompts,
        max_new_tokens=5,
        processor=lambda n: DigitsLogitsProcessor(digits, n, tokenizer.eos_token_id),
    )
    assert all(o.isdigit() and len(o) <= 4 for o in outs), outs


def test_constrained_strategy_has_no_format_errors(small_lm):
    model, tokenizer = small_lm
    items = stratified_subset(load_sentiment("test"), 4)
    r = run_strategy(
        model,
        tokenizer,
        T.SENTIMENT,
        "constrained",
        items,
        load_sentiment("demo"),
        StrategySettings(batch_size=4),
    )
    assert r.format_error_rate == 0.0 and r.n == 4
    assert set(r.accuracy_by_group()) == {"en", "ko"}


def test_sft_example_masks_the_prompt(small_lm):
    _, tokenizer = small_lm
    msgs = T.zero_shot_messages(T.SENTIMENT.instruction, "Great!", T.SENTIMENT.fmt)
    ex = sft_example(tokenizer, msgs, "positive")
    prompt_ids = tokenizer.encode(T.render(tokenizer, msgs), add_special_tokens=False)
    answer = [*tokenizer.encode("positive", add_special_tokens=False), tokenizer.eos_token_id]
    assert ex["input_ids"] == prompt_ids + answer
    assert ex["labels"] == [IGNORE_INDEX] * len(prompt_ids) + answer


def test_answer_loss_equals_the_models_own_loss(small_lm):
    model, tokenizer = small_lm
    msgs = [
        T.zero_shot_messages(T.SENTIMENT.instruction, t, T.SENTIMENT.fmt)
        for t in ("Great phone!", "배송이 너무 늦었어요.")
    ]
    batch = collate_left(
        [sft_example(tokenizer, m, a) for m, a in zip(msgs, ("positive", "negative"), strict=True)],
        tokenizer.pad_token_id,
    )
    positions = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        full = model(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            position_ids=positions,
            labels=batch["labels"],
        ).loss
        fast = answer_loss(model, batch)
    assert fast.item() == pytest.approx(full.item(), rel=1e-4, abs=1e-5)


def test_lora_starts_as_the_original_model_and_merges(small_lm):
    model, tokenizer = small_lm
    lora_model = copy.deepcopy(model)
    adapters = add_lora(lora_model, r=4, top_layers=2)
    assert len(adapters) == 2 * 7
    trainable, total = count_parameters(lora_model)
    assert trainable == sum(a.lora_A.numel() + a.lora_B.numel() for a in adapters)
    assert trainable / total < 0.01
    ids = tokenizer("Small models can be useful.", return_tensors="pt").input_ids
    with torch.no_grad():
        base_logits = model(ids).logits
        assert torch.allclose(lora_model(ids).logits, base_logits, atol=1e-5)
        torch.manual_seed(0)
        for a in adapters:
            a.lora_B.normal_(std=0.01)
        adapted = lora_model(ids).logits
        assert not torch.allclose(adapted, base_logits, atol=1e-3)
        assert merge_lora(lora_model) == len(adapters)
        assert torch.allclose(lora_model(ids).logits, adapted, atol=1e-4)
