"""Chapter 6's reproduction: a ReAct agent with tools vs the same model alone (:mod:`funlm.agents`).

``python -m funlm.repro ch06 [--profile cpu|gpu|grade]`` records what
:func:`funlm.agents.run_experiment` measures with :func:`funlm.agents.settings` of the profile
(see :mod:`funlm.agents.experiment`).
"""

from __future__ import annotations

from typing import Any

from funlm import agents
from funlm.profile import Profile

HEADLINE_KEYS = [
    "success_with_tools",
    "success_without_tools",
    "avg_steps",
    "parse_error_rate",
    "injection_blocked",
    "injection_followed_without_defence",
    "success_oracle_first_tool",
    "success_react_free_format",
    "success_react_constrained",
    "n_tasks",
]


def run(profile: Profile) -> dict[str, Any]:
    return agents.run_experiment(agents.settings(profile))
