"""Chapter 2 headline: SFT -> reward model -> DPO / RLHF in a toy world with a hidden judge.

``python -m funlm.repro ch02 [--profile cpu|gpu|grade]`` measures (see :mod:`funlm.rlhf`)

- ``rm_accuracy``: the reward model's accuracy on held-out labeller comparisons;
- ``reward_base``, ``reward_sft``, ``reward_dpo``, ``reward_rlhf``: the judge's mean reward of
  each stage's sampled responses on every instruction of the world;
- ``kl_by_beta``: KL(pi_DPO || pi_SFT) per response for each DPO beta;
- ``small_aligned_vs_large_base_winrate``: how often the judge prefers the small SFT+DPO model's
  answer to that of a base model with >= 4x its parameters, pretrained on the same text;
- ``criteria``: each headline claim as a boolean computed from the numbers.
"""

from __future__ import annotations

from typing import Any

from funlm.profile import Profile
from funlm.rlhf.experiment import run_experiment

HEADLINE_KEYS = [
    "rm_accuracy",
    "reward_base",
    "reward_sft",
    "reward_dpo",
    "reward_rlhf",
    "kl_by_beta",
    "small_aligned_vs_large_base_winrate",
    "criteria",
]


def run(profile: Profile) -> dict[str, Any]:
    outcome = run_experiment(profile, progress=False)
    return {**outcome.numbers, "curves": outcome.curves}
