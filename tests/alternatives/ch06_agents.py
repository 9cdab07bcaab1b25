"""ch06: correct answers written differently from the reference solution."""

CASES: dict[str, str] = {
    # re.split with a capturing label group into (label, value) pairs, a regex to peel the
    # wrappers, and a lookup of the first Action / Final Answer field
    "parse_step": r'''
_LABEL_SPLIT = re.compile(
    r"(?:\*\*)?[ \t]*\b(final[ \t]+answer|action[ \t]+input|action|thought|observation)"
    r"[ \t]*(?:\*\*)?[ \t]*:",
    re.IGNORECASE,
)
_WRAPPED = re.compile(r"^[\s`'\"*]+|[\s`'\"*]+$")


def _first_line_clean(value: str) -> str:
    for line in value.split("\n"):
        if line.strip():
            return _WRAPPED.sub("", line)
    return ""


def parse_step(text: str) -> dict:
    """Parse one ReAct step; returns {"type", "thought", "tool", "tool_input", "answer"}."""
    step = dict(type="error", thought="", tool=None, tool_input=None, answer=None)
    if not isinstance(text, str):
        return step
    head, *rest = _LABEL_SPLIT.split(text)
    # rest alternates: label, value, label, value, ...
    fields = []
    for name, value in zip(rest[0::2], rest[1::2]):
        name = " ".join(name.lower().split())
        if name == "observation":
            break  # the model invented the tool's answer: ignore it and all that follows
        fields.append((name, _first_line_clean(value)))
    step["thought"] = head.strip()
    if not step["thought"]:
        step["thought"] = next((value for name, value in fields if name == "thought"), "")
    decisive = [k for k, (name, _) in enumerate(fields) if name in ("action", "final answer")]
    if not decisive:
        return step
    where = decisive[0]
    name, value = fields[where]
    if name == "final answer":
        if value:
            step["type"], step["answer"] = "final", value
        return step
    tool_input = next((v for n, v in fields[where + 1:] if n == "action input"), "")
    tool = value.lower()
    if tool and tool_input:
        if tool == "finish":
            step["type"], step["answer"] = "final", tool_input
        else:
            step["type"], step["tool"], step["tool_input"] = "action", tool, tool_input
    return step
''',
    # structural pattern matching on the tree, operators looked up by name in a helper
    "safe_calculate": r'''
_OPERATORS = {
    "Add": operator.add, "Sub": operator.sub, "Mult": operator.mul, "Div": operator.truediv,
    "FloorDiv": operator.floordiv, "Mod": operator.mod, "Pow": operator.pow,
}


def _apply(op: ast.operator, left, right):
    name = type(op).__name__
    if name not in _OPERATORS:
        raise ValueError(f"operator {name} is not allowed")
    if name == "Pow" and abs(right) > 100:
        raise ValueError("exponent larger than 100")
    try:
        result = _OPERATORS[name](left, right)
    except (ZeroDivisionError, OverflowError) as error:
        raise ValueError(str(error)) from None
    if isinstance(result, complex):
        raise ValueError("complex result")
    return result


def _reduce(node: ast.AST):
    match node:
        case ast.Constant(value=bool()):
            raise ValueError("booleans are not numbers here")
        case ast.Constant(value=int() | float() as number):
            return number
        case ast.UnaryOp(op=ast.UAdd(), operand=operand):
            return +_reduce(operand)
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return -_reduce(operand)
        case ast.BinOp(left=left, op=op, right=right):
            return _apply(op, _reduce(left), _reduce(right))
    raise ValueError(f"{type(node).__name__} is not allowed")


def safe_calculate(expression: str) -> float:
    """Evaluate + - * / // % ** and parentheses on numbers; ValueError for anything else."""
    try:
        tree = ast.parse(expression, mode="eval")
    except (SyntaxError, ValueError, TypeError) as error:
        raise ValueError(f"cannot parse {expression!r}") from error
    return _reduce(tree.body)
''',
    # a type -> converter table, a mapping built per input form, dict comprehension of results
    "bind_args": r'''
def _as_text(param, value) -> str:
    text = re.sub(r"^[\s'\"]+|[\s'\"]+$", "", str(value))
    if not text:
        raise ToolError(f"argument {param.name!r} is empty")
    if param.max_length is not None and len(text) > param.max_length:
        raise ToolError(f"argument {param.name!r} is longer than {param.max_length}")
    return text


def _as_number(param, value):
    if isinstance(value, bool):
        raise ToolError(f"argument {param.name!r} must be a number")
    try:
        number = float(value) if isinstance(value, (int, float)) else float(str(value).strip())
    except ValueError:
        raise ToolError(f"argument {param.name!r} must be a number, not {value!r}") from None
    if param.type is int:
        if not number.is_integer():  # also refuses inf and nan
            raise ToolError(f"argument {param.name!r} must be a whole number")
        return int(number)
    return number


_CONVERTERS = {str: _as_text, int: _as_number, float: _as_number}


def _convert(param, value):
    converted = _CONVERTERS.get(param.type, _as_number)(param, value)
    if param.choices is not None and converted not in param.choices:
        raise ToolError(f"argument {param.name!r} must be one of {list(param.choices)}")
    return converted


def _raw_values(params: list, text: str) -> dict:
    if text[0] == "{":
        try:
            obj = json.loads(text)
        except ValueError:
            raise ToolError("Action Input is not valid JSON") from None
        if type(obj) is not dict:
            raise ToolError("a JSON Action Input must be an object")
        extra = [key for key in obj if key not in {p.name for p in params}]
        if extra:
            raise ToolError(f"unknown arguments: {extra}")
        return obj
    if not params:
        raise ToolError("this tool takes no arguments")
    n_required = len([p for p in params if p.required])
    if n_required < 2:
        return {params[0].name: text}
    pieces = text.split(",", len(params) - 1)
    return {param.name: piece for param, piece in zip(params, pieces)}


def bind_args(params: list, raw: str) -> dict:
    """Validate a tool's Action Input against its Param list; raise ToolError on problems."""
    text = "" if raw is None else str(raw).strip()
    if text == "":
        raise ToolError("Action Input is empty")
    given = _raw_values(params, text)
    missing = [p.name for p in params if p.required and p.name not in given]
    if missing:
        raise ToolError(f"missing argument {missing[0]!r}")
    return {
        p.name: _convert(p, given[p.name]) if p.name in given else p.default for p in params
    }
''',
    # a while loop over a step counter, match on the parsed kind, a helper for the tool call
    "run_react": r'''
from funlm.agents import parse_react

STOP = ("Observation:", "\nQuestion:", "<|im_end|>", "\n\n")


def _observe(registry, action: str, action_input: str) -> str:
    try:
        return registry.call(action, action_input)
    except ToolError as error:
        return f"Error: {error}"


def run_react(question: str, lm, registry, max_steps: int = 4) -> dict:
    """The ReAct loop; returns {"answer", "steps", "stop_reason"}."""
    template = ReActPrompt(registry)
    steps: list[tuple[str, str, str, str]] = []
    calls = 0
    while calls < max_steps:
        calls += 1
        [reply] = lm.generate([template.render(question, steps)], stop=STOP, max_new_tokens=64)
        parsed = parse_react(reply)
        match parsed.kind:
            case "final":
                return dict(answer=parsed.answer, steps=steps, stop_reason="final_answer")
            case "error":
                steps.append((parsed.thought, "(none)", "", f"Invalid format: {parsed.error}"))
            case _:
                observation = _observe(registry, parsed.action, parsed.action_input)
                steps.append((parsed.thought, parsed.action, parsed.action_input, observation))
                repeated = len(steps) > 1 and (steps[-2][1], steps[-2][2]) == (
                    parsed.action, parsed.action_input)
                if repeated:
                    return dict(answer=None, steps=steps, stop_reason="loop")
    return dict(answer=None, steps=steps, stop_reason="max_steps")
''',
    # str.find scanning with explicit neighbour checks for whole words; defaultdict grouping
    "evaluation": r'''
from collections import defaultdict

_NUMERIC_ANSWER = re.compile(r"-?\d+(?:\.\d+)?")
_FIRST_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?")


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _contains_word(haystack: str, needle: str) -> bool:
    if not needle:
        return False
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        before = haystack[start - 1] if start > 0 else ""
        after = haystack[end] if end < len(haystack) else ""
        if not (before and _is_word_char(before)) and not (after and _is_word_char(after)):
            return True
        start = haystack.find(needle, start + 1)
    return False


def is_correct(prediction, answers) -> bool:
    """Does the prediction match one of the accepted answers?"""
    if prediction is None or prediction == "":
        return False
    first = _FIRST_NUMBER.search(prediction)
    first_value = float(first.group().replace(",", "")) if first else None
    for answer in answers:
        if _NUMERIC_ANSWER.fullmatch(answer.strip()):
            if first_value is not None and abs(first_value - float(answer)) <= 1e-6:
                return True
        elif _contains_word(prediction.lower(), answer.lower()):
            return True
    return False


def summarize(records: list) -> dict:
    """Success rate, mean steps and per-category success rate."""
    total = len(records)
    if total == 0:
        return {"success_rate": 0.0, "avg_steps": 0.0, "by_category": {}}
    groups = defaultdict(list)
    n_correct = n_steps = 0
    for record in records:
        groups[record["category"]].append(1.0 if record["correct"] else 0.0)
        n_correct += bool(record["correct"])
        n_steps += record["steps"]
    by_category = {category: sum(hits) / len(hits) for category, hits in groups.items()}
    return {"success_rate": n_correct / total, "avg_steps": n_steps / total,
            "by_category": by_category}
''',
    # one verbose compiled pattern; lines first, then sentences within each line
    "defend": r'''
_INSTRUCTION_LIKE = re.compile(
    r"""
      \b(?:ignore|disregard|forget)\b .{0,40} \b(?:instructions?|previous|above)\b
    | \bnew[ ]instructions\b
    | \byou[ ]must[ ]now\b
    | \b(?:system(?:[ ]note)?|assistant) \s* :
    | <\|im_(?:start|end)\|>
    | \b(?:thought|action(?:[ ]input)?|observation|final[ ]answer) \s* :
    | (?:이전|위의) \s* 지시 .* 무시
    """,
    re.IGNORECASE | re.VERBOSE,
)


def _pieces(text: str) -> list[str]:
    found = []
    for line in text.split("\n"):
        for sentence in re.split(r"(?<=[.!?])\s+", line):
            if sentence.strip():
                found.append(sentence)
    return found


def defend(observation: str) -> str:
    """Remove instruction-like pieces from a tool output before the model sees it."""
    kept, removed = [], False
    for piece in _pieces(observation):
        if _INSTRUCTION_LIKE.search(piece):
            removed = True
        else:
            kept.append(piece.strip())
    if not removed:
        return observation
    return "{} [removed]".format(" ".join(kept))
''',
}
