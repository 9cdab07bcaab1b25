"""Chapter 5's reproduction: prompting strategies and a specialised model (:mod:`funlm.prompt_eng`).

``python -m funlm.repro ch05 [--profile cpu|gpu|grade]`` records what
:func:`funlm.prompt_eng.run_experiment` measures with :func:`funlm.prompt_eng.settings` of the
profile (see :mod:`funlm.prompt_eng.experiment`).
"""

from __future__ import annotations

from typing import Any

from funlm import prompt_eng
from funlm.profile import Profile

HEADLINE_KEYS = [
    "strategy_acc",
    "format_error_rate",
    "cot_delta",
    "specialised_vs_prompted",
    "korean",
]


def run(profile: Profile) -> dict[str, Any]:
    return prompt_eng.run_experiment(prompt_eng.settings(profile))
