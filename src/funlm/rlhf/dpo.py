"""Direct Preference Optimization (Rafailov et al., 2023): RLHF's objective without an RL loop.

The KL-regularised reward maximisation of RLHF has a closed-form optimum
``pi*(y|x) ∝ pi_ref(y|x) exp(r(x, y) / beta)``. Solving it for ``r`` gives an "implicit reward"
``beta * log(pi(y|x) / pi_ref(y|x))``; putting that into the Bradley-Terry loss gives the DPO
loss, a classification loss on comparisons that trains the policy directly.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from funlm.answer_keys import answer_key
from funlm.models.gpt import GPT
from funlm.rlhf.data import Comparison, comparison_batch
from funlm.rlhf.policy import sequence_logprob
from funlm.rlhf.world import WordTokenizer
from funlm.train import TrainResult, train


@answer_key
def dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """Mean DPO loss ``-log sigma(beta * [(pc - rc) - (pr - rr)])`` from sequence log-probs."""
    margin = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)
    return -F.logsigmoid(beta * margin).mean()


@torch.no_grad()
def _ref_logprobs(ref: GPT, chosen, rejected, batch_size: int = 256):
    ref.eval()
    out = []
    for ids, mask, _ in (chosen, rejected):
        parts = [
            sequence_logprob(ref, ids[s : s + batch_size], mask[s : s + batch_size])
            for s in range(0, len(ids), batch_size)
        ]
        out.append(torch.cat(parts))
    return out


def train_dpo(
    policy: GPT,
    ref: GPT,
    tokenizer: WordTokenizer,
    pairs: list[Comparison],
    *,
    beta: float,
    steps: int,
    batch_size: int = 32,
    lr: float = 3e-4,
    seed: int = 0,
    loss=dpo_loss,
    progress: bool | None = None,
) -> TrainResult:
    """Fine-tune ``policy`` in place with the DPO loss against the frozen reference ``ref``."""
    device = next(policy.parameters()).device
    chosen, rejected = comparison_batch(tokenizer, pairs)
    chosen = tuple(t.to(device) for t in chosen)
    rejected = tuple(t.to(device) for t in rejected)
    ref_c, ref_r = _ref_logprobs(ref, chosen, rejected)  # the reference never changes
    rng = np.random.default_rng(seed)

    def batch(step: int):
        return torch.as_tensor(rng.choice(len(pairs), size=batch_size, replace=False))

    def loss_fn(model, idx):
        pc = sequence_logprob(model, chosen[0][idx], chosen[1][idx])
        pr = sequence_logprob(model, rejected[0][idx], rejected[1][idx])
        return loss(pc, pr, ref_c[idx], ref_r[idx], beta)

    return train(
        policy, batch, steps=steps, lr=lr, weight_decay=0.0, loss_fn=loss_fn, progress=progress
    )
