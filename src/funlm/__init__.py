"""FunLM course support package.

Importing ``funlm`` is cheap: it loads no model, touches no GPU and starts no training.
Heavy modules (torch, transformers) are imported lazily by the functions that need them.

Each chapter's code is one package, named for its topic:

- chapter 0 (``ch00_orientation``): no package of its own; :func:`load_small_lm` and
  chapter 1's :mod:`funlm.gpt3.widgets`;
- chapter 1 (``ch01_gpt3``): :mod:`funlm.gpt3` (pretraining, scaling laws, few-shot prompts,
  sampling);
- chapter 2 (``ch02_instructgpt``): :mod:`funlm.rlhf` (SFT, reward model, DPO, RLHF);
- chapter 3 (``ch03_icl``): :mod:`funlm.icl` (in-context learning);
- chapter 4 (``ch04_double_descent``): :mod:`funlm.double_descent`;
- chapter 5 (``ch05_small_lm``): :mod:`funlm.prompt_eng` (prompt engineering, LoRA);
- chapter 6 (``ch06_agents``): :mod:`funlm.agents` (ReAct agents with tools);
- chapter 7: :mod:`funlm.repro.summary` (the table of recorded numbers).

Every chapter package exposes ``settings(profile)`` (a frozen dataclass, see
:mod:`funlm.experiment`) and ``run_experiment(settings)``; ``python -m funlm.repro chNN``
(:mod:`funlm.repro`) runs them and records the result. Shared by all chapters:
:mod:`funlm.profile`, :mod:`funlm.models`, :mod:`funlm.train`, :mod:`funlm.stats`,
:mod:`funlm.grading`, :mod:`funlm.answer_keys`, :mod:`funlm.data` (shipped data files),
:mod:`funlm.records` (recorded runs), :mod:`funlm.plots`, :mod:`funlm.diagrams`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from funlm.profile import PROFILES, Profile, ProfileError, profile, seed_everything

__all__ = [
    "PROFILES",
    "Profile",
    "ProfileError",
    "load_small_lm",
    "profile",
    "seed_everything",
]
__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from funlm.models.small_lm import load_small_lm


def __getattr__(name: str) -> Any:
    # Lazy attribute so that `import funlm` does not import torch/transformers.
    if name == "load_small_lm":
        from funlm.models.small_lm import load_small_lm

        return load_small_lm
    raise AttributeError(f"module 'funlm' has no attribute {name!r}")
