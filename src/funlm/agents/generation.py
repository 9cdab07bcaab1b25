"""Batched greedy generation for agents: a shared-prefix cache, stop strings, a format grammar.

An agent asks its language model for *text*: ``lm.generate(prompts, stop=..., ...)`` returns one
completion per prompt. Anything with that method can drive the agent loop, so tests use a
scripted fake (:mod:`funlm.agents.fakes`) and the real runs use :class:`HFAgentLM` below.

Why a custom decoding loop instead of ``model.generate``? Three things make agent evaluation
on a 2-core CPU affordable (the loop itself is the course's one decoding loop,
:func:`funlm.models.decoding.generate_tokens`; this module adds the prompts' common prefix,
stop strings and the format grammar):

1. **Shared-prefix cache.** Every task's prompt starts with the same instructions and few-shot
   trajectories (hundreds of tokens). We run that prefix through the model once, keep its key/value
   cache, and only feed each task's own suffix. The suffixes are left-padded *after* the prefix
   (``[prefix][pad…][suffix]``) with an attention mask and explicit position ids, so every row
   sees exactly the positions it would see alone.
2. **Rows leave the batch when they stop.** A row that has produced a stop string is dropped
   from the batch (and from the cache), so one long answer does not keep 40 finished ones busy.
3. **A format grammar (constrained action format).** With ``constraint=ActionFormat(...)`` the
   model writes a free one-line thought, then the loop *forces* ``Action:``, lets the model pick
   one of the allowed action names (greedy among the allowed tokens only), forces
   ``Action Input:`` and lets the model write one free line. A small model then cannot invent a
   tool name or break the format; it only chooses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from funlm.models.decoding import PrefixCache

__all__ = ["ActionFormat", "AgentLM", "HFAgentLM", "common_prefix"]


@dataclass(frozen=True)
class ActionFormat:
    """The constrained ReAct step: ``<thought>\\nAction: <name>\\nAction Input: <line>``.

    The completion starts right after ``Thought:`` in the prompt. ``actions`` are the allowed
    names (tools plus ``finish``); each must start with its own token after a space.
    ``max_thought_tokens=0`` is the act-only format: the prompt ends with ``Action:`` and the
    completion is ``<name>\nAction Input: <line>``.
    """

    actions: tuple[str, ...]
    max_thought_tokens: int = 32
    max_input_tokens: int = 24


@runtime_checkable
class AgentLM(Protocol):
    """What the agent loop needs from a language model (real or scripted)."""

    def generate(
        self,
        prompts: Sequence[str],
        *,
        stop: Sequence[str] = (),
        max_new_tokens: int = 64,
        constraint: ActionFormat | Sequence[ActionFormat] | None = None,
    ) -> list[str]:
        """One greedy completion per prompt, cut before the first stop string.

        ``constraint``: one :class:`ActionFormat` for every prompt, or one per prompt.
        """
        ...


def common_prefix(texts: Sequence[str]) -> str:
    """The longest common prefix of ``texts``, cut after its last newline.

    Cutting at a newline keeps the tokenisation of ``prefix + suffix`` equal to the
    tokenisation of the two parts (the byte-level BPE never merges across a newline followed
    by a letter).
    """
    if not texts:
        return ""
    first, last = min(texts), max(texts)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    cut = first.rfind("\n", 0, n)
    return first[: cut + 1] if cut >= 0 else ""


def _cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` before the earliest stop string, and whether one was found."""
    positions = [p for p in (text.find(s) for s in stop if s) if p >= 0]
    if not positions:
        return text, False
    return text[: min(positions)], True


# --- a per-row state machine for ActionFormat -------------------------------------------------

_THOUGHT, _ACTION_LITERAL, _CHOICE, _INPUT_LITERAL, _INPUT, _DONE = range(6)


