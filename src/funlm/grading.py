"""Assertion helpers for nbgrader test cells.

Every helper raises ``AssertionError`` with a Korean hint when the student's answer is wrong
(nbgrader then gives the cell zero points and shows the hint in the feedback), and prints a short
confirmation to stdout when it is right. Nothing is ever written to stderr on success: nbgrader
scores a test cell with any stderr output as zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from funlm.quiet import silence_known_warnings

__all__ = [
    "GradingError",
    "check",
    "check_close",
    "check_equal",
    "check_shape",
    "check_type",
    "passed",
]

silence_known_warnings()


class GradingError(AssertionError):
    """A failed check, carrying a Korean hint for the student."""


def _fail(hint: str, detail: str) -> None:
    raise GradingError(f"💡 힌트: {hint}\n   (세부 정보: {detail})")


def passed(message: str = "통과했습니다!") -> None:
    """Print a confirmation line (stdout only)."""
    print(f"✅ {message}")


def check(condition: Any, hint: str, *, detail: str = "condition is False") -> None:
    """Fail with ``hint`` unless ``condition`` is truthy."""
    if not condition:
        _fail(hint, detail)


def check_type(value: Any, expected: type | tuple[type, ...], hint: str) -> None:
    """Fail with ``hint`` unless ``value`` is an instance of ``expected``.

    Built-in scalar types (int, str, ...) must match exactly: a subclass could lie in ``==``
    or ``in`` and fool the checks that follow.
    """
    types = expected if isinstance(expected, tuple) else (expected,)
    if not isinstance(value, types):
        _fail(hint, f"expected {expected}, got {type(value).__name__}")
    if _is_fake_builtin(value) and type(value) not in types:
        _fail(hint, f"expected exactly {expected}, got a subclass {type(value).__name__}")


def check_equal(actual: Any, expected: Any, hint: str) -> None:
    """Exact equality for ints, strings, lists and other non-float values."""
    if isinstance(actual, float) or isinstance(expected, float):
        raise TypeError("use check_close for floats")
    plain = _to_plain(actual)
    _require_builtin_leaves(plain, hint)
    if plain != _to_plain(expected):
        _fail(hint, _difference(plain, _to_plain(expected)))


def check_close(
    actual: Any, expected: Any, hint: str, *, rtol: float = 1e-5, atol: float = 1e-8
) -> None:
    """Elementwise ``|actual - expected| <= atol + rtol * |expected|`` for numbers and arrays."""
    import numpy as np

    try:
        a = np.asarray(_to_plain(actual), dtype=float)
        e = np.asarray(_to_plain(expected), dtype=float)
    except (TypeError, ValueError):
        _fail(hint, f"not a number/array: {_short(actual)}")
    if a.shape != e.shape:
        _fail(hint, f"shape {a.shape} != expected shape {e.shape}")
    if not np.all(np.isfinite(a)):
        _fail(hint, "result contains NaN or inf")
    if not np.allclose(a, e, rtol=rtol, atol=atol):
        worst = float(np.max(np.abs(a - e))) if a.size else math.nan
        _fail(hint, f"max |difference| = {worst:.3g} (rtol={rtol}, atol={atol})")


def check_shape(value: Any, expected: Sequence[int], hint: str) -> None:
    """Fail unless ``value.shape`` equals ``expected``."""
    shape = tuple(getattr(value, "shape", ()))
    if shape != tuple(expected):
        _fail(hint, f"shape {shape} != expected {tuple(expected)}")


_BUILTIN_SCALARS = (bool, int, float, complex, str, bytes)


def _is_fake_builtin(value: Any) -> bool:
    """A user-defined subclass of a built-in scalar (NumPy's own scalar types are fine)."""
    kind = type(value)
    return (
        isinstance(value, _BUILTIN_SCALARS)
        and kind not in _BUILTIN_SCALARS
        and kind.__module__ != "numpy"
    )


def _require_builtin_leaves(value: Any, hint: str) -> None:
    """Reject subclasses of built-in scalars anywhere in ``value`` (they may fake ``==``)."""
    if isinstance(value, list | tuple):
        for item in value:
            _require_builtin_leaves(item, hint)
    elif isinstance(value, dict):
        for key, item in value.items():
            _require_builtin_leaves(key, hint)
            _require_builtin_leaves(item, hint)
    elif _is_fake_builtin(value):
        _fail(hint, f"{type(value).__name__} is a subclass of a built-in type")


def _to_plain(value: Any) -> Any:
    """Tensors and arrays to nested lists, so they compare with plain Python values."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple):
        return [_to_plain(v) for v in value]
    if isinstance(value, list):
        return [_to_plain(v) for v in value]
    return value


def _first_difference(actual: Any, expected: Any) -> tuple[list, Any, Any]:
    """Index path to the first place two nested lists/strings differ, and the two values."""
    path: list = []
    while True:
        if isinstance(actual, list) and isinstance(expected, list):
            n = min(len(actual), len(expected))
            index = next((i for i in range(n) if actual[i] != expected[i]), n)
            if index == n:  # one is a prefix of the other: the lengths differ
                return path, actual, expected
            path.append(index)
            actual, expected = actual[index], expected[index]
        else:
            return path, actual, expected


def _difference(actual: Any, expected: Any, context: int = 30) -> str:
    """Where ``actual`` first differs from ``expected``, with a little context around it.

    Long strings and sequences are cut *around* the first difference, not at their start,
    so the part that differs is always shown.
    """
    whole = f"expected {_short(expected)}, got {_short(actual)}"
    path, a, e = _first_difference(actual, expected)
    where = "".join(f"[{i}]" for i in path)
    if isinstance(a, list) and isinstance(e, list):
        n = min(len(a), len(e))
        return (
            f"length of value{where}: expected {len(e)}, got {len(a)}; "
            f"from [{n}] on: expected {_short(e[n : n + 3])}, got {_short(a[n : n + 3])}"
        )
    if isinstance(a, str) and isinstance(e, str):
        n = min(len(a), len(e))
        i = next((k for k in range(n) if a[k] != e[k]), n)
        start = max(0, i - context)
        lead = "…" if start else ""
        return (
            f"strings differ{(' at ' + where) if where else ''} from character {i}: "
            f"expected {lead}{e[start : i + context]!r}, got {lead}{a[start : i + context]!r}"
            f" (lengths {len(e)} and {len(a)})"
        )
    if not path:
        return whole
    return f"first difference at {where}: expected {_short(e)}, got {_short(a)}"


def _short(value: Any, limit: int = 120) -> str:
    text = repr(_to_plain(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."
