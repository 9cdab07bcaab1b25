"""Induction heads (Olsson et al. 2022) in a tiny attention-only transformer.

Data: each sequence is a random arrangement of ``p`` distinct tokens repeated until the sequence
is full, with the period ``p`` drawn anew for every sequence. The first ``p`` tokens cannot be
predicted; every later token can, by the rule "find the previous occurrence of the current
token and copy the token that followed it". Because ``p`` varies, position alone cannot tell
where to look: the model has to match content. A two-layer attention-only transformer learns
this rule with two heads working together — a *previous-token head* in layer 0 writes "my
previous token was A" into each position, and an *induction head* in layer 1 looks for the
position whose previous token equals the current token. A one-layer model cannot compose heads
and stays near the loss of guessing among the tokens seen so far.

Scores read from the attention weights (B, H, T, T) on such sequences:

- induction score of a head: mean attention from position ``t`` (in the repeated part) to
  the positions right after the earlier occurrences of token ``t`` (``t - p + 1``,
  ``t - 2p + 1``, ...), which all hold the token that comes next;
- previous-token score: mean attention from ``t`` to ``t - 1``.

The data sampler and the two scores are the graded answers of chapter 3's exercise (part 6),
hence :func:`funlm.answer_keys.answer_key`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch.nn import functional as F

from funlm.answer_keys import answer_key
from funlm.models.gpt import GPT, GPTConfig
from funlm.train import train

#: ``sampler(batch_size, seq_len, vocab_size, min_period, max_period, generator=g)`` ->
#: ``(tokens, periods)``, as :func:`repeated_sequences`
Sampler = Callable[..., tuple[torch.Tensor, torch.Tensor]]


@answer_key
def repeated_sequences(
    batch_size: int,
    seq_len: int,
    vocab_size: int,
    min_period: int,
    max_period: int,
    *,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(tokens, periods)``: (B, seq_len) repeated random sequences and their (B,) periods.

    Row ``b`` is ``p_b`` distinct tokens (a random draw without replacement from the
    vocabulary) repeated to length ``seq_len``; ``p_b`` is uniform in [min_period, max_period].
    """
    if max_period > vocab_size:
        raise ValueError("max_period must not exceed vocab_size (tokens in a period are distinct)")
    periods = torch.randint(min_period, max_period + 1, (batch_size,), generator=generator)
    perms = torch.rand(batch_size, vocab_size, generator=generator).argsort(dim=1)  # (B, V)
    positions = torch.arange(seq_len).unsqueeze(0) % periods.unsqueeze(1)  # (B, T)
    return perms.gather(1, positions), periods


def repeated_mask(periods: torch.Tensor, seq_len: int) -> torch.Tensor:
    """(B, seq_len) bool: True where the token repeats an earlier one (position >= period)."""
    return torch.arange(seq_len).unsqueeze(0) >= periods.unsqueeze(1)


