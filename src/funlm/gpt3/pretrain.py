"""Pretraining the teaching GPT on the TinyWorld corpus, and a model-size sweep for a scaling law.

Chapter 1 uses these in its demo notebooks, its exercise and its reproduction
(``python -m funlm.repro ch01``); every size comes from the active profile through
:func:`sweep_settings`, so the same code runs on a laptop, on a GPU and in the grader.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from funlm.gpt3.corpus import LINE_KINDS, CharCorpus, CharTokenizer, get_batch, line_kind
from funlm.models.gpt import GPT, GPTConfig
from funlm.profile import Profile
from funlm.train import TrainResult, train


@dataclass(frozen=True)
class ModelSize:
    """The shape of one GPT in a sweep."""

    n_layer: int
    n_head: int
    n_embd: int


@dataclass(frozen=True)
class SweepSettings:
    """A sweep: model sizes, and the one training budget every size gets."""

    sizes: tuple[ModelSize, ...]
    steps: int
    batch_size: int
    block_size: int
    lr: float
    n_train_chars: int
    n_val_chars: int
    n_eval_batches: int = 8

    @property
    def tokens_per_model(self) -> int:
        return self.steps * self.batch_size * self.block_size


def sweep_settings(profile: Profile) -> SweepSettings:
    """The chapter's scaling sweep, sized for ``profile`` (five or more sizes in every profile)."""
    sizes = profile.pick(
        grade=((2, 2, 16), (2, 2, 24), (2, 2, 32), (2, 4, 48), (2, 4, 64)),
        cpu=((2, 2, 32), (2, 4, 48), (2, 4, 64), (3, 4, 96), (4, 4, 128)),
        gpu=((2, 2, 32), (2, 4, 64), (3, 4, 96), (4, 4, 128), (4, 4, 192), (6, 8, 256),
             (6, 8, 384)),
    )  # fmt: skip
    return SweepSettings(
        sizes=tuple(ModelSize(*s) for s in sizes),
        steps=profile.pick(grade=80, cpu=300, gpu=2000),
        batch_size=profile.pick(grade=32, cpu=32, gpu=64),
        block_size=profile.pick(grade=32, cpu=64, gpu=128),
        lr=3e-3,
        n_train_chars=profile.pick(grade=100_000, cpu=1_000_000, gpu=20_000_000),
        n_val_chars=profile.pick(grade=20_000, cpu=50_000, gpu=200_000),
        n_eval_batches=profile.pick(grade=4, cpu=8, gpu=16),
    )


def make_gpt(size: ModelSize, vocab_size: int, block_size: int, seed: int = 0) -> GPT:
    """A freshly initialised GPT of ``size`` (seeded, so the same seed gives the same weights)."""
    torch.manual_seed(seed)
    config = GPTConfig(
        vocab_size=vocab_size,
        block_size=block_size,
        n_layer=size.n_layer,
        n_head=size.n_head,
        n_embd=size.n_embd,
    )
    return GPT(config)


def eval_batches(
    ids: np.ndarray, block_size: int, batch_size: int, n_batches: int
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Fixed, non-overlapping validation windows from the start of ``ids`` (no randomness)."""
    need = n_batches * batch_size * block_size + 1
    if len(ids) < need:
        raise ValueError(f"validation text too short: {len(ids)} tokens < {need}")
    batches = []
    for b in range(n_batches):
        starts = [(b * batch_size + i) * block_size for i in range(batch_size)]
        x = np.stack([ids[s : s + block_size] for s in starts])
        y = np.stack([ids[s + 1 : s + 1 + block_size] for s in starts])
        batches.append((torch.from_numpy(x), torch.from_numpy(y)))
    return batches


def pretrain(
    model: GPT,
    corpus: CharCorpus,
    *,
    steps: int,
    batch_size: int,
    lr: float = 3e-3,
    n_eval_batches: int = 8,
    eval_every: int | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: bool | None = None,
) -> TrainResult:
    """Train ``model`` on random windows of the training text; evaluate on the validation text."""
    block_size = model.config.block_size
    rng = np.random.default_rng(seed)
    model.to(device)

    def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = get_batch(corpus.train_ids, block_size, batch_size, rng)
        return x.to(device), y.to(device)

    val = [
        (x.to(device), y.to(device))
        for x, y in eval_batches(corpus.val_ids, block_size, batch_size, n_eval_batches)
    ]
    return train(
        model, batch, steps=steps, lr=lr, eval_batches=val, eval_every=eval_every,
        progress=progress,
    )  # fmt: skip


@dataclass
class SweepPoint:
    """One trained size: its non-embedding parameter count N and final validation loss."""

    n_layer: int
    n_head: int
    n_embd: int
    n_params: int
    val_loss: float
    seconds: float
    eval_loss: list[tuple[int, float]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def scaling_sweep(
    corpus: CharCorpus,
    settings: SweepSettings,
    *,
    seed: int = 0,
    device: str = "cpu",
    eval_every: int | None = None,
    progress: bool | None = None,
    sizes: Sequence[ModelSize] | None = None,
) -> list[SweepPoint]:
    """Train every size in ``settings`` on the same token budget; return (N, loss) points."""
    points = []
    for size in sizes or settings.sizes:
        start = time.perf_counter()
        model = make_gpt(size, corpus.vocab_size, settings.block_size, seed=seed)
        result = pretrain(
            model, corpus, steps=settings.steps, batch_size=settings.batch_size, lr=settings.lr,
            n_eval_batches=settings.n_eval_batches, eval_every=eval_every, seed=seed,
            device=device, progress=progress,
        )  # fmt: skip
        points.append(
            SweepPoint(
                n_layer=size.n_layer,
                n_head=size.n_head,
                n_embd=size.n_embd,
                n_params=model.num_params(),
                val_loss=round(result.final_eval_loss, 4),
                seconds=round(time.perf_counter() - start, 1),
                eval_loss=result.eval_loss,
            )
        )
    return points


@torch.no_grad()
def loss_by_kind(
    model: GPT,
    text: str,
    tokenizer: CharTokenizer,
    *,
    lines_per_kind: int = 100,
    device: str = "cpu",
) -> dict[str, float]:
    """Mean loss (nats/char) on the first ``lines_per_kind`` lines of each kind in ``text``.

    Each line is scored on its own, after a newline, as it would start a paragraph; the loss
    covers the line's characters and its closing newline.
    """
    model.eval()
    result = {}
    block = model.config.block_size
    for kind in LINE_KINDS:
        lines = [line for line in text.splitlines() if line and line_kind(line) == kind]
        ids = [tokenizer.encode("\n" + line + "\n")[: block + 1] for line in lines[:lines_per_kind]]
        if not ids:
            continue
        width = max(len(seq) for seq in ids) - 1
        x = torch.zeros(len(ids), width, dtype=torch.long)
        y = torch.full((len(ids), width), -100, dtype=torch.long)
        for i, seq in enumerate(ids):
            x[i, : len(seq) - 1] = torch.tensor(seq[:-1])
            y[i, : len(seq) - 1] = torch.tensor(seq[1:])
        _, loss = model(x.to(device), y.to(device))
        result[kind] = float(loss)
    return result