class _FormatState:
    """Where one row is inside ``<thought>\\nAction: <name>\\nAction Input: <line>``."""

    def __init__(self, fmt: ActionFormat, tok: _Tokens) -> None:
        self.fmt = fmt
        self.tok = tok
        self.queue: list[int] = []  # forced tokens still to emit
        self.count = 0  # tokens generated in the current free phase
        self.choice: list[int] = []  # tokens chosen so far in the choice phase
        # without thoughts the prompt already ends with "Action:": start at the choice
        self.phase = _THOUGHT if fmt.max_thought_tokens > 0 else _CHOICE

    def _enter(self, phase: int) -> None:
        self.phase, self.count = phase, 0
        if phase == _ACTION_LITERAL:
            self.queue = list(self.tok.action_literal)
        elif phase == _INPUT_LITERAL:
            self.queue = list(self.tok.input_literal)
        elif phase == _CHOICE:
            self.choice = []

    def next_token(self, logits: torch.Tensor) -> int:
        """Pick this row's next token from its next-token ``logits`` (shape ``(vocab,)``)."""
        if self.phase in (_ACTION_LITERAL, _INPUT_LITERAL):
            return self.queue[0]
        if self.phase == _CHOICE:
            allowed = self.tok.choice_continuations(self.choice)
            if len(allowed) == 1:
                return allowed[0]
            return max(allowed, key=lambda t: float(logits[t]))
        # free text: never end the turn here; a newline ends the phase
        logits = logits.clone()
        for banned in self.tok.banned:
            logits[banned] = float("-inf")
        return int(logits.argmax())

    def advance(self, token: int) -> None:
        """Record that ``token`` was emitted and move the state machine."""
        if self.phase in (_ACTION_LITERAL, _INPUT_LITERAL):
            self.queue.pop(0)
            if not self.queue:
                self._enter(_CHOICE if self.phase == _ACTION_LITERAL else _INPUT)
            return
        if self.phase == _CHOICE:
            self.choice.append(token)
            if self.tok.choice_complete(self.choice):
                self._enter(_INPUT_LITERAL)
            return
        self.count += 1
        newline = "\n" in self.tok.text(token)
        if self.phase == _THOUGHT:
            if newline:
                self._enter(_ACTION_LITERAL)
            elif self.count >= self.fmt.max_thought_tokens:
                self.queue = [self.tok.newline]  # force the line to end
                self.phase = _ACTION_LITERAL
                self.queue += list(self.tok.action_literal)
        elif self.phase == _INPUT and (newline or self.count >= self.fmt.max_input_tokens):
            self.phase = _DONE

    @property
    def done(self) -> bool:
        return self.phase == _DONE


