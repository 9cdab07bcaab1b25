"""Linear regression in context (Garg et al. 2022): prompts, baselines and the error per k.

A prompt is ``(x_1, y_1, ..., x_n, y_n)`` with ``x_i ~ N(0, I_d)`` and ``y_i = w . x_i`` for one
``w ~ N(0, I_d)`` per prompt. A predictor sees the first ``k`` pairs and ``x_{k+1}`` and guesses
``y_{k+1}``; we score it by the squared error divided by ``d`` (the variance of ``y``), so that
predicting 0 scores 1 and an exact answer scores 0.

Every predictor here returns, for each prompt and each position ``i``, its guess for ``y_i``
from the ``i`` earlier pairs only: shape ``(B, n)``, the same layout as the transformer's output.

The sampler, the three baselines and the error are the graded answers of chapter 3's
exercise (parts 3 and 4), hence :func:`funlm.answer_keys.answer_key`.
"""

from __future__ import annotations

import torch

from funlm.answer_keys import answer_key


@answer_key
def sample_regression_prompts(
    batch_size: int, n_points: int, d: int, *, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(xs, ys, w)``: ``xs`` (B, n, d) and ``w`` (B, d) standard normal, ``ys = xs @ w``."""
    xs = torch.randn(batch_size, n_points, d, generator=generator)
    w = torch.randn(batch_size, d, generator=generator)
    ys = (xs @ w.unsqueeze(-1)).squeeze(-1)  # (B, n)
    return xs, ys, w


@answer_key
def least_squares_predictions(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """Minimum-norm least squares fitted on the earlier pairs (the optimal answer here).

    With fewer than ``d`` pairs the system is under-determined and the pseudo-inverse picks the
    smallest ``w`` that fits them exactly; position 0 (no pairs yet) predicts 0.
    """
    B, n, _ = xs.shape
    preds = torch.zeros(B, n, dtype=xs.dtype)
    for i in range(1, n):
        w_hat = torch.linalg.pinv(xs[:, :i]) @ ys[:, :i].unsqueeze(-1)  # (B, d, 1)
        preds[:, i] = (xs[:, i : i + 1] @ w_hat).reshape(B)
    return preds


@answer_key
def nearest_neighbour_predictions(
    xs: torch.Tensor, ys: torch.Tensor, n_neighbours: int = 3
) -> torch.Tensor:
    """Mean ``y`` of the ``n_neighbours`` earlier ``x`` closest to the query (all if fewer)."""
    B, n, _ = xs.shape
    preds = torch.zeros(B, n, dtype=xs.dtype)
    for i in range(1, n):
        dist = torch.cdist(xs[:, i : i + 1], xs[:, :i]).squeeze(1)  # (B, i)
        m = min(n_neighbours, i)
        nearest = dist.topk(m, dim=1, largest=False).indices  # (B, m)
        preds[:, i] = ys[:, :i].gather(1, nearest).mean(dim=1)
    return preds


@answer_key
def averaging_predictions(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """``w_hat = mean_j y_j x_j`` over the earlier pairs, then ``w_hat . x`` (Garg et al.)."""
    B, n, _ = xs.shape
    preds = torch.zeros(B, n, dtype=xs.dtype)
    for i in range(1, n):
        w_hat = (ys[:, :i].unsqueeze(-1) * xs[:, :i]).mean(dim=1)  # (B, d)
        preds[:, i] = (xs[:, i] * w_hat).sum(dim=1)
    return preds


@answer_key
def normalised_error_by_k(preds: torch.Tensor, ys: torch.Tensor, d: int) -> torch.Tensor:
    """``err[k]`` = mean over prompts of ``(pred - y)^2 / d`` at the position after k pairs."""
    return ((preds - ys) ** 2).mean(dim=0) / d


BASELINES = {
    "least_squares": least_squares_predictions,
    "3nn": nearest_neighbour_predictions,
    "averaging": averaging_predictions,
}


def baseline_errors(xs: torch.Tensor, ys: torch.Tensor) -> dict[str, list[float]]:
    """Normalised error per k of every baseline (and of always predicting 0) on one batch."""
    d = xs.shape[-1]
    errors = {
        name: normalised_error_by_k(fn(xs, ys), ys, d).tolist() for name, fn in BASELINES.items()
    }
    errors["zero"] = normalised_error_by_k(torch.zeros_like(ys), ys, d).tolist()
    return errors
