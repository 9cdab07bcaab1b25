"""Least squares with and without a ridge penalty, for under- and over-determined systems.

``A`` is ``(n, p)`` (n equations/samples, p unknowns/features) and ``y`` is ``(n,)`` or ``(n, k)``.

- ``p < n`` (under-parameterised): least squares has one solution, ``(A^T A)^{-1} A^T y``.
- ``p > n`` (over-parameterised): infinitely many ``beta`` fit the data exactly; the
  *minimum-norm* one is ``A^T (A A^T)^{-1} y = pinv(A) y``. It lies in the row space of ``A``
  (orthogonal to the null space), and it is what gradient descent started from zero converges to.
"""

from __future__ import annotations

import numpy as np


def min_norm_lstsq(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The minimum-norm least-squares solution ``pinv(A) @ y`` (via LAPACK ``gelsd``)."""
    return np.linalg.lstsq(A, y, rcond=None)[0]


def ridge(A: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """``argmin ||A beta - y||^2 + lam ||beta||^2``; ``lam = 0`` gives the minimum-norm solution.

    Solves the smaller of the two equivalent systems: ``(A^T A + lam I) beta = A^T y`` when
    ``p <= n``, or ``beta = A^T (A A^T + lam I)^{-1} y`` when ``p > n``.
    """
    if lam < 0:
        raise ValueError(f"ridge penalty must be >= 0, got {lam}")
    if lam == 0:
        return min_norm_lstsq(A, y)
    n, p = A.shape
    if p <= n:
        return np.linalg.solve(A.T @ A + lam * np.eye(p), A.T @ y)
    return A.T @ np.linalg.solve(A @ A.T + lam * np.eye(n), y)


def mse(prediction: np.ndarray, target: np.ndarray) -> float:
    """Mean over samples of the squared error (summed over outputs for 2-D targets)."""
    diff = np.asarray(prediction) - np.asarray(target)
    per_sample = diff**2 if diff.ndim == 1 else np.sum(diff**2, axis=1)
    return float(np.mean(per_sample))
