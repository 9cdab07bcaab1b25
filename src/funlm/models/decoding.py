"""One batched, prefix-cached decoding loop for every chapter that runs a causal LM.

Chapters 1 and 3 score label words after a prompt, chapter 5 generates greedy, sampled and
constrained answers, chapter 6 drives an agent with a format grammar. All of them run many
prompts that start with the same text (an instruction, the same demonstrations), on a CPU. This
module holds the one implementation they share:

- :class:`PrefixCache` — the keys and values of a token prefix shared by every row, computed
  once with batch size 1 and copied (as a broadcast view) to every row of a batch.
- :func:`left_pad` — the one layout convention: ``[prefix | pad ... pad | row]``. The attention
  mask is 1 on the prefix and on the row's own tokens, 0 on the padding; position ids count
  real tokens only (the first token of a row has position ``len(prefix)`` however much padding
  precedes it). A row therefore sees the same positions and keys it would see alone, and its
  logits equal the unpadded ones up to floating-point rounding.
- :func:`forward_rows` — one forward pass over rows after a prefix (scoring, and the prefill of
  generation).
- :func:`generate_tokens` — greedy, sampled or constrained decoding of new tokens for every row,
  with an optional prefix cache, ``n`` copies of each row (self-consistency), stop rules, and a
  key/value cache that writes into preallocated buffers instead of concatenating.

The name of the cache argument (``cache`` in recent ``transformers``, ``past_key_values``
before) is looked up in one place, :func:`cache_argument`.

Greedy decoding returns the tokens ``model.generate(do_sample=False)`` returns for each prompt
alone (tests check this token for token). Sampling draws from ``softmax(scores / temperature)``
with ``torch.multinomial`` over the whole batch, as ``transformers`` does, so a seeded run
repeats; finished rows then stay in the batch (fed padding) to keep the draws of a seed
independent of the batch schedule, exactly as ``model.generate(do_sample=True)`` keeps them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import torch

from funlm.models.draws import draw_multinomial

if TYPE_CHECKING:  # pragma: no cover
    from transformers import DynamicCache, PreTrainedModel

__all__ = [
    "Generated",
    "LeftPadded",
    "LogitsProcessor",
    "PrefixCache",
    "ProcessorFactory",
    "StopRule",
    "TokenChooser",
    "accepts_logits_to_keep",
    "cache_argument",
    "common_prefix_length",
    "forward_rows",
    "generate_tokens",
    "left_pad",
    "new_cache",
    "shared_prefix_length",
]

#: ``processor(input_ids (B, T), scores (B, V)) -> scores``: the ``transformers`` protocol.
LogitsProcessor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
#: Builds a logits processor from the prompt width (prefix + padded rows), after which the
#: processor's ``input_ids`` columns are generated tokens.
ProcessorFactory = Callable[[int], LogitsProcessor]
#: ``stop(row, tokens) -> bool``: whether ``row`` (its index in ``rows``, or ``row * n + copy``)
#: is finished after producing ``tokens`` (its new tokens so far, EOS excluded).
StopRule = Callable[[int, list[int]], bool]


class TokenChooser(Protocol):
    """Picks the next token of every active row (a grammar, say, instead of the argmax)."""

    def __call__(self, rows: Sequence[int], scores: torch.Tensor) -> Sequence[int]:
        """``rows``: indices of the active rows; ``scores``: their float32 scores ``(len, V)``."""
        ...


# --- model introspection -----------------------------------------------------------------


def cache_argument(model: Any) -> str:
    """The name of the key/value-cache argument of ``model.forward``.

    ``transformers`` renamed ``past_key_values`` to ``cache`` (the old name warns); every call
    in this module passes the cache under the name the model accepts.
    """
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def accepts_logits_to_keep(model: Any) -> bool:
    """Whether ``model.forward`` can compute the logits of the last positions only."""
    return "logits_to_keep" in inspect.signature(model.forward).parameters


def _device(model: Any) -> torch.device:
    return next(model.parameters()).device


# --- rows and prefixes ---------------------------------------------------------------------


def common_prefix_length(rows: Sequence[Sequence[int]]) -> int:
    """Length of the longest token prefix shared by all ``rows`` (0 for no rows)."""
    if not rows:
        return 0
    n = min(len(r) for r in rows)
    first = rows[0]
    for i in range(n):
        if any(r[i] != first[i] for r in rows):
            return i
    return n


def shared_prefix_length(rows: Sequence[Sequence[int]]) -> int:
    """The common prefix of ``rows`` that still leaves every row at least one token of its own.

    The logits of a row's next token come from its own last token, so a prefix cache may hold
    at most ``len(row) - 1`` tokens of the shortest row.
    """
    if not rows:
        return 0
    return max(0, min(common_prefix_length(rows), min(len(r) for r in rows) - 1))


@dataclass(frozen=True)
class LeftPadded:
    """Rows after a prefix of ``prefix_length`` tokens, left-padded to one width ``W``.

    ``input_ids`` ``(B, W)``: padding then the row's tokens; ``attention_mask``
    ``(B, prefix_length + W)``: 1 on the prefix and the row's tokens, 0 on padding;
    ``position_ids`` ``(B, W)``: ``prefix_length + i`` for the row's ``i``-th token (padding
    gets ``prefix_length``; it is masked, so its position changes nothing).
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    prefix_length: int

    @property
    def width(self) -> int:
        """``W``, the padded width of the rows (without the prefix)."""
        return int(self.input_ids.shape[1])


