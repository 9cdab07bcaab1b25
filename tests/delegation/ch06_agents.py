"""ch06: answer cells that only hand the work to funlm.agents."""

CASES: dict[str, str] = {
    "parse_step": '''\
from funlm.agents import parse_react


def parse_step(text: str) -> dict:
    """Parse one ReAct step; returns {"type", "thought", "tool", "tool_input", "answer"}."""
    step = parse_react(text)
    action = step.kind == "action"
    return {"type": step.kind, "thought": step.thought, "tool": step.action if action else None,
            "tool_input": step.action_input if action else None,
            "answer": step.answer if step.kind == "final" else None}
''',
    "safe_calculate": '''\
from funlm.agents import safe_calculate as funlm_calculate


def safe_calculate(expression: str) -> float:
    """Evaluate + - * / // % ** and parentheses on numbers; ValueError for anything else."""
    return funlm_calculate(expression)
''',
    "bind_args": '''\
from funlm.agents import bind_arguments


def bind_args(params: list, raw: str) -> dict:
    """Validate a tool's Action Input against its Param list; raise ToolError on problems."""
    return bind_arguments(params, raw)
''',
    "run_react": '''\
from funlm.agents.loop import run_agent

STOP = ("Observation:", "\\nQuestion:", "<|im_end|>", "\\n\\n")


def run_react(question: str, lm, registry, max_steps: int = 4) -> dict:
    """The ReAct loop; returns {"answer", "steps", "stop_reason"}."""
    config = AgentConfig(max_steps=max_steps, constrained=False)
    transcript = run_agent(question, lm, registry, config=config)
    return {"answer": transcript.final_answer, "steps": transcript.scratchpad(),
            "stop_reason": transcript.stop_reason}
''',
    "evaluation": '''\
from funlm.agents import answer_matches


def is_correct(prediction, answers) -> bool:
    """Does the prediction match one of the accepted answers?"""
    return answer_matches(prediction, answers)


def summarize(records: list) -> dict:
    """Success rate, mean steps and per-category success rate."""
    if not records:
        return {"success_rate": 0.0, "avg_steps": 0.0, "by_category": {}}
    categories = sorted({r["category"] for r in records})
    by_category = {}
    for category in categories:
        group = [r for r in records if r["category"] == category]
        by_category[category] = sum(r["correct"] for r in group) / len(group)
    return {"success_rate": sum(r["correct"] for r in records) / len(records),
            "avg_steps": sum(r["steps"] for r in records) / len(records),
            "by_category": by_category}
''',
    "defend": '''\
from funlm.agents.injection import REMOVED, sanitize_observation


def defend(observation: str) -> str:
    """Remove instruction-like pieces from a tool output before the model sees it."""
    cleaned = sanitize_observation(observation)  # only the marker differs from this part's
    return cleaned if cleaned == observation else cleaned.replace(REMOVED, "[removed]")
''',
}

ZERO_PARTS: list[str] = [
    "test_parse_step",
    "test_safe_calculate",
    "test_bind_args",
    "test_run_react",
    "test_evaluation",
    "test_defend",
]

# what each zeroed test says: the tripwire's hint
HINTS: dict[str, str] = {part: "모범 답안" for part in ZERO_PARTS}
