"""Chapter 2: aligning a small GPT with demonstrations and preferences (InstructGPT, DPO).

- :mod:`~funlm.rlhf.world`: the toy review world, its tokenizer and the hidden judge;
- :mod:`~funlm.rlhf.data`: demonstrations, comparisons, SFT loss masking, padded batches;
- :mod:`~funlm.rlhf.policy`: sampling responses and their log-probabilities;
- :mod:`~funlm.rlhf.reward_model`: the Bradley-Terry reward model;
- :mod:`~funlm.rlhf.dpo`: Direct Preference Optimization;
- :mod:`~funlm.rlhf.pg`: the KL-penalised reward and REINFORCE (RLHF);
- :mod:`~funlm.rlhf.pipeline` / :mod:`~funlm.rlhf.experiment`: the whole recipe, per profile.
"""

from funlm.rlhf.data import IGNORE, Comparison, Demonstration, sft_example
from funlm.rlhf.dpo import dpo_loss
from funlm.rlhf.pg import kl_penalized_reward, reinforce_loss
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
    "reinforce_loss",
    "sft_example",
]
