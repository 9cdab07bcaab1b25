"""The two regression problems of the chapter, generated or shipped (nothing is downloaded).

- ``teacher_data``: inputs on a sphere in ``R^d`` and a small nonlinear "teacher" function; the
  training targets get Gaussian noise, the test targets are clean (so test error = excess risk).
- ``digits_data``: scikit-learn's 8x8 handwritten digits (1,797 images, shipped inside
  scikit-learn), one-hot targets, with optional label noise on the training set only.

Every random draw comes from a seeded ``numpy.random.Generator``; the noise has its own stream,
so two data sets that differ only in noise level share inputs, teacher and noise direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from funlm.answer_keys import answer_key

N_DIGIT_CLASSES = 10


@dataclass(frozen=True)
class Dataset:
    """Training and test split; ``labels_test`` is set for classification data."""

    X_train: np.ndarray  # (n, d)
    y_train: np.ndarray  # (n,) or (n, k)
    X_test: np.ndarray  # (m, d)
    y_test: np.ndarray  # (m,) or (m, k)
    labels_test: np.ndarray | None = None  # (m,) integer classes

    @property
    def n(self) -> int:
        return int(self.X_train.shape[0])

    @property
    def d(self) -> int:
        return int(self.X_train.shape[1])


def _on_sphere(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    X = rng.standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True) * np.sqrt(d)


def teacher_data(
    n_train: int,
    *,
    noise: float = 0.0,
    d: int = 20,
    n_test: int = 1000,
    teacher_width: int = 5,
    seed: int = 0,
) -> Dataset:
    """``y = tanh(x @ V) @ a + noise * eps`` with ``x`` uniform on the sphere of radius sqrt(d)."""
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((d, teacher_width)) / np.sqrt(d)
    a = rng.standard_normal(teacher_width)
    X_train = _on_sphere(rng, n_train, d)
    X_test = _on_sphere(rng, n_test, d)
    eps = np.random.default_rng([seed, 1]).standard_normal(n_train)
    y_train = np.tanh(X_train @ V) @ a + noise * eps
    y_test = np.tanh(X_test @ V) @ a
    return Dataset(X_train, y_train, X_test, y_test)


@answer_key
def flip_labels(y: np.ndarray, fraction: float, n_classes: int, seed: int = 0) -> np.ndarray:
    """A copy of ``y`` in which exactly ``round(fraction * len(y))`` labels, chosen at random,
    are replaced by a different class drawn uniformly from the other ``n_classes - 1``."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    y = np.asarray(y).copy()
    # One permutation and one shift per sample, whatever the fraction: the labels flipped at a
    # smaller fraction are also flipped (the same way) at a larger one, so noise levels nest.
    order = rng.permutation(len(y))
    shift = rng.integers(1, n_classes, size=len(y))
    idx = order[: round(fraction * len(y))]
    y[idx] = (y[idx] + shift[idx]) % n_classes
    return y


@lru_cache(maxsize=1)
def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def digits_data(n_train: int, *, label_noise: float = 0.0, seed: int = 0) -> Dataset:
    """Digits: ``n_train`` random training images, the rest for testing; one-hot targets.

    Pixels are scaled to [0, 1], centred by the training mean, and a constant 1 is appended
    (so that random ReLU features get a bias). ``label_noise`` flips that fraction of the
    *training* labels (see ``flip_labels``); test labels stay clean.
    """
    X, y = _load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    train, test = order[:n_train], order[n_train:]
    X = X / 16.0
    mean = X[train].mean(axis=0)
    X = np.hstack([X - mean, np.ones((len(X), 1))])
    labels_train = flip_labels(y[train], label_noise, N_DIGIT_CLASSES, seed=seed + 1)
    one_hot = np.eye(N_DIGIT_CLASSES)
    return Dataset(X[train], one_hot[labels_train], X[test], one_hot[y[test]], y[test])
