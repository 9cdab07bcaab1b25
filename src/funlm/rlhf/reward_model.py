"""The reward model: a GPT trunk with a scalar head, trained on comparisons (Bradley-Terry).

InstructGPT's reward model reads a prompt and a response and outputs one number; it is trained
so that ``sigma(r(chosen) - r(rejected))`` is the probability that people prefer ``chosen``
(the Bradley-Terry model), i.e. with the loss ``-log sigma(r_chosen - r_rejected)``.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from funlm.answer_keys import answer_key
from funlm.models.gpt import GPT
from funlm.rlhf.data import Comparison, comparison_batch, sequence_batch
from funlm.rlhf.world import WordTokenizer, format_prompt
from funlm.train import TrainResult, train


@answer_key
def pairwise_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """Mean Bradley-Terry loss ``-log sigma(r_chosen - r_rejected)`` over the batch."""
    return -F.logsigmoid(r_chosen - r_rejected).mean()


def hidden_states(gpt: GPT, idx: torch.Tensor) -> torch.Tensor:
    """The GPT's final-layer states (B, T, C), i.e. its forward pass without the LM head."""
    T = idx.shape[1]
    x = gpt.transformer.wte(idx) + gpt.transformer.wpe(torch.arange(T, device=idx.device))
    x = gpt.transformer.drop(x)
    for block in gpt.transformer.h:
        x = block(x)
    return gpt.transformer.ln_f(x)


class RewardModel(nn.Module):
    """``r(prompt, response)``: a linear head on the GPT state at the sequence's last token."""

    def __init__(self, gpt: GPT) -> None:
        super().__init__()
        self.gpt = gpt
        self.head = nn.Linear(gpt.config.n_embd, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    @classmethod
    def from_lm(cls, lm: GPT) -> RewardModel:
        """A reward model initialised from (a copy of) a language model, as InstructGPT does."""
        return cls(copy.deepcopy(lm))

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Rewards (B,) of right-padded sequences ``ids`` (B, T) of the given ``lengths``."""
        h = hidden_states(self.gpt, ids)  # (B, T, C)
        last = h[torch.arange(ids.shape[0], device=ids.device), lengths - 1]  # (B, C)
        return self.head(last).squeeze(-1)


def _pair_tensors(tokenizer: WordTokenizer, pairs: list[Comparison], device: str):
    (ci, _, cl), (ri, _, rl) = comparison_batch(tokenizer, pairs)
    return ci.to(device), cl.to(device), ri.to(device), rl.to(device)


def rm_pair_loss(rm: RewardModel, batch) -> torch.Tensor:
    """Loss of one batch ``(chosen_ids, chosen_lengths, rejected_ids, rejected_lengths)``."""
    ci, cl, ri, rl = batch
    return pairwise_loss(rm(ci, cl), rm(ri, rl))


def train_reward_model(
    rm: RewardModel,
    tokenizer: WordTokenizer,
    pairs: list[Comparison],
    *,
    steps: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    loss=pairwise_loss,
    progress: bool | None = None,
) -> TrainResult:
    """Train ``rm`` on random minibatches of ``pairs`` with the pairwise ``loss``."""
    device = next(rm.parameters()).device
    rng = np.random.default_rng(seed)

    def batch(step: int):
        picked = [pairs[i] for i in rng.choice(len(pairs), size=batch_size, replace=False)]
        return _pair_tensors(tokenizer, picked, str(device))

    def loss_fn(model, b):
        ci, cl, ri, rl = b
        return loss(model(ci, cl), model(ri, rl))

    return train(
        rm, batch, steps=steps, lr=lr, weight_decay=0.0, loss_fn=loss_fn, progress=progress
    )


@torch.no_grad()
def reward_scores(
    rm: RewardModel,
    tokenizer: WordTokenizer,
    prompts: list[str],
    responses: list[str],
    batch_size: int = 256,
) -> torch.Tensor:
    """The reward model's scores (N,) of ``responses`` to ``prompts``."""  # fmt: skip
    rm.eval()
    device = next(rm.parameters()).device
    out = []
    for s in range(0, len(prompts), batch_size):
        ids, _, lengths = sequence_batch(
            tokenizer, prompts[s : s + batch_size], responses[s : s + batch_size]
        )
        out.append(rm(ids.to(device), lengths.to(device)).cpu())
    return torch.cat(out)


@torch.no_grad()
def preference_correct(
    rm: RewardModel, tokenizer: WordTokenizer, pairs: list[Comparison]
) -> list[float]:
    """Per pair: 1.0 where the reward model scores ``chosen`` above ``rejected``, else 0.0."""
    prompts = [format_prompt(c.instruction) for c in pairs]
    rc = reward_scores(rm, tokenizer, prompts, [c.chosen for c in pairs])
    rr = reward_scores(rm, tokenizer, prompts, [c.rejected for c in pairs])
    return (rc > rr).float().tolist()


def preference_accuracy(
    rm: RewardModel, tokenizer: WordTokenizer, pairs: list[Comparison]
) -> float:
    """Fraction of ``pairs`` where the reward model scores ``chosen`` above ``rejected``."""
    return float(np.mean(preference_correct(rm, tokenizer, pairs)))
