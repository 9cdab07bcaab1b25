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
- ``criteria``: every headline claim as a boolean computed from the numbers above.
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

HEADLINE_KEYS = [
    "rf_curve",
    "sample_wise",
    "peak_by_noise",
    "peak_by_ridge",
    "nn_widthwise",
    "epochwise",
    "criteria",
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

    noise_peaks = [
        synth_sum["error_at_threshold"]
        if sigma == noise
        else at_threshold(rf_curve(teacher(sigma), [n], trials=trials))
        for sigma in S["noise_levels"]
    ]
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
        "test_mse": sweep.test_mse,
        "test_class_error": sweep.test_class_error,
        "early_stopped_test_mse": best_by_step,
    }
    epochs = {
        "widest": epoch_summary(sweep, -1, "test_mse_by_step"),
        "at_peak_width": epoch_summary(
            sweep, sweep.widths.index(nn_mse["peak_width"]), "test_mse_by_step"
        ),
    }

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
    }
