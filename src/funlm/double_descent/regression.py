"""Least squares with and without a ridge penalty, for under- and over-determined systems.

``A`` is ``(n, p)`` (n equations/samples, p unknowns/features) and ``y`` is ``(n,)`` or ``(n, k)``.

- ``p < n`` (under-parameterised): least squares has one solution, ``(A^T A)^{-1} A^T y``.
- ``p > n`` (over-parameterised): infinitely many ``beta`` fit the data exactly; the
  *minimum-norm* one is ``A^T (A A^T)^{-1} y = pinv(A) y``. It lies in the row space of ``A``
  (orthogonal to the null space), and it is what gradient descent started from zero converges to
  (``gradient_descent_lstsq``): every gradient ``A^T r`` lies in the row space, so the iterates
  never leave it.

Through the thin SVD ``A = U diag(s) V^T`` the minimum-norm solution is
``V diag(1/s) U^T y``, where singular values ``s_i <= rcond * s_max`` count as zero (they are
rounding noise of a rank-deficient matrix, and dividing by them would blow up that noise).
``min_norm_lstsq`` and ``ridge`` are the graded answers of the chapter's exercise
(``funlm.answer_keys``).
"""

from __future__ import annotations

import numpy as np

from funlm.answer_keys import answer_key


@answer_key
def min_norm_lstsq(A: np.ndarray, y: np.ndarray, rcond: float | None = None) -> np.ndarray:
    """The minimum-norm least-squares solution ``V diag(1/s) U^T y`` over ``s > rcond * s_max``.

    ``rcond=None`` is machine epsilon times ``max(n, p)`` (numpy's default). LAPACK ``gelsd``
    computes exactly this truncated-SVD solution without forming ``V`` (faster for wide ``A``).
    """
    return np.linalg.lstsq(A, y, rcond=rcond)[0]


@answer_key
def gradient_descent_lstsq(
    A: np.ndarray,
    y: np.ndarray,
    *,
    lr: float,
    steps: int,
    beta0: np.ndarray | None = None,
) -> np.ndarray:
    """Full-batch gradient descent on ``0.5 * ||A beta - y||^2`` from ``beta0`` (default 0).

    Each step is ``beta <- beta - lr * A^T (A beta - y)``; it converges for
    ``0 < lr < 2 / s_max^2``. The part of ``beta0`` in the null space of ``A`` never changes,
    so from zero the limit is the minimum-norm solution.
    """
    A = np.asarray(A, dtype=float)
    y = np.asarray(y, dtype=float)
    shape = (A.shape[1], *y.shape[1:])
    beta = np.zeros(shape) if beta0 is None else np.array(beta0, dtype=float, copy=True)
    for _ in range(int(steps)):
        beta -= lr * (A.T @ (A @ beta - y))
    return beta


@answer_key
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
