"""Chapter 4: double descent in random-features regression and in small neural networks.

- ``features``: random ReLU features (a two-layer network with a frozen first layer);
- ``regression``: minimum-norm least squares (truncated SVD), gradient descent and ridge, for any
  shape of system;
- ``data``: the synthetic teacher problem and scikit-learn's digits, with label noise;
- ``sweeps``: test-error curves over the number of features or of samples, and their peaks;
- ``mlp``: width-wise and epoch-wise double descent of a trained one-hidden-layer network;
- ``threads``: run the small problems on one thread (much faster on a busy laptop);
- ``experiment``: the headline experiment, every curve above with its intervals and criteria:
  :func:`settings` and :func:`run_experiment` (``python -m funlm.repro ch04``);
- ``plots``: the chapter's figures, drawn from a live run or from the recorded cpu run;
  ``widgets``: the explorer of the random-features curve.

The functions that are graded answers of the exercise (``min_norm_lstsq``,
``gradient_descent_lstsq``, ``relu_features``, ``flip_labels``, ``ridge``, ``select_lambda``)
are marked with ``funlm.answer_keys.answer_key``.
"""

from __future__ import annotations

from funlm.double_descent.data import Dataset, digits_data, flip_labels, teacher_data
from funlm.double_descent.experiment import Settings, run_experiment, settings
from funlm.double_descent.features import random_weights, relu_features
from funlm.double_descent.regression import gradient_descent_lstsq, min_norm_lstsq, mse, ridge
from funlm.double_descent.sweeps import (
    DEFAULT_RATIOS,
    Curve,
    feature_counts,
    peak_summary,
    rf_curve,
    sample_curve,
    select_lambda,
    validated_ridge_curve,
)
from funlm.double_descent.threads import one_thread

__all__ = [
    "DEFAULT_RATIOS",
    "Curve",
    "Dataset",
    "Settings",
    "digits_data",
    "feature_counts",
    "flip_labels",
    "gradient_descent_lstsq",
    "min_norm_lstsq",
    "mse",
    "one_thread",
    "peak_summary",
    "random_weights",
    "relu_features",
    "rf_curve",
    "ridge",
    "run_experiment",
    "sample_curve",
    "select_lambda",
    "settings",
    "teacher_data",
    "validated_ridge_curve",
]
