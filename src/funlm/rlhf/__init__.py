"""Chapter 2: aligning a small GPT with demonstrations and preferences (InstructGPT, DPO).

- :mod:`~funlm.rlhf.world`: the toy review world, its tokenizer and the hidden judge;
- :mod:`~funlm.rlhf.data`: demonstrations, comparisons, SFT loss masking, padded batches;
- :mod:`~funlm.rlhf.policy`: sampling responses and their log-probabilities;
- :mod:`~funlm.rlhf.reward_model`: the Bradley-Terry reward model;
- :mod:`~funlm.rlhf.dpo`: Direct Preference Optimization;
- :mod:`~funlm.rlhf.pg`: the KL-penalised reward, REINFORCE (RLHF) and PPO's clipped objective;
- :mod:`~funlm.rlhf.pipeline` / :mod:`~funlm.rlhf.experiment`: the whole recipe, per profile,
  with the held-out selection of beta and the fair DPO/RLHF comparison;
- :mod:`~funlm.rlhf.plots`: the chapter's figures, from a run or from its committed record.
"""

from funlm.rlhf.data import IGNORE, Comparison, Demonstration, sft_example
from funlm.rlhf.dpo import dpo_loss
from funlm.rlhf.pg import kl_penalized_reward, ppo_clip_loss, reinforce_loss
from funlm.rlhf.policy import sequence_logprob
from funlm.rlhf.reward_model import RewardModel, pairwise_loss
from funlm.rlhf.world import Instruction, format_prompt, judge, make_tokenizer

__all__ = [
    "IGNORE",
    "Comparison",
    "Demonstration",
    "Instruction",
    "RewardModel",
    "dpo_loss",
    "format_prompt",
    "judge",
    "kl_penalized_reward",
    "make_tokenizer",
    "pairwise_loss",
    "ppo_clip_loss",
    "reinforce_loss",
    "sequence_logprob",
    "sft_example",
]
