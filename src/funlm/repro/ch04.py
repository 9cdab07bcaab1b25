"""Chapter 4 headline: double descent, from random-features regression to a trained MLP.

``python -m funlm.repro ch04 [--profile cpu|gpu|grade]`` measures

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

from itertools import pairwise
from typing import Any

import numpy as np

from funlm.double_descent import (
    DEFAULT_RATIOS,
    Curve,
    digits_data,
    feature_counts,
    peak_summary,
    rf_curve,
    sample_curve,
    teacher_data,
    validated_ridge_curve,
)
from funlm.double_descent.mlp import epoch_summary, largest_rise, width_summary, width_sweep
from funlm.profile import Profile
from funlm.stats import paired_bootstrap_diff

HEADLINE_KEYS = [
    "rf_curve",
    "sample_wise",
    "peak_by_noise",
    "peak_by_ridge",
    "nn_widthwise",
    "epochwise",
    "criteria",
    "intervals",
]

GRADE_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0, 10.0)


def sizes(profile: Profile) -> dict[str, Any]:
    """Every size of the chapter's experiments, per profile (the book uses the same table)."""
    P = profile
    return {
        "n": P.pick(cpu=100, gpu=200, grade=40),
        "noise": 0.5,  # the synthetic headline curve's label noise (std of the Gaussian)
        "trials": P.pick(cpu=20, gpu=50, grade=5),
        "ratios": P.pick(cpu=DEFAULT_RATIOS, gpu=DEFAULT_RATIOS, grade=GRADE_RATIOS),
        "digits_n": P.pick(cpu=200, gpu=400, grade=60),
        "digits_trials": P.pick(cpu=5, gpu=10, grade=2),
        "noise_levels": (0.0, 0.25, 0.5, 1.0),
        "lambdas": (0.0, 1e-4, 1e-3, 1e-2, 1e-1),
        "lambda_grid": tuple(float(v) for v in np.logspace(-6, 1, 15)),
        "n_val": P.pick(cpu=100, gpu=200, grade=40),
        "ns_for_peak": P.pick(cpu=(50, 100, 200), gpu=(100, 200, 400), grade=(20, 40)),
        "sample_p": P.pick(cpu=100, gpu=200, grade=40),
        "mlp_n": P.pick(cpu=300, gpu=1000, grade=100),
        "mlp_label_noise": 0.2,
        "mlp_widths": P.pick(
            cpu=(4, 8, 16, 32, 48, 64, 96, 128, 256, 512),
            gpu=(4, 8, 16, 32, 64, 96, 128, 160, 192, 256, 384, 512, 1024, 2048, 4096),
            grade=(4, 16, 32, 128),
        ),
        "mlp_steps": P.pick(cpu=2000, gpu=10_000, grade=200),
        "mlp_lr": 2e-3,
    }


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


