"""ch04: correct answers written differently from the reference solution."""

CASES: dict[str, str] = {
    # the sum over kept directions written out as a loop of outer products (u_i . y / s_i) v_i
    "min_norm": """\
def min_norm_solution(F, y, rcond=1e-10):
    U, s, Vt = np.linalg.svd(F, full_matrices=False)
    y = np.asarray(y, dtype=float)
    beta = np.zeros((F.shape[1],) + y.shape[1:])
    if s.size == 0:
        return beta
    cutoff = rcond * np.max(s)
    for i in range(s.size):
        if s[i] <= cutoff:
            break  # singular values come sorted, largest first
        beta += np.multiply.outer(Vt[i], (U[:, i] @ y) / s[i])
    return beta
""",
    # gradient steps through the precomputed Gram matrix F^T F and F^T y in a while loop;
    # the null-space part from the trailing rows of the full SVD's V^T
    "gradient_descent": """\
def gradient_descent(F, y, lr, steps, beta0=None):
    gram, target = F.T @ F, F.T @ y
    if beta0 is None:
        beta = np.zeros_like(target, dtype=float)
    else:
        beta = np.asarray(beta0, dtype=float).copy()
    done = 0
    while done < steps:
        beta -= lr * (gram @ beta - target)
        done += 1
    return beta


def null_space_part(F, v, rcond=1e-10):
    _, s, Vt = np.linalg.svd(F, full_matrices=True)  # Vt: (p, p)
    rank = int(np.count_nonzero(s > rcond * s.max())) if s.size else 0
    null_rows = Vt[rank:]  # an orthonormal basis of the null space
    return null_rows.T @ (null_rows @ v)
""",
    # ReLU with np.where and a math.sqrt scale; errors from a helper, gathered with np.fromiter
    "rf_curve": """\
import math


def relu_features(X, W):
    pre = X @ W
    return np.where(pre > 0, pre, 0.0) * (1.0 / math.sqrt(W.shape[1]))


def _test_mse(F_test, beta, y_test):
    residual = F_test @ beta - y_test
    return float(residual @ residual) / len(residual)


def rf_test_errors(F_train, y_train, F_test, y_test, ps, solve):
    return np.fromiter(
        (_test_mse(F_test[:, :p], solve(F_train[:, :p], y_train), y_test) for p in ps),
        dtype=float,
    )
""",
    # np.flatnonzero for the threshold, Python's max over indices for the peak,
    # norm-squared residuals for the sample-wise errors
    "threshold": """\
def interpolation_threshold(ps, train_errors, tol=1e-8):
    hits = np.flatnonzero(np.asarray(train_errors, dtype=float) <= tol)
    return int(np.asarray(ps)[hits[0]]) if hits.size else None


def peak_location(xs, errors):
    values = list(errors)
    best = max(range(len(values)), key=lambda i: values[i])  # first index on ties
    return int(list(xs)[best])


def sample_wise_errors(F_train, y_train, F_test, y_test, ns, solve):
    errors = np.empty(len(ns))
    for k, n in enumerate(ns):
        beta = solve(F_train[:n], y_train[:n])
        errors[k] = np.linalg.norm(F_test @ beta - y_test) ** 2 / len(y_test)
    return errors
""",
    # positions from a permutation; the new class is drawn among the other n_classes - 1
    # and shifted past the old one
    "flip": """\
def flip_labels(y, fraction, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    out = np.copy(y)
    count = int(round(fraction * len(out)))
    where = rng.permutation(len(out))[:count]
    draw = rng.integers(0, n_classes - 1, size=count)  # uniform over n_classes - 1 choices
    out[where] = draw + (draw >= out[where])  # skip the old label
    return out
""",
    # ridge through a Cholesky factorisation of the smaller Gram matrix, pinv for lam = 0;
    # lambda chosen by an explicit loop keeping the first strict minimum
    "ridge": """\
from scipy.linalg import cho_factor, cho_solve


def ridge_solution(F, y, lam):
    if lam == 0:
        return np.linalg.pinv(F) @ y
    n, p = F.shape
    if p <= n:
        factor = cho_factor(F.T @ F + lam * np.eye(p))
        return cho_solve(factor, F.T @ y)
    factor = cho_factor(F @ F.T + lam * np.eye(n))
    return F.T @ cho_solve(factor, y)


def select_lambda(F_train, y_train, F_val, y_val, lambdas):
    best_lam, best_err = None, np.inf
    for lam in lambdas:
        err = np.mean((F_val @ ridge_solution(F_train, y_train, lam) - y_val) ** 2)
        if err < best_err:
            best_lam, best_err = lam, err
    return float(best_lam)
""",
}
