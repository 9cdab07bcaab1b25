"""Chapter 1: temperature, top-k and top-p give exactly the distributions they promise."""

from __future__ import annotations

import pytest
import torch

from funlm.gpt3.sampling import (
    greedy,
    next_token_distribution,
    sample_next_token,
    top_k_filter,
    top_p_filter,
)

LOGITS = torch.tensor([2.0, 1.0, 0.5, -1.0, 0.0])


def test_temperature_one_is_plain_softmax():
    torch.testing.assert_close(next_token_distribution(LOGITS), torch.softmax(LOGITS, -1))


def test_temperature_scales_logits():
    expected = torch.softmax(LOGITS / 0.5, -1)
    torch.testing.assert_close(next_token_distribution(LOGITS, temperature=0.5), expected)

    # higher temperature -> flatter distribution (higher entropy)
    def entropy(p):
        return -(p * p.log()).sum()

    assert entropy(next_token_distribution(LOGITS, 2.0)) > entropy(next_token_distribution(LOGITS))


def test_temperature_zero_is_greedy_and_the_limit_of_small_temperatures():
    one_hot = torch.tensor([1.0, 0.0, 0.0, 0.0, 0.0])
    torch.testing.assert_close(next_token_distribution(LOGITS, temperature=0), one_hot)
    torch.testing.assert_close(greedy(LOGITS), one_hot)
    torch.testing.assert_close(next_token_distribution(LOGITS, 1e-3), one_hot, atol=1e-6, rtol=0)


def test_top_k_keeps_exactly_k_tokens():
    probs = next_token_distribution(LOGITS, top_k=2)
    expected = torch.zeros(5)
    expected[:2] = torch.softmax(LOGITS[:2], -1)
    torch.testing.assert_close(probs, expected)
    assert torch.equal(top_k_filter(LOGITS, 10), LOGITS)  # k >= V keeps everything


def test_top_p_keeps_the_smallest_nucleus():
    p = torch.softmax(LOGITS, -1)  # sorted order: 0, 1, 2, 4, 3
    # p[0] alone is < 0.6, p[0] + p[1] >= 0.6 -> nucleus {0, 1}
    assert p[0] < 0.6 <= p[0] + p[1]
    expected = torch.zeros(5)
    expected[:2] = p[:2] / p[:2].sum()
    torch.testing.assert_close(next_token_distribution(LOGITS, top_p=0.6), expected)
    # p = 1 keeps every token; a tiny p keeps only the argmax
    assert torch.equal(top_p_filter(LOGITS, 1.0), LOGITS)
    torch.testing.assert_close(next_token_distribution(LOGITS, top_p=1e-6), greedy(LOGITS))


def test_temperature_is_applied_before_top_p():
    # at a high temperature the nucleus for the same p is larger
    cold = next_token_distribution(LOGITS, temperature=0.5, top_p=0.8)
    hot = next_token_distribution(LOGITS, temperature=3.0, top_p=0.8)
    assert (cold > 0).sum() < (hot > 0).sum()


def test_batched_logits_and_sampling_are_seeded():
    logits = torch.randn(3, 50, generator=torch.Generator().manual_seed(0))
    probs = next_token_distribution(logits, temperature=0.7, top_k=10, top_p=0.9)
    assert probs.shape == (3, 50)
    torch.testing.assert_close(probs.sum(-1), torch.ones(3))
    assert ((probs > 0).sum(-1) <= 10).all()
    a = sample_next_token(logits, 0.7, 10, 0.9, generator=torch.Generator().manual_seed(1))
    b = sample_next_token(logits, 0.7, 10, 0.9, generator=torch.Generator().manual_seed(1))
    assert a.shape == (3,) and torch.equal(a, b)
    assert all(probs[i, a[i]] > 0 for i in range(3))  # never a filtered-out token


@pytest.mark.parametrize(
    ("kwargs", "error"), [({"top_k": 0}, "k must"), ({"top_p": 0.0}, "p must")]
)
def test_invalid_arguments_are_refused(kwargs, error):
    with pytest.raises(ValueError, match=error):
        next_token_distribution(LOGITS, **kwargs)


class _FakeTokenizer:
    def decode(self, ids):
        return f"tok{ids[0]}"


def test_explorer_plot_marks_the_filtered_distribution():
    import matplotlib

    matplotlib.use("Agg")
    from funlm.gpt3.widgets import plot_next_token_distribution

    logits = torch.tensor([3.0, 2.0, 1.0, 0.0, -1.0, -2.0])
    ax = plot_next_token_distribution(logits, _FakeTokenizer(), top_k=2, n_show=4)
    assert "2 tokens can be sampled" in ax.get_title()
    heights = [bar.get_height() for bar in ax.patches]
    assert len(heights) == 8  # before and after, four tokens each
    assert heights[4 + 2] == 0.0 and heights[4 + 3] == 0.0  # filtered out by top-k
    assert sum(heights[4:]) == pytest.approx(1.0)