def run(profile: Profile) -> dict[str, Any]:
    S = sizes(profile)
    n, trials, noise = S["n"], S["trials"], S["noise"]
    ps = feature_counts(n, S["ratios"])

    def teacher(sigma: float, n_train: int = n):
        return lambda seed: teacher_data(n_train, noise=sigma, seed=seed)

    # 1. The headline curves: synthetic teacher and digits.
    synth = rf_curve(teacher(noise), ps, trials=trials)
    dn = S["digits_n"]
    digits = rf_curve(
        lambda seed: digits_data(dn, seed=seed),
        feature_counts(dn, S["ratios"]),
        trials=S["digits_trials"],
    )
    synth_sum, digits_sum = peak_summary(synth, n), peak_summary(digits, dn)
    rf = {
        "synthetic": {**synth_sum, "noise": noise, "trials": trials, **_curve_json(synth, n)},
        "digits": {**digits_sum, "trials": S["digits_trials"], **_curve_json(digits, dn)},
    }

    # 2. Sample-wise: the peak follows n; at fixed p, more data can hurt.
    peaks = []
    for n_i in S["ns_for_peak"]:
        curve = rf_curve(teacher(noise, n_i), feature_counts(n_i, S["ratios"]), trials=trials)
        peaks.append(peak_summary(curve, n_i)["peak_p"])
    p_fixed = S["sample_p"]
    ns = feature_counts(p_fixed, [r for r in S["ratios"] if r <= 3.0])
    by_n = sample_curve(teacher(noise, int(max(ns))), p_fixed, ns, trials=trials)
    err_n = by_n.median
    at_p = float(err_n[int(np.argmin(np.abs(ns - p_fixed)))])
    at_half = float(err_n[int(np.argmin(np.abs(ns - p_fixed / 2)))])
    sample_wise = {
        "peak_p_by_n": {"n": list(S["ns_for_peak"]), "peak_p": peaks},
        "fixed_p": p_fixed,
        "n": ns.tolist(),
        "test_error": [float(v) for v in err_n],
        "error_at_n_eq_p": at_p,
        "error_at_n_eq_half_p": at_half,
    }

    # 3. Label noise and ridge families (peak = median test error at p = n).
    def at_threshold(curve: Curve) -> float:
        return float(curve.median[int(np.argmin(np.abs(curve.xs - n)))])

    # Per trial, the error at p = n for each noise level (same inputs, features and noise
    # direction in every trial, so the levels are paired).
    noise_trials = [
        synth.test_error[:, _column(synth, n)]
        if sigma == noise
        else rf_curve(teacher(sigma), [n], trials=trials).test_error[:, 0]
        for sigma in S["noise_levels"]
    ]
    noise_peaks = [float(np.median(t)) for t in noise_trials]
    ridge_curves = {
        lam: rf_curve(teacher(noise), ps, lam=lam, trials=trials) for lam in S["lambdas"]
    }
    ridge_peaks = [at_threshold(c) for c in ridge_curves.values()]
    tuned = validated_ridge_curve(
        teacher(noise, n + S["n_val"]), ps, S["lambda_grid"], n_val=S["n_val"], trials=trials
    )
    tuned_sum = peak_summary(tuned, n)
    peak_by_ridge = {
        "lambda": list(S["lambdas"]),
        "peak": ridge_peaks,
        "curves": {str(lam): [float(v) for v in c.median] for lam, c in ridge_curves.items()},
        "p_over_n": [round(float(p) / n, 4) for p in ps],
        "validated": {
            "test_error": [float(v) for v in tuned.median],
            "median_lambda": [float(v) for v in np.median(tuned.meta["lambda"], axis=0)],
            "error_at_threshold": tuned_sum["error_at_threshold"],
            "min_under": tuned_sum["min_under"],
        },
    }

    # 4. A trained network: width-wise and epoch-wise.
    mlp_data = digits_data(S["mlp_n"], label_noise=S["mlp_label_noise"], seed=0)
    sweep = width_sweep(
        mlp_data, S["mlp_widths"], steps=S["mlp_steps"], lr=S["mlp_lr"], device=profile.device
    )
    nn_mse, nn_cls = width_summary(sweep, "test_mse"), width_summary(sweep, "test_class_error")
    # Oracle early stopping: each width's best logged test error during training.
    best_by_step = [float(min(row)) for row in sweep.test_mse_by_step]
    es_peak, es_before = largest_rise(np.asarray(best_by_step))
    nn = {
        "summary_mse": nn_mse,
        "summary_class_error": nn_cls,
        "n_train": S["mlp_n"],
        "label_noise": S["mlp_label_noise"],
        "steps": S["mlp_steps"],
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

    # 5. Intervals of the comparisons behind the criteria.
    intervals = {
        **_rf_intervals(synth, n, "synthetic"),
        **_rf_intervals(digits, dn, "digits"),
        "sample_wise_log10_n_eq_p_over_half_p": _log10_diff(
            by_n.test_error[:, _column(by_n, p_fixed / 2)],
            by_n.test_error[:, _column(by_n, p_fixed)],
        ),
    }
    for i, (lo, hi) in enumerate(pairwise(noise_trials)):
        intervals[f"noise_log10_peak_step_{i + 1}"] = _log10_diff(lo, hi)
    ridge_trials = [c.test_error[:, _column(c, n)] for c in ridge_curves.values()]
    for i, (lo, hi) in enumerate(pairwise(ridge_trials)):
        intervals[f"ridge_log10_peak_step_{i + 1}"] = _log10_diff(lo, hi)
    intervals["validated_threshold_minus_min_under"] = paired_bootstrap_diff(
        tuned.test_error[:, _under_index(tuned, n)], tuned.test_error[:, _column(tuned, n)]
    ).as_record()
    # The MLP: each metric's peak width against the best narrower width before it
    # (``first_min``) and against the widest network, paired over the test examples.
    per_example = {"mse": sweep.test_sq_error_final, "class_error": sweep.test_wrong_final}
    for name, summary in (("mse", nn_mse), ("class_error", nn_cls)):
        peak = sweep.widths.index(summary["peak_width"])
        first = sweep.widths.index(summary["first_min_width"])
        arrays = per_example[name]
        intervals[f"nn_peak_minus_first_min_{name}"] = paired_bootstrap_diff(
            arrays[first], arrays[peak]
        ).as_record()
        intervals[f"nn_widest_minus_first_min_{name}"] = paired_bootstrap_diff(
            arrays[first], arrays[-1]
        ).as_record()

    def above_zero(names: list[str]) -> bool:
        return all(intervals[k]["lo"] > 0 for k in names)

    def below_zero(names: list[str]) -> bool:
        return all(intervals[k]["hi"] < 0 for k in names)

    n_noise, n_ridge = len(noise_trials) - 1, len(ridge_trials) - 1
    criteria = {
        "synthetic_peak_gt_10x_min_under": synth_sum["criteria"]["peak_gt_10x_min_under"],
        "synthetic_overparam_below_min_under": synth_sum["criteria"]["overparam_below_min_under"],
        "digits_peak_gt_10x_min_under": digits_sum["criteria"]["peak_gt_10x_min_under"],
        "digits_overparam_below_min_under": digits_sum["criteria"]["overparam_below_min_under"],
        "peak_at_p_eq_n_for_every_n": all(
            abs(p / n_i - 1) <= 0.1 for p, n_i in zip(peaks, S["ns_for_peak"], strict=True)
        ),
        "more_data_can_hurt": at_p > at_half,
        "noise_peak_increasing": _strictly(noise_peaks, increasing=True),
        "ridge_peak_decreasing": _strictly(ridge_peaks, increasing=False),
        "validated_ridge_no_peak": tuned_sum["error_at_threshold"] <= tuned_sum["min_under"],
        "nn_rise_then_fall": nn_mse["criteria"]["rise_then_fall"]
        and nn_mse["criteria"]["second_descent"],
        "nn_peak_near_threshold": nn_mse["criteria"]["peak_near_threshold"],
        "nn_widest_below_first_min": nn_mse["criteria"]["widest_below_first_min"],
        "nn_class_error_rise_then_fall": nn_cls["criteria"]["rise_then_fall"]
        and nn_cls["criteria"]["second_descent"],
        "nn_early_stopped_no_peak": es_peak == 0 or best_by_step[es_peak] <= 1.1 * es_before,
        "epochwise_bump_widest": epochs["widest"]["criteria"]["bump"],
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
    return {
        "sizes": {k: list(v) if isinstance(v, tuple) else v for k, v in S.items()},
        "rf_curve": rf,
        "sample_wise": sample_wise,
        "peak_by_noise": {
            "noise": list(S["noise_levels"]),
            "peak": noise_peaks,
            "p_eq_n": n,
        },
        "peak_by_ridge": peak_by_ridge,
        "nn_widthwise": nn,
        "epochwise": epochs,
        "criteria": {k: bool(v) for k, v in criteria.items()},
        "intervals": intervals,
    }
