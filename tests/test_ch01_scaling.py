"""Chapter 1: the log-log least-squares power-law fit."""

from __future__ import annotations

import numpy as np
import pytest

from funlm.scaling import fit_power_law


def test_exact_power_law_is_recovered():
    n = np.array([1e3, 1e4, 1e5, 1e6, 1e7])
    loss = (8.8e13 / n) ** 0.076  # Kaplan et al.'s alpha_N and N_c
    fit = fit_power_law(n, loss)
    assert fit.alpha == pytest.approx(0.076, rel=1e-9)
    assert fit.n_c == pytest.approx(8.8e13, rel=1e-6)
    assert fit.r2 == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(fit.predict(n), loss, rtol=1e-9)


def test_noisy_fit_matches_numpy_polyfit_and_r2_definition():
    rng = np.random.default_rng(0)
    n = np.geomspace(1e4, 1e6, 6)
    loss = (1e5 / n) ** 0.2 * np.exp(rng.normal(0, 0.05, size=6))
    fit = fit_power_law(list(n), list(loss))
    slope, intercept = np.polyfit(np.log(n), np.log(loss), 1)
    assert fit.alpha == pytest.approx(-slope, rel=1e-9)
    y = np.log(loss)
    r2 = 1 - np.sum((y - (slope * np.log(n) + intercept)) ** 2) / np.sum((y - y.mean()) ** 2)
    assert fit.r2 == pytest.approx(r2, rel=1e-9)
    assert 0 < fit.r2 < 1


def test_degenerate_inputs_are_refused():
    with pytest.raises(ValueError):
        fit_power_law([1e3], [2.0])
    with pytest.raises(ValueError):
        fit_power_law([1e3, 1e3], [2.0, 1.0])
