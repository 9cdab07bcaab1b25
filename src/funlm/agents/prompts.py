"""The ReAct prompt: instructions, tool descriptions, few-shot trajectories, the scratchpad.

The prompt is a chat (ChatML, the format SmolLM2 was tuned on): a system message with the
instructions and tools, a few solved example conversations (few-shot trajectories), then the
user's question; the assistant turn is *prefilled* with the run so far (the scratchpad) and
ends with ``Thought:`` so the model continues from there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from funlm.agents.tools import ToolRegistry

__all__ = [
    "DIRECT_EXAMPLES",
    "REACT_EXAMPLES",
    "ChatFormat",
    "Example",
    "ExampleStep",
    "ReActPrompt",
    "chatml",
    "direct_prompt",
]

Message = dict[str, str]
ChatFormat = Callable[[Sequence[Message]], str]


def chatml(messages: Sequence[Message]) -> str:
    """Messages in ChatML, ending with an open assistant turn (SmolLM2's chat template)."""
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return text + "<|im_start|>assistant\n"


@dataclass(frozen=True)
class ExampleStep:
    thought: str
    action: str
    action_input: str
    observation: str


@dataclass(frozen=True)
class Example:
    """A solved task shown to the model: the question, the tool steps, the final answer."""

    question: str
    steps: tuple[ExampleStep, ...]
    final_thought: str
    answer: str


REACT_EXAMPLES: tuple[Example, ...] = (
    Example(
        "How many times does the letter s appear in mississippi?",
        (ExampleStep("I count letters with count_letter.", "count_letter", "mississippi, s", "4"),),
        "The tool counted 4.",
        "4",
    ),
    Example(
        "Who proposed the Transformer architecture?",
        (
            ExampleStep(
                "This is a fact from the course notes, so I use lookup.",
                "lookup",
                "Transformer architecture",
                "The Transformer architecture was proposed by Vaswani et al. in 2017.",
            ),
        ),
        "The note says Vaswani et al.",
        "Vaswani et al.",
    ),
    Example(
        "What is 23 * 19 + 7?",
        (
            ExampleStep(
                "This is arithmetic, so I use calculator.", "calculator", "23 * 19 + 7", "444"
            ),
        ),
        "The calculator says 444.",
        "444",
    ),
)

# The same example questions answered directly: the few-shot prompt of the no-tools baseline.
DIRECT_EXAMPLES: tuple[tuple[str, str], ...] = tuple((e.question, e.answer) for e in REACT_EXAMPLES)

INSTRUCTIONS = """You answer questions. You can use these tools:
{tools}

Write one step at a time in this format:
Thought: which tool to use and why
Action: the tool name ({names})
Action Input: the input for the tool
Then you get an Observation with the tool's result. When you know the answer, write:
Action: finish
Action Input: the short final answer"""


def _render_steps(steps: Sequence[tuple[str, str, str, str]], thoughts: bool = True) -> str:
    return "".join(
        (f"Thought: {thought}\n" if thoughts else "")
        + f"Action: {action}\nAction Input: {action_input}\nObservation: {observation}\n"
        for thought, action, action_input, observation in steps
    )


@dataclass(frozen=True)
class ReActPrompt:
    """Renders the prompt for a question and the steps taken so far.

    ``examples=()`` gives the zero-shot prompt (instructions only). ``thoughts=False`` gives
    the act-only variant of the ReAct paper: no ``Thought:`` lines, the prompt ends with
    ``Action:`` (see :attr:`cue`).
    """

    registry: ToolRegistry
    examples: tuple[Example, ...] = REACT_EXAMPLES
    chat: ChatFormat = chatml
    instructions: str = INSTRUCTIONS
    thoughts: bool = True

    @property
    def cue(self) -> str:
        """What the prompt ends with, and what the model's text continues."""
        return "Thought:" if self.thoughts else "Action:"

    def system(self) -> str:
        names = ", ".join([*self.registry.names, "finish"])
        text = self.instructions.format(tools=self.registry.describe(), names=names)
        if not self.thoughts:
            text = text.replace("Thought: which tool to use and why\n", "")
        return text

    def example_messages(self) -> list[Message]:
        messages: list[Message] = []
        for ex in self.examples:
            steps = [(s.thought, s.action, s.action_input, s.observation) for s in ex.steps]
            text = _render_steps(steps, self.thoughts)
            if self.thoughts:
                text += f"Thought: {ex.final_thought}\n"
            text += f"Action: finish\nAction Input: {ex.answer}"
            messages += [
                {"role": "user", "content": f"Question: {ex.question}"},
                {"role": "assistant", "content": text},
            ]
        return messages

    def render(self, question: str, steps: Sequence[tuple[str, str, str, str]] = ()) -> str:
        """The full prompt: ends with :attr:`cue` after the scratchpad of ``steps``.

        ``steps`` are ``(thought, action, action_input, observation)`` tuples.
        """
        messages = [{"role": "system", "content": self.system()}, *self.example_messages()]
        messages.append({"role": "user", "content": f"Question: {question}"})
        return self.chat(messages) + _render_steps(steps, self.thoughts) + self.cue


def direct_prompt(question: str, chat: ChatFormat = chatml, few_shot: bool = True) -> str:
    """The no-tools baseline: the same model answers in one short line."""
    messages: list[Message] = [
        {"role": "system", "content": "Answer the question with a short answer only."}
    ]
    if few_shot:
        for q, a in DIRECT_EXAMPLES:
            messages += [
                {"role": "user", "content": f"Question: {q}"},
                {"role": "assistant", "content": f"Answer: {a}"},
            ]
    messages.append({"role": "user", "content": f"Question: {question}"})
    return chat(messages) + "Answer:"
