"""Random ReLU features: a two-layer network whose first layer is frozen at random.

Only the output weights are fitted, by (ridge or minimum-norm) least squares, so the number of
features ``p`` is the model's number of trained parameters. Draw the widest weight matrix once
and take its first ``p`` columns: the models of a sweep are then nested, which makes the curve
over ``p`` much smoother than fresh draws for every ``p``.
"""

from __future__ import annotations

import numpy as np

from funlm.answer_keys import answer_key


def random_weights(d: int, p_max: int, seed: int) -> np.ndarray:
    """First-layer weights ``W`` of shape ``(d, p_max)`` with entries ``N(0, 1/d)``.

    Feature ``j`` (column ``j``) is the same for every ``p_max > j``: a smaller draw is a prefix
    of a larger one, so a single p can be re-measured without redrawing the whole sweep.
    """
    rng = np.random.default_rng(seed)
    return rng.standard_normal((p_max, d)).T / np.sqrt(d)


@answer_key
def relu_features(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``relu(X @ W) / sqrt(p)``: shape ``(n, p)`` for ``X`` ``(n, d)`` and ``W`` ``(d, p)``.

    The ``1/sqrt(p)`` keeps ``Phi @ Phi.T`` of order one for every ``p`` (it tends to a kernel
    as ``p`` grows), so that a ridge penalty means the same thing at every width.
    """
    p = W.shape[1]
    return np.maximum(X @ W, 0.0) / np.sqrt(p)
