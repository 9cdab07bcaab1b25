"""The sampling explorer: a real model's next-token distribution under temperature, top-k, top-p.

``plot_next_token_distribution`` draws one bar chart (used for static figures too);
``sampling_explorer`` wraps it in ipywidgets (a prompt box and three sliders). Executed without a
live kernel (book build, grader) the explorer draws the chart for the default values once.
"""

from __future__ import annotations

from typing import Any

import torch

from funlm.answer_keys import answer_key
from funlm.gpt3.sampling import next_token_distribution


@answer_key
def next_token_logits(model: Any, tokenizer: Any, prompt: str) -> torch.Tensor:
    """The logits (V,) a Hugging Face causal LM gives for the token after ``prompt``."""
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    with torch.no_grad():
        return model(ids.to(model.device)).logits[0, -1].float().cpu()


def plot_next_token_distribution(
    logits: torch.Tensor,
    tokenizer: Any,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    *,
    n_show: int = 12,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Bars: the ``n_show`` likeliest tokens before filtering (grey) and after (blue)."""
    import matplotlib.pyplot as plt

    before = torch.softmax(logits.float(), dim=-1)
    after = next_token_distribution(logits, temperature, top_k, top_p)
    top = torch.topk(before, n_show).indices
    labels = [ascii(tokenizer.decode([int(i)])) for i in top]
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.2))
    x = torch.arange(n_show).numpy()
    ax.bar(x - 0.2, before[top].numpy(), width=0.4, color="lightgray", label="softmax(logits)")
    ax.bar(x + 0.2, after[top].numpy(), width=0.4, color="tab:blue", label="sampled from")
    ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("probability")
    ax.set_ylim(0, 1)
    kept = int((after > 0).sum())
    settings = f"T={temperature:g}, top_k={top_k}, top_p={top_p}"
    ax.set_title(title or f"{settings}: {kept} tokens can be sampled", fontsize=9)
    ax.legend(fontsize=8, loc="upper right")
    return ax


def sampling_explorer(model: Any, tokenizer: Any, prompt: str = "Once upon a time, there") -> None:
    """A prompt box and sliders for temperature, top-k and top-p; redraws the distribution.

    ``top_k = 0`` and ``top_p = 1.0`` mean "no filter". Displays the widget and returns None.
    """
    import matplotlib.pyplot as plt
    from ipywidgets import FloatSlider, IntSlider, Text, interact

    cache: dict[str, torch.Tensor] = {}

    def draw(prompt: str, temperature: float, top_k: int, top_p: float) -> None:
        if prompt not in cache:
            cache.clear()
            cache[prompt] = next_token_logits(model, tokenizer, prompt)
        plot_next_token_distribution(
            cache[prompt], tokenizer, temperature, top_k or None, top_p if top_p < 1 else None
        )
        plt.tight_layout()
        plt.show()

    interact(
        draw,
        prompt=Text(value=prompt, description="prompt", continuous_update=False),
        temperature=FloatSlider(value=1.0, min=0.0, max=2.0, step=0.1, description="T",
                                continuous_update=False),
        top_k=IntSlider(value=0, min=0, max=50, step=1, description="top_k (0=off)",
                        continuous_update=False),
        top_p=FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="top_p",
                          continuous_update=False),
    )  # fmt: skip
