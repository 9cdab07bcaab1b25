"""Chapter 3: induction heads — data, scores and the phase-change detector."""

from __future__ import annotations

import torch

from funlm.icl.induction import (
    InductionSettings,
    attention_only_gpt,
    head_scores,
    induction_scores,
    induction_targets,
    phase_change,
    previous_token_scores,
    repeated_loss,
    repeated_mask,
    repeated_sequences,
    train_induction,
)


def test_repeated_sequences_repeat_with_their_period() -> None:
    tokens, periods = repeated_sequences(
        64, 30, 20, 3, 12, generator=torch.Generator().manual_seed(0)
    )
    assert tokens.shape == (64, 30) and periods.shape == (64,)
    assert periods.min() >= 3 and periods.max() <= 12 and len(set(periods.tolist())) > 3
    for row, p in zip(tokens, periods.tolist(), strict=True):
        assert len(set(row[:p].tolist())) == p  # distinct tokens within a period
        torch.testing.assert_close(row[p:], row[: 30 - p])
    assert tokens.max() < 20


def test_repeated_mask() -> None:
    mask = repeated_mask(torch.tensor([2, 4]), 5)
    assert mask.tolist() == [[False, False, True, True, True], [False, False, False, False, True]]


def _ideal_attention(periods: torch.Tensor, T: int, offset: str) -> torch.Tensor:
    """(B, 1, T, T) attention that puts all weight on the induction (or previous) target."""
    B = len(periods)
    attn = torch.zeros(B, 1, T, T)
    for b, p in enumerate(periods.tolist()):
        for t in range(T):
            if offset == "induction":
                src = t - p + 1 if t >= p else 0
            else:
                src = max(t - 1, 0)
            attn[b, 0, t, src] = 1.0
    return attn


def test_scores_on_ideal_patterns() -> None:
    periods = torch.tensor([3, 5, 4])
    ind = _ideal_attention(periods, 10, "induction")
    prev = _ideal_attention(periods, 10, "previous")
    torch.testing.assert_close(induction_scores(ind, periods), torch.tensor([1.0]))
    torch.testing.assert_close(previous_token_scores(prev), torch.tensor([1.0]))
    assert float(induction_scores(prev, periods)) < 0.5
    assert float(previous_token_scores(ind)) < 0.5
    uniform = torch.tril(torch.ones(30, 30))
    uniform = (uniform / uniform.sum(-1, keepdim=True)).expand(3, 2, 30, 30)
    long_periods = torch.tensor([8, 10, 12])
    assert induction_scores(uniform, long_periods).shape == (2,)
    assert float(induction_scores(uniform, long_periods).max()) < 0.15  # about 1/p


def test_induction_targets_cover_every_earlier_occurrence() -> None:
    targets = induction_targets(torch.tensor([3]), 10)[0]
    assert targets[8].nonzero().flatten().tolist() == [0, 3, 6]  # token 8 = token 5 = token 2
    assert not targets[2].any()  # first period: no earlier occurrence
    split = torch.zeros(1, 1, 10, 10)
    split[0, 0, 8, [3, 6]] = 0.5
    mask_sum = int((torch.arange(10) >= 3).sum())
    torch.testing.assert_close(
        induction_scores(split, torch.tensor([3])), torch.tensor([1.0 / mask_sum])
    )


def test_head_scores_shapes_and_repeated_loss() -> None:
    torch.manual_seed(0)
    model = attention_only_gpt(2, 16, 20, n_head=2, n_embd=16)
    tokens, periods = repeated_sequences(
        8, 20, 16, 3, 8, generator=torch.Generator().manual_seed(1)
    )
    scores = head_scores(model, tokens, periods)
    assert len(scores["induction"]) == 2 and len(scores["induction"][0]) == 2
    assert all(0.0 <= s <= 1.0 for layer in scores["previous_token"] for s in layer)
    loss = repeated_loss(model, tokens, periods)
    assert abs(loss - torch.log(torch.tensor(16.0)).item()) < 0.5  # untrained: about log V


def test_phase_change_detector() -> None:
    curve = [(0, 4.2), (10, 3.0), (20, 3.0), (30, 2.9), (40, 1.0), (50, 0.3), (60, 0.2)]
    result = phase_change(curve)
    assert result["step"] == 40
    assert result["loss_before"] == 3.0 and result["loss_after"] == 0.2


def test_short_training_learns_something() -> None:
    settings = InductionSettings(
        vocab_size=16,
        seq_len=24,
        min_period=3,
        max_period=8,
        n_head=2,
        n_embd=32,
        steps=120,
        batch_size=16,
        eval_every=40,
        n_eval=64,
    )
    run = train_induction(2, settings, progress=False)
    assert [s for s, _ in run.curve] == [0, 40, 80, 120]
    assert run.final_loss < run.curve[0][1]
    assert len(run.scores["induction"]) == 2


def test_warmup_setting_reaches_the_training_loop(monkeypatch) -> None:
    import funlm.icl.induction as induction

    seen = {}

    def fake_train(model, get_batch, *, steps, warmup=None, **kwargs):
        seen["warmup"] = warmup
        get_batch(0)

    monkeypatch.setattr(induction, "train", fake_train)
    settings = InductionSettings(
        vocab_size=16, seq_len=12, min_period=3, max_period=5, n_embd=16, steps=10, warmup=7,
        n_eval=4, batch_size=4,
    )  # fmt: skip
    train_induction(1, settings, progress=False)
    assert seen["warmup"] == 7


def test_train_induction_draws_batches_from_the_given_sampler(monkeypatch) -> None:
    import funlm.icl.induction as induction

    drawn = []

    def sampler(batch_size, seq_len, vocab_size, min_period, max_period, generator=None):
        drawn.append((batch_size, seq_len, vocab_size, min_period, max_period))
        return repeated_sequences(
            batch_size, seq_len, vocab_size, min_period, max_period, generator=generator
        )

    def fake_train(model, get_batch, *, steps, **kwargs):
        for step in range(steps):
            get_batch(step)

    monkeypatch.setattr(induction, "train", fake_train)
    settings = InductionSettings(
        vocab_size=16, seq_len=12, min_period=3, max_period=5, n_embd=16, steps=3, n_eval=4,
        batch_size=4,
    )  # fmt: skip
    train_induction(1, settings, progress=False, sampler=sampler)
    assert drawn == [(4, 12, 16, 3, 5)] * 3


def test_book_demo_trains_at_least_the_cpu_sizes() -> None:
    """The grade profile's induction run is too short for the phase change the page shows."""
    import funlm
    from funlm.icl import induction_demo_settings, settings

    cpu = settings(funlm.profile("cpu")).induction
    assert induction_demo_settings(funlm.profile("grade")) == cpu
    assert induction_demo_settings(funlm.profile("cpu")) == cpu
    gpu = settings(funlm.profile("gpu")).induction
    assert induction_demo_settings(funlm.profile("gpu")) == gpu
    assert cpu.steps > cpu.warmup and cpu.vocab_size >= cpu.max_period
