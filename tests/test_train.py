from __future__ import annotations

import itertools

import torch

from funlm.models.gpt import GPT, GPTConfig
from funlm.train import evaluate, lr_at, train


def test_lr_schedule_warms_up_then_decays():
    lrs = [lr_at(s, 100, 1.0, warmup=10) for s in range(100)]
    assert lrs[0] < lrs[9] == 1.0
    assert lrs[-1] < 0.2
    assert all(a >= b for a, b in itertools.pairwise(lrs[10:]))


def test_training_learns_a_repeating_sequence(capsys):
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=8, block_size=16, n_layer=1, n_head=2, n_embd=32))
    pattern = torch.arange(17) % 8  # 0 1 2 ... 7 0 1 ...: trivially predictable

    def get_batch(step):
        x = pattern[:-1].repeat(4, 1)
        return x, pattern[1:].repeat(4, 1)

    eval_batches = [get_batch(0)]
    before = evaluate(model, eval_batches)
    result = train(model, get_batch, steps=60, lr=3e-3, eval_batches=eval_batches, eval_every=20)
    assert len(result.train_loss) == 60
    assert [s for s, _ in result.eval_loss] == [20, 40, 60]
    assert result.final_eval_loss < 0.1 * before
    assert capsys.readouterr().err == "", "training must not write to stderr (nbgrader)"