class _Tokens:
    """Token ids the format needs, computed once per (tokenizer, format)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, fmt: ActionFormat) -> None:
        encode = lambda s: tokenizer.encode(s, add_special_tokens=False)  # noqa: E731
        self.tokenizer = tokenizer
        self.newline = encode("\n")[0]
        self.action_literal = encode("Action:")
        self.input_literal = [self.newline, *encode("Action Input:")]
        self.options = [encode(" " + name) for name in fmt.actions]
        firsts = [o[0] for o in self.options]
        if len(set(firsts)) != len(firsts):
            raise ValueError(f"action names must differ in their first token: {fmt.actions}")
        specials = {tokenizer.eos_token_id, tokenizer.pad_token_id, tokenizer.bos_token_id}
        self.banned = sorted(t for t in specials if t is not None)
        self._text: dict[int, str] = {}

    def text(self, token: int) -> str:
        if token not in self._text:
            self._text[token] = self.tokenizer.decode([token])
        return self._text[token]

    def choice_continuations(self, chosen: list[int]) -> list[int]:
        n = len(chosen)
        return sorted({o[n] for o in self.options if o[:n] == chosen and len(o) > n})

    def choice_complete(self, chosen: list[int]) -> bool:
        return any(o == chosen for o in self.options)


# --- the Hugging Face implementation -------------------------------------------------------


class HFAgentLM:
    """Batched greedy generation with a causal LM from ``transformers`` (e.g. SmolLM2).

    ``batch_size`` bounds how many prompts run together (memory); the prefix cache is reused
    across calls while the prompts keep the same common prefix.
    """

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        batch_size: int = 48,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self._prefix_text: str | None = None
        self._prefix: PrefixCache | None = None
        self._formats: dict[ActionFormat, _Tokens] = {}
        self.tokens_generated = 0  # running count, for throughput reports

    # public API ---------------------------------------------------------------------------

    def generate(
        self,
        prompts: Sequence[str],
        *,
        stop: Sequence[str] = (),
        max_new_tokens: int = 64,
        constraint: ActionFormat | Sequence[ActionFormat] | None = None,
    ) -> list[str]:
        """Greedy completions of ``prompts`` (batched), each cut before its first stop string.

        With ``constraint`` (one :class:`ActionFormat`, or one per prompt) the completion
        follows the format; the format itself ends each row and ``stop`` is not used.
        """
        prompts = list(prompts)
        if not prompts:
            return []
        formats: list[ActionFormat] | None = None
        if isinstance(constraint, ActionFormat):
            formats = [constraint] * len(prompts)
        elif constraint is not None:
            formats = list(constraint)
            if len(formats) != len(prompts):
                raise ValueError("give one ActionFormat per prompt")
        prefix = common_prefix(prompts)
        self._ensure_prefix(prefix)
        out: list[str] = []
        for start in range(0, len(prompts), self.batch_size):
            end = start + self.batch_size
            chunk = [p[len(prefix) :] for p in prompts[start:end]]
            chunk_formats = formats[start:end] if formats is not None else None
            out += self._generate_chunk(chunk, list(stop), max_new_tokens, chunk_formats)
        return out

    # internals ----------------------------------------------------------------------------

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False) if text else []

    def _ensure_prefix(self, prefix: str) -> None:
        from funlm.models.decoding import PrefixCache

        if prefix == self._prefix_text:
            return
        self._prefix_text = prefix
        self._prefix = PrefixCache.build(self.model, self._encode(prefix))

    def _generate_chunk(
        self,
        suffixes: list[str],
        stop: list[str],
        max_new_tokens: int,
        formats: list[ActionFormat] | None,
    ) -> list[str]:
        from funlm.models.decoding import generate_tokens

        eos = self.tokenizer.eos_token_id
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else eos
        encoded = [self._encode(s) for s in suffixes]
        if any(not ids for ids in encoded):
            raise ValueError("every prompt needs text after the common prefix")

        states: list[_FormatState] = []
        if formats is not None:
            for fmt in formats:
                if fmt not in self._formats:
                    self._formats[fmt] = _Tokens(self.tokenizer, fmt)
                states.append(_FormatState(fmt, self._formats[fmt]))

        def choose(rows: Sequence[int], scores: torch.Tensor) -> list[int]:
            scores = scores.cpu()
            chosen = []
            for j, i in enumerate(rows):
                token = states[i].next_token(scores[j])
                states[i].advance(token)
                chosen.append(token)
            return chosen

        def finished(row: int, tokens: list[int]) -> bool:
            if states:
                return states[row].done
            return bool(stop) and _cut_at_stop(self.tokenizer.decode(tokens), stop)[1]

        budget = max_new_tokens if not formats else max(map(self._format_budget, formats))
        out = generate_tokens(
            self.model,
            encoded,
            prefix=self._prefix,
            max_new_tokens=budget,
            eos_token_id=eos,
            pad_token_id=pad,
            choose=choose if states else None,
            stop=finished,
        )
        self.tokens_generated += out.row_steps
        texts = [self.tokenizer.decode(ids, skip_special_tokens=True) for ids in out.tokens]
        if formats is None:
            texts = [_cut_at_stop(t, stop)[0] for t in texts]
        return texts

    @staticmethod
    def _format_budget(fmt: ActionFormat) -> int:
        # thought + newline + "Action:" + longest name + "\nAction Input:" + input (+ slack)
        return fmt.max_thought_tokens + fmt.max_input_tokens + 16
