"""Specialise the small model for one narrow task with LoRA (Hu et al. 2022), written from scratch.

LoRA keeps a pretrained weight matrix ``W`` (out × in) frozen and learns a low-rank update:
``W x + (alpha / r) · B A x`` with ``A`` (r × in) and ``B`` (out × r). ``B`` starts at zero, so
the adapted model starts exactly equal to the original; only ``r · (in + out)`` numbers per
matrix are trained. :func:`add_lora` puts adapters on chosen projections of chosen layers and
freezes everything else; :func:`finetune` runs supervised fine-tuning (SFT) where the loss
counts only the answer tokens (:func:`sft_example`).

For speed on a CPU the adapters go on the **top** layers only: the backward pass then stops
there, and a training step costs little more than a forward pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from funlm.answer_keys import answer_key
from funlm.prompt_eng.templates import Message, render

IGNORE_INDEX = -100
ALL_PROJECTIONS: tuple[str, ...] = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
)


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update ``(alpha / r) · B A``."""

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16.0) -> None:
        super().__init__()
        if r <= 0:
            raise ValueError("rank r must be positive")
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.r = r
        self.scaling = alpha / r
        # A: small random (as in the LoRA paper and peft), B: zeros -> the update starts at 0
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, dtype=base.weight.dtype))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, dtype=base.weight.dtype))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.lora_A.data = self.lora_A.data.to(base.weight.device)
        self.lora_B.data = self.lora_B.data.to(base.weight.device)

    @answer_key
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (..., in) -> (..., out); the low-rank path never builds the out × in matrix
        return self.base(x) + (x @ self.lora_A.T @ self.lora_B.T) * self.scaling

    def merged_weight(self) -> torch.Tensor:
        """``W + (alpha / r) · B A``: the single matrix equivalent to this layer."""
        return self.base.weight + self.scaling * (self.lora_B @ self.lora_A)


def add_lora(
    model: nn.Module,
    *,
    r: int = 8,
    alpha: float = 16.0,
    targets: Sequence[str] = ALL_PROJECTIONS,
    top_layers: int | None = None,
) -> list[LoRALinear]:
    """Freeze ``model`` and wrap the ``targets`` projections of its last ``top_layers`` decoder
    layers (all layers when ``None``) in :class:`LoRALinear`. Returns the new adapters."""
    for p in model.parameters():
        p.requires_grad_(False)
    layers = model.model.layers
    chosen = (
        range(len(layers)) if top_layers is None else range(len(layers) - top_layers, len(layers))
    )
    adapters: list[LoRALinear] = []
    for i in chosen:
        for parent in (layers[i].self_attn, layers[i].mlp):
            for name in targets:
                child = getattr(parent, name, None)
                if isinstance(child, nn.Linear):
                    adapter = LoRALinear(child, r=r, alpha=alpha)
                    setattr(parent, name, adapter)
                    adapters.append(adapter)
    return adapters


def merge_lora(model: nn.Module) -> int:
    """Replace every :class:`LoRALinear` by a plain ``nn.Linear`` with the merged weight.

    The merged model computes the same function with no extra cost at inference. Returns the
    number of merged layers.
    """
    merged = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, LoRALinear):
                plain = nn.Linear(
                    child.base.in_features,
                    child.base.out_features,
                    bias=child.base.bias is not None,
                )
                plain.to(child.base.weight.device, child.base.weight.dtype)
                with torch.no_grad():
                    plain.weight.copy_(child.merged_weight())
                    if child.base.bias is not None:
                        plain.bias.copy_(child.base.bias)
                plain.requires_grad_(False)
                setattr(parent, name, plain)
                merged += 1
    return merged


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """``(trainable, total)`` parameter counts (tied weights counted once)."""
    seen: set[int] = set()
    trainable = total = 0
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return trainable, total


@answer_key
def sft_example(tokenizer: Any, messages: Sequence[Message], answer: str) -> dict[str, list[int]]:
    """One supervised example: the rendered prompt, then ``answer`` and the end-of-turn token.

    ``labels`` equal ``input_ids`` on the answer and end tokens and ``-100`` (ignored by the
    loss) on the prompt, so the model learns to *answer*, not to repeat the question.
    """
    prompt_ids = tokenizer.encode(render(tokenizer, messages), add_special_tokens=False)
    answer_ids = [*tokenizer.encode(answer, add_special_tokens=False), tokenizer.eos_token_id]
    return {
        "input_ids": prompt_ids + answer_ids,
        "labels": [IGNORE_INDEX] * len(prompt_ids) + answer_ids,
    }


def collate_left(examples: Sequence[dict[str, list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    """Left-pad a batch: the answers line up at the end, so the logits of the last few positions
    are all the loss needs."""
    width = max(len(e["input_ids"]) for e in examples)
    ids, labels, mask = [], [], []
    for e in examples:
        gap = width - len(e["input_ids"])
        ids.append([pad_id] * gap + e["input_ids"])
        labels.append([IGNORE_INDEX] * gap + e["labels"])
        mask.append([0] * gap + [1] * len(e["input_ids"]))
    return {
        "input_ids": torch.tensor(ids),
        "labels": torch.tensor(labels),
        "attention_mask": torch.tensor(mask),
    }


def answer_loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy over the answer tokens of a left-padded batch.

    Only the last ``k + 1`` positions go through the output layer (``k`` = the longest answer),
    which saves most of the cost of the 49k-word output projection.
    """
    labels = batch["labels"]
    answer_width = int((labels != IGNORE_INDEX).sum(dim=1).max())
    mask = batch["attention_mask"]
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    logits = model(
        input_ids=batch["input_ids"],
        attention_mask=mask,
        position_ids=positions,
        logits_to_keep=answer_width + 1,
    ).logits  # (B, k + 1, V): predictions for the last k tokens are at [:, :-1]
    targets = labels[:, -answer_width:]
    return nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
        targets.reshape(-1),
        ignore_index=IGNORE_INDEX,
    )


@dataclass
class FinetuneResult:
    losses: list[float]
    trainable: int
    total: int
    steps: int


def finetune(
    model: nn.Module,
    tokenizer: Any,
    examples: Sequence[dict[str, list[int]]],
    *,
    epochs: int = 2,
    batch_size: int = 16,
    lr: float = 2e-3,
    seed: int = 0,
    progress: bool | None = None,
) -> FinetuneResult:
    """Train the model's trainable parameters (its LoRA adapters) on ``examples``.

    Uses the course's training loop (:func:`funlm.train.train`: AdamW, warm-up, cosine decay,
    gradient clipping). Batches are reshuffled every epoch with ``seed``.
    """
    from funlm.train import train

    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    batches: list[dict[str, torch.Tensor]] = []
    for _ in range(epochs):
        order = torch.randperm(len(examples), generator=g).tolist()
        for start in range(0, len(order), batch_size):
            chunk = [examples[i] for i in order[start : start + batch_size]]
            batch = collate_left(chunk, tokenizer.pad_token_id)
            batches.append({k: v.to(device) for k, v in batch.items()})
    result = train(
        model,
        lambda step: batches[step],
        steps=len(batches),
        lr=lr,
        weight_decay=0.0,
        loss_fn=answer_loss,
        progress=progress,
    )
    trainable, total = count_parameters(model)
    return FinetuneResult(result.train_loss, trainable, total, len(batches))