def lm_batch(tokens: torch.Tensor, periods: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets for next-token training: ``tokens[:, :-1]`` -> ``tokens[:, 1:]``."""
    return tokens[:, :-1], tokens[:, 1:]


@torch.no_grad()
def repeated_loss(model: GPT, tokens: torch.Tensor, periods: torch.Tensor) -> float:
    """Mean next-token loss on the predictable (repeated) tokens only."""
    x, y = lm_batch(tokens, periods)
    logits, _ = model(x.to(next(model.parameters()).device))
    losses = F.cross_entropy(logits.transpose(1, 2).cpu(), y, reduction="none")  # (B, T-1)
    mask = repeated_mask(periods, tokens.shape[1])[:, 1:]  # target position t+1 repeats
    return float(losses[mask].mean())


def sinusoidal_positions(block_size: int, n_embd: int) -> torch.Tensor:
    """(block_size, n_embd) sine/cosine position codes (Vaswani et al. 2017)."""
    position = torch.arange(block_size, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, n_embd, 2, dtype=torch.float32) * (-math.log(1e4) / n_embd))
    codes = torch.zeros(block_size, n_embd)
    codes[:, 0::2] = torch.sin(position * freq)
    codes[:, 1::2] = torch.cos(position * freq)
    return codes


def attention_only_gpt(
    n_layer: int,
    vocab_size: int,
    block_size: int,
    *,
    n_head: int = 4,
    n_embd: int = 64,
    position_scale: float | None = None,
) -> GPT:
    """An attention-only GPT (no MLPs, no dropout) for the induction-head experiment.

    With ``position_scale``, the learned position embeddings start as sinusoids of that
    amplitude (about the size of the token embeddings) instead of random vectors: "attend to
    the previous position" is then a simple rotation of the query, so the previous-token head
    — the first half of the induction circuit — forms within a short CPU run.
    """
    config = GPTConfig(
        vocab_size=vocab_size,
        block_size=block_size,
        n_layer=n_layer,
        n_head=n_head,
        n_embd=n_embd,
        use_mlp=False,
    )
    model = GPT(config)
    if position_scale is not None:
        with torch.no_grad():
            codes = sinusoidal_positions(block_size, n_embd)
            model.transformer.wpe.weight.copy_(position_scale * codes)
    return model


def induction_targets(periods: torch.Tensor, seq_len: int, offset: int = 0) -> torch.Tensor:
    """(B, T, T) bool: ``[b, t, s]`` is True when ``s`` holds the token that followed an earlier
    occurrence of token ``t`` — ``s = t - p + 1, t - 2p + 1, ...`` — for repeated ``t >= p``.

    ``offset`` shifts every target by that many positions (``offset=-1``: the earlier
    occurrences of token ``t`` itself; ``offset=1``: the position after the induction target).
    """
    t = torch.arange(seq_len).view(1, -1, 1)
    s = torch.arange(seq_len).view(1, 1, -1)
    p = periods.view(-1, 1, 1)
    return (s <= t - p + 1 + offset) & ((t + 1 + offset - s) % p == 0) & (t >= p)


@answer_key
def induction_scores(attn: torch.Tensor, periods: torch.Tensor, offset: int = 0) -> torch.Tensor:
    """(H,) mean attention from each repeated position ``t`` to the induction targets.

    ``attn``: (B, H, T, T) attention weights of one layer on sequences with these ``periods``.
    The targets are the positions right after the earlier occurrences of token ``t`` (all of
    them hold the token that comes next); averaged over every repeated position of every row.
    ``offset`` scores shifted targets instead (see :func:`induction_targets`).
    """
    T = attn.shape[-1]
    targets = induction_targets(periods, T, offset).to(attn.dtype)  # (B, T, T)
    per_position = (attn * targets[:, None]).sum(dim=-1)  # (B, H, T)
    mask = repeated_mask(periods, T)  # only positions whose token occurred before
    return (per_position * mask[:, None, :]).sum(dim=(0, 2)) / mask.sum()


@answer_key
def previous_token_scores(attn: torch.Tensor) -> torch.Tensor:
    """(H,) mean attention from each position t >= 1 to t - 1."""
    return attn.diagonal(offset=-1, dim1=2, dim2=3).mean(dim=(0, 2))


OFFSETS = (-1, 0, 1, 2, 3)


@torch.no_grad()
def head_scores(
    model: GPT, tokens: torch.Tensor, periods: torch.Tensor
) -> dict[str, list[list[float]]]:
    """Induction and previous-token score of every head, per layer: ``[layer][head]``.

    ``last_layer_by_offset[i][head]``: the last layer's score for shifted targets
    (``OFFSETS[i]``, see :func:`induction_targets`), to see where its heads look instead.
    """
    model.record_attention(True)
    model(tokens[:, :-1].to(next(model.parameters()).device))
    maps = [m.cpu() for m in model.attention_maps()]
    model.record_attention(False)
    p = periods
    return {
        "induction": [induction_scores(m, p).tolist() for m in maps],
        "previous_token": [previous_token_scores(m).tolist() for m in maps],
        # where the last layer's heads look relative to the induction target (offset 0)
        "last_layer_by_offset": [
            induction_scores(maps[-1], p, offset).tolist() for offset in OFFSETS
        ],
    }


@dataclass
class InductionRun:
    """A trained model, its repeated-token loss curve ``(step, loss)`` and final head scores."""

    model: GPT
    curve: list[tuple[int, float]] = field(default_factory=list)
    scores: dict[str, list[list[float]]] = field(default_factory=dict)

    @property
    def final_loss(self) -> float:
        return self.curve[-1][1]


@dataclass(frozen=True)
class InductionSettings:
    """Sizes of the experiment (see :func:`funlm.icl.settings` for the profiles' values)."""

    vocab_size: int = 64
    seq_len: int = 32
    min_period: int = 8
    max_period: int = 16
    n_head: int = 4
    n_embd: int = 64
    steps: int = 2000
    batch_size: int = 64
    lr: float = 1e-2
    eval_every: int = 100
    n_eval: int = 256
    position_scale: float | None = None
    #: learning-rate warm-up steps (None: the training loop's default, 5% of ``steps``). A
    #: long warm-up matters: at full learning rate from the start the model collapses to
    #: predicting the uniform distribution and never finds the induction circuit.
    warmup: int | None = None


def train_induction(
    n_layer: int,
    settings: InductionSettings,
    *,
    seed: int = 0,
    device: str = "cpu",
    progress: bool | None = None,
    sampler: Sampler | None = None,
) -> InductionRun:
    """Train an attention-only model on repeated sequences; track the repeated-token loss.

    ``sampler`` draws the training batches (default :func:`repeated_sequences`; the exercise
    passes its own with the same signature). The evaluation sequences always come from
    :func:`repeated_sequences`, so runs with different samplers are scored alike.
    """
    draw = repeated_sequences if sampler is None else sampler
    s = settings
    torch.manual_seed(seed)
    model = attention_only_gpt(
        n_layer,
        s.vocab_size,
        s.seq_len,
        n_head=s.n_head,
        n_embd=s.n_embd,
        position_scale=s.position_scale,
    )
    model.to(device)
    generator = torch.Generator().manual_seed(seed)
    eval_tokens, eval_periods = repeated_sequences(
        s.n_eval,
        s.seq_len,
        s.vocab_size,
        s.min_period,
        s.max_period,
        generator=torch.Generator().manual_seed(seed + 10_000),
    )
    run = InductionRun(model=model)

    def get_batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        if step % s.eval_every == 0:
            run.curve.append((step, repeated_loss(model, eval_tokens, eval_periods)))
        tokens, periods = draw(
            s.batch_size, s.seq_len, s.vocab_size, s.min_period, s.max_period, generator=generator
        )
        x, y = lm_batch(tokens, periods)
        return x.to(device), y.to(device)

    train(
        model,
        get_batch,
        steps=s.steps,
        lr=s.lr,
        warmup=s.warmup,
        weight_decay=0.0,
        progress=progress,
    )
    run.curve.append((s.steps, repeated_loss(model, eval_tokens, eval_periods)))
    run.scores = head_scores(model, eval_tokens, eval_periods)
    return run


def phase_change(curve: list[tuple[int, float]]) -> dict[str, float]:
    """Where the repeated-token loss falls: the first step below the midpoint of its range.

    Returns ``step`` (that step), ``loss_before`` (the highest loss at or after the first
    quarter of the steps before it — the plateau) and ``loss_after`` (the final loss).
    """
    steps = [s for s, _ in curve]
    losses = [v for _, v in curve]
    plateau_from = 1 if len(losses) > 2 else 0  # skip the loss at initialisation
    high, low = max(losses[plateau_from:]), losses[-1]
    threshold = (high + low) / 2
    index = next(i for i in range(len(losses)) if i >= plateau_from and losses[i] < threshold)
    before = losses[max(plateau_from, index // 2) : index] or [losses[index]]
    return {"step": steps[index], "loss_before": max(before), "loss_after": low}
