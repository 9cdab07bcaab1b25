from __future__ import annotations

import numpy as np
import pytest

from funlm.answer_keys import DelegationError, answer_key, forbid_delegation, is_answer_key
from funlm.grading import GradingError
from funlm.stats import bootstrap_mean, paired_bootstrap_diff


@answer_key
def reference_double(x: int) -> int:
    return 2 * x


@answer_key
def reference_square(x: int) -> int:
    return x * x


def honest_double(x: int) -> int:
    return x + x


def delegating_double(x: int) -> int:
    return reference_double(x)


def sneaky_double(x: int) -> int:
    try:
        return reference_double(x)
    except Exception:
        return x + x  # swallowing the tripwire does not save the part


def test_answer_key_behaves_like_the_function_outside_a_tripwire():
    assert reference_double(4) == 8
    assert is_answer_key(reference_double)
    assert not is_answer_key(honest_double)
    assert not hasattr(reference_double, "__wrapped__")


def test_honest_code_passes_inside_the_tripwire():
    with forbid_delegation(reference_double):
        assert honest_double(3) == 6


def test_delegation_raises_and_fails_the_test():
    with pytest.raises(GradingError, match="모범 답안"):
        with forbid_delegation(reference_double):
            with pytest.raises(DelegationError):
                delegating_double(3)
    # Uncaught, the delegation error becomes the test's Korean hint, not a bare exception.
    with pytest.raises(GradingError, match="직접 구현해야"):
        with forbid_delegation(reference_double):
            delegating_double(3)


def test_caught_delegation_still_fails():
    with pytest.raises(GradingError, match="reference_double"):
        with forbid_delegation(reference_double):
            assert sneaky_double(3) == 6


def test_only_the_named_keys_are_forbidden_and_the_trip_is_disarmed_afterwards():
    with forbid_delegation(reference_square):
        assert delegating_double(5) == 10
    with pytest.raises(GradingError):
        with forbid_delegation(reference_double):
            sneaky_double(1)
    assert delegating_double(2) == 4  # disarmed again


def test_forbid_delegation_rejects_functions_that_are_not_answer_keys():
    with pytest.raises(TypeError):
        with forbid_delegation(honest_double):
            pass


def test_bootstrap_mean_is_seeded_and_contains_the_mean():
    scores = np.array([1, 0, 1, 1, 0, 1, 1, 1, 0, 1], dtype=float)
    first, second = bootstrap_mean(scores), bootstrap_mean(scores)
    assert first == second
    assert first.lo <= first.mean <= first.hi
    assert first.mean == pytest.approx(0.7)
    assert 0.3 < first.lo < 0.7 < first.hi <= 1.0


def test_paired_difference_sees_a_consistent_shift_that_unpaired_noise_hides():
    rng = np.random.default_rng(1)
    difficulty = rng.normal(size=60)
    a = difficulty
    b = difficulty + 0.3 + rng.normal(scale=0.05, size=60)
    paired = paired_bootstrap_diff(a, b)
    assert paired.excludes_zero and paired.lo > 0.2
    no_effect = paired_bootstrap_diff(a, a + rng.normal(scale=0.05, size=60))
    assert not no_effect.excludes_zero
    record = paired.as_record()
    assert set(record) == {"mean", "lo", "hi", "n", "level"} and record["n"] == 60


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        bootstrap_mean([])
    with pytest.raises(ValueError):
        paired_bootstrap_diff([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        bootstrap_mean([1.0, float("nan")])
