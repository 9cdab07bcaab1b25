"""Tools an agent can call, each with an argument schema that is checked before the call.

- :func:`safe_calculate` — arithmetic from an abstract syntax tree walk: numbers, ``+ - * / //
  % **`` and parentheses only. It never calls ``eval``; ``__import__('os')`` is a ``ValueError``.
- :class:`KnowledgeBase` — keyword search over the course's shipped notes (Korean and English).
- :func:`count_letter` — how often a letter occurs in a word (a task language models are bad at,
  because they see tokens, not letters; see chapter 0).

:class:`ToolRegistry` holds the tools, describes them for the prompt, validates the model's
``Action Input`` against each tool's :class:`Param` list (:func:`bind_arguments`) and turns every
failure into a :class:`ToolError` whose message the agent loop shows the model as its observation.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from funlm.answer_keys import answer_key
from funlm.data import read_jsonl

__all__ = [
    "KnowledgeBase",
    "Param",
    "Tool",
    "ToolError",
    "ToolRegistry",
    "bind_arguments",
    "count_letter",
    "default_registry",
    "format_number",
    "load_knowledge_base",
    "safe_calculate",
]

KB_FILE = "ch06_agent_kb.jsonl"


class ToolError(Exception):
    """A tool could not run: unknown tool, bad arguments, or the tool itself failed."""


# --- argument schemas -----------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One argument of a tool: its name, type (str, int or float) and constraints."""

    name: str
    type: type = str
    description: str = ""
    required: bool = True
    default: Any = None
    choices: tuple[Any, ...] | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class Tool:
    """A named function with a schema. ``func`` receives keyword arguments and returns text."""

    name: str
    description: str
    params: tuple[Param, ...]
    func: Callable[..., str]
    example: str = ""


def _coerce(param: Param, value: Any) -> Any:
    if param.type is str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ToolError(f"argument '{param.name}' must be text")
        value = str(value).strip().strip("\"'`").strip()
        if not value:
            raise ToolError(f"argument '{param.name}' is empty")
        if param.max_length is not None and len(value) > param.max_length:
            raise ToolError(
                f"argument '{param.name}' must be at most {param.max_length} characters"
            )
    elif param.type in (int, float):
        if isinstance(value, bool):
            raise ToolError(f"argument '{param.name}' must be a number")
        try:
            number = float(str(value).strip().strip("\"'`").replace(",", ""))
        except ValueError:
            raise ToolError(f"argument '{param.name}' must be a number, got {value!r}") from None
        if param.type is int:
            if not number.is_integer():
                raise ToolError(f"argument '{param.name}' must be a whole number")
            number = int(number)
        value = number
    if param.choices is not None and value not in param.choices:
        raise ToolError(f"argument '{param.name}' must be one of {list(param.choices)}")
    return value


@answer_key
def bind_arguments(params: Sequence[Param], raw: str | None) -> dict[str, Any]:
    """Turn the model's ``Action Input`` into validated keyword arguments.

    Accepted forms: a JSON object (``{"word": "banana", "letter": "a"}``); for a tool with one
    required argument, the whole text; otherwise comma-separated values in parameter order
    (``banana, a``). Unknown or missing arguments, wrong types and failed constraints raise
    :class:`ToolError`. Missing optional arguments get their defaults.
    """
    if raw is None or not str(raw).strip():
        raise ToolError("Action Input is empty")
    text = str(raw).strip()
    names = [p.name for p in params]
    values: dict[str, Any]
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as error:
            raise ToolError(f"Action Input is not valid JSON ({error.msg})") from None
        if not isinstance(loaded, dict):
            raise ToolError("a JSON Action Input must be an object")
        unknown = sorted(set(loaded) - set(names))
        if unknown:
            raise ToolError(f"unknown argument(s) {unknown}; expected {names}")
        values = dict(loaded)
    else:
        required = [p for p in params if p.required]
        if len(required) <= 1 and params:
            # the whole text is the first argument (it may contain commas)
            values = {params[0].name: text}
        else:
            parts = [part.strip() for part in text.split(",", len(params) - 1)]
            values = dict(zip(names, parts, strict=False))
    bound: dict[str, Any] = {}
    for param in params:
        if param.name in values:
            bound[param.name] = _coerce(param, values[param.name])
        elif param.required:
            raise ToolError(f"missing argument '{param.name}'; expected {names}")
        else:
            bound[param.name] = param.default
    return bound


