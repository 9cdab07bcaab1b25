"""Seeded token draws that work wherever the model runs.

A ``torch.Generator`` lives on one device, and ``torch.multinomial`` refuses a CPU generator
with CUDA probabilities. The course seeds CPU generators everywhere (so a seed means the same
stream on every machine); :func:`draw_multinomial` draws on the generator's device and hands the
ids back on the probabilities' device. On the CPU it is exactly ``torch.multinomial``.
"""

from __future__ import annotations

import torch


def draw_multinomial(
    probs: torch.Tensor, num_samples: int = 1, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``torch.multinomial(probs, num_samples, generator=generator)`` across devices."""
    if generator is None or generator.device == probs.device:
        return torch.multinomial(probs, num_samples, generator=generator)
    drawn = torch.multinomial(probs.to(generator.device), num_samples, generator=generator)
    return drawn.to(probs.device)
