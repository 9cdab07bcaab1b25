"""Chapter 3's reproduction: demonstrations, regression in context, induction heads.

``python -m funlm.repro ch03 [--profile cpu|gpu|grade]`` records what
:func:`funlm.icl.run_experiment` measures with :func:`funlm.icl.settings` of the profile (see
:mod:`funlm.icl.experiment`).
"""

from __future__ import annotations

from typing import Any

from funlm import icl
from funlm.profile import Profile

HEADLINE_KEYS = ["min_acc", "min_gap_k8", "garg_error_by_k", "induction"]


def run(profile: Profile) -> dict[str, Any]:
    return icl.run_experiment(icl.settings(profile))
