"""Chapter 6 headline: a ReAct agent with tools on SmolLM2-135M-Instruct, vs the same model alone.

``python -m funlm.repro ch06 [--profile cpu|gpu|grade]`` runs, on the shipped task set
(``funlm/data/files/ch06_agent_tasks.jsonl``: arithmetic, course-notes lookup, letter counting,
lookup-then-compute), every agent variant on the same tasks:

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
from dataclasses import replace
from typing import Any

from funlm.profile import Profile, seed_everything
from funlm.stats import paired_bootstrap_diff

HEADLINE_KEYS = [
    "success_with_tools",
    "success_without_tools",
    "avg_steps",
    "parse_error_rate",
    "injection_blocked",
    "injection_followed_without_defence",
    "success_oracle_first_tool",
    "success_react_free_format",
    "success_react_constrained",
    "n_tasks",
]


def sizes(profile: Profile) -> dict[str, Any]:
    """Every size of the chapter's experiments, per profile (the book uses the same table)."""
    P = profile
    return {
        "n_tasks": P.pick(cpu=None, gpu=None, grade=4),  # None: all shipped tasks
        "max_steps": P.pick(cpu=4, gpu=6, grade=2),
        "max_thought_tokens": P.pick(cpu=24, gpu=48, grade=8),
        "max_input_tokens": P.pick(cpu=24, gpu=32, grade=12),
        "max_new_tokens": P.pick(cpu=48, gpu=96, grade=24),
        "n_injection": P.pick(cpu=None, gpu=None, grade=2),
        # the ReAct-with-thought runs (the grader's smoke run keeps the constrained one, so its
        # record has the Act - ReAct interval too)
        "variants": P.pick(
            cpu=("react_free_format", "react_constrained"),
            gpu=("react_free_format", "react_constrained"),
            grade=("react_constrained",),
        ),
    }


def pick_tasks(tasks: list, n: int | None) -> list:
    """``n`` tasks spread over the categories (round robin), or all of them."""
    if n is None or n >= len(tasks):
        return list(tasks)
    by_category: dict[str, list] = {}
    for task in tasks:
        by_category.setdefault(task.category, []).append(task)
    queues = list(by_category.values())
    chosen: list = []
    while len(chosen) < n:
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(queue.pop(0))
    return chosen


def run(profile: Profile, lm: Any = None) -> dict[str, Any]:
    """Measure everything; ``lm`` replaces SmolLM2 (tests pass a scripted fake)."""
    import funlm
    from funlm.agents import (
        AgentConfig,
        HFAgentLM,
        ReActPrompt,
        default_registry,
        evaluate_agent,
        evaluate_direct,
        evaluate_injection,
        load_tasks,
        sanitize_observation,
    )

    seed_everything(0)
    size = sizes(profile)
    if lm is None:
        model, tokenizer = funlm.load_small_lm(device=profile.device)
        lm = HFAgentLM(model, tokenizer)
    tasks = pick_tasks(load_tasks(), size["n_tasks"])
    attacks = pick_tasks(load_tasks(injection=True), size["n_injection"])
    registry = default_registry()
    react_prompt = ReActPrompt(registry)
    act_prompt = ReActPrompt(registry, thoughts=False)
    config = AgentConfig(
        max_steps=size["max_steps"],
        constrained=True,
        max_new_tokens=size["max_new_tokens"],
        max_thought_tokens=size["max_thought_tokens"],
        max_input_tokens=size["max_input_tokens"],
    )
    free_config = replace(config, constrained=False)
    timings: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
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
    if "react_free_format" in size["variants"]:
        variants["react_free_format"] = timed(
            "react_free",
            lambda: evaluate_agent(tasks, lm, config=free_config, prompt=react_prompt),
        )
    if "react_constrained" in size["variants"]:
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
    free = variants.get("react_free_format")
    intervals = agent_intervals(direct, agent, oracle, variants, attack)
    result: dict[str, Any] = {
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
            for name in ("react_free_format", "react_constrained")
        },
        "n_tasks": len(tasks),
        "n_injection_tasks": len(attacks),
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
        "sizes": {k: v for k, v in size.items() if k not in ("n_tasks", "n_injection")},
        "tokens_generated": getattr(lm, "tokens_generated", 0),
        "stage_seconds": timings,
        "intervals": intervals,
    }
    return result


def agent_intervals(
    direct: Any, agent: Any, oracle: Any, variants: dict[str, Any], attack: Any
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
