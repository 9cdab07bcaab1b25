"""Chapter 4's headline experiment: double descent, from random-features regression to an MLP.

:func:`run_experiment` measures (``python -m funlm.repro ch04`` records it)

- ``rf_curve``: min-norm random-ReLU regression, test error over p/n, on a synthetic teacher
  problem and on scikit-learn's digits; the peak at p = n against the classical U-curve's bottom
  (p <= n/2) and against the far over-parameterised end (p >= 10 n);
- ``sample_wise``: the peak sits at p = n for several n, and for a fixed p more data can hurt;
- ``peak_by_noise`` / ``peak_by_ridge``: the peak grows with label noise and shrinks with ridge;
  with lambda chosen on a validation set the peak disappears;
- ``nn_widthwise`` / ``epochwise``: a one-hidden-layer MLP trained on digits with 20% label
  noise, over widths and over training steps;
- ``criteria``: every headline claim as a boolean computed from the numbers above;
- ``intervals``: paired bootstrap 95 % intervals (``funlm.stats``) of the comparisons behind the
  criteria. The random-features comparisons pair the trials (same data and features in both
  conditions); errors near ``p = n`` are heavy-tailed, so those compare ``log10`` errors (the
  mean difference is the log10 of the geometric-mean ratio). The MLP comparisons pair the test
  examples of one training run: they cover test-set sampling, not seed-to-seed variation, and
  the widths compared were picked on the same test set (so they are optimistic).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from funlm.double_descent.data import Dataset, digits_data, teacher_data
from funlm.double_descent.mlp import (
    WidthSweep,
    epoch_summary,
    largest_rise,
    width_summary,
    width_sweep,
)
from funlm.double_descent.sweeps import (
    DEFAULT_RATIOS,
    Curve,
    feature_counts,
    peak_summary,
    rf_curve,
    sample_curve,
    validated_ridge_curve,
)
from funlm.experiment import ExperimentSettings
from funlm.profile import Profile
from funlm.stats import paired_bootstrap_diff

GRADE_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0, 10.0)


@dataclass(frozen=True)
class Settings(ExperimentSettings):
    """Every size of the chapter's experiments for one profile (the book uses the same table)."""

    n: int  # training points of the synthetic headline curve
    noise: float  # the synthetic headline curve's label noise (std of the Gaussian)
    trials: int
    ratios: tuple[float, ...]  # p / n of the feature counts
    digits_n: int
    digits_trials: int
    noise_levels: tuple[float, ...]
    lambdas: tuple[float, ...]  # the ridge family
    lambda_grid: tuple[float, ...]  # the validated ridge's candidates
    n_val: int
    ns_for_peak: tuple[int, ...]  # sample-wise: the peak follows n
    sample_p: int  # sample-wise: the fixed number of features
    mlp_n: int
    mlp_label_noise: float
    mlp_widths: tuple[int, ...]
    mlp_steps: int
    mlp_lr: float


def settings(profile: Profile) -> Settings:
    """Chapter 4's sizes for ``profile``."""
    P = profile
    return Settings(
        profile=P.name,
        device=P.device,
        n=P.pick(cpu=100, gpu=200, grade=40),
        noise=0.5,
        trials=P.pick(cpu=20, gpu=50, grade=5),
        ratios=P.pick(cpu=DEFAULT_RATIOS, gpu=DEFAULT_RATIOS, grade=GRADE_RATIOS),
        digits_n=P.pick(cpu=200, gpu=400, grade=60),
        digits_trials=P.pick(cpu=5, gpu=10, grade=2),
        noise_levels=(0.0, 0.25, 0.5, 1.0),
        lambdas=(0.0, 1e-4, 1e-3, 1e-2, 1e-1),
        lambda_grid=tuple(float(v) for v in np.logspace(-6, 1, 15)),
        n_val=P.pick(cpu=100, gpu=200, grade=40),
        ns_for_peak=P.pick(cpu=(50, 100, 200), gpu=(100, 200, 400), grade=(20, 40)),
        sample_p=P.pick(cpu=100, gpu=200, grade=40),
        mlp_n=P.pick(cpu=300, gpu=1000, grade=100),
        mlp_label_noise=0.2,
        mlp_widths=P.pick(
            cpu=(4, 8, 16, 32, 48, 64, 96, 128, 256, 512),
            gpu=(4, 8, 16, 32, 64, 96, 128, 160, 192, 256, 384, 512, 1024, 2048, 4096),
            grade=(4, 16, 32, 128),
        ),
        mlp_steps=P.pick(cpu=2000, gpu=10_000, grade=200),
        mlp_lr=2e-3,
    )


