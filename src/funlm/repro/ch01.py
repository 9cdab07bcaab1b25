"""Chapter 1's reproduction: the scaling sweep and the few-shot curve (:mod:`funlm.gpt3`).

``python -m funlm.repro ch01 [--profile cpu|gpu|grade]`` records what
:func:`funlm.gpt3.run_experiment` measures with :func:`funlm.gpt3.settings` of the profile.
"""

from __future__ import annotations

from typing import Any

from funlm import gpt3
from funlm.profile import Profile

HEADLINE_KEYS = ["scaling_alpha", "scaling_r2", "fewshot_acc"]


def run(profile: Profile) -> dict[str, Any]:
    return gpt3.run_experiment(gpt3.settings(profile))
