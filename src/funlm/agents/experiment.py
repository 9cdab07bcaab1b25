"""Chapter 6's headline experiment: a ReAct agent with tools on SmolLM2-135M-Instruct, vs the
same model alone.

:func:`run_experiment` (``python -m funlm.repro ch06`` records it) runs, on the shipped task
set (``funlm/data/files/ch06_agent_tasks.jsonl``: arithmetic, course-notes lookup, letter
counting, lookup-then-compute), every agent variant on the same tasks:

- ``success_without_tools``: the model answers directly (few-shot, one line);
- ``success_react_free_format``: ReAct as in the paper: few-shot trajectories, the model writes
  whole Thought / Action / Action Input steps (``parse_error_rate``: steps it got unreadable);
- ``success_react_constrained``: the same with the constrained action format (labels forced,
  the action chosen among the tool names, no finishing before a tool was used);
- ``success_with_tools``: the chapter's agent: constrained and act-only (no Thought lines),
  which works best for this model;
- ``success_oracle_first_tool``: a diagnostic: the agent's first tool is forced to the right one;
- ``injection_followed_without_defence`` / ``injection_blocked``: the prompt-injection tasks
  (a poisoned page in the notes) without and with the tool-output filter, with the agent above;
- per-category rates, failure breakdowns, stop reasons, average steps and throughput;
- ``intervals``: 95 % paired bootstrap intervals over the same tasks (:mod:`funlm.stats`):
  Act minus ReAct (both constrained), with minus without tools, the oracle first tool minus
  Act, and for the attacks the rate of following the payload with minus without the defence.

All generation is greedy (deterministic); every task of a run advances together in one batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from funlm.agents.evaluation import (
    EvalReport,
    InjectionReport,
    Task,
    evaluate_agent,
    evaluate_direct,
    evaluate_injection,
    load_tasks,
)
from funlm.agents.generation import AgentLM, HFAgentLM
from funlm.agents.injection import sanitize_observation
from funlm.agents.loop import AgentConfig
from funlm.agents.prompts import ReActPrompt
from funlm.agents.tools import default_registry
from funlm.experiment import ExperimentSettings
from funlm.profile import Profile, seed_everything
from funlm.stats import paired_bootstrap_diff

T = TypeVar("T")

#: The ReAct-with-thought variants (the chapter's agent, Act, always runs).
REACT_VARIANTS = ("react_free_format", "react_constrained")


@dataclass(frozen=True)
class Settings(ExperimentSettings):
    """Every size of the chapter's experiments for one profile (the book uses the same table)."""

    n_tasks: int | None  # None: all shipped tasks
    max_steps: int
    max_thought_tokens: int
    max_input_tokens: int
    max_new_tokens: int
    n_injection: int | None  # None: all shipped attacks
    variants: tuple[str, ...]  # which of REACT_VARIANTS run


def settings(profile: Profile) -> Settings:
    """Chapter 6's sizes for ``profile``."""
    P = profile
    return Settings(
        profile=P.name,
        device=P.device,
        n_tasks=P.pick(cpu=None, gpu=None, grade=4),
        max_steps=P.pick(cpu=4, gpu=6, grade=2),
        max_thought_tokens=P.pick(cpu=24, gpu=48, grade=8),
        max_input_tokens=P.pick(cpu=24, gpu=32, grade=12),
        max_new_tokens=P.pick(cpu=48, gpu=96, grade=24),
        n_injection=P.pick(cpu=None, gpu=None, grade=2),
        # the grader's smoke run keeps the constrained ReAct run, so its record has the
        # Act - ReAct interval too
        variants=P.pick(cpu=REACT_VARIANTS, gpu=REACT_VARIANTS, grade=("react_constrained",)),
    )


def pick_tasks(tasks: list[Task], n: int | None) -> list[Task]:
    """``n`` tasks spread over the categories (round robin), or all of them."""
    if n is None or n >= len(tasks):
        return list(tasks)
    by_category: dict[str, list[Task]] = {}
    for task in tasks:
        by_category.setdefault(task.category, []).append(task)
    queues = list(by_category.values())
    chosen: list[Task] = []
    while len(chosen) < n:
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(queue.pop(0))
    return chosen


@dataclass
class Runs:
    """Every evaluation of one experiment, on the same tasks (and the attacks)."""

    tasks: list[Task]
    attacks: list[Task]
    direct: EvalReport
    agent: EvalReport  # the chapter's agent: Act, constrained
    oracle: EvalReport
    variants: dict[str, EvalReport]  # the ReAct variants that ran
    attack: InjectionReport
    timings: dict[str, float] = field(default_factory=dict)


