"""ch04_double_descent: answer cells that only delegate to the matching ``funlm`` function.

Graded through ``funlm-grade`` by ``tests/test_delegation.py``: every part listed in
``ZERO_PARTS`` must score 0 (its test wraps the student's call in ``forbid_delegation``), the
others keep full marks. Functions of an answer cell that have no ``funlm`` counterpart
(``rf_test_errors``, ``null_space_part``) are implemented properly here, so that the zero comes
from the delegation alone. Part 4 (``threshold``) has no ``funlm`` counterpart and is absent.
"""

from __future__ import annotations

CASES: dict[str, str] = {
    "min_norm": """
def min_norm_solution(F: np.ndarray, y: np.ndarray, rcond: float = 1e-10) -> np.ndarray:
    from funlm.double_descent import min_norm_lstsq

    return min_norm_lstsq(F, y, rcond=rcond)
""",
    "gradient_descent": """
def gradient_descent(F: np.ndarray, y: np.ndarray, lr: float, steps: int,
                     beta0: np.ndarray | None = None) -> np.ndarray:
    from funlm.double_descent import gradient_descent_lstsq

    return gradient_descent_lstsq(F, y, lr=lr, steps=steps, beta0=beta0)


def null_space_part(F: np.ndarray, v: np.ndarray, rcond: float = 1e-10) -> np.ndarray:
    _, s, Vt = np.linalg.svd(F, full_matrices=False)
    rows = Vt[s > rcond * (s.max() if s.size else 0.0)]
    return v - rows.T @ (rows @ v)
""",
    "rf_curve": """
def relu_features(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    import funlm.double_descent

    return funlm.double_descent.relu_features(X, W)


def rf_test_errors(F_train: np.ndarray, y_train: np.ndarray, F_test: np.ndarray,
                   y_test: np.ndarray, ps, solve) -> np.ndarray:
    errors = []
    for p in ps:
        beta = solve(F_train[:, :p], y_train)
        errors.append(np.mean((F_test[:, :p] @ beta - y_test) ** 2))
    return np.array(errors)
""",
    "flip": """
def flip_labels(y: np.ndarray, fraction: float, n_classes: int, seed: int = 0) -> np.ndarray:
    from funlm.double_descent.data import flip_labels as funlm_flip_labels

    return funlm_flip_labels(y, fraction, n_classes, seed=seed)
""",
    "ridge": """
def ridge_solution(F: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    from funlm.double_descent import ridge

    return ridge(F, y, lam)


def select_lambda(F_train: np.ndarray, y_train: np.ndarray, F_val: np.ndarray,
                  y_val: np.ndarray, lambdas) -> float:
    from funlm.double_descent import sweeps

    return sweeps.select_lambda(F_train, y_train, F_val, y_val, lambdas)
""",
}

ZERO_PARTS: list[str] = [
    "test_min_norm",
    "test_gradient_descent",
    "test_rf_curve",
    "test_flip",
    "test_ridge",
]
