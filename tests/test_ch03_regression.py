"""Chapter 3: in-context linear regression (Garg et al. 2022) — sampler, baselines, model."""

from __future__ import annotations

import pytest
import torch

from funlm.icl.regression import (
    averaging_predictions,
    baseline_errors,
    least_squares_predictions,
    nearest_neighbour_predictions,
    normalised_error_by_k,
    sample_regression_prompts,
)
from funlm.icl.regression_model import (
    InContextRegressor,
    curriculum_dims,
    interleave,
    model_errors,
    train_regressor,
)


def _prompts(b: int = 256, n: int = 11, d: int = 5, seed: int = 0):
    return sample_regression_prompts(b, n, d, generator=torch.Generator().manual_seed(seed))


def test_sampler_shapes_and_linear_targets() -> None:
    xs, ys, w = _prompts(8, 7, 3)
    assert xs.shape == (8, 7, 3) and ys.shape == (8, 7) and w.shape == (8, 3)
    torch.testing.assert_close(ys, torch.einsum("bnd,bd->bn", xs, w))
    again = _prompts(8, 7, 3)
    torch.testing.assert_close(again[0], xs)  # seeded


def test_least_squares_exact_after_d_points() -> None:
    xs, ys, _ = _prompts(64, 9, 4)
    err = normalised_error_by_k(least_squares_predictions(xs, ys), ys, 4)
    assert torch.all(err[5:] < 1e-6)  # k >= d + 1 pairs determine w (noiseless)
    assert err[2] > 0.2  # under-determined before
    # with one earlier pair the min-norm solution is w_hat = y_1 x_1 / |x_1|^2
    expected = ys[:, 0] * (xs[:, 0] * xs[:, 1]).sum(1) / (xs[:, 0] ** 2).sum(1)
    torch.testing.assert_close(least_squares_predictions(xs, ys)[:, 1], expected)


def test_nearest_neighbour_and_averaging_by_hand() -> None:
    xs = torch.tensor([[[0.0], [1.0], [3.0], [2.9], [10.0]]])
    ys = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]])
    knn = nearest_neighbour_predictions(xs, ys, n_neighbours=2)
    torch.testing.assert_close(knn[0, :4], torch.tensor([0.0, 1.0, 1.5, 2.5]))
    torch.testing.assert_close(knn[0, 4], torch.tensor(3.5))  # nearest to 10: 3.0 and 2.9
    avg = averaging_predictions(xs, ys)
    torch.testing.assert_close(avg[0, 2], torch.tensor((0.0 * 1 + 1.0 * 2) / 2 * 3.0))


def test_baseline_errors_order() -> None:
    xs, ys, _ = _prompts(512, 11, 5)
    errors = baseline_errors(xs, ys)
    assert set(errors) == {"least_squares", "3nn", "averaging", "zero"}
    assert all(len(v) == 11 for v in errors.values())
    assert abs(errors["zero"][10] - 1.0) < 0.15  # predicting 0 scores about 1
    assert errors["least_squares"][10] < 1e-5 < errors["3nn"][10]


def test_interleave_layout() -> None:
    xs, ys, _ = _prompts(2, 3, 2)
    z = interleave(xs, ys)
    assert z.shape == (2, 6, 3)
    torch.testing.assert_close(z[:, 0::2, :2], xs)
    torch.testing.assert_close(z[:, 1::2, 2], ys)
    assert torch.all(z[:, 0::2, 2] == 0) and torch.all(z[:, 1::2, :2] == 0)


def test_regressor_is_causal() -> None:
    torch.manual_seed(0)
    model = InContextRegressor(3, 6, n_layer=2, n_head=2, n_embd=16).eval()
    xs, ys, _ = _prompts(4, 6, 3)
    out = model(xs, ys)
    assert out.shape == (4, 6)
    ys2 = ys.clone()
    ys2[:, 3] += 5.0  # changing y_3 must not change the predictions of y_0..y_3
    out2 = model(xs, ys2)
    torch.testing.assert_close(out[:, :4], out2[:, :4])
    assert not torch.allclose(out[:, 4:], out2[:, 4:])


def test_curriculum_dims() -> None:
    assert curriculum_dims(0, 100, 5) == 2
    assert curriculum_dims(50, 100, 5) == 5 and curriculum_dims(99, 100, 5) == 5
    dims = [curriculum_dims(s, 100, 5) for s in range(100)]
    assert dims == sorted(dims)
    assert curriculum_dims(0, 100, 2) == 2


@pytest.mark.slow
def test_short_training_beats_predicting_zero() -> None:
    xs, ys, _ = _prompts(256, 4, 1, seed=1)
    run = train_regressor(
        1, 4, steps=200, batch_size=64, n_layer=2, n_head=2, n_embd=32, lr=3e-3, progress=False
    )
    errors = model_errors(run.model, xs, ys)
    losses = run.history.train_loss
    assert sum(losses[-20:]) < sum(losses[:20])
    assert sum(errors[1:]) / 3 < 0.9  # predicting 0 scores about 1; seeded run: about 0.78


def test_train_regressor_uses_the_given_loss(monkeypatch) -> None:
    import funlm.icl.regression_model as rm

    seen = {}

    def fake_train(model, get_batch, *, loss_fn, **kwargs):
        seen["loss_fn"] = loss_fn

    def my_loss(model, batch):
        return torch.zeros(())

    monkeypatch.setattr(rm, "train", fake_train)
    train_regressor(2, 3, steps=1, n_layer=1, n_embd=8, n_head=1, loss_fn=my_loss)
    assert seen["loss_fn"] is my_loss
    train_regressor(2, 3, steps=1, n_layer=1, n_embd=8, n_head=1)
    assert seen["loss_fn"] is rm.regression_loss
