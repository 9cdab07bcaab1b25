"""RLHF with a policy gradient: the KL-penalised reward and a REINFORCE step.

InstructGPT maximises ``E[r(x, y)] - beta * KL(pi || pi_ref)`` with PPO. Per sampled sequence,
the penalised reward is ``r(x, y) - beta * sum_t [log pi(y_t|...) - log pi_ref(y_t|...)]``: the
sum of log-ratios over the sampled tokens is an unbiased estimate of that sequence's share of the
KL. We use plain REINFORCE (Williams, 1992) with the batch mean as baseline, which is enough for
a toy world; PPO adds clipped importance ratios so that one batch can be reused for several steps
(:func:`ppo_clip_loss`, the objective the exercise builds).

The losses marked with :func:`~funlm.answer_keys.answer_key` are graded answers of the chapter's
exercise: tests forbid a submission to call them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from funlm.answer_keys import answer_key
from funlm.models.gpt import GPT
from funlm.rlhf.data import sequence_batch
from funlm.rlhf.policy import sample_responses, token_logprobs
from funlm.rlhf.reward_model import RewardModel, reward_scores
from funlm.rlhf.world import (
    Instruction,
    WordTokenizer,
    format_prompt,
    judge,
    random_instruction,
)
from funlm.train import train


@answer_key
def kl_penalized_reward(
    reward: torch.Tensor,
    logp_policy: torch.Tensor,
    logp_ref: torch.Tensor,
    mask: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """``reward - beta * sum_t mask * (logp_policy - logp_ref)`` per sequence, shape (B,).

    ``reward``: (B,); ``logp_policy``, ``logp_ref``: (B, T) per-token log-probs of the sampled
    tokens; ``mask``: (B, T), 1 on response tokens.
    """
    kl = ((logp_policy - logp_ref) * mask).sum(dim=-1)
    return reward - beta * kl


@answer_key
def reinforce_loss(
    logp_policy: torch.Tensor, mask: torch.Tensor, returns: torch.Tensor
) -> torch.Tensor:
    """REINFORCE with a mean baseline: ``-mean_b[(R_b - mean(R)) * sum_t mask * logp]``."""
    advantage = (returns - returns.mean()).detach()
    return -(advantage * (logp_policy * mask).sum(dim=-1)).mean()


@answer_key
def ppo_clip_loss(
    logp_new: torch.Tensor,
    logp_old: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    clip_eps: float = 0.2,
) -> torch.Tensor:
    """PPO's clipped surrogate objective (Schulman et al., 2017), negated to be minimised.

    ``logp_new``, ``logp_old``: (B, T) log-probs of the sampled tokens under the policy being
    trained and under the policy that sampled them (a constant); ``advantages``: (B,), one per
    sequence and shared by its tokens (a constant); ``mask``: (B, T), 1 on response tokens.
    With ``ratio = exp(logp_new - logp_old)`` per token, the loss is minus the mean over the
    masked tokens of ``min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)``: once a token's ratio
    has left ``[1 - eps, 1 + eps]`` in the direction its advantage pushes, it gets no gradient.
    """
    ratio = torch.exp(logp_new - logp_old.detach())
    advantage = advantages.detach().unsqueeze(-1)  # (B, 1): the same for every token
    unclipped = ratio * advantage
    clipped = torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantage
    weight = mask.to(unclipped.dtype)
    surrogate = torch.minimum(unclipped, clipped) * weight
    return -surrogate.sum() / weight.sum().clamp_min(1.0)


@dataclass
class RLHFLog:
    """Per step: mean optimised reward, mean judged reward, mean KL estimate."""

    rm_reward: list[float] = field(default_factory=list)
    judged: list[float] = field(default_factory=list)
    kl: list[float] = field(default_factory=list)


RewardFn = Callable[[list[Instruction], list[str]], torch.Tensor]


def reward_model_fn(rm: RewardModel, tokenizer: WordTokenizer) -> RewardFn:
    """Rewards from a trained reward model (what RLHF optimises)."""

    def score(instructions: list[Instruction], responses: list[str]) -> torch.Tensor:
        prompts = [format_prompt(i) for i in instructions]
        return reward_scores(rm, tokenizer, prompts, responses)

    return score


def judge_fn(instructions: list[Instruction], responses: list[str]) -> torch.Tensor:
    """Rewards from the hidden judge itself (as if people rated every sample)."""
    return torch.tensor([judge(i, r) for i, r in zip(instructions, responses, strict=True)])


def train_rlhf(
    policy: GPT,
    ref: GPT,
    reward_fn: RewardFn,
    tokenizer: WordTokenizer,
    *,
    beta: float,
    steps: int,
    batch_size: int = 32,
    lr: float = 1e-4,
    seed: int = 0,
    max_new_tokens: int = 40,
    loss=reinforce_loss,
    progress: bool | None = None,
) -> RLHFLog:
    """REINFORCE on ``reward_fn``'s score minus ``beta`` times the sampled KL to ``ref``."""
    rng = random.Random(f"rlhf-{seed}")
    gen = torch.Generator().manual_seed(seed)
    device = next(policy.parameters()).device
    log = RLHFLog()
    ref.eval()

    def batch(step: int):
        instructions = [random_instruction(rng) for _ in range(batch_size)]
        prompts = [format_prompt(i) for i in instructions]
        responses = sample_responses(
            policy, tokenizer, prompts, max_new_tokens=max_new_tokens, generator=gen
        )
        ids, mask, _ = sequence_batch(tokenizer, prompts, responses)
        ids, mask = ids.to(device), mask.to(device)
        with torch.no_grad():
            reward = reward_fn(instructions, responses).float().to(device)
            logp_ref = token_logprobs(ref, ids)
        log.rm_reward.append(float(reward.mean()))
        log.judged.append(float(judge_fn(instructions, responses).mean()))
        return ids, mask[:, 1:].float(), reward, logp_ref

    def loss_fn(model, b):
        ids, mask, reward, logp_ref = b
        logp = token_logprobs(model, ids)
        returns = kl_penalized_reward(reward, logp.detach(), logp_ref, mask, beta)
        log.kl.append(float(((logp.detach() - logp_ref) * mask).sum(-1).mean()))
        return loss(logp, mask, returns)

    train(policy, batch, steps=steps, lr=lr, weight_decay=0.0, loss_fn=loss_fn, progress=progress)
    return log
