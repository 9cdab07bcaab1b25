"""Chapter 2 submissions whose answer cells only delegate to the reference answers in funlm.

Used by the grading engineer's ``tests/test_delegation.py``: a submission with these answer
cells is graded through ``funlm-grade``; every part in ``ZERO_PARTS`` must score 0 (the test
cells call the student's functions inside ``forbid_delegation``), whatever else the cell does.
Each cell keeps the signature the exercise asks for (and, like the real answer cells, the imports
later cells rely on).
"""

from __future__ import annotations

CASES: dict[str, str] = {
    "sft_example": """
from funlm.rlhf import data as _data
from funlm.rlhf import world as _world


def format_chat(instruction: str, response: str | None = None) -> str:
    prompt = _world.format_prompt(instruction)
    return prompt if response is None else f"{prompt} {response}\\n"


def sft_example(prompt_ids: list[int], response_ids: list[int]) -> tuple[list[int], list[int]]:
    return _data.sft_example(prompt_ids, response_ids)
""",
    "sequence_logprob": """
from funlm.rlhf import policy as _policy


def sequence_logprob(model, ids: torch.Tensor, response_mask: torch.Tensor) -> torch.Tensor:
    return _policy.sequence_logprob(model, ids, response_mask)
""",
    "pairwise_loss": """
import torch.nn.functional as F

from funlm.rlhf import reward_model as _reward_model


def pairwise_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    return _reward_model.pairwise_loss(r_chosen, r_rejected)
""",
    "kl_reward": """
from funlm.rlhf import pg as _pg


def kl_penalized_reward(reward: torch.Tensor, logp_policy: torch.Tensor, logp_ref: torch.Tensor,
                        mask: torch.Tensor, beta: float) -> torch.Tensor:
    return _pg.kl_penalized_reward(reward, logp_policy, logp_ref, mask, beta)
""",
    "dpo_loss": """
from funlm.rlhf import dpo as _dpo


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, beta: float) -> torch.Tensor:
    return _dpo.dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta)
""",
    "reinforce_loss": """
from funlm.rlhf import pg as _pg


def reinforce_loss(
    logp_policy: torch.Tensor, mask: torch.Tensor, returns: torch.Tensor
) -> torch.Tensor:
    return _pg.reinforce_loss(logp_policy, mask, returns)
""",
    "ppo_clip_loss": """
from funlm.rlhf import pg as _pg


def ppo_clip_loss(logp_new: torch.Tensor, logp_old: torch.Tensor, advantages: torch.Tensor,
                  mask: torch.Tensor, clip_eps: float = 0.2) -> torch.Tensor:
    return _pg.ppo_clip_loss(logp_new, logp_old, advantages, mask, clip_eps)
""",
}

ZERO_PARTS: list[str] = [
    "test_sft_example",
    "test_sequence_logprob",
    "test_pairwise_loss",
    "test_kl_reward",
    "test_dpo_loss",
    "test_reinforce",
    "test_ppo_clip",
]
