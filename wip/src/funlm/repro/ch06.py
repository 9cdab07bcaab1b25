"""Chapter 6 headline: a ReAct agent with tools on SmolLM2-135M-Instruct, vs the same model alone.

``python -m funlm.repro ch06 [--profile cpu|gpu|grade]`` runs, on the shipped task set
(``funlm/data/files/ch06_agent_tasks.jsonl``: arithmetic, course-notes lookup, letter counting,
lookup-then-compute):

- ``success_without_tools``: the model answers directly (few-shot, one line);
- ``success_with_tools``: the ReAct agent with few-shot trajectories and the constrained action
  format (the model picks the action among the tool names; the labels are forced);
- ``success_with_tools_free_format``: the same agent when the model writes the whole step
  itself (and ``parse_error_rate``: the share of those steps that could not be parsed);
- ``injection_followed_without_defence`` / ``injection_blocked``: the prompt-injection tasks
  (a poisoned page in the notes) without and with the tool-output filter;
- per-category success rates, stop reasons, average steps and generation throughput.

All generation is greedy (deterministic); every task of a run advances together in one batch.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from funlm.profile import Profile, seed_everything

HEADLINE_KEYS = [
    "success_with_tools",
    "success_without_tools",
    "avg_steps",
    "parse_error_rate",
    "injection_blocked",
    "n_tasks",
]


def sizes(profile: Profile) -> dict[str, Any]:
    """Every size of the chapter's experiments, per profile (the book uses the same table)."""
    P = profile
    return {
        "n_tasks": P.pick(cpu=None, gpu=None, grade=4),  # None: all shipped tasks
        "max_steps": P.pick(cpu=4, gpu=6, grade=2),
        "max_thought_tokens": P.pick(cpu=32, gpu=48, grade=8),
        "max_input_tokens": P.pick(cpu=24, gpu=32, grade=12),
        "max_new_tokens": P.pick(cpu=64, gpu=96, grade=24),
        "n_injection": P.pick(cpu=None, gpu=None, grade=2),
        "free_format": P.pick(cpu=True, gpu=True, grade=False),
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
    config = AgentConfig(
        max_steps=size["max_steps"],
        constrained=True,
        max_new_tokens=size["max_new_tokens"],
        max_thought_tokens=size["max_thought_tokens"],
        max_input_tokens=size["max_input_tokens"],
    )
    timings: dict[str, float] = {}

    def timed(name: str, fn):
        start = time.perf_counter()
        value = fn()
        timings[name] = round(time.perf_counter() - start, 1)
        return value

    direct = timed("direct", lambda: evaluate_direct(tasks, lm))
    agent = timed("react", lambda: evaluate_agent(tasks, lm, config=config))
    free = None
    if size["free_format"]:
        free_config = replace(config, constrained=False)
        free = timed(
            "react_free",
            lambda: evaluate_agent(tasks, lm, config=free_config, mode="react_free"),
        )
    attack = timed(
        "injection",
        lambda: evaluate_injection(attacks, lm, defence=sanitize_observation, config=config),
    )
    generated_seconds = sum(timings.values())
    result: dict[str, Any] = {
        "success_with_tools": round(agent.success_rate, 4),
        "success_without_tools": round(direct.success_rate, 4),
        "avg_steps": round(agent.avg_steps, 3),
        # free format: how often the model's own text could not be parsed (0 by construction
        # with the constrained format, which is reported separately)
        "parse_error_rate": round((free or agent).parse_error_rate, 4),
        "parse_error_rate_constrained": round(agent.parse_error_rate, 4),
        "injection_blocked": round(attack.blocked, 4),
        "injection_followed_without_defence": round(attack.followed_without_defence, 4),
        "injection_poison_read": round(attack.poison_read, 4),
        "n_tasks": len(tasks),
        "n_injection_tasks": len(attacks),
        "by_category_with_tools": agent.summary()["by_category"],
        "by_category_without_tools": direct.summary()["by_category"],
        "stop_reasons": agent.stop_reasons(),
        "sizes": {k: v for k, v in size.items() if k not in ("n_tasks", "n_injection")},
        "tokens_per_second": round(
            getattr(lm, "tokens_generated", 0) / max(generated_seconds, 1e-9), 1
        ),
        "stage_seconds": timings,
    }
    if free is not None:
        result["success_with_tools_free_format"] = round(free.success_rate, 4)
        result["avg_steps_free_format"] = round(free.avg_steps, 3)
        result["stop_reasons_free_format"] = free.stop_reasons()
    return result
