"""One training loop for every model the course trains from scratch.

``train(model, get_batch, steps=...)`` runs AdamW with linear warm-up and cosine decay, gradient
clipping and periodic evaluation. ``get_batch(step)`` returns the tensors for one step and
``loss_fn(model, batch)`` turns them into a scalar loss (default: ``model(x, y)[1]`` for a
``(x, y)`` batch), so the same loop trains language models, reward models and regressors.

Progress goes to stdout (never stderr: nbgrader zeroes a cell that writes to stderr) and is
silent in the ``grade`` profile. Pass an ``accelerate.Accelerator`` to run on several GPUs.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

Batch = Any
LossFn = Callable[[nn.Module, Batch], torch.Tensor]


def lm_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    """Default loss: the model's own loss for an ``(inputs, targets)`` batch."""
    x, y = batch
    return model(x, y)[1]


@dataclass
class TrainResult:
    """Loss history of a run: ``train_loss[i]`` at step i, ``eval_loss`` as (step, loss)."""

    train_loss: list[float] = field(default_factory=list)
    eval_loss: list[tuple[int, float]] = field(default_factory=list)

    @property
    def final_eval_loss(self) -> float:
        return self.eval_loss[-1][1] if self.eval_loss else math.nan


def lr_at(step: int, steps: int, lr: float, warmup: int, min_lr_ratio: float = 0.1) -> float:
    """Linear warm-up to ``lr``, then cosine decay to ``min_lr_ratio * lr`` at ``steps``."""
    if warmup > 0 and step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return lr * (min_lr_ratio + (1.0 - min_lr_ratio) * cosine)


@torch.no_grad()
def evaluate(model: nn.Module, batches: list[Batch], loss_fn: LossFn = lm_loss) -> float:
    """Mean loss over ``batches`` in eval mode (restores the previous mode)."""
    was_training = model.training
    model.eval()
    losses = [loss_fn(model, batch).item() for batch in batches]
    model.train(was_training)
    return sum(losses) / len(losses)


def train(
    model: nn.Module,
    get_batch: Callable[[int], Batch],
    *,
    steps: int,
    lr: float = 1e-3,
    weight_decay: float = 0.1,
    warmup: int | None = None,
    grad_clip: float = 1.0,
    loss_fn: LossFn = lm_loss,
    eval_batches: list[Batch] | None = None,
    eval_every: int | None = None,
    progress: bool | None = None,
    accelerator: Any | None = None,
) -> TrainResult:
    """Train ``model`` for ``steps`` optimiser steps and return its loss history.

    ``eval_batches`` are evaluated every ``eval_every`` steps and after the last step.
    ``progress`` defaults to on, except in the grade profile.
    """
    from funlm.profile import profile

    if progress is None:
        progress = not profile().is_grading
    warmup = max(1, steps // 20) if warmup is None else warmup
    # weight decay on matrices only, not on biases, norms or embeddings' 1-D params
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=lr,
        betas=(0.9, 0.95),
    )
    if accelerator is not None:
        model, optimizer = accelerator.prepare(model, optimizer)
    result = TrainResult()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, file=sys.stdout, leave=False, desc="train")
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, steps, lr, warmup)
        loss = loss_fn(model, get_batch(step))
        optimizer.zero_grad(set_to_none=True)
        if accelerator is not None:
            accelerator.backward(loss)
        else:
            loss.backward()
        if grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        result.train_loss.append(loss.item())
        last = step == steps - 1
        if eval_batches and (last or (eval_every and (step + 1) % eval_every == 0)):
            result.eval_loss.append((step + 1, evaluate(model, eval_batches, loss_fn)))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{result.train_loss[-1]:.3f}")
    if bar is not None:
        bar.close()
    model.eval()
    return result
