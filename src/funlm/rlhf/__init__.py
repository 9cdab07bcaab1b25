"""Chapter 2: aligning a small GPT with demonstrations and preferences (InstructGPT, DPO).

- :mod:`~funlm.rlhf.world`: the toy review world, its tokenizer and the hidden judge;
- :mod:`~funlm.rlhf.data`: demonstrations, comparisons, SFT loss masking, padded batches;
- :mod:`~funlm.rlhf.policy`: sampling responses and their log-probabilities;
- :mod:`~funlm.rlhf.reward_model`: the Bradley-Terry reward model;
- :mod:`~funlm.rlhf.dpo`: Direct Preference Optimization;
- :mod:`~funlm.rlhf.pg`: the KL-penalised reward, REINFORCE (RLHF) and PPO's clipped objective;
- :mod:`~funlm.rlhf.pipeline`: the recipe's stages and their sizes per profile
  (:func:`settings`);
- :mod:`~funlm.rlhf.experiment`: the headline experiment (:func:`run_experiment`, ``python -m
  funlm.repro ch02``; :func:`run_stages` keeps the models), with the held-out selection of beta
  and the fair DPO/RLHF comparison;
- :mod:`~funlm.rlhf.plots`: the chapter's figures, from a run or from its committed record;
  :mod:`~funlm.rlhf.widgets`: the explorer that compares the stages' answers.
"""

from funlm.rlhf.data import IGNORE, Comparison, Demonstration, sft_example
from funlm.rlhf.dpo import dpo_loss
from funlm.rlhf.experiment import Outcome, run_experiment, run_stages
from funlm.rlhf.pg import kl_penalized_reward, ppo_clip_loss, reinforce_loss
from funlm.rlhf.pipeline import Settings, settings
from funlm.rlhf.policy import sequence_logprob
from funlm.rlhf.reward_model import RewardModel, pairwise_loss
from funlm.rlhf.world import Instruction, format_prompt, judge, make_tokenizer

__all__ = [
    "IGNORE",
    "Comparison",
    "Demonstration",
    "Instruction",
    "Outcome",
    "RewardModel",
    "Settings",
    "dpo_loss",
    "format_prompt",
    "judge",
    "kl_penalized_reward",
    "make_tokenizer",
    "pairwise_loss",
    "ppo_clip_loss",
    "reinforce_loss",
    "run_experiment",
    "run_stages",
    "sequence_logprob",
    "settings",
    "sft_example",
]
