"""A language model as a policy: sample responses, and score them with log-probabilities.

The policy is chapter 1's teaching GPT (:class:`funlm.models.gpt.GPT`). Sampling stops a
sequence at its first EOS (end of line); log-probabilities are summed over response tokens only.
:func:`token_logprobs` and :func:`sequence_logprob` are the answer of the exercise's second part
(marked with :func:`~funlm.answer_keys.answer_key`).
"""

from __future__ import annotations

from collections import defaultdict

import torch
from torch.nn import functional as F

from funlm.answer_keys import answer_key
from funlm.models.draws import draw_multinomial
from funlm.models.gpt import GPT
from funlm.rlhf.world import EOS, WordTokenizer


@answer_key
def token_logprobs(model: GPT, ids: torch.Tensor) -> torch.Tensor:
    """``log p(ids[:, t] | ids[:, :t])`` for t = 1..T-1, shape (B, T-1)."""
    logits, _ = model(ids[:, :-1])  # (B, T-1, V)
    logp = F.log_softmax(logits.float(), dim=-1)
    return logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)


@answer_key
def sequence_logprob(model: GPT, ids: torch.Tensor, response_mask: torch.Tensor) -> torch.Tensor:
    """Sum of the log-probabilities of the response tokens of each sequence, shape (B,)."""
    return (token_logprobs(model, ids) * response_mask[:, 1:]).sum(dim=-1)


@torch.no_grad()
def sample_responses(
    model: GPT,
    tokenizer: WordTokenizer,
    prompts: list[str],
    *,
    max_new_tokens: int = 40,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    batch_size: int = 256,
) -> list[str]:
    """One sampled response per prompt (EOS removed); ``temperature=0`` is greedy.

    Prompts of equal length are batched together so that no padding shifts positions.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    eos = tokenizer.encode(EOS)[0]
    encoded = [tokenizer.encode(p) for p in prompts]
    by_length: dict[int, list[int]] = defaultdict(list)
    for i, ids in enumerate(encoded):
        by_length[len(ids)].append(i)
    out: list[str] = [""] * len(prompts)
    for indices in by_length.values():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            ids = torch.tensor([encoded[i] for i in chunk], device=device)
            n_prompt = ids.shape[1]
            done = torch.zeros(len(chunk), dtype=torch.bool, device=device)
            new = min(max_new_tokens, model.config.block_size - n_prompt - 1)  # room for EOS
            for _ in range(new):
                logits = model(ids)[0][:, -1, :].float()
                if temperature == 0:
                    nxt = logits.argmax(dim=-1)
                else:
                    probs = F.softmax(logits / temperature, dim=-1)
                    nxt = draw_multinomial(probs, 1, generator=generator).squeeze(-1)
                nxt = torch.where(done, torch.full_like(nxt, eos), nxt)
                ids = torch.cat([ids, nxt[:, None]], dim=1)
                done |= nxt == eos
                if bool(done.all()):
                    break
            for row, i in enumerate(chunk):
                text = tokenizer.decode(ids[row, n_prompt:].tolist())
                out[i] = text.split(EOS)[0]
    model.train(was_training)
    return out
