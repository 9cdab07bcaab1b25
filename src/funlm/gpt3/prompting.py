"""Building zero-, one- and few-shot prompts: an instruction, k demonstrations, then the query.

GPT-3 (Brown et al. 2020) specifies a task entirely in the prompt. With the default format a
2-shot prompt reads::

    Classify the sentiment of each review as positive or negative.

    Review: The bread was fresh and the coffee was strong.
    Sentiment: positive

    Review: The app crashes every time I open the camera.
    Sentiment: negative

    Review: The battery barely lasts a morning.
    Sentiment:

and the model's continuation after the last ``Sentiment:`` is its answer. The prompt ends without
a trailing space: the answer is scored (or generated) as ``" " + label``, which is how BPE
tokenizers such as GPT-2's or SmolLM2's spell a word that follows a space.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from funlm.answer_keys import answer_key


@dataclass(frozen=True)
class Example:
    """One input/output pair: a demonstration in a prompt, or a test item with its answer."""

    input: str
    output: str


@dataclass(frozen=True)
class PromptFormat:
    """How an example is written: ``{input_prefix}{input}\\n{output_prefix} {output}``."""

    input_prefix: str = "Input: "
    output_prefix: str = "Output:"
    separator: str = "\n\n"  # between the instruction and the examples, and between examples


def format_example(example: Example, fmt: PromptFormat = PromptFormat()) -> str:
    """A demonstration written out with its answer."""
    return f"{fmt.input_prefix}{example.input}\n{fmt.output_prefix} {example.output}"


def prompt_prefix(
    instruction: str, demos: Sequence[Example], fmt: PromptFormat = PromptFormat()
) -> str:
    """The instruction and the demonstrations joined by ``fmt.separator`` (no separator after).

    It ends on a word, not on whitespace: BPE tokenizers spell ``"\n\n"`` at the very end of a
    text differently from ``"\n\n"`` before more text, so a prefix cut after the separator
    would not tokenize like the same words inside the whole prompt.
    """
    blocks = [instruction] if instruction else []
    blocks += [format_example(demo, fmt) for demo in demos]
    return fmt.separator.join(blocks)


def format_query(query: str, fmt: PromptFormat = PromptFormat()) -> str:
    """The open query block that ends the prompt, right after ``fmt.output_prefix``."""
    return f"{fmt.input_prefix}{query}\n{fmt.output_prefix}"


@answer_key
def build_prompt(
    instruction: str,
    demos: Sequence[Example],
    query: str,
    fmt: PromptFormat = PromptFormat(),
) -> str:
    """The k-shot prompt (k = ``len(demos)``): instruction, demonstrations, then the open query.

    An empty ``instruction`` is left out. The prompt ends right after ``fmt.output_prefix``.
    """
    prefix = prompt_prefix(instruction, demos, fmt)
    return prefix + fmt.separator + format_query(query, fmt) if prefix else format_query(query, fmt)
