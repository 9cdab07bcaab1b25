"""The chapter's prompt playground: edit the instruction, pick a strategy and a temperature, and
see the prompt, the model's answer(s) and the extracted answer.

:func:`ask` does the work and returns plain data (it is what the tests call);
:func:`prompt_playground` wraps it in ipywidgets. Executed without a live kernel (book build,
grader) the playground runs once with its default values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import funlm.prompt_eng.templates as T
from funlm.prompt_eng.constrained import (
    DigitsLogitsProcessor,
    LabelLogitsProcessor,
    digit_token_ids,
    label_token_ids,
)
from funlm.prompt_eng.harness import STRATEGIES, build_prompts, extractor, generate_samples
from funlm.prompt_eng.self_consistency import majority_vote
from funlm.prompt_eng.tasks import Item, load_arith, load_sentiment

TASKS: dict[str, T.TaskSpec] = {
    "sentiment": T.SENTIMENT,
    "sentiment (Korean prompt)": T.SENTIMENT_KO,
    "arithmetic": T.ARITH,
}
DEFAULT_INPUTS = {
    "sentiment": "The battery died after an hour, but the screen is gorgeous.",
    "sentiment (Korean prompt)": "배송은 느렸지만 음식은 정말 맛있었어요.",
    "arithmetic": "Mina has 14 stickers. She gives 5 to Leo and buys 8 more. "
    "How many stickers does Mina have now?",
}


@dataclass
class Answer:
    prompt: str
    outputs: list[str]
    answers: list[Any]
    final: Any


def _demos(task: T.TaskSpec) -> list[Item]:
    return load_arith("demo") if task.labels is None else load_sentiment("demo")


def ask(
    model: Any,
    tokenizer: Any,
    task_name: str,
    strategy: str,
    text: str,
    *,
    instruction: str | None = None,
    temperature: float = 0.0,
    n_samples: int = 5,
    max_new_tokens: int = 48,
    seed: int = 0,
) -> Answer:
    """Run one input through one strategy. ``temperature == 0`` means greedy decoding;
    ``self_consistency`` always samples (temperature 0.7 if 0 is given)."""
    task = TASKS[task_name]
    if instruction is not None:
        task = replace(task, instruction=instruction)
    lang = "ko" if any("가" <= ch <= "힣" for ch in text) else "en"
    item = Item(id="playground", split="test", text=text, answer="", lang=lang)
    prompt = build_prompts(tokenizer, task, strategy, [item], _demos(task))[0]
    n, processor, new_tokens = 1, None, max_new_tokens
    sample = temperature > 0
    if strategy == "self_consistency":
        n, sample = n_samples, True
        temperature = temperature or 0.7
    if strategy == "constrained":
        eos = tokenizer.eos_token_id
        if task.labels:
            ids = label_token_ids(tokenizer, list(task.shown_labels or ()))
            new_tokens = max(len(i) for i in ids) + 1

            def processor(length: int) -> LabelLogitsProcessor:
                return LabelLogitsProcessor(ids, length, eos)
        else:
            digits = digit_token_ids(tokenizer)
            new_tokens = 5

            def processor(length: int) -> DigitsLogitsProcessor:
                return DigitsLogitsProcessor(digits, length, eos)
    elif strategy in ("zero_shot", "few_shot"):
        new_tokens = min(max_new_tokens, 16)
    outputs = generate_samples(
        model,
        tokenizer,
        [prompt],
        n=n,
        max_new_tokens=new_tokens,
        do_sample=sample,
        temperature=temperature if sample else 1.0,
        seed=seed,
        processor=processor,
    )[0]
    extract = extractor(task)
    answers = [extract(o) for o in outputs]
    return Answer(prompt, outputs, answers, majority_vote(answers))


def prompt_playground(model: Any, tokenizer: Any) -> None:
    """Widgets: task, strategy, editable instruction, input, temperature, samples."""
    from ipywidgets import Dropdown, FloatSlider, IntSlider, Layout, Textarea, interact

    def run(
        task_name: str,
        strategy: str,
        instruction: str,
        text: str,
        temperature: float,
        n_samples: int,
    ) -> None:
        result = ask(
            model,
            tokenizer,
            task_name,
            strategy,
            text,
            instruction=instruction,
            temperature=temperature,
            n_samples=n_samples,
        )
        print("── prompt (the text the model reads) " + "─" * 30)
        print(result.prompt[-1200:])
        print("── output(s) " + "─" * 55)
        for out, ans in zip(result.outputs, result.answers, strict=True):
            print(f"{out!r}\n   → extracted: {ans!r}")
        print("── final answer:", repr(result.final), "(None = format error)")

    wide = Layout(width="95%")
    interact(
        run,
        task_name=Dropdown(options=list(TASKS), value="sentiment", description="task"),
        strategy=Dropdown(
            options=list(STRATEGIES),
            value="few_shot",
            description="strategy",
        ),
        instruction=Textarea(
            value=T.SENTIMENT.instruction,
            description="instruction",
            layout=wide,
            continuous_update=False,
        ),
        text=Textarea(
            value=DEFAULT_INPUTS["sentiment"],
            description="input",
            layout=wide,
            continuous_update=False,
        ),
        temperature=FloatSlider(
            value=0.0,
            min=0.0,
            max=1.5,
            step=0.1,
            description="temperature",
            continuous_update=False,
        ),
        n_samples=IntSlider(
            value=3, min=1, max=9, step=2, description="samples", continuous_update=False
        ),
    )