def _curve_json(curve: Curve, n: int) -> dict[str, Any]:
    out = {
        "p": curve.xs.tolist(),
        "p_over_n": [round(float(p) / n, 4) for p in curve.xs],
        "test_error": [float(v) for v in curve.median],
        "train_error": [float(v) for v in curve.median_train],
    }
    if curve.test_class_error is not None:
        out["test_class_error"] = [float(v) for v in np.median(curve.test_class_error, axis=0)]
    return out


def _under_index(curve: Curve, n: int) -> int:
    """Column of the best median error over ``p <= n/2`` (the classical U-curve's bottom)."""
    med = np.where(curve.xs <= n / 2, curve.median, np.inf)
    return int(np.argmin(med))


def _column(curve: Curve, x: float) -> int:
    return int(np.argmin(np.abs(curve.xs - x)))


def _log10_diff(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Paired interval of ``log10(b) - log10(a)`` over trials."""
    return paired_bootstrap_diff(np.log10(a), np.log10(b)).as_record()


def _rf_intervals(curve: Curve, n: int, prefix: str) -> dict[str, dict[str, Any]]:
    """Peak at ``p = n`` vs the U-curve's bottom, and the far end (``p >= 10 n``) vs that bottom."""
    bottom = curve.test_error[:, _under_index(curve, n)]
    at_n = curve.test_error[:, _column(curve, n)]
    far = curve.test_error[:, curve.xs >= 10 * n].max(axis=1)
    return {
        f"{prefix}_log10_peak_over_min_under": _log10_diff(bottom, at_n),
        f"{prefix}_far_minus_min_under": paired_bootstrap_diff(bottom, far).as_record(),
    }


def _strictly(values: list[float], increasing: bool) -> bool:
    return all((b > a) if increasing else (b < a) for a, b in pairwise(values))


def _teacher(sigma: float, n_train: int) -> Callable[[int], Dataset]:
    """The synthetic problem with label noise ``sigma`` and ``n_train`` points, per seed."""
    return lambda seed: teacher_data(n_train, noise=sigma, seed=seed)


@dataclass
class _RandomFeatures:
    """Every random-features curve of the chapter and what is read from them."""

    synth: Curve
    digits: Curve
    by_n: Curve  # sample-wise, at the fixed number of features
    noise_trials: list[np.ndarray]  # per noise level: the error at p = n of every trial
    ridge_curves: dict[float, Curve]
    tuned: Curve  # lambda chosen on a validation set
    record: dict[str, Any]  # the parts of the result: rf_curve, sample_wise, peak_by_*


def headline_curves(S: Settings) -> tuple[Curve, Curve, dict[str, Any]]:
    """The test-error curves over p/n of the synthetic teacher and of digits (``rf_curve``)."""
    n, dn = S.n, S.digits_n
    synth = rf_curve(_teacher(S.noise, n), feature_counts(n, S.ratios), trials=S.trials)
    digits = rf_curve(
        lambda seed: digits_data(dn, seed=seed),
        feature_counts(dn, S.ratios),
        trials=S.digits_trials,
    )
    synth_sum, digits_sum = peak_summary(synth, n), peak_summary(digits, dn)
    return (
        synth,
        digits,
        {
            "synthetic": {
                **synth_sum,
                "noise": S.noise,
                "trials": S.trials,
                **_curve_json(synth, n),
            },
            "digits": {**digits_sum, "trials": S.digits_trials, **_curve_json(digits, dn)},
        },
    )


def sample_wise_curves(S: Settings) -> tuple[Curve, dict[str, Any]]:
    """The peak follows n; at a fixed number of features p, more data can hurt."""
    peaks = []
    for n_i in S.ns_for_peak:
        curve = rf_curve(_teacher(S.noise, n_i), feature_counts(n_i, S.ratios), trials=S.trials)
        peaks.append(peak_summary(curve, n_i)["peak_p"])
    p_fixed = S.sample_p
    ns = feature_counts(p_fixed, [r for r in S.ratios if r <= 3.0])
    by_n = sample_curve(_teacher(S.noise, int(max(ns))), p_fixed, ns, trials=S.trials)
    err_n = by_n.median
    return by_n, {
        "peak_p_by_n": {"n": list(S.ns_for_peak), "peak_p": peaks},
        "fixed_p": p_fixed,
        "n": ns.tolist(),
        "test_error": [float(v) for v in err_n],
        "error_at_n_eq_p": float(err_n[int(np.argmin(np.abs(ns - p_fixed)))]),
        "error_at_n_eq_half_p": float(err_n[int(np.argmin(np.abs(ns - p_fixed / 2)))]),
    }


def noise_family(S: Settings, synth: Curve) -> list[np.ndarray]:
    """Per noise level, the error at p = n of every trial (the headline curve's own level is
    read from ``synth``). Inputs, features and noise direction are the same in every trial, so
    the levels are paired."""
    return [
        synth.test_error[:, _column(synth, S.n)]
        if sigma == S.noise
        else rf_curve(_teacher(sigma, S.n), [S.n], trials=S.trials).test_error[:, 0]
        for sigma in S.noise_levels
    ]


def ridge_family(S: Settings) -> tuple[dict[float, Curve], Curve, dict[str, Any]]:
    """The curve for each ridge strength, and with lambda chosen on a validation set."""
    n, ps = S.n, feature_counts(S.n, S.ratios)
    curves = {
        lam: rf_curve(_teacher(S.noise, n), ps, lam=lam, trials=S.trials) for lam in S.lambdas
    }
    tuned = validated_ridge_curve(
        _teacher(S.noise, n + S.n_val), ps, S.lambda_grid, n_val=S.n_val, trials=S.trials
    )
    tuned_sum = peak_summary(tuned, n)
    return (
        curves,
        tuned,
        {
            "lambda": list(S.lambdas),
            "peak": [float(c.median[_column(c, n)]) for c in curves.values()],
            "curves": {str(lam): [float(v) for v in c.median] for lam, c in curves.items()},
            "p_over_n": [round(float(p) / n, 4) for p in ps],
            "validated": {
                "test_error": [float(v) for v in tuned.median],
                "median_lambda": [float(v) for v in np.median(tuned.meta["lambda"], axis=0)],
                "error_at_threshold": tuned_sum["error_at_threshold"],
                "min_under": tuned_sum["min_under"],
            },
        },
    )


def random_features_part(S: Settings) -> _RandomFeatures:
    """The headline curves, the sample-wise curves, and the noise and ridge families (the peak:
    the median test error at p = n)."""
    synth, digits, rf = headline_curves(S)
    by_n, sample_wise = sample_wise_curves(S)
    noise_trials = noise_family(S, synth)
    ridge_curves, tuned, peak_by_ridge = ridge_family(S)
    record = {
        "rf_curve": rf,
        "sample_wise": sample_wise,
        "peak_by_noise": {
            "noise": list(S.noise_levels),
            "peak": [float(np.median(t)) for t in noise_trials],
            "p_eq_n": S.n,
        },
        "peak_by_ridge": peak_by_ridge,
    }
    return _RandomFeatures(synth, digits, by_n, noise_trials, ridge_curves, tuned, record)


@dataclass
class _Network:
    """The width sweep of the MLP and what is read from it."""

    sweep: WidthSweep
    early_stopped_no_peak: bool  # oracle early stopping leaves no bump over the widths
    record: dict[str, Any]  # the parts of the result: nn_widthwise, epochwise


def mlp_part(S: Settings) -> _Network:
    """A trained network on noisy digits: width-wise and epoch-wise double descent."""
    mlp_data = digits_data(S.mlp_n, label_noise=S.mlp_label_noise, seed=0)
    sweep = width_sweep(mlp_data, S.mlp_widths, steps=S.mlp_steps, lr=S.mlp_lr, device=S.device)
    nn_mse, nn_cls = width_summary(sweep, "test_mse"), width_summary(sweep, "test_class_error")
    # Oracle early stopping: each width's best logged test error during training.
    best_by_step = [float(min(row)) for row in sweep.test_mse_by_step]
    es_peak, es_before = largest_rise(np.asarray(best_by_step))
    nn = {
        "summary_mse": nn_mse,
        "summary_class_error": nn_cls,
        "n_train": S.mlp_n,
        "label_noise": S.mlp_label_noise,
        "steps": S.mlp_steps,
        "widths": sweep.widths,
        "params_over_nk": sweep.params_over_nk,
        "train_mse": sweep.train_mse,
        "train_class_error": sweep.train_class_error,
        "test_mse": sweep.test_mse,
        "test_class_error": sweep.test_class_error,
        "early_stopped_test_mse": best_by_step,
        "early_stopped_summary": {
            "largest_rise_width": sweep.widths[es_peak],
            "largest_rise_error": best_by_step[es_peak],
            "best_before": es_before,
        },
        "logged_steps": sweep.steps,
        "test_mse_by_step": sweep.test_mse_by_step,
        "test_class_error_by_step": sweep.test_class_error_by_step,
    }
    epochs = {
        "widest": epoch_summary(sweep, -1, "test_mse_by_step"),
        "at_peak_width": epoch_summary(
            sweep, sweep.widths.index(nn_mse["peak_width"]), "test_mse_by_step"
        ),
    }
    no_peak = es_peak == 0 or best_by_step[es_peak] <= 1.1 * es_before
    return _Network(sweep, no_peak, {"nn_widthwise": nn, "epochwise": epochs})


def comparison_intervals(S: Settings, rf: _RandomFeatures, net: _Network) -> dict[str, Any]:
    """Paired 95 % intervals of the comparisons behind the criteria (see the module docstring)."""
    n, p_fixed = S.n, S.sample_p
    intervals = {
        **_rf_intervals(rf.synth, n, "synthetic"),
        **_rf_intervals(rf.digits, S.digits_n, "digits"),
        "sample_wise_log10_n_eq_p_over_half_p": _log10_diff(
            rf.by_n.test_error[:, _column(rf.by_n, p_fixed / 2)],
            rf.by_n.test_error[:, _column(rf.by_n, p_fixed)],
        ),
    }
    for i, (lo, hi) in enumerate(pairwise(rf.noise_trials)):
        intervals[f"noise_log10_peak_step_{i + 1}"] = _log10_diff(lo, hi)
    ridge_trials = [c.test_error[:, _column(c, n)] for c in rf.ridge_curves.values()]
    for i, (lo, hi) in enumerate(pairwise(ridge_trials)):
        intervals[f"ridge_log10_peak_step_{i + 1}"] = _log10_diff(lo, hi)
    intervals["validated_threshold_minus_min_under"] = paired_bootstrap_diff(
        rf.tuned.test_error[:, _under_index(rf.tuned, n)],
        rf.tuned.test_error[:, _column(rf.tuned, n)],
    ).as_record()
    # The MLP: each metric's peak width against the best narrower width before it
    # (``first_min``) and against the widest network, paired over the test examples.
    sweep, nn = net.sweep, net.record["nn_widthwise"]
    per_example = {"mse": sweep.test_sq_error_final, "class_error": sweep.test_wrong_final}
    for name in ("mse", "class_error"):
        summary = nn[f"summary_{name}"]
        peak = sweep.widths.index(summary["peak_width"])
        first = sweep.widths.index(summary["first_min_width"])
        arrays = per_example[name]
        intervals[f"nn_peak_minus_first_min_{name}"] = paired_bootstrap_diff(
            arrays[first], arrays[peak]
        ).as_record()
        intervals[f"nn_widest_minus_first_min_{name}"] = paired_bootstrap_diff(
            arrays[first], arrays[-1]
        ).as_record()
    return intervals


def headline_criteria(
    S: Settings, record: dict[str, Any], net: _Network, intervals: dict[str, dict[str, Any]]
) -> dict[str, bool]:
    """Every headline claim as a boolean, from the numbers and from their intervals."""
    rf, sample_wise = record["rf_curve"], record["sample_wise"]
    synth, digits = rf["synthetic"]["criteria"], rf["digits"]["criteria"]
    noise_peaks, ridge_peaks = record["peak_by_noise"]["peak"], record["peak_by_ridge"]["peak"]
    validated = record["peak_by_ridge"]["validated"]
    nn_mse = record["nn_widthwise"]["summary_mse"]["criteria"]
    nn_cls = record["nn_widthwise"]["summary_class_error"]["criteria"]
    peaks = sample_wise["peak_p_by_n"]["peak_p"]

    def above_zero(names: list[str]) -> bool:
        return all(intervals[k]["lo"] > 0 for k in names)

    def below_zero(names: list[str]) -> bool:
        return all(intervals[k]["hi"] < 0 for k in names)

    n_noise, n_ridge = len(noise_peaks) - 1, len(ridge_peaks) - 1
    criteria = {
        "synthetic_peak_gt_10x_min_under": synth["peak_gt_10x_min_under"],
        "synthetic_overparam_below_min_under": synth["overparam_below_min_under"],
        "digits_peak_gt_10x_min_under": digits["peak_gt_10x_min_under"],
        "digits_overparam_below_min_under": digits["overparam_below_min_under"],
        "peak_at_p_eq_n_for_every_n": all(
            abs(p / n_i - 1) <= 0.1 for p, n_i in zip(peaks, S.ns_for_peak, strict=True)
        ),
        "more_data_can_hurt": sample_wise["error_at_n_eq_p"] > sample_wise["error_at_n_eq_half_p"],
        "noise_peak_increasing": _strictly(noise_peaks, increasing=True),
        "ridge_peak_decreasing": _strictly(ridge_peaks, increasing=False),
        "validated_ridge_no_peak": validated["error_at_threshold"] <= validated["min_under"],
        "nn_rise_then_fall": nn_mse["rise_then_fall"] and nn_mse["second_descent"],
        "nn_peak_near_threshold": nn_mse["peak_near_threshold"],
        "nn_widest_below_first_min": nn_mse["widest_below_first_min"],
        "nn_class_error_rise_then_fall": nn_cls["rise_then_fall"] and nn_cls["second_descent"],
        "nn_early_stopped_no_peak": net.early_stopped_no_peak,
        "epochwise_bump_widest": record["epochwise"]["widest"]["criteria"]["bump"],
        # The same claims read from the intervals (95 %, paired).
        "interval_synthetic_peak_gt_10x": intervals["synthetic_log10_peak_over_min_under"]["lo"]
        > 1,
        "interval_digits_peak_gt_10x": intervals["digits_log10_peak_over_min_under"]["lo"] > 1,
        "interval_far_below_min_under": below_zero(
            ["synthetic_far_minus_min_under", "digits_far_minus_min_under"]
        ),
        "interval_more_data_hurts": above_zero(["sample_wise_log10_n_eq_p_over_half_p"]),
        "interval_noise_every_step_up": above_zero(
            [f"noise_log10_peak_step_{i + 1}" for i in range(n_noise)]
        ),
        "interval_ridge_every_step_down": below_zero(
            [f"ridge_log10_peak_step_{i + 1}" for i in range(n_ridge)]
        ),
        "interval_validated_no_higher_at_threshold": intervals[
            "validated_threshold_minus_min_under"
        ]["lo"]
        <= 0,
        "interval_nn_peak_above_first_min": above_zero(["nn_peak_minus_first_min_mse"]),
        "interval_nn_widest_below_first_min": below_zero(["nn_widest_minus_first_min_mse"]),
        "interval_nn_widest_below_first_min_class_error": below_zero(
            ["nn_widest_minus_first_min_class_error"]
        ),
    }
    return {k: bool(v) for k, v in criteria.items()}


def run_experiment(settings: Settings) -> dict[str, Any]:
    """Every experiment of the chapter at the sizes of ``settings``."""
    S = settings
    rf = random_features_part(S)
    net = mlp_part(S)
    intervals = comparison_intervals(S, rf, net)
    record = {
        "sizes": {k: list(v) if isinstance(v, tuple) else v for k, v in S.sizes().items()},
        **rf.record,
        **net.record,
    }
    record["criteria"] = headline_criteria(S, record, net, intervals)
    record["intervals"] = intervals
    return record
