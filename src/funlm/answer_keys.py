"""Answer keys: ``funlm`` functions that *are* a graded answer, and a tripwire for tests.

The course package has to contain working versions of what students implement (the book and
the reproductions run on them). A submission whose answer cell only calls that ``funlm``
function would pass every check without the student writing anything, so such functions are
marked with :func:`answer_key`, and a test wraps the call of the student's code in
:func:`forbid_delegation`::

    expected = ...                                    # computed before, outside the tripwire
    with forbid_delegation(ridge, min_norm_lstsq):    # the answer keys of this part
        got = student_ridge(F, y, lam)
    check_close(got, expected, "...")

While the tripwire is armed, calling one of the named answer keys raises
:class:`DelegationError` (so the delegated call gives no answer) and is recorded; leaving the
``with`` block then fails the test with a Korean hint (a ``GradingError``), whether the error
reached the test or the student's code caught it. Calls of answer keys that were not named (a
building block of an earlier part, or ``funlm`` machinery the student is allowed to use) are not
affected.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from funlm.grading import GradingError

__all__ = ["DelegationError", "answer_key", "forbid_delegation", "is_answer_key"]

F = TypeVar("F", bound=Callable[..., Any])

_LOCK = threading.Lock()
_ARMED: dict[int, int] = {}  # id(wrapper) -> how many tripwires name it
_CALLED: list[str] = []  # names of armed answer keys that were called
_KEYS: dict[int, str] = {}  # id(wrapper) -> qualified name of every registered answer key


class DelegationError(RuntimeError):
    """An answer key was called while a test forbids it."""


def answer_key(function: F) -> F:
    """Mark ``function`` as the reference answer of a graded part (see the module docstring)."""
    name = f"{function.__module__}.{function.__qualname__}"

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _ARMED.get(id(wrapper)):
            with _LOCK:
                _CALLED.append(name)
            raise DelegationError(
                f"{name} 은(는) 이 문제의 모범 답안이라 채점 중에는 부를 수 없습니다 "
                f"/ {name} is this part's reference answer and cannot be called while grading."
            )
        return function(*args, **kwargs)

    # functools.wraps exposes the original through __wrapped__; an answer key does not.
    del wrapper.__wrapped__
    _KEYS[id(wrapper)] = name
    return wrapper  # type: ignore[return-value]


def is_answer_key(obj: Any) -> bool:
    """Whether ``obj`` is a function marked with :func:`answer_key`."""
    return id(obj) in _KEYS


@contextmanager
def forbid_delegation(*keys: Callable[..., Any]) -> Iterator[None]:
    """Fail the enclosing test when the code run inside calls any of ``keys``."""
    unknown = [getattr(k, "__qualname__", repr(k)) for k in keys if not is_answer_key(k)]
    if unknown:
        raise TypeError(f"not answer keys (mark them with @answer_key): {unknown}")
    with _LOCK:
        start = len(_CALLED)
        for key in keys:
            _ARMED[id(key)] = _ARMED.get(id(key), 0) + 1
    try:
        yield
    except DelegationError:
        pass  # reported below as the test's failure, with the Korean hint
    finally:
        with _LOCK:
            for key in keys:
                _ARMED[id(key)] -= 1
                if not _ARMED[id(key)]:
                    del _ARMED[id(key)]
            called = sorted(set(_CALLED[start:]))
            del _CALLED[start:]
    if called:
        names = ", ".join(called)
        raise GradingError(
            f"💡 힌트: 답 셀이 funlm 의 모범 답안({names})을 그대로 불렀습니다. "
            "이 부분은 직접 구현해야 점수를 받습니다.\n"
            f"   (세부 정보: the answer delegates to the reference {names})"
        )