# --- the calculator ---------------------------------------------------------------------------

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
MAX_EXPRESSION_LENGTH = 200
MAX_EXPONENT = 100
MAX_MAGNITUDE = 1e18


def _normalise_expression(expression: str) -> str:
    text = expression.strip().rstrip("=?.").strip()
    text = text.replace("×", "*").replace("÷", "/").replace("^", "**").replace("−", "-")
    return re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # 1,234 -> 1234


@answer_key
def safe_calculate(expression: str) -> int | float:
    """Evaluate an arithmetic expression safely; raise ``ValueError`` for anything else.

    Only number literals, ``+ - * / // % **``, unary ``+ -`` and parentheses are allowed.
    Names, calls, attributes, strings, comparisons and huge powers are refused.
    """
    if not isinstance(expression, str):
        raise ValueError("the expression must be a string")
    text = _normalise_expression(expression)
    if not text:
        raise ValueError("empty expression")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ValueError(f"expression longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ValueError(f"not an arithmetic expression: {expression!r}") from None

    def walk(node: ast.AST) -> int | float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ValueError(f"only numbers are allowed, not {node.value!r}")
            return node.value
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](walk(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and (
                abs(right) > MAX_EXPONENT or abs(left) > MAX_MAGNITUDE
            ):
                raise ValueError("power too large")
            try:
                result = _BINARY[type(node.op)](left, right)
            except ZeroDivisionError:
                raise ValueError("division by zero") from None
            if isinstance(result, complex):
                raise ValueError("complex result")
            if abs(result) > MAX_MAGNITUDE:
                raise ValueError("result too large")
            return result
        raise ValueError(f"not allowed in an arithmetic expression: {type(node).__name__}")

    return walk(tree)


def format_number(value: int | float) -> str:
    """``12`` -> ``'12'``, ``12.0`` -> ``'12'``, ``2/3`` -> ``'0.666667'``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return (
            f"{value:.6g}"
            if abs(value) >= 1e6 or abs(value) < 1e-4
            else f"{value:.6f}".rstrip("0").rstrip(".")
        )
    return str(value)


# --- letters ----------------------------------------------------------------------------------


def count_letter(word: str, letter: str) -> int:
    """How many times ``letter`` occurs in ``word`` (case-insensitive)."""
    if len(letter) != 1:
        raise ValueError("letter must be a single character")
    return word.lower().count(letter.lower())


# --- the knowledge base -----------------------------------------------------------------------

_STOPWORDS = frozenset(
    "a an the of in on for to and or is are was were be by with what which who whom whose how "
    "many much does did do this that these those it its as at from into about than then there "
    "their his her they we you your our i me my name called course chapter paper".split()
)


def _terms(text: str) -> list[str]:
    """Lower-case English words (no stopwords) and Korean character bigrams."""
    text = text.lower()
    words = [w for w in re.findall(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*", text) if w not in _STOPWORDS]
    korean: list[str] = []
    for run in re.findall(r"[가-힣]+", text):
        korean += [run[i : i + 2] for i in range(len(run) - 1)] or [run]
    return words + korean


@dataclass(frozen=True)
class Note:
    """One fact of the knowledge base, in English and Korean."""

    id: str
    chapter: str
    en: str
    ko: str
    keywords: tuple[str, ...] = ()


@dataclass
class KnowledgeBase:
    """Keyword search (an IDF-weighted overlap score) over short notes."""

    notes: list[Note]
    _index: list[set[str]] = field(default_factory=list, init=False, repr=False)
    _idf: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = [set(_terms(" ".join([n.en, n.ko, *n.keywords]))) for n in self.notes]
        df: dict[str, int] = {}
        for terms in self._index:
            for term in terms:
                df[term] = df.get(term, 0) + 1
        n = len(self.notes)
        self._idf = {t: math.log(1 + n / d) for t, d in df.items()}

    def search(self, query: str, k: int = 1) -> list[Note]:
        """The ``k`` best-matching notes (ties keep file order); empty when nothing matches."""
        terms = set(_terms(query))
        scored = [(sum(self._idf[t] for t in terms & doc), -i) for i, doc in enumerate(self._index)]
        best = sorted((s for s in scored if s[0] > 0), reverse=True)[:k]
        return [self.notes[-i] for _, i in best]

    def with_notes(self, extra: Iterable[Note]) -> KnowledgeBase:
        """A copy with more notes (e.g. a poisoned page for the prompt-injection test)."""
        return KnowledgeBase([*self.notes, *extra])


def load_knowledge_base() -> KnowledgeBase:
    """The course notes shipped in ``funlm/data/files/ch06_agent_kb.jsonl`` (CC BY 4.0)."""
    notes = [
        Note(row["id"], row["chapter"], row["en"], row["ko"], tuple(row.get("keywords", ())))
        for row in read_jsonl(KB_FILE)
    ]
    return KnowledgeBase(notes)


# --- the registry -----------------------------------------------------------------------------


class ToolRegistry:
    """Tools by name: describe them for the prompt, validate arguments, run them safely."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", tool.name):
            raise ValueError(f"tool names are lower_snake_case: {tool.name!r}")
        if tool.name in self._tools:
            raise ValueError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def get(self, name: str) -> Tool:
        if name not in self._tools:
            raise ToolError(f"unknown tool '{name}'; available tools: {', '.join(self._tools)}")
        return self._tools[name]

    def describe(self) -> str:
        """One line per tool: ``name(arg: type, ...): description. Example input: ...``."""
        lines = []
        for tool in self._tools.values():
            args = ", ".join(
                f"{p.name}: {p.type.__name__}" + ("" if p.required else f" = {p.default!r}")
                for p in tool.params
            )
            line = f"{tool.name}({args}): {tool.description}"
            if tool.example:
                line += f" Example input: {tool.example}"
            lines.append(line)
        return "\n".join(lines)

    def call(self, name: str, raw_input: str | None) -> str:
        """Validate ``raw_input`` for tool ``name`` and run it; every failure is a ToolError."""
        tool = self.get(name)
        kwargs = bind_arguments(tool.params, raw_input)
        try:
            return str(tool.func(**kwargs))
        except ToolError:
            raise
        except (ValueError, TypeError, ArithmeticError) as error:
            raise ToolError(str(error)) from None


def _lookup_tool(kb: KnowledgeBase) -> Tool:
    def lookup(query: str, lang: str = "en") -> str:
        found = kb.search(query, k=1)
        if not found:
            return "No matching note found."
        note = found[0]
        return note.ko if lang == "ko" else note.en

    return Tool(
        name="lookup",
        description="finds the course note that best matches a few keywords.",
        params=(
            Param("query", str, "keywords", max_length=200),
            Param("lang", str, "en or ko", required=False, default="en", choices=("en", "ko")),
        ),
        func=lookup,
        example="InstructGPT parameters",
    )


def default_registry(kb: KnowledgeBase | None = None) -> ToolRegistry:
    """The chapter's three tools: ``calculator``, ``lookup`` (course notes), ``count_letter``."""
    kb = kb if kb is not None else load_knowledge_base()
    calculator = Tool(
        name="calculator",
        description="computes an arithmetic expression.",
        params=(Param("expression", str, "e.g. 12 * (3 + 4)", max_length=MAX_EXPRESSION_LENGTH),),
        func=lambda expression: format_number(safe_calculate(expression)),
        example="12 * (3 + 4)",
    )
    letters = Tool(
        name="count_letter",
        description="counts how often a letter occurs in a word.",
        params=(Param("word", str, "the word", max_length=64), Param("letter", str, max_length=1)),
        func=lambda word, letter: str(count_letter(word, letter)),
        example="banana, a",
    )
    return ToolRegistry([calculator, _lookup_tool(kb), letters])
