"""The teaching GPT: shapes, causality, parameter count, and logits equal to Hugging Face GPT-2."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from funlm.models.gpt import GPT, GPTConfig, from_hf_gpt2

TINY = GPTConfig(vocab_size=50, block_size=16, n_layer=2, n_head=2, n_embd=32)


@pytest.fixture
def model() -> GPT:
    torch.manual_seed(0)
    return GPT(TINY).eval()


def test_logits_shape_and_loss(model):
    x = torch.randint(0, TINY.vocab_size, (3, 10))
    logits, loss = model(x, x)
    assert logits.shape == (3, 10, TINY.vocab_size)
    # an untrained model is close to uniform: loss near log(V)
    assert abs(loss.item() - torch.log(torch.tensor(50.0)).item()) < 0.5


def test_no_information_flows_from_the_future(model):
    x = torch.randint(0, TINY.vocab_size, (1, 12))
    y = x.clone()
    y[0, 8:] = (y[0, 8:] + 1) % TINY.vocab_size  # change only positions >= 8
    with torch.no_grad():
        a, _ = model(x)
        b, _ = model(y)
    torch.testing.assert_close(a[:, :8], b[:, :8])
    assert not torch.allclose(a[:, 8:], b[:, 8:])


def test_attention_matches_torch_sdpa(model):
    attn = model.transformer.h[0].attn
    x = torch.randn(2, 7, TINY.n_embd)
    with torch.no_grad():
        ours = attn(x)
        q, k, v = attn.c_attn(x).split(TINY.n_embd, dim=2)
        split = lambda t: t.view(2, 7, TINY.n_head, -1).transpose(1, 2)  # noqa: E731
        y = F.scaled_dot_product_attention(split(q), split(k), split(v), is_causal=True)
        reference = attn.c_proj(y.transpose(1, 2).reshape(2, 7, TINY.n_embd))
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)


def test_parameter_count_formula(model):
    C, L, V, T = TINY.n_embd, TINY.n_layer, TINY.vocab_size, TINY.block_size
    per_block = (3 * C * C + 3 * C) + (C * C + C) + (8 * C * C + 5 * C) + 4 * C
    assert model.num_params() == L * per_block + 2 * C  # + final LayerNorm
    assert model.num_params(non_embedding=False) == model.num_params() + V * C + T * C


def test_attention_only_model_and_recorded_maps():
    torch.manual_seed(0)
    model = GPT(
        GPTConfig(vocab_size=20, block_size=8, n_layer=2, n_head=1, n_embd=16, use_mlp=False)
    )
    model.record_attention()
    model(torch.randint(0, 20, (1, 8)))
    maps = model.attention_maps()
    assert len(maps) == 2 and maps[0].shape == (1, 1, 8, 8)
    torch.testing.assert_close(maps[0].sum(-1), torch.ones(1, 1, 8))
    assert float(maps[0].triu(diagonal=1).abs().sum()) == 0.0


def test_embeds_input_path(model):
    embeds = torch.randn(2, 5, TINY.n_embd)
    logits, _ = model(embeds=embeds)
    assert logits.shape == (2, 5, TINY.vocab_size)
    with pytest.raises(ValueError):
        model(torch.zeros(1, 2, dtype=torch.long), embeds=embeds)


def test_greedy_generation_is_temperature_zero(model):
    x = torch.randint(0, TINY.vocab_size, (1, 3))
    out = model.generate(x, 5, temperature=0)
    assert out.shape == (1, 8)
    assert torch.equal(out[:, :3], x)


def test_logits_equal_huggingface_gpt2_with_the_same_weights():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    hf_config = GPT2Config(
        vocab_size=60, n_positions=16, n_embd=32, n_layer=2, n_head=4,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )  # fmt: skip
    hf = GPT2LMHeadModel(hf_config).eval()
    ours = from_hf_gpt2(hf).eval()
    x = torch.randint(0, 60, (2, 16))
    with torch.no_grad():
        expected = hf(x).logits
        actual, _ = ours(x)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)
