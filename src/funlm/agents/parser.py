"""Read one ReAct step (Thought / Action / Action Input / Final Answer) out of model text.

A small model's output is messy: labels in bold or lower case, the input inline with the action
(``calculator[2+3]``), a made-up ``Observation:`` that the model wrote for itself, a final answer
followed by another question. :func:`parse_react` never raises; it returns a
:class:`ParsedStep` whose ``kind`` is ``"action"``, ``"final"`` or ``"error"`` (with a message
the agent loop shows the model as its observation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from funlm.answer_keys import answer_key

__all__ = ["FINISH_ACTION", "ParsedStep", "parse_react"]

FINISH_ACTION = "finish"  # ``Action: finish`` + ``Action Input: <answer>`` ends the run (ReAct)

# Labels, longest first so that "Action Input" wins over "Action". Markdown decorations (**, __,
# #, >, -) around a label and a full-width colon are accepted.
_LABEL = re.compile(
    r"\b(?P<label>final[\s_]*answer|action[\s_]*input|action|thought|observation)\b"
    r"\s*[*_`]*\s*[:：]",
    re.IGNORECASE,
)
_INLINE_CALL = re.compile(r"^(?P<name>[\w\-]+)\s*[\[(](?P<arg>.*)[\])]\s*$", re.DOTALL)
_WRAPPERS = "`\"'*“”‘’ "


@dataclass(frozen=True)
class ParsedStep:
    """One parsed model step.

    ``kind == "action"``: ``action`` (normalised tool name) and ``action_input`` (raw string).
    ``kind == "final"``: ``answer``. ``kind == "error"``: ``error`` says what was wrong.
    ``thought`` is whatever reasoning text came first (may be empty).
    """

    kind: Literal["action", "final", "error"]
    thought: str = ""
    action: str | None = None
    action_input: str | None = None
    answer: str | None = None
    error: str | None = None


def _canonical(label: str) -> str:
    label = re.sub(r"[\s_]+", "", label.lower())
    return {"finalanswer": "final", "actioninput": "input"}.get(label, label)


def _clean(value: str) -> str:
    """Strip whitespace, code fences and wrapping quotes/markup from a field value."""
    value = value.strip()
    value = re.sub(r"^```\w*\s*|\s*```$", "", value)
    return value.strip(_WRAPPERS).strip()


def _first_line(value: str) -> str:
    for line in value.splitlines():
        if line.strip():
            return line
    return ""


def _tool_name(value: str) -> str:
    name = _clean(_first_line(value)).rstrip(".:;,")
    return re.sub(r"[\s\-]+", "_", name.strip(_WRAPPERS)).lower()


def _input_value(value: str) -> str:
    value = value.strip()
    if value.startswith("{") and "}" in value:  # a JSON object may span lines
        return value[: value.rindex("}") + 1]
    return _clean(_first_line(value))


@answer_key
def parse_react(text: str) -> ParsedStep:
    """Parse the model's text for one step (the text that follows ``Thought:`` in the prompt).

    Rules: anything the model wrote after its own ``Observation:`` is ignored (it is invented);
    whichever of ``Action`` / ``Final Answer`` comes first decides the step; ``Action: finish``
    with an input, or ``finish[...]``, is a final answer.
    """
    if not isinstance(text, str) or not text.strip():
        return ParsedStep("error", error="empty output: write Thought, then Action or Final Answer")
    fields: list[tuple[str, str]] = []  # (label, value) in order of appearance
    matches = list(_LABEL.finditer(text))
    head_end = matches[0].start() if matches else len(text)
    thought = _clean(text[:head_end])
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        label = _canonical(m.group("label"))
        if label == "observation":
            break  # the model imagined the tool's answer: stop reading here
        fields.append((label, text[m.end() : end]))
    for label, value in fields:
        if label == "thought" and not thought:
            thought = _clean(value)
    decisive = next(((lab, val) for lab, val in fields if lab in ("action", "final")), None)
    if decisive is None:
        return ParsedStep(
            "error", thought=thought, error="no 'Action:' or 'Final Answer:' found in the output"
        )
    label, value = decisive
    if label == "final":
        answer = _clean(_first_line(value))
        if not answer:
            return ParsedStep("error", thought=thought, error="'Final Answer:' is empty")
        return ParsedStep("final", thought=thought, answer=answer)
    # an action: its input is the first "Action Input" after it
    position = fields.index(decisive)
    raw_input = next((val for lab, val in fields[position + 1 :] if lab == "input"), None)
    first = _clean(_first_line(value))
    inline = _INLINE_CALL.match(first)
    if inline and raw_input is None:  # ReAct paper style: calculator[2 + 3]
        name, action_input = _tool_name(inline.group("name")), _clean(inline.group("arg"))
    else:
        name = _tool_name(value)
        action_input = _input_value(raw_input) if raw_input is not None else None
    if not name:
        return ParsedStep("error", thought=thought, error="'Action:' has no tool name")
    if name == FINISH_ACTION:
        if not action_input:
            return ParsedStep("error", thought=thought, error="'finish' needs the answer as input")
        return ParsedStep("final", thought=thought, answer=action_input)
    if action_input is None:
        return ParsedStep("error", thought=thought, action=name, error="'Action Input:' is missing")
    return ParsedStep("action", thought=thought, action=name, action_input=action_input)
