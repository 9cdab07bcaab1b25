"""A small GPT that learns linear regression in context (Garg et al. 2022, in miniature).

The prompt's pairs become a sequence of ``2n`` vectors of size ``d + 1``::

    [x_1, 0], [0, y_1], [x_2, 0], [0, y_2], ...

a linear layer reads them into the model's width and :class:`funlm.models.gpt.GPT` (called with
``embeds=``, with a one-dimensional "vocabulary" so that its head outputs one number) reads the
prediction of ``y_i`` at the position of ``x_i``, where it has seen the ``i - 1`` earlier pairs
and ``x_i`` itself but not ``y_i`` (the attention is causal).

:func:`interleave` and :func:`regression_loss` are the graded answers of chapter 3's exercise
(part 5); the model itself calls the unmarked ``_interleave``, so a test that forbids
delegating to :func:`interleave` can still run the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from funlm.answer_keys import answer_key
from funlm.icl.regression import normalised_error_by_k, sample_regression_prompts
from funlm.models.gpt import GPT, GPTConfig
from funlm.train import TrainResult, train


def _interleave(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    B, n, d = xs.shape
    x_tokens = torch.cat([xs, xs.new_zeros(B, n, 1)], dim=-1)
    y_tokens = torch.cat([xs.new_zeros(B, n, d), ys.to(xs).unsqueeze(-1)], dim=-1)
    return torch.stack([x_tokens, y_tokens], dim=2).reshape(B, 2 * n, d + 1)


@answer_key
def interleave(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """(B, n, d) inputs and (B, n) outputs -> (B, 2n, d + 1) sequence ``[x_1,0],[0,y_1],...``."""
    return _interleave(xs, ys)


class InContextRegressor(nn.Module):
    """Read-in layer + GPT (``vocab_size=1``); ``forward(xs, ys)`` -> predictions (B, n)."""

    def __init__(
        self, d: int, n_points: int, *, n_layer: int = 3, n_head: int = 4, n_embd: int = 64
    ) -> None:
        super().__init__()
        self.d, self.n_points = d, n_points
        config = GPTConfig(
            vocab_size=1,
            block_size=2 * n_points,
            n_layer=n_layer,
            n_head=n_head,
            n_embd=n_embd,
            tie_weights=False,
        )
        self.read_in = nn.Linear(d + 1, n_embd)
        self.gpt = GPT(config)

    def forward(self, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        embeds = self.read_in(_interleave(xs, ys).to(self.read_in.weight.device))
        out, _ = self.gpt(embeds=embeds)  # (B, 2n, 1)
        return out[:, 0::2, 0]  # the outputs at the x positions predict y


@answer_key
def regression_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Mean squared error of the predictions at every position (k = 0 .. n-1 pairs seen)."""
    xs, ys = batch
    return F.mse_loss(model(xs, ys), ys.to(next(model.parameters()).device))


def curriculum_dims(step: int, steps: int, d: int, start: int = 2) -> int:
    """Active input dimensions at ``step``: ``start`` at first, all ``d`` from half-way on."""
    if d <= start:
        return d
    stage = int(step / (0.5 * steps) * (d - start + 1))
    return min(d, start + stage)


@dataclass
class RegressionRun:
    """A trained regressor and its training history."""

    model: InContextRegressor
    history: TrainResult


def train_regressor(
    d: int,
    n_points: int,
    *,
    steps: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    n_layer: int = 3,
    n_head: int = 4,
    n_embd: int = 64,
    seed: int = 0,
    curriculum: bool = True,
    loss_fn: Callable[[nn.Module, tuple[torch.Tensor, torch.Tensor]], torch.Tensor] | None = None,
    device: str = "cpu",
    progress: bool | None = None,
) -> RegressionRun:
    """Train :class:`InContextRegressor` on freshly sampled prompts (a new batch every step).

    With ``curriculum`` (as Garg et al.), the first steps use prompts whose ``x`` has only a
    few non-zero coordinates; one more coordinate is switched on at regular steps until all
    ``d`` are used for the second half of training. Easy problems first speed learning up.
    ``loss_fn(model, (xs, ys))`` defaults to :func:`regression_loss` (the exercise passes its own).
    """
    torch.manual_seed(seed)
    model = InContextRegressor(d, n_points, n_layer=n_layer, n_head=n_head, n_embd=n_embd)
    model.to(device)
    generator = torch.Generator().manual_seed(seed)

    def get_batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        xs, ys, w = sample_regression_prompts(batch_size, n_points, d, generator=generator)
        active = curriculum_dims(step, steps, d) if curriculum else d
        if active < d:
            xs[:, :, active:] = 0.0
            ys = (xs @ w.unsqueeze(-1)).squeeze(-1)
        return xs.to(device), ys.to(device)

    history = train(
        model,
        get_batch,
        steps=steps,
        lr=lr,
        weight_decay=0.0,
        loss_fn=regression_loss if loss_fn is None else loss_fn,
        progress=progress,
    )
    return RegressionRun(model=model, history=history)


@torch.no_grad()
def model_errors(
    predict: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    xs: torch.Tensor,
    ys: torch.Tensor,
) -> list[float]:
    """Normalised error per k of any ``predict(xs, ys) -> (B, n)`` (e.g. a trained model)."""
    return normalised_error_by_k(predict(xs, ys).cpu(), ys, xs.shape[-1]).tolist()
