"""Chapter 4 (double descent): least squares, random features, sweeps, the MLP, the repro sizes.

Small seeded problems; every qualitative claim of the chapter that still holds at small size is
asserted here (peak at p = n, >10x the classical minimum, second descent, noise and ridge).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from funlm.double_descent import (
    digits_data,
    feature_counts,
    flip_labels,
    gradient_descent_lstsq,
    min_norm_lstsq,
    mse,
    peak_summary,
    random_weights,
    relu_features,
    rf_curve,
    ridge,
    sample_curve,
    select_lambda,
    teacher_data,
    validated_ridge_curve,
)
from funlm.double_descent.mlp import (
    WidthSweep,
    epoch_summary,
    log_steps,
    width_summary,
    width_sweep,
)

RATIOS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0, 10.0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --- least squares -----------------------------------------------------------------------


def test_min_norm_solves_a_consistent_overdetermined_system(rng):
    A = rng.standard_normal((30, 5))
    beta = rng.standard_normal(5)
    np.testing.assert_allclose(min_norm_lstsq(A, A @ beta), beta, rtol=0, atol=1e-10)


def test_min_norm_is_the_least_squares_fit_when_inconsistent(rng):
    A, y = rng.standard_normal((30, 5)), rng.standard_normal(30)
    beta = min_norm_lstsq(A, y)
    np.testing.assert_allclose(A.T @ (A @ beta - y), 0.0, atol=1e-10)  # normal equations


def test_min_norm_interpolates_and_has_the_smallest_norm(rng):
    A, y = rng.standard_normal((5, 30)), rng.standard_normal(5)
    beta = min_norm_lstsq(A, y)
    np.testing.assert_allclose(A @ beta, y, atol=1e-10)
    np.testing.assert_allclose(beta, np.linalg.pinv(A) @ y, atol=1e-10)
    # any other interpolant beta + z (z in the null space of A) is longer
    null = np.linalg.svd(A)[2][5:]  # (25, 30): rows span the null space
    np.testing.assert_allclose(null @ beta, 0.0, atol=1e-10)
    other = beta + null.T @ rng.standard_normal(25)
    np.testing.assert_allclose(A @ other, y, atol=1e-10)
    assert np.linalg.norm(other) > np.linalg.norm(beta)


def test_min_norm_handles_rank_deficiency_and_matrix_targets(rng):
    B = rng.standard_normal((10, 3))
    A = np.hstack([B, B])  # rank 3 with 6 columns
    Y = rng.standard_normal((10, 4))
    np.testing.assert_allclose(min_norm_lstsq(A, Y), np.linalg.pinv(A) @ Y, atol=1e-10)


def _with_singular_values(rng, n, p, s):
    """A matrix ``U diag(s) V^T`` with random orthonormal ``U`` (n, r) and ``V`` (p, r)."""
    r = len(s)
    U = np.linalg.qr(rng.standard_normal((n, r)))[0]
    V = np.linalg.qr(rng.standard_normal((p, r)))[0]
    return U @ np.diag(s) @ V.T, U, V


def test_min_norm_is_the_truncated_svd_solution_with_the_stated_cutoff(rng):
    """The exercise's contract: singular values s <= rcond * s_max count as zero."""
    s = np.array([3.0, 1.0, 0.5, 3e-11])
    A, U, V = _with_singular_values(rng, 4, 7, s)
    y = rng.standard_normal(4)
    cut = V[:, :3] @ ((U[:, :3].T @ y) / s[:3])
    kept = V @ ((U.T @ y) / s)
    np.testing.assert_allclose(min_norm_lstsq(A, y, rcond=1e-10), cut, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(min_norm_lstsq(A, y, rcond=1e-13), kept, rtol=1e-3)
    # numpy's default cutoffs keep that direction: a plain pinv differs from the contract
    assert not np.allclose(np.linalg.pinv(A) @ y, cut, atol=1e-3)
    np.testing.assert_array_equal(min_norm_lstsq(np.zeros((3, 5)), np.ones(3)), np.zeros(5))


def test_gradient_descent_from_zero_reaches_the_min_norm_solution(rng):
    A, y = rng.standard_normal((6, 15)), rng.standard_normal(6)
    lr = 1.0 / np.linalg.norm(A, 2) ** 2
    np.testing.assert_allclose(
        gradient_descent_lstsq(A, y, lr=lr, steps=3000), min_norm_lstsq(A, y), atol=1e-8
    )
    # from elsewhere it keeps its null-space part: min-norm + (I - pinv(A) A) beta0
    beta0 = rng.standard_normal(15)
    before = beta0.copy()
    limit = min_norm_lstsq(A, y) + (np.eye(15) - np.linalg.pinv(A) @ A) @ beta0
    got = gradient_descent_lstsq(A, y, lr=lr, steps=3000, beta0=beta0)
    np.testing.assert_allclose(got, limit, atol=1e-8)
    np.testing.assert_array_equal(beta0, before)  # not modified in place
    assert np.linalg.norm(got) > np.linalg.norm(min_norm_lstsq(A, y))
    # exactly `steps` plain steps; matrix targets too
    manual = np.zeros(15)
    for _ in range(2):
        manual -= lr * A.T @ (A @ manual - y)
    np.testing.assert_allclose(gradient_descent_lstsq(A, y, lr=lr, steps=2), manual)
    Y = rng.standard_normal((6, 3))
    assert gradient_descent_lstsq(A, Y, lr=lr, steps=1).shape == (15, 3)


def test_graded_answers_are_answer_keys_and_trip_the_wire(rng):
    import funlm.double_descent as dd
    from funlm.answer_keys import DelegationError, forbid_delegation, is_answer_key
    from funlm.grading import GradingError

    keys = [dd.min_norm_lstsq, dd.gradient_descent_lstsq, dd.relu_features, dd.flip_labels,
            dd.ridge, dd.select_lambda]  # fmt: skip
    assert all(is_answer_key(k) for k in keys)
    assert not is_answer_key(dd.rf_curve)
    A, y = rng.standard_normal((5, 9)), rng.standard_normal(5)
    with pytest.raises(GradingError), forbid_delegation(dd.min_norm_lstsq):
        try:
            dd.ridge(A, y, 0.0)  # ridge(lam=0) goes through the min-norm key
        except DelegationError:
            pass
    np.testing.assert_allclose(A @ dd.ridge(A, y, 0.0), y, atol=1e-10)  # disarmed again


def test_delegation_cases_name_the_notebooks_cells():
    import importlib.util
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(
        "ch04_cases", root / "tests" / "delegation" / "ch04_double_descent.py"
    )
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    nb = json.loads(
        (root / "solutions" / "ch04_double_descent" / "ch04_double_descent.ipynb").read_text()
    )
    meta = [c["metadata"].get("nbgrader", {}) for c in nb["cells"]]
    answers = {m["grade_id"] for m in meta if m.get("solution")}
    graded = {m["grade_id"]: m["points"] for m in meta if m.get("grade")}
    assert set(cases.CASES) <= answers
    assert set(cases.ZERO_PARTS) <= set(graded)
    assert sum(graded.values()) == 100 and len(graded) >= 5
    for source in cases.CASES.values():
        compile(source, "<case>", "exec")


@pytest.mark.parametrize("shape", [(40, 10), (10, 40)])
def test_ridge_matches_the_closed_form_in_both_shapes(rng, shape):
    A, y = rng.standard_normal(shape), rng.standard_normal(shape[0])
    lam = 0.3
    expected = np.linalg.solve(A.T @ A + lam * np.eye(shape[1]), A.T @ y)
    np.testing.assert_allclose(ridge(A, y, lam), expected, rtol=1e-8, atol=1e-10)


def test_ridge_tends_to_min_norm_and_shrinks(rng):
    A, y = rng.standard_normal((10, 40)), rng.standard_normal(10)
    np.testing.assert_allclose(ridge(A, y, 1e-10), min_norm_lstsq(A, y), atol=1e-6)
    norms = [np.linalg.norm(ridge(A, y, lam)) for lam in (0.0, 0.1, 1.0, 10.0)]
    assert all(a > b for a, b in pairwise(norms))
    with pytest.raises(ValueError):
        ridge(A, y, -1.0)


def test_mse_sums_over_outputs():
    assert mse(np.array([1.0, 3.0]), np.array([0.0, 0.0])) == pytest.approx(5.0)
    assert mse(np.ones((2, 3)), np.zeros((2, 3))) == pytest.approx(3.0)


# --- features and data ----------------------------------------------------------------------


def test_relu_features_shape_sign_and_scale(rng):
    X = rng.standard_normal((7, 4))
    W = random_weights(4, 50, seed=1)
    F = relu_features(X, W)
    assert F.shape == (7, 50)
    assert (F >= 0).all()
    np.testing.assert_allclose(F, np.maximum(X @ W, 0) / np.sqrt(50))


def test_random_weights_are_nested_prefixes():
    small, large = random_weights(6, 10, seed=3), random_weights(6, 100, seed=3)
    np.testing.assert_array_equal(small, large[:, :10])
    assert random_weights(6, 10, seed=4)[0, 0] != small[0, 0]


def test_flip_labels_flips_exactly_the_fraction_to_other_classes():
    y = np.arange(200) % 10
    noisy = flip_labels(y, 0.3, 10, seed=0)
    changed = noisy != y
    assert changed.sum() == 60
    assert set(np.unique(noisy)) <= set(range(10))
    np.testing.assert_array_equal(flip_labels(y, 0.3, 10, seed=0), noisy)  # seeded
    np.testing.assert_array_equal(flip_labels(y, 0.0, 10, seed=0), y)
    # noise levels nest: what is flipped at 10% is flipped the same way at 30%
    small = flip_labels(y, 0.1, 10, seed=0)
    np.testing.assert_array_equal(noisy[small != y], small[small != y])
    with pytest.raises(ValueError):
        flip_labels(y, 1.5, 10)


def test_teacher_data_shares_everything_but_the_noise_level():
    clean, noisy = teacher_data(50, noise=0.0, seed=1), teacher_data(50, noise=1.0, seed=1)
    np.testing.assert_array_equal(clean.X_train, noisy.X_train)
    np.testing.assert_array_equal(clean.y_test, noisy.y_test)  # test targets are clean
    assert np.std(noisy.y_train - clean.y_train) == pytest.approx(1.0, abs=0.3)
    np.testing.assert_allclose(np.linalg.norm(clean.X_train, axis=1), np.sqrt(clean.d))


def test_digits_data_one_hot_and_noise_on_training_labels_only():
    data = digits_data(100, label_noise=0.2, seed=0)
    clean = digits_data(100, label_noise=0.0, seed=0)
    assert data.X_train.shape == (100, 65) and data.y_train.shape == (100, 10)
    assert data.X_test.shape[0] == 1797 - 100
    np.testing.assert_array_equal(data.y_train.sum(axis=1), 1.0)
    assert (data.y_train.argmax(1) != clean.y_train.argmax(1)).sum() == 20
    np.testing.assert_array_equal(data.y_test, clean.y_test)
    np.testing.assert_array_equal(data.y_test.argmax(1), data.labels_test)


# --- sweeps: the chapter's claims at small size ---------------------------------------------


def teacher(n, noise=0.5):
    return lambda seed: teacher_data(n, noise=noise, n_test=500, seed=seed)


@pytest.fixture(scope="module")
def synthetic_curve():
    n = 40
    return n, rf_curve(teacher(n), feature_counts(n, RATIOS), trials=7)


def test_feature_counts_include_the_threshold():
    ps = feature_counts(40, RATIOS)
    assert 40 in ps and ps[0] == 10 and ps[-1] == 400
    assert list(feature_counts(3, (0.01, 0.1, 1.0))) == [1, 3]


def test_synthetic_curve_has_a_peak_at_p_eq_n_and_a_second_descent(synthetic_curve):
    n, curve = synthetic_curve
    summary = peak_summary(curve, n)
    assert summary["peak_p"] == n
    assert summary["error_at_threshold"] > 10 * summary["min_under"]
    assert summary["max_over"] < summary["min_under"]
    assert all(summary["criteria"].values())
    # the training error is ~0 from the threshold on (interpolation), not before
    train = curve.median_train
    assert (train[curve.xs >= n] < 1e-8).all() and (train[curve.xs < n] > 1e-3).all()


def test_peak_summary_criteria_can_fail():
    from funlm.double_descent import Curve

    xs = np.array([5, 10, 20, 200])
    flat = Curve(xs, np.array([[1.0, 0.9, 0.8, 0.7]]), np.zeros((1, 4)))
    summary = peak_summary(flat, 20)
    assert summary["criteria"] == {
        "peak_gt_10x_min_under": False,
        "overparam_below_min_under": True,
        "peak_at_threshold": False,
    }


def test_digits_curve_peaks_at_p_eq_n():
    n = 50
    curve = rf_curve(lambda s: digits_data(n, seed=s), feature_counts(n, RATIOS), trials=3)
    summary = peak_summary(curve, n)
    assert summary["peak_p"] == n
    assert summary["error_at_threshold"] > 10 * summary["min_under"]
    assert summary["max_over"] < summary["min_under"]
    cls = np.median(curve.test_class_error, axis=0)
    assert cls[curve.xs == n][0] > cls[-1]  # classification error peaks too


def test_peak_grows_with_label_noise():
    n = 40
    peaks = [
        np.median(rf_curve(teacher(n, sigma), [n], trials=9).test_error)
        for sigma in (0.0, 0.5, 1.0)
    ]
    assert peaks[0] < peaks[1] < peaks[2]


def test_peak_shrinks_with_ridge_and_validation_removes_it():
    n = 40
    ps = feature_counts(n, RATIOS)
    peaks = [
        peak_summary(rf_curve(teacher(n), ps, lam=lam, trials=7), n)["error_at_threshold"]
        for lam in (0.0, 1e-3, 1e-1)
    ]
    assert peaks[0] > peaks[1] > peaks[2]
    tuned = validated_ridge_curve(
        teacher(n + 40), ps, list(np.logspace(-6, 1, 8)), n_val=40, trials=5
    )
    summary = peak_summary(tuned, n)
    assert summary["error_at_threshold"] <= summary["min_under"]
    assert np.median(np.asarray(tuned.meta["lambda"])[:, ps == n]) > 0


def test_select_lambda_picks_the_validation_minimum(rng):
    A_tr, A_val = rng.standard_normal((20, 20)), rng.standard_normal((50, 20))
    beta = rng.standard_normal(20)
    y_tr = A_tr @ beta + rng.standard_normal(20)
    y_val = A_val @ beta + rng.standard_normal(50)
    grid = [0.0, 0.01, 0.1, 1.0, 10.0]
    errors = [mse(A_val @ ridge(A_tr, y_tr, lam), y_val) for lam in grid]
    assert select_lambda(A_tr, y_tr, A_val, y_val, grid) == grid[int(np.argmin(errors))]
    assert select_lambda(A_tr, y_tr, A_val, y_val, grid) > 0  # square system: ridge helps


def test_sample_wise_peak_at_n_eq_p_more_data_can_hurt():
    p = 40
    ns = np.array([10, 20, 30, 36, 40, 44, 60, 80, 120])
    curve = sample_curve(teacher(int(ns.max())), p, ns, trials=7)
    med = curve.median
    assert ns[int(np.argmax(med))] == p
    assert med[ns == p][0] > med[ns == 20][0]  # doubling the data made it worse
    assert med[-1] < med[ns == p][0]


# --- the trained MLP --------------------------------------------------------------------------


def test_log_steps():
    steps = log_steps(1000, 10)
    assert steps[0] == 1 and steps[-1] == 1000
    assert steps == sorted(set(steps))
    assert log_steps(3, 10) == [1, 2, 3]


def _fake_sweep(final, by_step):
    k = 10
    return WidthSweep(
        widths=[1, 2, 3, 4, 5][: len(final)],
        params=[100 * (i + 1) for i in range(len(final))],
        n_train=20, n_outputs=k, steps=list(range(1, len(by_step) + 1)),
        train_mse=[0.0] * len(final), train_class_error=[0.0] * len(final),
        test_mse=final, test_class_error=final,
        test_mse_by_step=[by_step] * len(final), test_class_error_by_step=[by_step] * len(final),
    )  # fmt: skip


def test_width_and_epoch_summaries_detect_a_bump_and_its_absence():
    dd = _fake_sweep([1.0, 0.5, 2.0, 0.4], [1.0, 0.5, 0.8, 0.3])
    s = width_summary(dd)
    assert s["peak_width"] == 3 and s["first_min"] == 0.5 and s["peak_params_over_nk"] == 1.5
    assert s["first_min_width"] == 2
    assert all(s["criteria"].values())
    assert epoch_summary(dd)["criteria"]["bump"] and epoch_summary(dd)["peak_step"] == 3
    u = _fake_sweep([1.0, 0.5, 0.7, 0.9], [1.0, 0.5, 0.7, 0.9])
    su = width_summary(u)
    assert not su["criteria"]["second_descent"] and not su["criteria"]["widest_below_first_min"]
    assert not epoch_summary(u)["criteria"]["bump"]
    down = _fake_sweep([1.0, 0.8, 0.6], [1.0, 0.8, 0.6])
    assert not width_summary(down)["criteria"]["rise_then_fall"]


@pytest.mark.slow
def test_width_sweep_trains_and_logs():
    data = digits_data(60, label_noise=0.2, seed=0)
    sweep = width_sweep(data, [2, 64], steps=150, lr=5e-3, n_logged=6)
    assert sweep.widths == [2, 64]
    assert sweep.params == [65 * 2 + 2 + 2 * 10 + 10, 65 * 64 + 64 + 64 * 10 + 10]
    assert sweep.steps[-1] == 150 and len(sweep.test_mse_by_step[0]) == len(sweep.steps)
    assert sweep.train_mse[1] < sweep.train_mse[0]  # the wide net fits the noisy labels better
    assert sweep.train_mse[1] < 0.1
    assert sweep.test_mse[1] == sweep.test_mse_by_step[1][-1]
    again = width_sweep(data, [2], steps=20, lr=5e-3, n_logged=3)
    assert again.test_mse == width_sweep(data, [2], steps=20, lr=5e-3, n_logged=3).test_mse


def test_width_sweep_keeps_per_example_errors_out_of_its_dict():
    data = digits_data(40, label_noise=0.2, seed=0)
    sweep = width_sweep(data, [2, 8], steps=5, lr=5e-3, n_logged=2)
    assert len(sweep.test_sq_error_final) == 2
    for i in range(2):
        assert sweep.test_sq_error_final[i].shape == (len(data.X_test),)
        assert sweep.test_sq_error_final[i].mean() == pytest.approx(sweep.test_mse[i], rel=1e-5)
        assert sweep.test_wrong_final[i].mean() == pytest.approx(sweep.test_class_error[i])
    d = sweep.to_dict()
    assert "test_sq_error_final" not in d and "test_wrong_final" not in d
    assert d["params_over_nk"] == sweep.params_over_nk


def test_figures_draw_from_a_live_sweep_and_from_the_record():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from funlm.double_descent import plots

    live = _fake_sweep([1.0, 0.5, 2.0, 0.4], [1.0, 0.5, 0.8, 0.3]).to_dict()
    for draw in (plots.plot_width_sweep, plots.plot_epochwise):
        a, b = draw(live, label="demo")
        assert a.lines and b.lines
        assert a.figure._suptitle.get_text() == "demo"
    record = plots.measured_result("cpu")
    assert record is not None, "results/repro/ch04-cpu.json is missing"
    nn = record["nn_widthwise"]
    a, _ = plots.plot_epochwise(nn, label="recorded")
    assert len(a.lines) == len(nn["widths"])
    _left, right = plots.plot_rf_curve_record(record["rf_curve"]["synthetic"], label="recorded")
    assert right.get_xscale() == "log"
    plt.close("all")


def test_recorded_run_carries_the_curves_and_intervals_the_book_quotes():
    from funlm.double_descent.plots import measured_result

    record = measured_result("cpu")
    nn = record["nn_widthwise"]
    rows = len(nn["widths"])
    assert len(nn["test_mse_by_step"]) == rows == len(nn["train_class_error"])
    assert all(len(row) == len(nn["logged_steps"]) for row in nn["test_mse_by_step"])
    for name, interval in record["intervals"].items():
        assert set(interval) == {"mean", "lo", "hi", "n", "level"}, name
        assert interval["lo"] <= interval["mean"] <= interval["hi"], name
    assert (
        record["intervals"]["synthetic_log10_peak_over_min_under"]["n"]
        == (record["sizes"]["trials"])
    )


# --- reproduction sizes ------------------------------------------------------------------------


def test_repro_sizes_cover_every_profile():
    import funlm
    from funlm.double_descent.experiment import _strictly, settings
    from funlm.repro.ch04 import HEADLINE_KEYS

    keys = None
    for name in funlm.PROFILES:
        S = settings(funlm.profile(name)).sizes()
        keys = keys or set(S)
        assert set(S) == keys
        assert S["n"] in feature_counts(S["n"], S["ratios"])
        assert max(S["ns_for_peak"]) * 10 <= max(S["ratios"]) * max(S["ns_for_peak"])
    assert {"rf_curve", "peak_by_noise", "peak_by_ridge", "epochwise", "intervals"} <= set(
        HEADLINE_KEYS
    )
    assert _strictly([1.0, 2.0, 3.0], increasing=True)
    assert not _strictly([1.0, 2.0, 2.0], increasing=True)
    assert _strictly([3.0, 1.0], increasing=False)


def test_largest_rise_finds_the_bump_after_the_first_minimum():
    from funlm.double_descent.mlp import largest_rise

    assert largest_rise(np.array([3.0, 1.0, 2.5, 0.5])) == (2, 1.0)
    assert largest_rise(np.array([3.0, 2.0, 1.0]))[0] == 0  # only goes down


def test_one_thread_limits_and_restores():
    import torch
    from threadpoolctl import threadpool_info

    from funlm.double_descent import one_thread

    before_torch = torch.get_num_threads()
    before_blas = [pool["num_threads"] for pool in threadpool_info()]
    with one_thread():
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert torch.get_num_threads() == before_torch
    assert [pool["num_threads"] for pool in threadpool_info()] == before_blas
