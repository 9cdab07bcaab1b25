"""LM agents (chapter 6): a ReAct loop with tools on a small model.

- :mod:`~funlm.agents.parser` — read Thought / Action / Action Input / Final Answer from text;
- :mod:`~funlm.agents.tools` — tools with argument schemas (calculator, course-notes lookup,
  letter counter) and a registry that validates every call;
- :mod:`~funlm.agents.prompts` — the ReAct prompt with few-shot trajectories;
- :mod:`~funlm.agents.loop` — the agent loop, its stop conditions and transcripts;
- :mod:`~funlm.agents.generation` — batched greedy generation with a shared-prefix cache and a
  constrained action format; :mod:`~funlm.agents.fakes` — scripted fake LMs for tests;
- :mod:`~funlm.agents.evaluation` — success rates on the shipped task set;
- :mod:`~funlm.agents.injection` — prompt injection through tool outputs and a defence;
- :mod:`~funlm.agents.experiment` — the headline experiment: :func:`settings` and
  :func:`run_experiment` (``python -m funlm.repro ch06``), :func:`pick_tasks`;
- :mod:`~funlm.agents.viz` — transcripts as static HTML and as a step-through widget.

Importing this package does not import torch or transformers.
"""

from __future__ import annotations

from funlm.agents.evaluation import (
    EvalReport,
    InjectionReport,
    Task,
    answer_matches,
    evaluate_agent,
    evaluate_direct,
    evaluate_injection,
    load_tasks,
)
from funlm.agents.experiment import Settings, pick_tasks, run_experiment, settings
from funlm.agents.fakes import GullibleLM, ScriptedLM
from funlm.agents.generation import ActionFormat, AgentLM, HFAgentLM
from funlm.agents.injection import injection_followed, sanitize_observation
from funlm.agents.loop import AgentConfig, Step, Transcript, run_agent, run_agents
from funlm.agents.parser import ParsedStep, parse_react
from funlm.agents.prompts import ReActPrompt, chatml, direct_prompt
from funlm.agents.tools import (
    KnowledgeBase,
    Param,
    Tool,
    ToolError,
    ToolRegistry,
    bind_arguments,
    count_letter,
    default_registry,
    load_knowledge_base,
    safe_calculate,
)

__all__ = [
    "ActionFormat",
    "AgentConfig",
    "AgentLM",
    "EvalReport",
    "GullibleLM",
    "HFAgentLM",
    "InjectionReport",
    "KnowledgeBase",
    "Param",
    "ParsedStep",
    "ReActPrompt",
    "ScriptedLM",
    "Settings",
    "Step",
    "Task",
    "Tool",
    "ToolError",
    "ToolRegistry",
    "Transcript",
    "answer_matches",
    "bind_arguments",
    "chatml",
    "count_letter",
    "default_registry",
    "direct_prompt",
    "evaluate_agent",
    "evaluate_direct",
    "evaluate_injection",
    "injection_followed",
    "load_knowledge_base",
    "load_tasks",
    "parse_react",
    "pick_tasks",
    "run_agent",
    "run_agents",
    "run_experiment",
    "safe_calculate",
    "sanitize_observation",
    "settings",
]
