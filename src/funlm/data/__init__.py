"""The data sets the course ships, in ``funlm/data/files/`` (each with a README and its licence).

Every shipped data set is a JSON-lines file (one JSON object per line) read with
:func:`read_jsonl`; the chapter packages turn the rows into their own item types:

- ``ch01_sentiment.jsonl``: review sentiment, :func:`funlm.gpt3.fewshot.load_sentiment_task`;
- ``ch03_topics.jsonl``: four-topic classification, :func:`funlm.icl.demos.load_topic_task`;
- ``ch05_sentiment.jsonl``, ``ch05_arith.jsonl``: bilingual sentiment and word problems,
  :mod:`funlm.prompt_eng.tasks`;
- ``ch06_agent_tasks.jsonl``, ``ch06_agent_kb.jsonl``: the agent tasks and course notes,
  :func:`funlm.agents.load_tasks`, :func:`funlm.agents.load_knowledge_base`.

Generated data (the TinyWorld pretraining corpus, chapter 2's review world, chapter 4's
teacher problem) is made by code in the chapter packages and never shipped.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["data_path", "read_jsonl"]


def data_path(name: str) -> Path:
    """The path of the shipped data file ``name`` (e.g. ``"ch05_arith.jsonl"``)."""
    return Path(str(resources.files("funlm").joinpath("data", "files", name)))


def read_jsonl(name: str) -> list[dict[str, Any]]:
    """The rows of the shipped JSON-lines file ``name``, in file order (blank lines skipped)."""
    lines = data_path(name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
