"""Double descent of a *trained* network: a one-hidden-layer MLP on digits with label noise.

The set-up follows the width-wise ("model-wise") experiments of Nakkiran et al. (2019) at toy
scale, with the squared loss of Belkin et al. (2019): full-batch Adam from a fixed seed, no
regularisation, training until the training set is (nearly) interpolated. Each network is also
evaluated at log-spaced steps during training, which gives the epoch-wise curves for free.

For squared loss with ``K`` outputs, the interpolation threshold sits where the number of
parameters ``P`` is about ``n * K`` (``n`` equations per output); we report ``P / (n K)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from funlm.double_descent.data import Dataset
from funlm.double_descent.threads import one_thread


@dataclass
class WidthSweep:
    """Final and during-training errors of one network per width (rows follow ``widths``)."""

    widths: list[int]
    params: list[int]
    n_train: int
    n_outputs: int
    steps: list[int]  # the logged training steps
    train_mse: list[float]  # final, on the (noisy) training labels
    train_class_error: list[float]
    test_mse: list[float]  # final, on clean test labels
    test_class_error: list[float]
    test_mse_by_step: list[list[float]]  # (widths, steps)
    test_class_error_by_step: list[list[float]]
    # Final per-test-example errors, one array per width (for paired intervals over the test
    # set); left out of ``to_dict``.
    test_sq_error_final: list[np.ndarray] = field(default_factory=list, repr=False)
    test_wrong_final: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def params_over_nk(self) -> list[float]:
        return [p / (self.n_train * self.n_outputs) for p in self.params]

    def to_dict(self) -> dict:
        """The curves as plain lists (what ``funlm.double_descent.plots`` draws), no per-example
        arrays."""
        per_example = {"test_sq_error_final", "test_wrong_final"}
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in per_example}
        return {**out, "params_over_nk": self.params_over_nk}


def log_steps(total: int, count: int) -> list[int]:
    """About ``count`` distinct, log-spaced steps in ``[1, total]`` (always ending at ``total``)."""
    grid = np.unique(np.round(np.geomspace(1, total, count)).astype(int))
    return [int(s) for s in grid]


def make_mlp(d: int, width: int, k: int):
    """``Linear(d, width) -> ReLU -> Linear(width, k)`` with PyTorch's default initialisation."""
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(d, width), torch.nn.ReLU(), torch.nn.Linear(width, k)
    )


def _per_example(model, X, Y, labels) -> tuple[np.ndarray, np.ndarray]:
    """Squared error (summed over outputs) and 0/1 misclassification of every example."""
    import torch

    with torch.no_grad():
        out = model(X)
        sq = ((out - Y) ** 2).sum(dim=1)
        wrong = (out.argmax(dim=1) != labels).float()
    return sq.cpu().double().numpy(), wrong.cpu().double().numpy()


def _errors(model, X, Y, labels) -> tuple[float, float]:
    sq, wrong = _per_example(model, X, Y, labels)
    return float(sq.mean()), float(wrong.mean())


def width_sweep(
    data: Dataset,
    widths: Sequence[int],
    *,
    steps: int,
    lr: float = 1e-3,
    seed: int = 0,
    n_logged: int = 16,
    device: str = "cpu",
) -> WidthSweep:
    """Train one MLP per width on ``data`` (one-hot targets) with the squared loss."""
    import torch

    logged = log_steps(steps, n_logged)
    n, d = data.X_train.shape
    k = data.y_train.shape[1]
    as_t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32, device=device)  # noqa: E731
    X_tr, Y_tr, X_te, Y_te = map(as_t, (data.X_train, data.y_train, data.X_test, data.y_test))
    lab_tr = Y_tr.argmax(dim=1)
    lab_te = torch.as_tensor(data.labels_test, device=device)
    result = WidthSweep([], [], n, k, logged, [], [], [], [], [], [])
    with one_thread():
        for width in widths:
            torch.manual_seed(seed)
            model = make_mlp(d, int(width), k).to(device)
            opt = torch.optim.Adam(model.parameters(), lr=lr)
            by_step_mse, by_step_err = [], []
            for step in range(1, steps + 1):
                loss = ((model(X_tr) - Y_tr) ** 2).sum(dim=1).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if step in logged:
                    mse, err = _errors(model, X_te, Y_te, lab_te)
                    by_step_mse.append(mse)
                    by_step_err.append(err)
            tr_mse, tr_err = _errors(model, X_tr, Y_tr, lab_tr)
            sq, wrong = _per_example(model, X_te, Y_te, lab_te)
            result.test_sq_error_final.append(sq)
            result.test_wrong_final.append(wrong)
            result.widths.append(int(width))
            result.params.append(sum(p.numel() for p in model.parameters()))
            result.train_mse.append(tr_mse)
            result.train_class_error.append(tr_err)
            result.test_mse.append(by_step_mse[-1])
            result.test_class_error.append(by_step_err[-1])
            result.test_mse_by_step.append(by_step_mse)
            result.test_class_error_by_step.append(by_step_err)
    return result


def largest_rise(curve: np.ndarray) -> tuple[int, float]:
    """Index of the point that rises most above the best value before it, and that best value.

    That point is the curve's "peak" in the double-descent sense: a classical U-curve's bottom
    (the running minimum) followed by a rise. For a curve that only goes down, index 0.
    """
    running_min = np.minimum.accumulate(curve)
    rise = np.ones_like(curve, dtype=float)
    rise[1:] = curve[1:] / running_min[:-1]
    j = int(np.argmax(rise))
    return j, float(running_min[j - 1]) if j > 0 else float(curve[0])


def width_summary(sweep: WidthSweep, metric: str = "test_mse") -> dict:
    """Where the width-wise curve peaks and whether it comes down again.

    ``peak``: the width whose error rises most above the best error of the narrower networks
    (``first_min``, the classical U's bottom); ``widest``: the error of the widest network.
    Criteria are computed from the numbers, never asserted.
    """
    err = np.asarray(getattr(sweep, metric), dtype=float)
    i, first_min = largest_rise(err)
    ratio = sweep.params_over_nk[i]
    peak = float(err[i])
    widest = float(err[-1])
    return {
        "metric": metric,
        "first_min_width": sweep.widths[int(np.argmin(err[:i]))] if i > 0 else sweep.widths[0],
        "peak_width": sweep.widths[i],
        "peak_params_over_nk": ratio,
        "peak_error": peak,
        "first_min": first_min,
        "widest_error": widest,
        "criteria": {
            "rise_then_fall": bool(0 < i < len(err) - 1 and peak > 1.1 * first_min),
            "peak_near_threshold": bool(0.5 <= ratio <= 3.0),
            "second_descent": bool(widest < peak / 1.1),
            "widest_below_first_min": bool(widest < first_min),
        },
    }


def epoch_summary(sweep: WidthSweep, row: int = -1, metric: str = "test_mse_by_step") -> dict:
    """The test-error-vs-step curve of one network and whether it rises and falls again.

    ``bump``: the curve has an early minimum, a later maximum at least 10% above it, and ends
    at least 10% below that maximum (epoch-wise double descent).
    """
    curve = np.asarray(getattr(sweep, metric)[row], dtype=float)
    j, early_min = largest_rise(curve)
    final = float(curve[-1])
    peak = float(curve[j])
    return {
        "width": sweep.widths[row],
        "early_min": early_min,
        "peak_step": sweep.steps[j],
        "peak": peak,
        "final": final,
        "criteria": {
            "bump": bool(j > 0 and peak > 1.1 * early_min and final < peak / 1.1),
        },
        "steps": sweep.steps,
        "curve": [float(c) for c in curve],
    }
