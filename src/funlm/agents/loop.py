"""The agent loop: ask the model for a step, run the tool, show it the observation, repeat.

Every task in a batch advances one step per model call (batched generation); a task leaves the
batch when it stops. Stop conditions, in the order they are checked after each step:

- ``final_answer`` — the model gave a final answer (``Action: finish`` or ``Final Answer:``);
- ``loop`` — the same action with the same input ``max_repeats`` times in a row (a stuck agent);
- ``parse_errors`` — ``max_parse_errors`` unreadable outputs (a confused agent);
- ``max_steps`` — the step budget is spent (runaway cost).

A tool error (unknown tool, bad arguments, division by zero) never crashes the loop: it becomes
the observation, so the model can correct itself — as ReAct does with its environment's feedback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from funlm.agents.generation import ActionFormat, AgentLM
from funlm.agents.parser import FINISH_ACTION, ParsedStep, parse_react
from funlm.agents.prompts import ReActPrompt
from funlm.agents.tools import ToolError, ToolRegistry
from funlm.answer_keys import answer_key

__all__ = ["AgentConfig", "Defence", "Step", "Transcript", "run_agent", "run_agents"]

Defence = Callable[[str], str]  # tool output -> what the model is shown
StopReason = Literal["running", "final_answer", "loop", "parse_errors", "max_steps"]

FREE_FORMAT_STOP = ("Observation:", "\nQuestion:", "<|im_end|>", "\n\n")


@dataclass
class Step:
    """One model call and what followed it."""

    raw: str  # the model's text for this step
    kind: Literal["action", "final", "error"]
    thought: str = ""
    action: str | None = None
    action_input: str | None = None
    observation: str | None = None  # what the model is shown next (None for a final step)
    tool_ok: bool | None = None  # did the tool run without error?
    flagged: bool = False  # did the defence change the tool output?


@dataclass
class Transcript:
    """Everything an agent did on one question."""

    question: str
    steps: list[Step] = field(default_factory=list)
    final_answer: str | None = None
    stop_reason: StopReason = "running"

    @property
    def done(self) -> bool:
        return self.stop_reason != "running"

    @property
    def n_steps(self) -> int:
        return len(self.steps)

    @property
    def parse_errors(self) -> int:
        return sum(step.kind == "error" for step in self.steps)

    @property
    def tools_used(self) -> list[str]:
        return [s.action for s in self.steps if s.kind == "action" and s.action]

    def scratchpad(self) -> list[tuple[str, str, str, str]]:
        """``(thought, action, action_input, observation)`` of the steps that got an observation.

        A parse error is shown back as an observation too, so the model sees what went wrong.
        """
        rows = []
        for s in self.steps:
            if s.observation is None:
                continue
            action = s.action or "(none)"
            rows.append((s.thought, action, s.action_input or "", s.observation))
        return rows

    def to_dict(self) -> dict:
        return asdict(self)

    def pretty(self) -> str:
        """A readable text version of the run."""
        lines = [f"Question: {self.question}"]
        for i, s in enumerate(self.steps, 1):
            lines.append(f"--- step {i} ({s.kind})")
            if s.thought:
                lines.append(f"Thought: {s.thought}")
            if s.kind == "action":
                lines.append(f"Action: {s.action}")
                lines.append(f"Action Input: {s.action_input}")
            if s.kind == "error":
                lines.append(f"(unreadable output: {s.raw.strip()[:120]!r})")
            if s.observation is not None:
                flag = "  [defence: text removed]" if s.flagged else ""
                lines.append(f"Observation: {s.observation}{flag}")
        lines.append(f"=> final answer: {self.final_answer!r} (stop: {self.stop_reason})")
        return "\n".join(lines)


@dataclass(frozen=True)
class AgentConfig:
    """How long and in which format the agent may run."""

    max_steps: int = 4
    constrained: bool = True  # use ActionFormat (forced labels, action chosen among the tools)
    max_parse_errors: int = 2
    max_repeats: int = 2
    max_new_tokens: int = 64  # per step, free format
    max_thought_tokens: int = 32
    max_input_tokens: int = 24
    require_tool_first: bool = True  # constrained: the first step must call a tool, not finish


def _apply(
    transcript: Transcript,
    raw: str,
    registry: ToolRegistry,
    config: AgentConfig,
    defence: Defence | None,
) -> None:
    """Parse one model output, run the tool if asked, and update ``transcript`` in place."""
    parsed: ParsedStep = parse_react(raw)
    step = Step(
        raw=raw,
        kind=parsed.kind,
        thought=parsed.thought,
        action=parsed.action,
        action_input=parsed.action_input,
    )
    transcript.steps.append(step)
    if parsed.kind == "final":
        transcript.final_answer = parsed.answer
        transcript.stop_reason = "final_answer"
        return
    if parsed.kind == "error":
        step.observation = (
            f"Invalid format ({parsed.error}). Write 'Action: <tool>' and 'Action Input: <input>'."
        )
        if transcript.parse_errors >= config.max_parse_errors:
            transcript.stop_reason = "parse_errors"
        return
    try:
        output = registry.call(parsed.action or "", parsed.action_input)
        step.tool_ok = True
    except ToolError as error:
        output = f"Error: {error}"
        step.tool_ok = False
    if defence is not None and step.tool_ok:
        shown = defence(output)
        step.flagged = shown != output
        output = shown
    step.observation = output
    recent = [(s.action, s.action_input) for s in transcript.steps[-config.max_repeats :]]
    if len(recent) == config.max_repeats and len(set(recent)) == 1:
        transcript.stop_reason = "loop"


@answer_key
def run_agents(
    questions: Sequence[str],
    lm: AgentLM,
    registry: ToolRegistry,
    *,
    config: AgentConfig | None = None,
    prompt: ReActPrompt | None = None,
    defence: Defence | None = None,
    first_tools: Sequence[str] | None = None,
) -> list[Transcript]:
    """Run one ReAct agent per question, all questions advancing together (one batch per step).

    ``first_tools`` (constrained format only) forces each question's first action: a diagnostic
    that tells tool *choice* failures apart from the rest (the "oracle tool" run).
    """
    config = config or AgentConfig()
    prompt = prompt or ReActPrompt(registry)
    transcripts = [Transcript(q) for q in questions]
    if first_tools is not None and len(first_tools) != len(transcripts):
        raise ValueError("give one first tool per question")

    def action_format(index: int, transcript: Transcript) -> ActionFormat:
        actions: tuple[str, ...] = (*registry.names, FINISH_ACTION)
        if transcript.n_steps == 0 and first_tools is not None:
            actions = (first_tools[index],)
        elif transcript.n_steps == 0 and config.require_tool_first:
            actions = tuple(registry.names)
        thought_tokens = config.max_thought_tokens if prompt.thoughts else 0
        return ActionFormat(actions, thought_tokens, config.max_input_tokens)

    for _ in range(config.max_steps):
        active = [(i, t) for i, t in enumerate(transcripts) if not t.done]
        if not active:
            break
        prompts = [prompt.render(t.question, t.scratchpad()) for _, t in active]
        formats = [action_format(i, t) for i, t in active] if config.constrained else None
        outputs = lm.generate(
            prompts, stop=FREE_FORMAT_STOP, max_new_tokens=config.max_new_tokens, constraint=formats
        )
        if len(outputs) != len(active):
            raise RuntimeError(f"the LM returned {len(outputs)} outputs for {len(active)} prompts")
        for (_, transcript), raw in zip(active, outputs, strict=True):
            # act-only prompts end with "Action:", which the model's text continues
            _apply(
                transcript, raw if prompt.thoughts else "Action:" + raw, registry, config, defence
            )
    for transcript in transcripts:
        if not transcript.done:
            transcript.stop_reason = "max_steps"
    return transcripts


@answer_key
def run_agent(
    question: str,
    lm: AgentLM,
    registry: ToolRegistry,
    *,
    config: AgentConfig | None = None,
    prompt: ReActPrompt | None = None,
    defence: Defence | None = None,
) -> Transcript:
    """One question: :func:`run_agents` with a batch of one."""
    return run_agents([question], lm, registry, config=config, prompt=prompt, defence=defence)[0]
