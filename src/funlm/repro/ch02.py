"""Chapter 2's reproduction: SFT -> reward model -> DPO / RLHF in a toy world (:mod:`funlm.rlhf`).

``python -m funlm.repro ch02 [--profile cpu|gpu|grade]`` records what
:func:`funlm.rlhf.run_experiment` measures (see :mod:`funlm.rlhf.experiment`): the reward
model's held-out accuracy, the judge's mean reward of every stage, the betas chosen on the
held-out selection instructions, KL per beta, the small aligned model's win rate against a 4x
larger base model, 95 % intervals, the criteria and the training curves.
"""

from __future__ import annotations

from typing import Any

from funlm import rlhf
from funlm.profile import Profile

HEADLINE_KEYS = [
    "rm_accuracy",
    "reward_base",
    "reward_sft",
    "reward_dpo",
    "reward_dpo_rm",
    "reward_rlhf",
    "dpo_beta",
    "dpo_rm_beta",
    "rlhf_beta",
    "kl_by_beta",
    "small_aligned_vs_large_base_winrate",
    "criteria",
]


def run(profile: Profile) -> dict[str, Any]:
    return rlhf.run_experiment(rlhf.settings(profile))
