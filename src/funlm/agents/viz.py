"""Show agent transcripts: static HTML, and an ipywidgets step-through (next / previous step).

The widget works in a live notebook; when a notebook is executed non-interactively (the book
build, the grader) it still renders its first state, and :func:`transcript_html` gives the whole
run as plain HTML that needs no JavaScript.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from funlm.agents.loop import Step, Transcript

__all__ = ["results_table_html", "step_through", "transcript_html"]

_COLOURS = {"thought": "#555", "action": "#1f5fa8", "observation": "#2e7d32", "final": "#b35c00"}
_ERROR = "#c62828"


def _line(label: str, text: str, colour: str) -> str:
    return (
        f'<div style="margin:2px 0"><b style="color:{colour}">{html.escape(label)}:</b> '
        f'<span style="white-space:pre-wrap">{html.escape(text)}</span></div>'
    )


def _step_html(index: int, step: Step) -> str:
    parts = [f'<div style="border-left:3px solid #ccc;padding-left:8px;margin:6px 0">'
             f'<small style="color:#888">step {index}</small>']  # fmt: skip
    if step.thought:
        parts.append(_line("Thought", step.thought, _COLOURS["thought"]))
    if step.kind == "action":
        parts.append(_line("Action", f"{step.action}", _COLOURS["action"]))
        parts.append(_line("Action Input", f"{step.action_input}", _COLOURS["action"]))
    elif step.kind == "error":
        parts.append(_line("Unreadable output", step.raw.strip()[:200], _ERROR))
    if step.observation is not None:
        colour = _COLOURS["observation"] if step.tool_ok else _ERROR
        label = "Observation" + (" (defence removed text)" if step.flagged else "")
        parts.append(_line(label, step.observation, colour))
    parts.append("</div>")
    return "".join(parts)


def transcript_html(transcript: Transcript, upto: int | None = None) -> str:
    """The run as HTML, showing its first ``upto`` steps (all by default)."""
    steps = transcript.steps if upto is None else transcript.steps[:upto]
    body = [_line("Question", transcript.question, "#000")]
    body += [_step_html(i, s) for i, s in enumerate(steps, 1)]
    if upto is None or upto >= len(transcript.steps):
        answer = transcript.final_answer if transcript.final_answer is not None else "(none)"
        body.append(_line("Final answer", f"{answer}   [stop: {transcript.stop_reason}]",
                          _COLOURS["final"]))  # fmt: skip
    return '<div style="font-family:monospace;font-size:90%">' + "".join(body) + "</div>"


def results_table_html(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A small HTML table (no pandas needed)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def step_through(transcripts: Sequence[Transcript]) -> Any:
    """An ipywidgets explorer: pick a run, then step through it (이전 / 다음 단계)."""
    import ipywidgets as widgets

    runs = list(transcripts)
    if not runs:
        raise ValueError("no transcripts to show")
    labels = [(f"{i + 1}. {t.question[:60]}", i) for i, t in enumerate(runs)]
    picker = widgets.Dropdown(options=labels, value=0, description="run")
    step = widgets.IntSlider(value=1, min=0, max=max(1, runs[0].n_steps), description="step")
    back = widgets.Button(description="◀ 이전 단계")
    forward = widgets.Button(description="다음 단계 ▶")
    view = widgets.HTML()

    def redraw(*_: Any) -> None:
        run = runs[picker.value]
        step.max = max(1, run.n_steps)
        view.value = transcript_html(run, upto=step.value)

    def on_pick(_: Any) -> None:
        step.value = 1
        redraw()

    back.on_click(lambda _: setattr(step, "value", max(step.min, step.value - 1)))
    forward.on_click(lambda _: setattr(step, "value", min(step.max, step.value + 1)))
    picker.observe(on_pick, names="value")
    step.observe(redraw, names="value")
    redraw()
    return widgets.VBox([picker, widgets.HBox([back, forward, step]), view])
