"""Constrained decoding: a logits processor that only lets the model write an allowed answer.

At every generation step the processor sets the score of every forbidden token to ``-inf``, so
the model picks the most likely token **among the allowed ones**. With the allowed answers
stored as token sequences in a prefix tree (trie), the model can only ever write one of the
labels followed by the end-of-turn token: format errors become impossible by construction.
For numbers, :class:`DigitsLogitsProcessor` allows digits only (then the end token).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from funlm.answer_keys import answer_key


def label_token_ids(tokenizer: Any, labels: Sequence[str]) -> list[list[int]]:
    """Each label as the token ids the model would write at the start of its reply."""
    return [tokenizer.encode(label, add_special_tokens=False) for label in labels]


@answer_key
def allowed_next_tokens(
    generated: Sequence[int], label_ids: Sequence[Sequence[int]], eos_token_id: int
) -> list[int]:
    """Tokens that may follow ``generated`` so that the reply stays one of the labels.

    - every token that continues some label whose first tokens equal ``generated``;
    - ``eos_token_id`` once ``generated`` is a complete label;
    - only ``eos_token_id`` when ``generated`` cannot be completed (e.g. a finished row).

    The result is sorted and has no duplicates.

    >>> allowed_next_tokens([], [[5, 6], [5, 7], [9]], eos_token_id=0)
    [5, 9]
    >>> allowed_next_tokens([5], [[5, 6], [5, 7], [9]], eos_token_id=0)
    [6, 7]
    >>> allowed_next_tokens([9], [[5, 6], [5, 7], [9]], eos_token_id=0)
    [0]
    """
    prefix = list(generated)
    n = len(prefix)
    allowed: set[int] = set()
    for ids in label_ids:
        ids = list(ids)
        if ids[:n] == prefix:
            if n < len(ids):
                allowed.add(ids[n])
            else:
                allowed.add(eos_token_id)
    return sorted(allowed) if allowed else [eos_token_id]


class LabelLogitsProcessor:
    """Restrict generation after ``prompt_length`` tokens to one of ``label_ids`` then EOS.

    Follows the ``transformers`` logits-processor protocol:
    ``processor(input_ids (B, T), scores (B, V)) -> scores (B, V)``.
    """

    def __init__(
        self, label_ids: Sequence[Sequence[int]], prompt_length: int, eos_token_id: int
    ) -> None:
        self.label_ids = [list(ids) for ids in label_ids]
        self.prompt_length = prompt_length
        self.eos_token_id = eos_token_id

    @answer_key
    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.Tensor:
        mask = torch.full_like(scores, float("-inf"))
        for row in range(input_ids.shape[0]):
            generated = input_ids[row, self.prompt_length :].tolist()
            allowed = allowed_next_tokens(generated, self.label_ids, self.eos_token_id)
            mask[row, allowed] = 0.0
        return scores + mask


class DigitsLogitsProcessor:
    """Allow only digit tokens (at least one, at most ``max_digits``), then EOS."""

    def __init__(
        self, digit_ids: Sequence[int], prompt_length: int, eos_token_id: int, max_digits: int = 4
    ) -> None:
        self.digit_ids = sorted(set(digit_ids))
        self.prompt_length = prompt_length
        self.eos_token_id = eos_token_id
        self.max_digits = max_digits

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.Tensor:
        mask = torch.full_like(scores, float("-inf"))
        digits = set(self.digit_ids)
        for row in range(input_ids.shape[0]):
            generated = input_ids[row, self.prompt_length :].tolist()
            if generated and generated[-1] not in digits:  # finished (EOS/padding)
                allowed = [self.eos_token_id]
            elif len(generated) >= self.max_digits:
                allowed = [self.eos_token_id]
            elif generated:
                allowed = [*self.digit_ids, self.eos_token_id]
            else:
                allowed = self.digit_ids
            mask[row, allowed] = 0.0
        return scores + mask


def digit_token_ids(tokenizer: Any) -> list[int]:
    """Token ids of the ten digits (SmolLM2 writes every digit as its own token)."""
    ids = [tokenizer.encode(str(d), add_special_tokens=False) for d in range(10)]
    if any(len(i) != 1 for i in ids):
        raise ValueError("this tokenizer does not have one token per digit")
    return [i[0] for i in ids]
