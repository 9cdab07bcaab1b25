"""funlm.models.decoding: the one batched, prefix-cached decoding loop (chapters 1, 3, 5, 6).

Contracts checked against ``transformers`` itself: greedy decoding of a padded batch equals
``model.generate(do_sample=False)`` on each prompt alone, token for token; a shared prefix
cache changes no token; constraints only let allowed tokens through; a seeded sampler repeats
(and draws what ``model.generate(do_sample=True)`` draws with the same seed). The fast tests use
a tiny random GPT-2 (the model does not matter there); the ``slow`` ones use SmolLM2.
"""

from __future__ import annotations

import pytest
import torch

from funlm.models.decoding import (
    PrefixCache,
    accepts_logits_to_keep,
    cache_argument,
    common_prefix_length,
    forward_rows,
    generate_tokens,
    left_pad,
    new_cache,
    shared_prefix_length,
)

PAD = 0
EOS = 1
ROWS = [[5, 6, 7, 8, 9, 10], [5, 6, 7, 11], [5, 6, 12, 13, 14, 15, 16, 17, 18]]


@pytest.fixture(scope="module")
def tiny():
    """A random 2-layer GPT-2 with a small vocabulary (weights large enough to vary outputs)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=40, n_positions=96, n_embd=32, n_layer=2, n_head=4,
        bos_token_id=EOS, eos_token_id=EOS, pad_token_id=PAD, initializer_range=0.4,
    )  # fmt: skip
    model = GPT2LMHeadModel(config).eval()
    model.generation_config.eos_token_id = None  # generate stops only where a test says so
    return model


def reference_greedy(model, row, n_tokens, eos=None):
    """``model.generate(do_sample=False)`` on one unpadded row: its new tokens, EOS dropped."""
    ids = torch.tensor([row])
    with torch.no_grad():
        out = model.generate(
            ids, attention_mask=torch.ones_like(ids), max_new_tokens=n_tokens, do_sample=False,
            pad_token_id=PAD, eos_token_id=eos,
        )[0, len(row) :].tolist()  # fmt: skip
    return out[: out.index(eos)] if eos in out else out


# --- layout ---------------------------------------------------------------------------------


def test_left_pad_layout_counts_positions_over_real_tokens_only():
    padded = left_pad([[5, 6, 7], [8]], pad_token_id=PAD, prefix_length=2)
    assert padded.input_ids.tolist() == [[5, 6, 7], [PAD, PAD, 8]]
    assert padded.attention_mask.tolist() == [[1, 1, 1, 1, 1], [1, 1, 0, 0, 1]]
    assert padded.position_ids[:, -1].tolist() == [4, 2]  # the row's own tokens start at 2
    assert padded.position_ids[0].tolist() == [2, 3, 4] and padded.width == 3
    assert left_pad([[3]], pad_token_id=PAD).attention_mask.tolist() == [[1]]
    with pytest.raises(ValueError):
        left_pad([[1], []], pad_token_id=PAD)


def test_prefix_lengths():
    assert common_prefix_length(ROWS) == 2 and common_prefix_length([]) == 0
    assert common_prefix_length([[1, 2], [1, 2, 3]]) == 2
    # a row must keep one token of its own: its logits come from its last token
    assert shared_prefix_length([[1, 2], [1, 2, 3]]) == 1
    assert shared_prefix_length([[4]]) == 0 and shared_prefix_length([]) == 0


def test_cache_argument_follows_the_forward_signature(tiny):
    class Old:
        def forward(self, input_ids, past_key_values=None):
            return None

    class New:
        def forward(self, input_ids, cache=None, logits_to_keep=0):
            return None

    assert cache_argument(Old()) == "past_key_values" and not accepts_logits_to_keep(Old())
    assert cache_argument(New()) == "cache" and accepts_logits_to_keep(New())
    assert cache_argument(tiny) in ("cache", "past_key_values")


# --- forward passes -------------------------------------------------------------------------


@pytest.mark.parametrize("n_prefix", [0, 2])
def test_padded_rows_after_a_prefix_give_each_rows_own_logits(tiny, n_prefix):
    prefix = PrefixCache.build(tiny, ROWS[0][:n_prefix])
    logits, padded = forward_rows(
        tiny, [r[n_prefix:] for r in ROWS], pad_token_id=PAD, prefix=prefix, logits_to_keep=2
    )  # the shortest row has 2 tokens of its own after the prefix
    assert logits.shape == (3, 2, 40) and padded.prefix_length == n_prefix
    for b, row in enumerate(ROWS):
        with torch.no_grad():
            alone = tiny(torch.tensor([row])).logits[0, -2:]
        torch.testing.assert_close(logits[b], alone, atol=1e-5, rtol=0)


def test_a_preallocated_cache_grows_when_it_is_too_small(tiny):
    cache = new_cache(tiny, capacity=2)
    logits, _ = forward_rows(tiny, ROWS, pad_token_id=PAD, cache=cache)
    plain, _ = forward_rows(tiny, ROWS, pad_token_id=PAD)
    torch.testing.assert_close(logits, plain, atol=1e-5, rtol=0)
    assert cache.get_seq_length() == max(len(r) for r in ROWS)


# --- greedy, prefix, stops ------------------------------------------------------------------


def test_greedy_batch_equals_generate_on_each_prompt_alone(tiny):
    out = generate_tokens(tiny, ROWS, max_new_tokens=8, eos_token_id=None, pad_token_id=PAD)
    expected = [reference_greedy(tiny, row, 8) for row in ROWS]
    assert out.tokens == expected
    assert len({tuple(t) for t in expected}) == 3  # the model is not degenerate
    assert out.row_steps == 3 * 8 and out.prompt_length == max(len(r) for r in ROWS)
    none = generate_tokens(tiny, ROWS, n=2, max_new_tokens=0, eos_token_id=None, pad_token_id=PAD)
    assert none.tokens == [[]] * 6 and none.row_steps == 0
    assert (
        generate_tokens(tiny, [], max_new_tokens=3, eos_token_id=None, pad_token_id=PAD).tokens
        == []
    )


def test_a_shared_prefix_cache_gives_the_same_tokens_as_no_cache(tiny):
    n = shared_prefix_length(ROWS)
    prefix = PrefixCache.build(tiny, ROWS[0][:n])
    cached = generate_tokens(
        tiny, [r[n:] for r in ROWS], prefix=prefix, max_new_tokens=8, eos_token_id=None,
        pad_token_id=PAD,
    )  # fmt: skip
    plain = generate_tokens(tiny, ROWS, max_new_tokens=8, eos_token_id=None, pad_token_id=PAD)
    assert n == 2 and cached.tokens == plain.tokens
    assert cached.prompt_length == plain.prompt_length


def test_rows_stop_at_eos_and_at_their_stop_rule(tiny):
    plain = generate_tokens(tiny, ROWS, max_new_tokens=8, eos_token_id=None, pad_token_id=PAD)
    eos = plain.tokens[0][2]  # pretend row 0's third token is EOS
    out = generate_tokens(tiny, ROWS, max_new_tokens=8, eos_token_id=eos, pad_token_id=PAD)
    for got, row in zip(out.tokens, ROWS, strict=True):
        assert got == reference_greedy(tiny, row, 8, eos=eos)  # dropped rows change nothing
    assert out.tokens[0] == plain.tokens[0][: plain.tokens[0].index(eos)]
    kept = generate_tokens(
        tiny, ROWS, max_new_tokens=8, eos_token_id=eos, pad_token_id=PAD, keep_finished=True
    )
    assert kept.tokens == out.tokens and kept.row_steps == out.row_steps
    assert out.row_steps == sum(min(len(t) + 1, 8) for t in out.tokens)
    seen = []

    def stop(row, tokens):
        seen.append(row)
        return len(tokens) == row + 1  # row r stops after r + 1 tokens

    short = generate_tokens(
        tiny, ROWS, max_new_tokens=8, eos_token_id=None, pad_token_id=PAD, stop=stop
    )
    assert [len(t) for t in short.tokens] == [1, 2, 3]
    assert short.tokens == [p[: i + 1] for i, p in enumerate(plain.tokens)]
    assert sorted(set(seen)) == [0, 1, 2]


# --- constraints ----------------------------------------------------------------------------


def test_a_logits_processor_sees_the_whole_sequence_and_constrains_every_token(tiny):
    allowed = [20, 21, 22]
    calls = []

    def factory(prompt_length):
        def processor(input_ids, scores):
            calls.append((prompt_length, input_ids.clone()))
            masked = torch.full_like(scores, float("-inf"))
            masked[:, allowed] = scores[:, allowed]
            return masked

        return processor

    n = shared_prefix_length(ROWS)
    out = generate_tokens(
        tiny, [r[n:] for r in ROWS], prefix=PrefixCache.build(tiny, ROWS[0][:n]),
        max_new_tokens=5, eos_token_id=None, pad_token_id=PAD, processor=factory,
    )  # fmt: skip
    assert all(len(t) == 5 and set(t) <= set(allowed) for t in out.tokens)
    width = max(len(r) for r in ROWS)
    first = calls[0][1]
    assert calls[0][0] == width == first.shape[1]  # prefix + padded rows
    assert first[:, :n].tolist() == [ROWS[0][:n]] * 3  # the prefix tokens are in the sequence
    last = calls[-1][1]
    assert last.shape == (3, width + 4)
    assert last[:, width:].tolist() == [t[:4] for t in out.tokens]


def test_a_token_chooser_replaces_the_argmax(tiny):
    script = {0: [30, 31, 32], 1: [33], 2: [34, 35]}

    def choose(rows, scores):
        assert scores.shape == (len(rows), 40) and scores.dtype == torch.float32
        return [script[r][len(done[r])] for r in rows]

    done = {0: [], 1: [], 2: []}

    def stop(row, tokens):
        done[row] = list(tokens)
        return len(tokens) == len(script[row])

    out = generate_tokens(
        tiny, ROWS, max_new_tokens=10, eos_token_id=EOS, pad_token_id=PAD, choose=choose,
        stop=stop,
    )  # fmt: skip
    assert out.tokens == [script[0], script[1], script[2]] and out.row_steps == 6


# --- sampling -------------------------------------------------------------------------------


def test_seeded_sampling_repeats_and_n_copies_decode_on_their_own(tiny):
    def draw(seed):
        return generate_tokens(
            tiny, ROWS, n=3, max_new_tokens=6, eos_token_id=None, pad_token_id=PAD,
            do_sample=True, temperature=1.3, generator=torch.Generator().manual_seed(seed),
        ).tokens  # fmt: skip

    first = draw(0)
    assert len(first) == 9 and all(len(t) == 6 for t in first)
    assert first == draw(0) and first != draw(1)
    assert len({tuple(t) for t in first[:3]}) > 1  # the copies of row 0 differ
    greedy = generate_tokens(
        tiny, ROWS, n=2, max_new_tokens=6, eos_token_id=None, pad_token_id=PAD
    ).tokens
    assert greedy[0::2] == greedy[1::2]  # without sampling the copies agree


def test_sampling_draws_what_transformers_draws_with_the_same_seed(tiny):
    row = ROWS[2]
    torch.manual_seed(7)
    ids = torch.tensor([row])
    with torch.no_grad():
        ref = tiny.generate(
            ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=True,
            temperature=0.7, top_k=0, top_p=1.0, pad_token_id=PAD, eos_token_id=None,
        )[0, len(row) :].tolist()  # fmt: skip
    mine = generate_tokens(
        tiny, [row], max_new_tokens=8, eos_token_id=None, pad_token_id=PAD, do_sample=True,
        temperature=0.7, generator=torch.Generator().manual_seed(7),
    )  # fmt: skip
    assert mine.tokens == [ref]


# --- SmolLM2 --------------------------------------------------------------------------------

SYSTEM = (
    "<|im_start|>system\nYou are a helpful assistant. Answer in one short sentence.<|im_end|>\n"
)
QUESTIONS = [
    "Name a colour.",
    "What is the capital of France?",
    "Write the first three prime numbers, separated by commas, and nothing else please.",
    "Hi",
]


def _chat_rows(tokenizer):
    texts = [f"{SYSTEM}<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n" for q in QUESTIONS]
    return [tokenizer.encode(t, add_special_tokens=False) for t in texts]


@pytest.mark.slow
def test_smollm2_greedy_batch_equals_generate_token_for_token(small_lm):
    model, tokenizer = small_lm
    rows = _chat_rows(tokenizer)
    assert len({len(r) for r in rows}) == len(rows)  # different lengths: real padding
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    out = generate_tokens(model, rows, max_new_tokens=10, eos_token_id=eos, pad_token_id=pad)
    for got, row in zip(out.tokens, rows, strict=True):
        ids = torch.tensor([row])
        with torch.no_grad():
            ref = model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=10, do_sample=False,
                pad_token_id=pad, eos_token_id=eos,
            )[0, len(row) :].tolist()  # fmt: skip
        assert got == [t for t in ref if t != eos]
    n = shared_prefix_length(rows)
    assert n > 10
    cached = generate_tokens(
        model, [r[n:] for r in rows], prefix=PrefixCache.build(model, rows[0][:n]),
        max_new_tokens=10, eos_token_id=eos, pad_token_id=pad,
    )  # fmt: skip
    assert cached.tokens == out.tokens


@pytest.mark.slow
def test_smollm2_constrained_generation_emits_only_allowed_continuations(small_lm):
    from funlm.prompt_eng.constrained import LabelLogitsProcessor, label_token_ids

    model, tokenizer = small_lm
    labels = ["positive", "negative", "긍정"]  # the Korean word takes several tokens
    ids = label_token_ids(tokenizer, labels)
    assert max(map(len, ids)) > 1
    eos = tokenizer.eos_token_id
    out = generate_tokens(
        model, _chat_rows(tokenizer), max_new_tokens=max(map(len, ids)) + 1, eos_token_id=eos,
        pad_token_id=tokenizer.pad_token_id,
        processor=lambda n: LabelLogitsProcessor(ids, n, eos),
    )  # fmt: skip
    assert all(tokens in ids for tokens in out.tokens), out.tokens


@pytest.mark.slow
def test_smollm2_seeded_sampling_repeats(small_lm):
    model, tokenizer = small_lm
    rows = _chat_rows(tokenizer)[:2]

    def draw(seed):
        return generate_tokens(
            model, rows, n=2, max_new_tokens=6, eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id, do_sample=True, temperature=1.0,
            generator=torch.Generator().manual_seed(seed),
        ).tokens  # fmt: skip

    first = draw(3)
    assert len(first) == 4 and first == draw(3)
    assert first != draw(4)
