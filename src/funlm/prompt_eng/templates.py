"""Prompt templates as plain functions: the same inputs always give the same messages.

A prompt for an instruction-tuned model is a list of chat messages (``{"role", "content"}``
dicts). The system message carries the task instruction and the required answer format; each
few-shot demonstration is a user turn (the input) followed by an assistant turn (the answer);
the query is the last user turn. :func:`render` turns messages into the model's text with its
chat template.

Strategies (the names used in the chapter's tables):

- ``zero_shot``: instruction + format, then the query;
- ``few_shot``: the same, with ``k`` demonstrations as earlier turns (Brown et al. 2020);
- ``cot``: few-shot chain-of-thought, each demonstration answered with a short rationale and
  ``Answer: <answer>`` (Wei et al. 2022);
- ``zero_shot_cot``: the assistant's reply is started with "Let's think step by step."
  (Kojima et al. 2022).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from funlm.answer_keys import answer_key

Message = dict[str, str]

ANSWER_PREFIX = "Answer:"
COT_INSTRUCTION = "Think step by step, then give the final answer as 'Answer: <answer>'."
LETS_THINK = "Let's think step by step."


@dataclass(frozen=True)
class TaskSpec:
    """What a prompt needs to know about a task.

    ``labels`` is the closed set of gold answers of a classification task (``None`` for
    numbers). ``prompt_labels`` are the words the prompt asks for (default: ``labels``) and
    ``aliases`` maps such words (e.g. Korean labels) back to the gold labels.
    """

    name: str
    instruction: str
    labels: tuple[str, ...] | None = None
    answer_format: str = ""
    prompt_labels: tuple[str, ...] | None = None
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def shown_labels(self) -> tuple[str, ...] | None:
        return self.prompt_labels or self.labels

    @property
    def fmt(self) -> str:
        return self.answer_format or format_instruction(self.shown_labels)


@answer_key
def format_instruction(labels: Sequence[str] | None) -> str:
    """The sentence that fixes the answer format.

    >>> format_instruction(["positive", "negative"])
    'Answer with exactly one word: positive or negative.'
    >>> format_instruction(["a", "b", "c"])
    'Answer with exactly one of: a, b, c.'
    >>> format_instruction(None)
    'Answer with a single number.'
    """
    if not labels:
        return "Answer with a single number."
    if len(labels) == 2:
        return f"Answer with exactly one word: {labels[0]} or {labels[1]}."
    return f"Answer with exactly one of: {', '.join(labels)}."


def system_prompt(instruction: str, answer_format: str) -> str:
    """Instruction and answer format in one system message (one space between them)."""
    return f"{instruction} {answer_format}".strip()


def zero_shot_messages(instruction: str, query: str, answer_format: str) -> list[Message]:
    """``[system, user]``: the task and its format, then the query."""
    return [
        {"role": "system", "content": system_prompt(instruction, answer_format)},
        {"role": "user", "content": query},
    ]


@answer_key
def few_shot_messages(
    instruction: str,
    demos: Sequence[tuple[str, str]],
    query: str,
    answer_format: str,
) -> list[Message]:
    """``[system, (user, assistant) * k, user]`` with ``demos`` as ``(input, answer)`` pairs."""
    messages = [{"role": "system", "content": system_prompt(instruction, answer_format)}]
    for demo_input, demo_answer in demos:
        messages.append({"role": "user", "content": demo_input})
        messages.append({"role": "assistant", "content": demo_answer})
    messages.append({"role": "user", "content": query})
    return messages


def cot_answer(rationale: str, answer: str) -> str:
    """A demonstration's reasoning and answer: ``"<rationale> Answer: <answer>"``."""
    return f"{rationale} {ANSWER_PREFIX} {answer}".strip()


def cot_messages(
    instruction: str,
    demos: Sequence[tuple[str, str, str]],
    query: str,
    labels: Sequence[str] | None = None,
) -> list[Message]:
    """Few-shot chain-of-thought: ``demos`` are ``(input, rationale, answer)`` triples.

    The system message asks for step-by-step reasoning ending in ``Answer: <answer>`` (and, for a
    classification task, names the labels).
    """
    fmt = COT_INSTRUCTION
    if labels:
        fmt = f"{COT_INSTRUCTION} The answer is one of: {', '.join(labels)}."
    pairs = [(q, cot_answer(r, a)) for q, r, a in demos]
    return few_shot_messages(instruction, pairs, query, fmt)


@answer_key
def render(tokenizer: Any, messages: Sequence[Message], assistant_prefix: str = "") -> str:
    """The prompt text: chat template with the assistant's turn opened (+ an optional prefix).

    ``assistant_prefix`` puts words in the model's mouth, e.g. ``"Let's think step by step."``
    for zero-shot chain-of-thought.
    """
    text = tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
    return text + assistant_prefix


# ---------------------------------------------------------------- the chapter's tasks

SENTIMENT = TaskSpec(
    name="sentiment",
    instruction="Classify the sentiment of the review.",
    labels=("positive", "negative"),
)
SENTIMENT_KO = TaskSpec(
    name="sentiment_ko_prompt",
    instruction="다음 리뷰의 감정을 분류하세요.",
    labels=("positive", "negative"),
    prompt_labels=("긍정", "부정"),
    answer_format="긍정 또는 부정 중 한 단어로만 답하세요.",
    aliases={"긍정": "positive", "부정": "negative"},
)
ARITH = TaskSpec(name="arithmetic", instruction="Solve the math word problem.", labels=None)
