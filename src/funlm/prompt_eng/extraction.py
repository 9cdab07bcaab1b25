"""Robust answer extraction: turn a model's free text into a label, a number or a JSON object.

A small model rarely answers in exactly the requested format. These functions implement one
documented rule each, and return ``None`` when no answer can be found: that is what the chapter
counts as a *format error*.

Rules shared by labels and numbers: if the text contains an answer marker (``Answer:``,
``answer is``, ``정답:``, ``답은`` ...), only the part after the **last** marker is searched first;
if nothing is found there, the whole text is searched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from funlm.answer_keys import answer_key

Number = int | float

# "answer:", "final answer is", "정답:", "답은", "답:" ... (a separator is required after the word)
ANSWER_MARKER = re.compile(
    r"(?:answer|정답|답)\s*(?:is\b|[:：=]|은|는)",
    re.IGNORECASE,
)
# An integer or decimal, with optional thousands separators; a minus sign counts only when it is
# not glued to a preceding word or digit ("11-5" is 11 and 5, "x = -5" is -5).
NUMBER = re.compile(r"(?:(?<![\w])-)?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d])")
NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}


def after_last_marker(text: str) -> str | None:
    """The text after the last answer marker, or ``None`` when there is no marker."""
    matches = list(ANSWER_MARKER.finditer(text))
    return text[matches[-1].end() :] if matches else None


def _label_pattern(word: str) -> re.Pattern[str]:
    # ASCII words must stand alone ("positive" is not found in "positively");
    # Korean words are matched as substrings ("긍정적" contains "긍정").
    if word.isascii():
        return re.compile(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", re.IGNORECASE)
    return re.compile(re.escape(word))


def _first_label(text: str, candidates: Mapping[str, str]) -> str | None:
    best: tuple[int, str] | None = None
    for word, label in candidates.items():
        match = _label_pattern(word).search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), label)
    return best[1] if best else None


@answer_key
def extract_label(
    text: str, labels: Sequence[str], aliases: Mapping[str, str] | None = None
) -> str | None:
    """The label the text answers with, or ``None``.

    Case is ignored. After the last answer marker if there is one, else in the whole text, the
    label (or alias, mapped to its label) that occurs **first** wins.

    >>> extract_label("**Negative** - the reviewer hated it.", ["positive", "negative"])
    'negative'
    >>> extract_label("Positive words? None. Answer: negative", ["positive", "negative"])
    'negative'
    >>> extract_label("답: 긍정", ["positive", "negative"], {"긍정": "positive"})
    'positive'
    """
    candidates = {label: label for label in labels}
    candidates.update(aliases or {})
    tail = after_last_marker(text)
    if tail is not None:
        found = _first_label(tail, candidates)
        if found is not None:
            return found
    return _first_label(text, candidates)


def _to_number(token: str) -> Number:
    value = float(token.replace(",", ""))
    return int(value) if value.is_integer() else value


def _numbers(text: str) -> list[Number]:
    """Every number in ``text``; spelled-out numbers only when there are no digits."""
    found = [_to_number(token) for token in NUMBER.findall(text)]
    if found:
        return found
    words = re.findall(r"[A-Za-z]+", text.lower())
    return [NUMBER_WORDS[w] for w in words if w in NUMBER_WORDS]


@answer_key
def extract_number(text: str) -> Number | None:
    """The final numeric answer in ``text``, or ``None``.

    After the last answer marker the **first** number wins ("Answer: 12 apples, not 3" is 12);
    without a marker (or with no number after it) the **last** number of the whole text wins,
    because reasoning ends with its result ("5 + 3 = 8"). Thousands separators are removed;
    integral values come back as ``int``. Spelled-out numbers from zero to twenty count only when
    the text has no digits.

    >>> extract_number("16 - 11 = 5. Answer: 5")
    5
    >>> extract_number("The answer is 1,250 coins.")
    1250
    >>> extract_number("5 + 3 = 8")
    8
    >>> extract_number("I have no idea") is None
    True
    """
    tail = after_last_marker(text)
    if tail is not None:
        found = _numbers(tail)
        if found:
            return found[0]
    found = _numbers(text)
    return found[-1] if found else None


def _balanced_object(text: str, start: int) -> str | None:
    """The ``{...}`` starting at ``start``, respecting quoted strings, or ``None``."""
    depth, quote, escaped = 0, "", False
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return None


def _repairs(candidate: str) -> list[str]:
    """The candidate as is, then with common small-model slips fixed."""
    fixed = re.sub(r",\s*([}\]])", r"\1", candidate)  # trailing commas
    fixed = re.sub(r"\bTrue\b", "true", fixed)
    fixed = re.sub(r"\bFalse\b", "false", fixed)
    fixed = re.sub(r"\bNone\b", "null", fixed)
    out = [candidate, fixed]
    if '"' not in fixed:  # Python-style single quotes
        out.append(fixed.replace("'", '"'))
    return out


@answer_key
def extract_json(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (code fences and chatter around it are ignored).

    Trailing commas, Python's ``True``/``False``/``None`` and single-quoted strings are repaired.
    Returns ``None`` when no object parses.

    >>> extract_json('Sure! ```json\\n{"label": "positive", "score": 0.9,}\\n```')
    {'label': 'positive', 'score': 0.9}
    """
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL | re.IGNORECASE)
    sources = [fence.group(1), text] if fence else [text]
    for source in sources:
        for match in re.finditer(r"\{", source):
            candidate = _balanced_object(source, match.start())
            if candidate is None:
                continue
            for attempt in _repairs(candidate):
                try:
                    value = json.loads(attempt)
                except json.JSONDecodeError:
                    continue
                if isinstance(value, dict):
                    return value
    return None
