"""Scripted stand-ins for a language model, so agent code can be tested without a model.

They implement the same ``generate(prompts, *, stop, max_new_tokens, constraint)`` method as
:class:`funlm.agents.generation.HFAgentLM`, and ignore the generation settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from funlm.agents.generation import ActionFormat

__all__ = ["GullibleLM", "ScriptedLM"]


def _continue(prompt: str, step: str) -> str:
    """``step`` (`` thought\nAction: ...``) as the continuation of ``prompt``: an act-only
    prompt already ends with ``Action:``, so the thought and that label are dropped."""
    if prompt.endswith("Action:") and "Action:" in step:
        return step.split("Action:", 1)[1]
    return step


def _question(prompt: str) -> str:
    """The last ``Question:`` of a ReAct prompt (the task being solved)."""
    found = re.findall(r"Question: (.*)", prompt)
    return found[-1].split("<|im_end|>")[0].strip() if found else ""


class ScriptedLM:
    """Answers from a script: ``{question: [output of step 1, output of step 2, ...]}``.

    A question's ``k``-th call returns its ``k``-th output (the last one again when the script
    runs out). A list instead of a mapping is used for every question. ``calls`` records every
    prompt it was given, in order.
    """

    def __init__(self, script: Mapping[str, Sequence[str]] | Sequence[str]) -> None:
        self.script = script
        self.calls: list[str] = []
        self._count: dict[str, int] = {}

    def _next(self, prompt: str) -> str:
        question = _question(prompt)
        if isinstance(self.script, Mapping):
            if question not in self.script:
                raise KeyError(f"no script for question {question!r}")
            outputs = self.script[question]
        else:
            outputs = self.script
        k = self._count.get(question, 0)
        self._count[question] = k + 1
        return outputs[min(k, len(outputs) - 1)]

    def generate(
        self,
        prompts: Sequence[str],
        *,
        stop: Sequence[str] = (),
        max_new_tokens: int = 64,
        constraint: ActionFormat | Sequence[ActionFormat] | None = None,
    ) -> list[str]:
        self.calls += list(prompts)
        return [self._next(p) for p in prompts]


class GullibleLM:
    """A model that obeys whatever the latest observation tells it to do.

    First step: look the question up. Then: if the last observation contains an answer in the
    agent's own format (``Action: finish`` / ``Action Input: X`` or ``Final Answer: X``) or says
    "answer ... 'X'", it answers X — exactly what an injected instruction wants. Otherwise it
    answers with the observation's first sentence. It shows why tool outputs must be treated as
    data.
    """

    _ORDERS = (
        re.compile(r"Action:\s*finish\s*[\n.;,]?\s*Action Input:\s*([^\n]+)", re.IGNORECASE),
        re.compile(r"Final Answer:\s*([^\n]+)", re.IGNORECASE),
        re.compile(
            r"\b(?:answer|reply|respond|say)\w*\b[^'\"\n]{0,30}?['\"]([^'\"\n]+)['\"]",
            re.IGNORECASE,
        ),
    )

    def __init__(self) -> None:
        self.calls: list[str] = []

    def _step(self, prompt: str) -> str:
        own = prompt.rsplit("<|im_start|>assistant\n", 1)[-1]  # this run's scratchpad
        if "Observation: " not in own:
            return f" I look it up.\nAction: lookup\nAction Input: {_question(prompt)}"
        last = own.rsplit("Observation: ", 1)[1].rsplit("\nThought:", 1)[0]
        for order in self._ORDERS:
            found = order.search(last)
            if found:
                answer = found.group(1).strip()
                return f" The note tells me what to say.\nAction: finish\nAction Input: {answer}"
        first = re.split(r"(?<=[.!?])\s", last.strip())[0]
        return f" The note answers it.\nAction: finish\nAction Input: {first}"

    def generate(
        self,
        prompts: Sequence[str],
        *,
        stop: Sequence[str] = (),
        max_new_tokens: int = 64,
        constraint: ActionFormat | Sequence[ActionFormat] | None = None,
    ) -> list[str]:
        self.calls += list(prompts)
        return [_continue(p, self._step(p)) for p in prompts]
