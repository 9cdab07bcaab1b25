"""Chapter 1: the log-log least-squares power-law fit."""

from __future__ import annotations

import numpy as np
import pytest

from funlm.gpt3.scaling import fit_power_law


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


def test_plot_scaling_draws_the_points_and_curves_it_is_given():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from funlm.gpt3.scaling import plot_scaling

    points = [
        {"n_params": n, "val_loss": (1e5 / n) ** 0.2, "eval_loss": [[10, 3.0], [20, 2.0]]}
        for n in (1e3, 1e4, 1e5)
    ]
    fig, fit = plot_scaling(points, tokens_per_step=64, baseline=3.5, label="cpu profile, recorded")
    curves, loglog = fig.axes
    assert fit.alpha == pytest.approx(0.2, rel=1e-9)
    np.testing.assert_allclose(curves.lines[0].get_xdata(), [640, 1280])  # steps x tokens/step
    np.testing.assert_allclose(loglog.lines[0].get_xdata(), [1e3, 1e4, 1e5])
    assert "cpu profile, recorded" in loglog.get_title()
    plt.close(fig)


def test_ch01_record_carries_what_the_figures_need():
    """The committed cpu record holds the learning curves and per-draw accuracies the book draws."""
    import json
    from pathlib import Path

    record = json.loads(
        (Path(__file__).resolve().parents[1] / "results" / "repro" / "ch01-cpu.json").read_text()
    )
    for point in record["scaling_points"]:
        assert point["eval_loss"] and point["eval_loss"][-1][1] == pytest.approx(point["val_loss"])
    draws = record["fewshot_acc_per_draw"]
    for k, acc in record["fewshot_acc"].items():
        assert np.mean(draws[k]) == pytest.approx(acc, abs=1e-3)
    for k in record["fewshot_acc"]:
        interval = record["intervals"][f"fewshot_acc_k{k}"]
        assert interval["lo"] <= record["fewshot_acc"][k] <= interval["hi"]
