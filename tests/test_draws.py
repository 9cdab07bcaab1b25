"""Seeded draws across devices (funlm.models.draws)."""

import pytest
import torch

from funlm.models.draws import draw_multinomial


def test_on_one_device_it_is_torch_multinomial():
    probs = torch.softmax(torch.randn(5, 11, generator=torch.Generator().manual_seed(0)), -1)
    mine = draw_multinomial(probs, 3, generator=torch.Generator().manual_seed(7))
    torch_draw = torch.multinomial(probs, 3, generator=torch.Generator().manual_seed(7))
    assert torch.equal(mine, torch_draw)
    assert draw_multinomial(probs).shape == (5, 1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cpu_generator_draws_the_same_tokens_for_cuda_probabilities():
    probs = torch.softmax(torch.randn(4, 9, generator=torch.Generator().manual_seed(1)), -1)
    on_cpu = draw_multinomial(probs, 1, generator=torch.Generator().manual_seed(3))
    on_cuda = draw_multinomial(probs.cuda(), 1, generator=torch.Generator().manual_seed(3))
    assert on_cuda.device.type == "cuda"
    assert torch.equal(on_cuda.cpu(), on_cpu)
