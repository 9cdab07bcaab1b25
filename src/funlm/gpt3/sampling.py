"""Turning next-token logits into a distribution to sample from: temperature, top-k, top-p.

All functions work on the last dimension, so ``logits`` may be ``(V,)`` or ``(B, V)``.
The order is the usual one (and Hugging Face's): temperature first, then top-k, then top-p.

- temperature ``t``: ``softmax(logits / t)``; ``t -> 0`` approaches greedy decoding (all mass on
  the argmax), ``t = 0`` is defined as exactly that; ``t > 1`` flattens the distribution.
- top-k: keep the ``k`` largest logits (ties with the k-th are kept), renormalise.
- top-p (nucleus sampling, Holtzman et al. 2020): keep the smallest set of most likely tokens
  whose probabilities add up to at least ``p``, renormalise.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from funlm.answer_keys import answer_key
from funlm.models.draws import draw_multinomial


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``logits / temperature`` (``temperature`` must be > 0)."""
    if temperature <= 0:
        raise ValueError("temperature must be > 0 here; use greedy() for temperature 0")
    return logits / temperature


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Logits with everything below the ``k``-th largest set to ``-inf``."""
    if k <= 0:
        raise ValueError("k must be >= 1")
    k = min(k, logits.size(-1))
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Logits outside the nucleus (smallest top set with probability >= ``p``) set to ``-inf``."""
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = F.softmax(sorted_logits, dim=-1)
    mass_before = torch.cumsum(probs, dim=-1) - probs  # probability of the better tokens
    drop_sorted = mass_before >= p  # the nucleus is already full without this token
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def greedy(logits: torch.Tensor) -> torch.Tensor:
    """One-hot distribution on the argmax (the ``temperature -> 0`` limit)."""
    return F.one_hot(logits.argmax(dim=-1), logits.size(-1)).to(logits.dtype)


@answer_key
def next_token_distribution(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> torch.Tensor:
    """The probabilities the sampler draws from, after temperature, top-k and top-p."""
    if temperature == 0:
        return greedy(logits)
    logits = apply_temperature(logits.float(), temperature)
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    return F.softmax(logits, dim=-1)


def sample_next_token(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw token ids from :func:`next_token_distribution`: ``(V,) -> ()``, ``(B, V) -> (B,)``."""
    probs = next_token_distribution(logits, temperature, top_k, top_p)
    flat = probs.reshape(-1, probs.size(-1))
    ids = draw_multinomial(flat, num_samples=1, generator=generator).squeeze(-1)
    return ids.reshape(probs.shape[:-1])
