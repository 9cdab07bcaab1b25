"""Chapter 4's reproduction: double descent, from random features to an MLP.

``python -m funlm.repro ch04 [--profile cpu|gpu|grade]`` records what
:func:`funlm.double_descent.run_experiment` measures with
:func:`funlm.double_descent.settings` of the profile (see :mod:`funlm.double_descent.experiment`).
"""

from __future__ import annotations

from typing import Any

from funlm import double_descent
from funlm.profile import Profile

HEADLINE_KEYS = [
    "rf_curve",
    "sample_wise",
    "peak_by_noise",
    "peak_by_ridge",
    "nn_widthwise",
    "epochwise",
    "criteria",
    "intervals",
]


def run(profile: Profile) -> dict[str, Any]:
    return double_descent.run_experiment(double_descent.settings(profile))