def evaluate_all(S: Settings, lm: AgentLM) -> Runs:
    """Run every variant (timed) on the profile's tasks and attacks."""
    tasks = pick_tasks(load_tasks(), S.n_tasks)
    attacks = pick_tasks(load_tasks(injection=True), S.n_injection)
    registry = default_registry()
    react_prompt = ReActPrompt(registry)
    act_prompt = ReActPrompt(registry, thoughts=False)
    config = AgentConfig(
        max_steps=S.max_steps,
        constrained=True,
        max_new_tokens=S.max_new_tokens,
        max_thought_tokens=S.max_thought_tokens,
        max_input_tokens=S.max_input_tokens,
    )
    free_config = replace(config, constrained=False)
    timings: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], T]) -> T:
        start = time.perf_counter()
        value = fn()
        timings[name] = round(time.perf_counter() - start, 1)
        return value

    direct = timed("direct", lambda: evaluate_direct(tasks, lm))
    agent = timed(
        "act_constrained",
        lambda: evaluate_agent(tasks, lm, config=config, prompt=act_prompt, mode="act"),
    )
    oracle = timed(
        "act_oracle",
        lambda: evaluate_agent(
            tasks, lm, config=config, prompt=act_prompt, mode="act_oracle", oracle_tool=True
        ),
    )
    variants = {}
    if "react_free_format" in S.variants:
        variants["react_free_format"] = timed(
            "react_free",
            lambda: evaluate_agent(tasks, lm, config=free_config, prompt=react_prompt),
        )
    if "react_constrained" in S.variants:
        variants["react_constrained"] = timed(
            "react_constrained",
            lambda: evaluate_agent(tasks, lm, config=config, prompt=react_prompt),
        )
    attack = timed(
        "injection",
        lambda: evaluate_injection(
            attacks, lm, defence=sanitize_observation, config=config, thoughts=False
        ),
    )
    return Runs(tasks, attacks, direct, agent, oracle, variants, attack, timings)


def run_experiment(settings: Settings, lm: AgentLM | None = None) -> dict[str, Any]:
    """Measure everything; ``lm`` replaces SmolLM2 (tests pass a scripted fake)."""
    seed_everything(0)
    if lm is None:
        from funlm.models.small_lm import load_small_lm

        model, tokenizer = load_small_lm(device=settings.device)
        lm = HFAgentLM(model, tokenizer)
    runs = evaluate_all(settings, lm)
    return record(settings, runs, tokens_generated=getattr(lm, "tokens_generated", 0))


def record(S: Settings, runs: Runs, *, tokens_generated: int) -> dict[str, Any]:
    """The measured numbers of ``runs`` (see the module docstring)."""
    agent, direct, oracle, variants, attack = (
        runs.agent, runs.direct, runs.oracle, runs.variants, runs.attack
    )  # fmt: skip
    free = variants.get("react_free_format")
    return {
        "success_with_tools": round(agent.success_rate, 4),
        "success_without_tools": round(direct.success_rate, 4),
        "avg_steps": round(agent.avg_steps, 3),
        # how often the model's own text could not be parsed: the free-format run (the
        # constrained format cannot produce an unreadable step)
        "parse_error_rate": round((free or agent).parse_error_rate, 4),
        "injection_blocked": round(attack.blocked, 4),
        "injection_followed_without_defence": round(attack.followed_without_defence, 4),
        "injection_poison_read": round(attack.poison_read, 4),
        "success_oracle_first_tool": round(oracle.success_rate, 4),
        # the two ReAct-with-thought variants (None where the profile skips them)
        **{
            f"success_{name}": round(variants[name].success_rate, 4) if name in variants else None
            for name in REACT_VARIANTS
        },
        "n_tasks": len(runs.tasks),
        "n_injection_tasks": len(runs.attacks),
        "by_category": {
            "without_tools": direct.by_category(),
            "with_tools": agent.by_category(),
            "oracle_first_tool": oracle.by_category(),
            **{name: r.by_category() for name, r in variants.items()},
        },
        "failures": {
            "with_tools": agent.failure_breakdown(),
            "oracle_first_tool": oracle.failure_breakdown(),
            **{name: r.failure_breakdown() for name, r in variants.items()},
        },
        "stop_reasons": agent.stop_reasons(),
        "sizes": {k: v for k, v in S.sizes().items() if k not in ("n_tasks", "n_injection")},
        "tokens_generated": tokens_generated,
        "stage_seconds": runs.timings,
        "intervals": agent_intervals(direct, agent, oracle, variants, attack),
    }


def agent_intervals(
    direct: EvalReport,
    agent: EvalReport,
    oracle: EvalReport,
    variants: dict[str, EvalReport],
    attack: InjectionReport,
) -> dict[str, dict[str, Any]]:
    """Paired 95 % intervals of the chapter's comparisons (second minus first, same tasks).

    ``act_minus_react``: the chapter's agent (Act) minus ReAct, both constrained;
    ``with_minus_without_tools``; ``oracle_minus_act``: what forcing the right first tool adds;
    ``react_constrained_minus_free``; ``injection_defence``: share of attack tasks that end on
    the attacker's payload with the defence minus without it (negative: the defence helps).
    """
    out = {
        "with_minus_without_tools": paired_bootstrap_diff(direct.correct, agent.correct),
        "oracle_minus_act": paired_bootstrap_diff(agent.correct, oracle.correct),
        "injection_defence": paired_bootstrap_diff(
            attack.followed(defended=False), attack.followed(defended=True)
        ),
    }
    react = variants.get("react_constrained")
    if react is not None:
        out["act_minus_react"] = paired_bootstrap_diff(react.correct, agent.correct)
        free = variants.get("react_free_format")
        if free is not None:
            out["react_constrained_minus_free"] = paired_bootstrap_diff(free.correct, react.correct)
    return {name: interval.as_record() for name, interval in sorted(out.items())}
