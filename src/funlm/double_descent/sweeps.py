"""Test-error curves of random-features regression: model-wise (over p) and sample-wise (over n).

A curve is measured over several independent trials (fresh data and fresh random features) and
summarised by the **median** over trials: at the interpolation threshold ``p = n`` the error is
heavy-tailed (its mean is dominated by the unluckiest draw; in the large-``n`` limit it has no
finite mean at all), and the median is a stable, honest summary of a typical run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from funlm.answer_keys import answer_key
from funlm.double_descent.data import Dataset
from funlm.double_descent.features import random_weights
from funlm.double_descent.regression import mse, ridge
from funlm.double_descent.threads import one_thread

# Default grid of p/n: dense around the interpolation threshold p/n = 1, out to p = 20 n.
DEFAULT_RATIOS: tuple[float, ...] = (
    0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5, 2.0,
    3.0, 5.0, 10.0, 20.0,
)  # fmt: skip


@dataclass
class Curve:
    """Errors of one sweep: rows are trials, columns are grid points ``xs``."""

    xs: np.ndarray  # the swept quantity (p for model-wise, n for sample-wise), shape (m,)
    test_error: np.ndarray  # (trials, m)
    train_error: np.ndarray  # (trials, m)
    test_class_error: np.ndarray | None = None  # (trials, m), classification data only
    meta: dict = field(default_factory=dict)

    @property
    def median(self) -> np.ndarray:
        """Median test error over trials, shape (m,)."""
        return np.median(self.test_error, axis=0)

    @property
    def median_train(self) -> np.ndarray:
        return np.median(self.train_error, axis=0)


def feature_counts(n: int, ratios: Sequence[float]) -> np.ndarray:
    """The grid of feature counts ``p = round(ratio * n)`` (at least 1, sorted, no repeats)."""
    return np.unique(np.maximum(1, np.round(np.asarray(ratios) * n).astype(int)))


def _fit_scores(F_tr, F_te, data: Dataset, p: int, p_max: int, lam: float):
    scale = np.sqrt(p_max / p)  # relu_features of the first p columns = F[:, :p] * scale
    A_tr, A_te = F_tr[:, :p] * scale, F_te[:, :p] * scale
    beta = ridge(A_tr, data.y_train, lam)
    pred_te = A_te @ beta
    train = mse(A_tr @ beta, data.y_train)
    test = mse(pred_te, data.y_test)
    cls = None
    if data.labels_test is not None:
        cls = float(np.mean(pred_te.argmax(axis=1) != data.labels_test))
    return train, test, cls


def rf_curve(
    make_data: Callable[[int], Dataset],
    ps: Sequence[int],
    *,
    lam: float = 0.0,
    trials: int = 5,
    seed: int = 0,
) -> Curve:
    """Model-wise curve: test error of ridge (``lam=0``: min-norm) random-ReLU regression for
    each feature count in ``ps``. ``make_data(trial_seed)`` returns a fresh data set."""
    ps = [int(p) for p in ps]
    p_max = max(ps)
    test = np.zeros((trials, len(ps)))
    train = np.zeros_like(test)
    cls = np.zeros_like(test)
    is_cls = False
    with one_thread():
        for t in range(trials):
            data = make_data(seed + t)
            W = random_weights(data.d, p_max, seed=10_000 + seed + t)
            # relu(X W) / sqrt(p_max) once; the first p columns are rescaled per p.
            F_tr = np.maximum(data.X_train @ W, 0.0) / np.sqrt(p_max)
            F_te = np.maximum(data.X_test @ W, 0.0) / np.sqrt(p_max)
            for j, p in enumerate(ps):
                train[t, j], test[t, j], c = _fit_scores(F_tr, F_te, data, p, p_max, lam)
                if c is not None:
                    is_cls = True
                    cls[t, j] = c
    n = make_data(seed).n
    return Curve(np.asarray(ps), test, train, cls if is_cls else None, {"n": n, "lam": lam})


def sample_curve(
    make_data: Callable[[int], Dataset],
    p: int,
    ns: Sequence[int],
    *,
    trials: int = 5,
    seed: int = 0,
) -> Curve:
    """Sample-wise curve: fixed number of features ``p``, min-norm fit on the first ``n``
    training samples for each ``n`` in ``ns`` (``make_data`` must give at least ``max(ns)``)."""
    ns = [int(n) for n in ns]
    test = np.zeros((trials, len(ns)))
    train = np.zeros_like(test)
    with one_thread():
        for t in range(trials):
            data = make_data(seed + t)
            W = random_weights(data.d, p, seed=10_000 + seed + t)
            F_tr = np.maximum(data.X_train @ W, 0.0) / np.sqrt(p)
            F_te = np.maximum(data.X_test @ W, 0.0) / np.sqrt(p)
            for j, n in enumerate(ns):
                beta = ridge(F_tr[:n], data.y_train[:n], 0.0)
                train[t, j] = mse(F_tr[:n] @ beta, data.y_train[:n])
                test[t, j] = mse(F_te @ beta, data.y_test)
    return Curve(np.asarray(ns), test, train, None, {"p": p})


@answer_key
def select_lambda(
    A_train: np.ndarray,
    y_train: np.ndarray,
    A_val: np.ndarray,
    y_val: np.ndarray,
    lambdas: Sequence[float],
) -> float:
    """The ridge penalty in ``lambdas`` with the smallest validation error (first one on ties)."""
    errors = [mse(A_val @ ridge(A_train, y_train, lam), y_val) for lam in lambdas]
    return float(lambdas[int(np.argmin(errors))])


def peak_summary(curve: Curve, n: int) -> dict:
    """Headline numbers of a model-wise curve (median over trials) and the criteria they meet.

    - ``error_at_threshold``: error at ``p = n``;
    - ``min_under``: the smallest error over ``p <= n/2`` (the classical U-curve's bottom);
    - ``max_over``: the largest error over ``p >= 10 n`` (the whole far over-parameterised end);
    - ``peak_p``: the ``p`` with the largest error.
    """
    ps, med = curve.xs, curve.median
    at = med[int(np.argmin(np.abs(ps - n)))]
    under = med[ps <= n / 2]
    over = med[ps >= 10 * n]
    summary = {
        "n": int(n),
        "peak_p": int(ps[int(np.argmax(med))]),
        "error_at_threshold": float(at),
        "min_under": float(under.min()) if under.size else float("nan"),
        "max_over": float(over.max()) if over.size else float("nan"),
    }
    summary["peak_over_min_under"] = summary["error_at_threshold"] / summary["min_under"]
    summary["criteria"] = {
        "peak_gt_10x_min_under": bool(summary["peak_over_min_under"] > 10),
        "overparam_below_min_under": bool(over.size and summary["max_over"] < summary["min_under"]),
        "peak_at_threshold": bool(abs(summary["peak_p"] / n - 1) <= 0.1),
    }
    return summary


def validated_ridge_curve(
    make_data: Callable[[int], Dataset],
    ps: Sequence[int],
    lambdas: Sequence[float],
    *,
    n_val: int,
    trials: int = 5,
    seed: int = 0,
) -> Curve:
    """Model-wise curve with the ridge penalty chosen *per p* on a validation set.

    ``make_data`` must give ``n + n_val`` training samples: the model is fitted on the first
    ``n`` and ``lambda`` is picked (``select_lambda``) on the last ``n_val``; the chosen values
    are in ``meta["lambda"]`` (trials x p).
    """
    ps = [int(p) for p in ps]
    p_max = max(ps)
    test = np.zeros((trials, len(ps)))
    train = np.zeros_like(test)
    chosen = np.zeros_like(test)
    with one_thread():
        for t in range(trials):
            data = make_data(seed + t)
            n = data.n - n_val
            W = random_weights(data.d, p_max, seed=10_000 + seed + t)
            F_all = np.maximum(data.X_train @ W, 0.0) / np.sqrt(p_max)
            F_te = np.maximum(data.X_test @ W, 0.0) / np.sqrt(p_max)
            y_fit, y_val = data.y_train[:n], data.y_train[n:]
            for j, p in enumerate(ps):
                scale = np.sqrt(p_max / p)
                A_fit, A_val = F_all[:n, :p] * scale, F_all[n:, :p] * scale
                lam = select_lambda(A_fit, y_fit, A_val, y_val, lambdas)
                beta = ridge(A_fit, y_fit, lam)
                chosen[t, j] = lam
                train[t, j] = mse(A_fit @ beta, y_fit)
                test[t, j] = mse(F_te[:, :p] * scale @ beta, data.y_test)
    n = make_data(seed).n - n_val
    return Curve(np.asarray(ps), test, train, None, {"n": n, "lambda": chosen.tolist()})
