"""Chapter 2 headline: SFT -> reward model -> DPO / RLHF in a toy world with a hidden judge.

``python -m funlm.repro ch02 [--profile cpu|gpu|grade]`` measures (see :mod:`funlm.rlhf`)

- ``rm_accuracy``: the reward model's accuracy on held-out labeller comparisons;
- ``reward_base``, ``reward_sft``, ``reward_dpo``, ``reward_dpo_rm``, ``reward_rlhf``: the
  judge's mean reward of each stage's sampled responses on the 36 evaluation instructions;
  ``dpo`` learns from judge-labelled pairs, ``dpo_rm`` from the same pairs labelled by the
  reward model that ``rlhf`` optimises;
- ``selection``: the 12 held-out instructions on which each method's beta was chosen, the
  scores of every candidate and the chosen values (``dpo_beta``, ``dpo_rm_beta``, ``rlhf_beta``);
- ``kl_by_beta``: KL(pi_DPO || pi_SFT) per response for each DPO beta;
- ``small_aligned_vs_large_base_winrate``: how often the judge prefers the small SFT+DPO model's
  answer to that of a base model with >= 4x its parameters, pretrained on the same text;
- ``intervals``: 95 % bootstrap intervals over the evaluation instructions (rewards, win rates,
  and paired differences such as ``dpo_rm_minus_rlhf``);
- ``criteria``: each headline claim as a boolean computed from the numbers;
- ``curves``: the training curves the chapter's figures draw.
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
    outcome = run_experiment(profile, progress=False)
    return {**outcome.numbers, "curves": outcome.curves}
