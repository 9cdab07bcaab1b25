"""Demonstrations, comparisons and their tensors: SFT loss masking and batches of sequences.

A sequence is ``prompt + response + EOS`` as character ids. Batches are right-padded with the EOS
id; ``response_mask`` marks the positions that belong to the response (its EOS included), which
is where every loss of this chapter lives (SFT, reward, DPO, policy gradient).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from funlm.answer_keys import answer_key
from funlm.rlhf.world import (
    EOS,
    Instruction,
    WordTokenizer,
    format_prompt,
    judge,
    random_instruction,
    write_response,
)

IGNORE = -100  # target id that torch's cross-entropy (and funlm.models.gpt.GPT) ignores


@dataclass(frozen=True)
class Demonstration:
    """An instruction and a labeller's response (SFT data)."""

    instruction: Instruction
    response: str


@dataclass(frozen=True)
class Comparison:
    """Two responses to one instruction; the judge preferred ``chosen`` (RM and DPO data)."""

    instruction: Instruction
    chosen: str
    rejected: str


def make_demonstrations(n: int, seed: int = 0, flaw_rate: float = 0.5) -> list[Demonstration]:
    """``n`` labeller demonstrations; a fraction ``flaw_rate`` of them have one flaw."""
    rng = random.Random(f"demos-{seed}")
    out = []
    for _ in range(n):
        instruction = random_instruction(rng)
        out.append(Demonstration(instruction, write_response(instruction, rng, flaw_rate)))
    return out


def make_comparisons(n: int, seed: int = 0, flaw_rate: float = 0.7) -> list[Comparison]:
    """``n`` pairs of labeller responses with different judged rewards, the better one chosen."""
    rng = random.Random(f"pairs-{seed}")
    out: list[Comparison] = []
    while len(out) < n:
        instruction = random_instruction(rng)
        a = write_response(instruction, rng, flaw_rate)
        b = write_response(instruction, rng, flaw_rate)
        ra, rb = judge(instruction, a), judge(instruction, b)
        if ra == rb:
            continue  # a tie teaches nothing about preference
        out.append(Comparison(instruction, a, b) if ra > rb else Comparison(instruction, b, a))
    return out


@answer_key
def sft_example(prompt_ids: list[int], response_ids: list[int]) -> tuple[list[int], list[int]]:
    """Inputs and targets for next-token prediction with the loss on the response only.

    ``x = (prompt + response)[:-1]`` and ``y = (prompt + response)[1:]``, where every target
    that is still a prompt token is replaced by ``IGNORE`` (-100). ``response_ids`` should end
    with the EOS id so that the model learns where to stop.
    """
    full = list(prompt_ids) + list(response_ids)
    x = full[:-1]
    y = [IGNORE] * (len(prompt_ids) - 1) + full[len(prompt_ids) :]
    return x, y


def encode_pair(
    tokenizer: WordTokenizer, prompt: str, response: str
) -> tuple[list[int], list[int]]:
    """Ids of a prompt and of ``response + EOS`` (EOS is not added twice)."""
    if not response.endswith(EOS):
        response = response + EOS
    return tokenizer.encode(prompt), tokenizer.encode(response)


def sft_batch(
    tokenizer: WordTokenizer, demos: list[Demonstration]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded SFT inputs ``x`` (B, T) and masked targets ``y`` (B, T)."""
    pairs = [
        sft_example(*encode_pair(tokenizer, format_prompt(d.instruction), d.response))
        for d in demos
    ]
    width = max(len(x) for x, _ in pairs)
    pad = tokenizer.encode(EOS)[0]
    x = torch.full((len(pairs), width), pad, dtype=torch.long)
    y = torch.full((len(pairs), width), IGNORE, dtype=torch.long)
    for i, (xi, yi) in enumerate(pairs):
        x[i, : len(xi)] = torch.tensor(xi)
        y[i, : len(yi)] = torch.tensor(yi)
    return x, y


def sequence_batch(
    tokenizer: WordTokenizer, prompts: list[str], responses: list[str]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded ``ids`` (B, T) of ``prompt + response + EOS``, the ``response_mask`` (B, T)
    (True on response tokens, EOS included) and each sequence's ``lengths`` (B,)."""
    encoded = [encode_pair(tokenizer, p, r) for p, r in zip(prompts, responses, strict=True)]
    width = max(len(p) + len(r) for p, r in encoded)
    pad = tokenizer.encode(EOS)[0]
    ids = torch.full((len(encoded), width), pad, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.bool)
    lengths = torch.zeros(len(encoded), dtype=torch.long)
    for i, (p, r) in enumerate(encoded):
        ids[i, : len(p) + len(r)] = torch.tensor(p + r)
        mask[i, len(p) : len(p) + len(r)] = True
        lengths[i] = len(p) + len(r)
    return ids, mask, lengths


def comparison_batch(
    tokenizer: WordTokenizer, pairs: list[Comparison]
) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
    """``(ids, mask, lengths)`` for the chosen responses and for the rejected ones."""
    prompts = [format_prompt(c.instruction) for c in pairs]
    chosen = sequence_batch(tokenizer, prompts, [c.chosen for c in pairs])
    rejected = sequence_batch(tokenizer, prompts, [c.rejected for c in pairs])
    return chosen, rejected
