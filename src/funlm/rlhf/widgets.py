"""An explorer: ask every model the same instruction and let the judge score their answers."""

from __future__ import annotations

import torch

from funlm.models.gpt import GPT
from funlm.rlhf.pipeline import sample_policy
from funlm.rlhf.world import SENTIMENTS, TOPICS, Instruction, WordTokenizer, judge


def compare_answers(
    models: dict[str, GPT],
    tokenizer: WordTokenizer,
    instruction: Instruction,
    *,
    n: int = 3,
    temperature: float = 1.0,
    seed: int = 0,
) -> str:
    """``n`` sampled answers of each model to ``instruction``, with the judge's score each."""
    lines = [f"q: {instruction.text}"]
    for name, model in models.items():
        answers = sample_policy(model, tokenizer, [instruction] * n, seed=seed,
                                temperature=temperature)  # fmt: skip
        lines.append(f"--- {name}")
        lines += [f"  [{judge(instruction, a):.2f}] {a}" for a in answers]
    return "\n".join(lines)


def compare_explorer(models: dict[str, GPT], tokenizer: WordTokenizer, *, n: int = 3):
    """Dropdowns for the instruction and a temperature slider; prints every model's answers.

    Runs once with the default values when executed non-interactively (e.g. a book build).
    """
    from ipywidgets import Checkbox, Dropdown, FloatSlider, IntSlider, interact

    def show(sentiment: str, topic: str, short: bool, temperature: float, seed: int) -> None:
        with torch.no_grad():
            print(compare_answers(models, tokenizer, Instruction(sentiment, topic, short), n=n,
                                  temperature=temperature, seed=seed))  # fmt: skip

    return interact(
        show,
        sentiment=Dropdown(options=list(SENTIMENTS), value="positive"),
        topic=Dropdown(options=list(TOPICS), value="soup"),
        short=Checkbox(value=True, description="short"),
        temperature=FloatSlider(value=1.0, min=0.1, max=2.0, step=0.1),
        seed=IntSlider(value=0, min=0, max=20),
    )