def left_pad(
    rows: Sequence[Sequence[int]], *, pad_token_id: int, prefix_length: int = 0
) -> LeftPadded:
    """Left-pad token ``rows`` (each non-empty) that follow a prefix of ``prefix_length``."""
    if not rows or any(len(r) == 0 for r in rows):
        raise ValueError("give at least one row, each with at least one token")
    batch, width = len(rows), max(len(r) for r in rows)
    input_ids = torch.full((batch, width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((batch, width), dtype=torch.long)
    for b, ids in enumerate(rows):
        input_ids[b, width - len(ids) :] = torch.tensor(list(ids), dtype=torch.long)
        mask[b, width - len(ids) :] = 1
    positions = prefix_length + (mask.cumsum(dim=1) - 1).clamp(min=0)
    prefix_mask = torch.ones((batch, prefix_length), dtype=torch.long)
    return LeftPadded(input_ids, torch.cat([prefix_mask, mask], dim=1), positions, prefix_length)


@functools.cache
def _preallocated_layer() -> type:
    """A ``DynamicLayer`` writing into preallocated buffers (built once transformers loads)."""
    from transformers.cache_utils import DynamicLayer

    class PreallocatedLayer(DynamicLayer):
        """Keys and values in buffers of ``capacity`` tokens: ``DynamicLayer`` concatenates,
        copying its whole cache at every generated token, which dominates decoding time on a
        CPU once prompts are a few hundred tokens long."""

        def __init__(self, capacity: int) -> None:
            super().__init__()
            self.capacity = capacity
            self._k: torch.Tensor | None = None
            self._v: torch.Tensor | None = None
            self._n = 0

        def _expose(self) -> None:
            self.keys, self.values = self._k[:, :, : self._n], self._v[:, :, : self._n]

        def update(self, key_states, value_states, *args, **kwargs):
            if self._k is None:
                b, h, _, d = key_states.shape
                self._k = key_states.new_empty((b, h, self.capacity, d))
                self._v = value_states.new_empty((b, h, self.capacity, d))
                self.device, self.is_initialized = key_states.device, True
            n, m = self._n, key_states.shape[-2]
            if n + m > self._k.shape[-2]:  # out of room: grow (the capacity was too small)
                grow = max(n + m, 2 * self._k.shape[-2]) - self._k.shape[-2]
                pad = self._k.new_empty((*self._k.shape[:2], grow, self._k.shape[-1]))
                self._k, self._v = torch.cat([self._k, pad], -2), torch.cat([self._v, pad], -2)
            self._k[:, :, n : n + m] = key_states
            self._v[:, :, n : n + m] = value_states
            self._n = n + m
            self._expose()
            return self.keys, self.values

        def batch_select_indices(self, indices: torch.Tensor) -> None:
            if self._k is not None:
                self._k, self._v = self._k[indices], self._v[indices]
                self._expose()

        def batch_repeat_interleave(self, repeats: int) -> None:
            if self._k is not None:
                self._k = self._k.repeat_interleave(repeats, dim=0)
                self._v = self._v.repeat_interleave(repeats, dim=0)
                self._expose()

    return PreallocatedLayer


def new_cache(model: Any, *, capacity: int = 0) -> DynamicCache:
    """An empty key/value cache for ``model``.

    ``capacity > 0``: room for that many tokens per row in preallocated buffers (when every
    layer of the model is a plain ``DynamicLayer``; sliding-window layers stay as they are).
    """
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    cache = DynamicCache(config=model.config)
    if capacity > 0 and all(type(layer) is DynamicLayer for layer in cache.layers):
        layer_class = _preallocated_layer()
        cache.layers = [layer_class(capacity) for _ in cache.layers]
    return cache


@dataclass(frozen=True)
class PrefixCache:
    """The keys and values of ``ids``, a token prefix shared by every row (batch size 1).

    Build it once (:meth:`build`); :meth:`cache` gives a fresh cache holding it for a batch.
    """

    ids: tuple[int, ...]
    layers: tuple[tuple[torch.Tensor, torch.Tensor], ...]

    @classmethod
    def build(cls, model: Any, ids: Sequence[int]) -> PrefixCache:
        """Run ``ids`` through ``model`` once (without gradients) and keep every layer's K/V."""
        if not ids:
            return cls((), ())
        cache = new_cache(model)
        kwargs: dict[str, Any] = {cache_argument(model): cache}
        if accepts_logits_to_keep(model):
            kwargs["logits_to_keep"] = 1
        with torch.no_grad():
            model(input_ids=torch.tensor([list(ids)], device=_device(model)), use_cache=True,
                  **kwargs)  # fmt: skip
        return cls(tuple(ids), tuple((layer.keys, layer.values) for layer in cache.layers))

    @property
    def length(self) -> int:
        """Number of prefix tokens."""
        return len(self.ids)

    def cache(self, model: Any, batch: int, *, capacity: int = 0) -> DynamicCache:
        """A new cache (see :func:`new_cache`) holding this prefix for ``batch`` rows."""
        cache = new_cache(model, capacity=capacity)
        for layer, (k, v) in zip(cache.layers, self.layers, strict=False):
            layer.update(k.expand(batch, -1, -1, -1), v.expand(batch, -1, -1, -1))
        return cache


# --- forward passes ------------------------------------------------------------------------


def forward_rows(
    model: Any,
    rows: Sequence[Sequence[int]],
    *,
    pad_token_id: int,
    prefix: PrefixCache | None = None,
    logits_to_keep: int = 1,
    cache: DynamicCache | None = None,
) -> tuple[torch.Tensor, LeftPadded]:
    """Logits of the last ``logits_to_keep`` positions of every row after ``prefix``.

    Returns ``(logits (B, logits_to_keep, V), padded)``: ``logits[b, -1]`` predicts the token
    after row ``b``. ``cache`` (which must already hold ``prefix`` for the batch, e.g. from
    :meth:`PrefixCache.cache`) receives the rows' keys and values, for decoding to continue;
    without it a throw-away cache is used. Runs without gradients.
    """
    prefix_length = prefix.length if prefix is not None else 0
    padded = left_pad(rows, pad_token_id=pad_token_id, prefix_length=prefix_length)
    if cache is None:
        if prefix is not None and prefix.length:
            cache = prefix.cache(model, len(rows))
        else:
            cache = new_cache(model)
    kwargs: dict[str, Any] = {cache_argument(model): cache}
    keep_all = not accepts_logits_to_keep(model)
    if not keep_all:
        kwargs["logits_to_keep"] = logits_to_keep
    device = _device(model)
    with torch.no_grad():
        logits = model(
            input_ids=padded.input_ids.to(device),
            attention_mask=padded.attention_mask.to(device),
            position_ids=padded.position_ids.to(device),
            use_cache=True,
            **kwargs,
        ).logits
    return logits[:, -logits_to_keep:], padded


# --- generation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    """What :func:`generate_tokens` produced.

    ``tokens[r]``: the new tokens of output row ``r`` (row ``j``'s copies are ``j * n`` to
    ``j * n + n - 1``), EOS and padding excluded. ``row_steps``: how many next-token
    predictions were made for active rows in all (the EOS or stopping token included), the
    number to divide by the time for a throughput. ``prompt_length``: prefix plus padded width,
    the ``prompt_length`` the logits processor was built with.
    """

    tokens: list[list[int]]
    row_steps: int
    prompt_length: int


def generate_tokens(
    model: PreTrainedModel,
    rows: Sequence[Sequence[int]],
    *,
    max_new_tokens: int,
    eos_token_id: int | None,
    pad_token_id: int,
    prefix: PrefixCache | None = None,
    n: int = 1,
    do_sample: bool = False,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    processor: ProcessorFactory | None = None,
    choose: TokenChooser | None = None,
    stop: StopRule | None = None,
    keep_finished: bool | None = None,
) -> Generated:
    """Decode up to ``max_new_tokens`` new tokens after every row of ``rows``, in one batch.

    ``rows``: token ids after ``prefix`` (each non-empty); they are left-padded
    (:func:`left_pad`), the prefix keys and values are copied from ``prefix`` and the rows run
    once (the prefill); then each of the ``n`` copies of a row decodes on its own.

    The next token of a row is, in this order of precedence: ``choose(rows, scores)`` when
    given (a grammar); a draw from ``softmax(scores / temperature)`` when ``do_sample`` (with
    ``generator``, else torch's global generator); else the argmax. ``scores`` are the float32
    logits after ``processor(prompt_length)`` (if any) saw the whole sequences so far.

    A row finishes at ``eos_token_id`` (never stored; ``None``: no EOS), when ``stop(row,
    tokens)`` says so, or after ``max_new_tokens``. Finished rows leave the batch (and the cache),
    except with ``keep_finished`` (default: ``do_sample``), where they are fed ``pad_token_id``
    as ``model.generate`` does, so that the random draws of the other rows stay those of
    ``transformers``.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    if keep_finished is None:
        keep_finished = do_sample
    device = _device(model)
    batch = len(rows) * n
    prefix = prefix if prefix is not None and prefix.length else None
    prefix_length = prefix.length if prefix is not None else 0
    width = max((len(r) for r in rows), default=0)
    if not rows or max_new_tokens <= 0:
        return Generated([[] for _ in range(batch)], 0, prefix_length + width)
    capacity = prefix_length + width + max_new_tokens + 1
    if prefix is not None:
        cache = prefix.cache(model, len(rows), capacity=capacity)
    else:
        cache = new_cache(model, capacity=capacity)
    logits, padded = forward_rows(
        model, rows, pad_token_id=pad_token_id, prefix=prefix, cache=cache
    )  # the prefill: every row's own tokens, once
    scores = logits[:, -1].to(dtype=torch.float32).repeat_interleave(n, dim=0)
    if n > 1:
        cache.batch_repeat_interleave(n)
    mask = padded.attention_mask.repeat_interleave(n, dim=0).to(device)
    next_position = (padded.position_ids[:, -1] + 1).repeat_interleave(n, dim=0).to(device)
    prompt_length = prefix_length + padded.width
    sequences: torch.Tensor | None = None
    logits_processor = processor(prompt_length) if processor is not None else None
    if logits_processor is not None:  # the whole sequence, as transformers' processors see it
        head = torch.tensor([list(prefix.ids) if prefix is not None else []], dtype=torch.long)
        sequences = torch.cat([head.expand(len(rows), -1), padded.input_ids], dim=1)
        sequences = sequences.repeat_interleave(n, dim=0).to(device)

    tokens: list[list[int]] = [[] for _ in range(batch)]
    active = list(range(batch))  # the output row of each batch row
    finished = [False] * batch  # batch rows that finished (they stay only with keep_finished)
    row_steps = 0
    cache_key = cache_argument(model)
    with torch.no_grad():
        for step in range(max_new_tokens):
            if logits_processor is not None:
                scores = logits_processor(sequences, scores)
            if choose is not None:
                live = [j for j, done in enumerate(finished) if not done]
                picked = list(choose([active[j] for j in live], scores[live]))
                chosen = [pad_token_id] * len(active)
                for j, token in zip(live, picked, strict=True):
                    chosen[j] = int(token)
                next_tokens = torch.tensor(chosen, dtype=torch.long, device=device)
            elif do_sample:
                if temperature != 1.0:
                    scores = scores / temperature
                probs = torch.softmax(scores, dim=-1)
                next_tokens = draw_multinomial(probs, 1, generator=generator).squeeze(1)
            else:
                next_tokens = scores.argmax(dim=-1)
            chosen = next_tokens.tolist()
            keep: list[int] = []
            for j, r in enumerate(active):
                if finished[j]:  # kept in the batch, fed padding
                    chosen[j] = pad_token_id
                    keep.append(j)
                    continue
                row_steps += 1
                token = chosen[j]
                done = token == eos_token_id
                if not done:
                    tokens[r].append(token)
                    done = stop is not None and stop(r, tokens[r])
                finished[j] = done
                if not done or keep_finished:
                    keep.append(j)
            if all(finished) or step == max_new_tokens - 1:
                break
            next_tokens = torch.tensor(chosen, dtype=torch.long, device=device)
            if len(keep) < len(active):  # finished rows leave the batch and the cache
                index = torch.tensor(keep, device=device)
                cache.batch_select_indices(index)
                active = [active[j] for j in keep]
                finished = [finished[j] for j in keep]
                next_tokens, mask, next_position = (
                    next_tokens[index],
                    mask[index],
                    next_position[index],
                )
                if sequences is not None:
                    sequences = sequences[index]
            if sequences is not None:
                sequences = torch.cat([sequences, next_tokens[:, None]], dim=1)
            mask = torch.cat([mask, mask.new_ones((len(active), 1))], dim=1)
            out = model(
                input_ids=next_tokens[:, None],
                attention_mask=mask,
                position_ids=next_position[:, None],
                use_cache=True,
                **{cache_key: cache},
            )
            next_position = next_position + 1
            scores = out.logits[:, -1].to(dtype=torch.float32)
    return Generated(tokens, row_steps, prompt_length)
