from __future__ import annotations

import numpy as np
import pytest
import torch

from funlm.grading import GradingError, check, check_close, check_equal, check_shape, check_type


def test_passing_checks_write_nothing_to_stderr(capsys):
    check(True, "unused")
    check_equal([1, 2], torch.tensor([1, 2]), "unused")
    check_close(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]), "unused")
    check_shape(torch.zeros(2, 3), (2, 3), "unused")
    check_type(3, int, "unused")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "call",
    [
        lambda: check(False, "한국어 힌트"),
        lambda: check_equal(3, 4, "한국어 힌트"),
        lambda: check_close(1.0, 1.1, "한국어 힌트"),
        lambda: check_close([1.0, float("nan")], [1.0, 1.0], "한국어 힌트"),
        lambda: check_close(torch.zeros(2), torch.zeros(3), "한국어 힌트"),
        lambda: check_shape(torch.zeros(2), (3,), "한국어 힌트"),
        lambda: check_type("x", int, "한국어 힌트"),
    ],
)
def test_failing_checks_raise_with_korean_hint(call):
    with pytest.raises(GradingError, match="힌트: 한국어 힌트"):
        call()


def test_grading_error_is_an_assertion_error():
    assert issubclass(GradingError, AssertionError)


def test_check_equal_refuses_floats():
    with pytest.raises(TypeError):
        check_equal(0.1 + 0.2, 0.3, "floats need a tolerance")


def test_check_close_tolerances():
    check_close(1.0, 1.0 + 1e-7, "unused")
    with pytest.raises(GradingError):
        check_close(1.0, 1.0 + 1e-3, "too far", rtol=1e-5, atol=0)


def test_subclasses_of_builtins_cannot_fake_equality():
    class AlwaysEqual(int):
        def __eq__(self, other):
            return True

        def __ne__(self, other):
            return False

        __hash__ = int.__hash__

    class ContainsAll(str):
        def __contains__(self, item):
            return True

    with pytest.raises(GradingError):
        check_equal(AlwaysEqual(1), 2, "가짜 정수")
    with pytest.raises(GradingError):
        check_equal([AlwaysEqual(1)], [2], "가짜 정수 리스트")
    with pytest.raises(GradingError):
        check_type(ContainsAll("x"), str, "가짜 문자열")


def test_a_long_failing_value_shows_where_it_differs():
    # greedy decoding: 40 token ids that differ only near the end
    expected = list(range(100, 140))
    got = [*expected[:37], 7, 8, 9]
    with pytest.raises(GradingError, match=r"first difference at \[37\]: expected 137, got 7"):
        check_equal(torch.tensor([got]).tolist()[0], expected, "토큰이 다릅니다")
    with pytest.raises(GradingError, match=r"first difference at \[0\]\[37\]"):
        check_equal(torch.tensor([got]), torch.tensor([expected]), "토큰이 다릅니다")
    text = "x" * 300
    with pytest.raises(GradingError, match=r"from character 300: expected …'x+!', got …'x+\?'"):
        check_equal(text + "?", text + "!", "문자열이 다릅니다")
    with pytest.raises(GradingError, match="length of value: expected 2, got 3"):
        check_equal([1, 2, 3], [1, 2], "길이가 다릅니다")
