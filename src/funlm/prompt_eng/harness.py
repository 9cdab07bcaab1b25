"""Evaluation harness: run a prompting strategy over a task set, batched and seeded, and score it.

- :func:`generate` — batched greedy or sampled generation with left padding. Prompts are sorted
  so that each batch shares a long prefix (its key/value cache is computed once, see
  :mod:`funlm.models.decoding`); outputs come back in the input order.
- :func:`score` — accuracy and format-error rate of extracted answers against gold answers.
- :func:`run_strategy` — one strategy (``zero_shot``, ``few_shot``, ``cot``, ``zero_shot_cot``,
  ``self_consistency``, ``constrained``) on one task, returning a :class:`StrategyResult`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

import funlm.prompt_eng.templates as T
from funlm.answer_keys import answer_key
from funlm.models.decoding import (
    PrefixCache,
    ProcessorFactory,
    common_prefix_length,
    generate_tokens,
    shared_prefix_length,
)
from funlm.prompt_eng.constrained import (
    DigitsLogitsProcessor,
    LabelLogitsProcessor,
    digit_token_ids,
    label_token_ids,
)
from funlm.prompt_eng.extraction import extract_label, extract_number
from funlm.prompt_eng.self_consistency import majority_vote
from funlm.prompt_eng.tasks import Item

Answer = Any  # a label (str), a number (int/float) or None for a format error

STRATEGIES: tuple[str, ...] = (
    "zero_shot",
    "few_shot",
    "cot",
    "zero_shot_cot",
    "self_consistency",
    "constrained",
)


def prefix_batches(rows: Sequence[Sequence[int]], batch_size: int) -> list[list[int]]:
    """Indices of ``rows`` grouped into batches whose members share a long common prefix.

    Rows are sorted (so rows with the same demonstrations are neighbours) and a new batch starts
    when the batch is full or when the next row shares less than half of the batch's common
    prefix (e.g. at the switch from English to Korean demonstrations).
    """
    order = sorted(range(len(rows)), key=lambda i: rows[i])
    batches: list[list[int]] = []
    shared = 0
    for i in order:
        if batches and len(batches[-1]) < batch_size:
            lcp = common_prefix_length([rows[batches[-1][-1]], rows[i]])
            if len(batches[-1]) == 1 or lcp >= shared / 2:
                shared = lcp if len(batches[-1]) == 1 else min(shared, lcp)
                batches[-1].append(i)
                continue
        batches.append([i])
        shared = 0
    return batches


def _generate_rows(
    model: Any,
    tokenizer: Any,
    rows: Sequence[Sequence[int]],
    *,
    n: int,
    max_new_tokens: int,
    do_sample: bool,
    temperature: float,
    processor: ProcessorFactory | None,
) -> list[list[str]]:
    """Generate ``n`` continuations for each token row, reading every prompt token only once.

    The prefix shared by all rows (e.g. the system message and the few-shot demonstrations)
    is run once and its key/value cache copied to every row; the rows' own suffixes run once
    per row; the ``n`` copies of a row then decode on their own
    (:func:`funlm.models.decoding.generate_tokens`, which gives the tokens of ordinary
    left-padded generation, up to floating-point rounding).
    """
    shared = shared_prefix_length(rows)
    prefix = PrefixCache.build(model, rows[0][:shared]) if shared else None
    out = generate_tokens(
        model,
        [list(r[shared:]) for r in rows],
        prefix=prefix,
        n=n,
        max_new_tokens=max_new_tokens,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=do_sample,
        temperature=temperature,
        processor=processor,
    )
    texts = tokenizer.batch_decode(out.tokens, skip_special_tokens=True)
    return [[t.strip() for t in texts[j * n : (j + 1) * n]] for j in range(len(rows))]


def generate_samples(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    n: int = 1,
    max_new_tokens: int,
    batch_size: int = 16,
    do_sample: bool = False,
    temperature: float = 1.0,
    seed: int = 0,
    processor: ProcessorFactory | None = None,
) -> list[list[str]]:
    """``n`` continuations of each prompt (new text only, special tokens removed, stripped).

    ``prompts`` are complete texts (already chat-rendered), encoded without adding special
    tokens. Prompts are sorted so that those sharing a prefix (same demonstrations) share a
    batch; about ``batch_size`` sequences decode together (``batch_size // n`` prompts).
    Sampling is plain temperature sampling (no top-k/top-p), seeded per batch: the same call
    gives the same samples. ``processor`` builds a logits processor from the prompt length (for
    constrained decoding).
    """
    if not prompts:
        return []
    rows = [tokenizer.encode(p, add_special_tokens=False) for p in prompts]
    per_batch = max(1, batch_size // n)
    results: list[list[str]] = [[] for _ in prompts]
    for b, idx in enumerate(prefix_batches(rows, per_batch)):
        if do_sample:
            torch.manual_seed(seed + b)
        outs = _generate_rows(
            model,
            tokenizer,
            [rows[i] for i in idx],
            n=n,
            max_new_tokens=max_new_tokens,
            do_sample=do_sample,
            temperature=temperature,
            processor=processor,
        )
        for i, o in zip(idx, outs, strict=True):
            results[i] = o
    return results


def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    max_new_tokens: int,
    batch_size: int = 16,
    do_sample: bool = False,
    temperature: float = 1.0,
    seed: int = 0,
    processor: ProcessorFactory | None = None,
) -> list[str]:
    """One continuation per prompt (greedy unless ``do_sample``); see :func:`generate_samples`."""
    outs = generate_samples(
        model,
        tokenizer,
        prompts,
        n=1,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        do_sample=do_sample,
        temperature=temperature,
        seed=seed,
        processor=processor,
    )
    return [o[0] for o in outs]


def is_correct(prediction: Answer, gold: str) -> bool:
    """Labels compare as strings; numbers compare numerically (``17 == "17"``)."""
    if prediction is None:
        return False
    if isinstance(prediction, (int, float)) and not isinstance(prediction, bool):
        try:
            return float(prediction) == float(gold)
        except ValueError:
            return False
    return str(prediction) == gold


@answer_key
def score(predictions: Sequence[Answer], golds: Sequence[str]) -> tuple[float, float]:
    """``(accuracy, format_error_rate)``; a ``None`` prediction is a format error and wrong."""
    if len(predictions) != len(golds):
        raise ValueError(f"{len(predictions)} predictions for {len(golds)} gold answers")
    if not golds:
        return 0.0, 0.0
    correct = sum(is_correct(p, g) for p, g in zip(predictions, golds, strict=True))
    errors = sum(p is None for p in predictions)
    return correct / len(golds), errors / len(golds)


@dataclass
class StrategyResult:
    """One strategy on one task: scores plus every output, for inspection."""

    task: str
    strategy: str
    accuracy: float
    format_error_rate: float
    n: int
    seconds: float
    predictions: list[Answer] = field(repr=False)
    outputs: list[str] = field(repr=False)
    golds: list[str] = field(repr=False)
    groups: list[str] = field(repr=False)

    @classmethod
    def scored(
        cls,
        task: str,
        strategy: str,
        items: Sequence[Item],
        outputs: list[str],
        predictions: list[Answer],
        seconds: float,
    ) -> StrategyResult:
        """Score ``predictions`` against the items' answers and keep everything for inspection."""
        golds = [it.answer for it in items]
        accuracy, format_errors = score(predictions, golds)
        return cls(
            task=task,
            strategy=strategy,
            accuracy=accuracy,
            format_error_rate=format_errors,
            n=len(items),
            seconds=seconds,
            predictions=predictions,
            outputs=outputs,
            golds=golds,
            groups=[group_of(it) for it in items],
        )

    @property
    def correct(self) -> list[float]:
        """1.0 for every item answered right, 0.0 otherwise (in item order): the per-item
        scores that paired bootstrap intervals resample (:mod:`funlm.stats`)."""
        return [float(is_correct(p, y)) for p, y in zip(self.predictions, self.golds, strict=True)]

    def accuracy_by_group(self) -> dict[str, float]:
        """Accuracy per group (language for sentiment, number of steps for arithmetic)."""
        out: dict[str, float] = {}
        for g in sorted(set(self.groups)):
            pairs = [
                (p, y)
                for p, y, gg in zip(self.predictions, self.golds, self.groups, strict=True)
                if gg == g
            ]
            out[g] = sum(is_correct(p, y) for p, y in pairs) / len(pairs)
        return out


@dataclass
class StrategySettings:
    """Sizes and decoding settings of a strategy run (the chapter's come from its profile,
    :func:`funlm.prompt_eng.experiment.strategy_settings`)."""

    batch_size: int = 16
    direct_tokens: int = 8
    cot_tokens: int = 48
    zero_shot_cot_tokens: int = 64
    n_samples: int = 5
    temperature: float = 0.7
    seed: int = 0


def extractor(task: T.TaskSpec) -> Callable[[str], Answer]:
    """The answer extractor of a task: labels (with aliases) or numbers."""
    if task.labels:
        labels = task.labels
        return lambda text: extract_label(text, labels, task.aliases)
    return extract_number


def group_of(item: Item) -> str:
    return f"{item.steps}-step" if item.steps else item.lang


def build_prompts(
    tokenizer: Any,
    task: T.TaskSpec,
    strategy: str,
    items: Sequence[Item],
    demos: Sequence[Item],
) -> list[str]:
    """Rendered prompts of ``strategy`` for ``items``; demonstrations of the item's language."""
    shown = {lab: lab for lab in task.labels or ()}
    shown.update({gold: word for word, gold in task.aliases.items()})

    def answer_word(item: Item) -> str:
        return shown.get(item.answer, item.answer)

    prompts = []
    for item in items:
        same_lang = [d for d in demos if d.lang == item.lang] or list(demos)
        if strategy in ("zero_shot", "constrained"):
            msgs = T.zero_shot_messages(task.instruction, item.text, task.fmt)
            prompts.append(T.render(tokenizer, msgs))
        elif strategy == "few_shot":
            pairs = [(d.text, answer_word(d)) for d in same_lang]
            msgs = T.few_shot_messages(task.instruction, pairs, item.text, task.fmt)
            prompts.append(T.render(tokenizer, msgs))
        elif strategy in ("cot", "self_consistency"):
            triples = [(d.text, d.rationale, answer_word(d)) for d in same_lang]
            msgs = T.cot_messages(task.instruction, triples, item.text, task.shown_labels)
            prompts.append(T.render(tokenizer, msgs))
        elif strategy == "zero_shot_cot":
            fmt = T.COT_INSTRUCTION
            if task.shown_labels:
                fmt += f" The answer is one of: {', '.join(task.shown_labels)}."
            msgs = T.zero_shot_messages(task.instruction, item.text, fmt)
            prompts.append(T.render(tokenizer, msgs, assistant_prefix=T.LETS_THINK))
        else:
            raise ValueError(f"unknown strategy {strategy!r}; choose from {STRATEGIES}")
    return prompts


def run_strategy(
    model: Any,
    tokenizer: Any,
    task: T.TaskSpec,
    strategy: str,
    items: Sequence[Item],
    demos: Sequence[Item],
    settings: StrategySettings | None = None,
) -> StrategyResult:
    """Run one prompting strategy on ``items`` and score it.

    ``self_consistency`` samples ``n_samples`` reasoning paths per prompt (temperature
    sampling; each prompt is read once and its key/value cache copied, see
    :func:`generate_samples`) and keeps the majority answer
    (:func:`funlm.prompt_eng.self_consistency.majority_vote`).
    """
    s = settings or StrategySettings()
    start = time.perf_counter()
    prompts = build_prompts(tokenizer, task, strategy, items, demos)
    extract = extractor(task)
    common = {"batch_size": s.batch_size, "seed": s.seed}
    if strategy in ("zero_shot", "few_shot"):
        outputs = generate(model, tokenizer, prompts, max_new_tokens=s.direct_tokens, **common)
        predictions = [extract(o) for o in outputs]
    elif strategy == "cot":
        outputs = generate(model, tokenizer, prompts, max_new_tokens=s.cot_tokens, **common)
        predictions = [extract(o) for o in outputs]
    elif strategy == "zero_shot_cot":
        outputs = generate(
            model, tokenizer, prompts, max_new_tokens=s.zero_shot_cot_tokens, **common
        )
        predictions = [extract(o) for o in outputs]
    elif strategy == "self_consistency":
        samples = generate_samples(
            model,
            tokenizer,
            prompts,
            n=s.n_samples,
            max_new_tokens=s.cot_tokens,
            batch_size=s.batch_size,
            do_sample=True,
            temperature=s.temperature,
            seed=s.seed,
        )
        predictions = [majority_vote([extract(o) for o in outs]) for outs in samples]
        outputs = [" ||| ".join(outs) for outs in samples]
    elif strategy == "constrained":
        eos = tokenizer.eos_token_id
        if task.labels:
            words = list(task.shown_labels or ())
            ids = label_token_ids(tokenizer, words)

            def factory(n: int) -> LabelLogitsProcessor:
                return LabelLogitsProcessor(ids, n, eos)

            max_new = max(len(i) for i in ids) + 1
        else:
            digits = digit_token_ids(tokenizer)

            def factory(n: int) -> DigitsLogitsProcessor:
                return DigitsLogitsProcessor(digits, n, eos, max_digits=4)

            max_new = 5
        outputs = generate(
            model, tokenizer, prompts, max_new_tokens=max_new, processor=factory, **common
        )
        predictions = [extract(o) for o in outputs]
    else:
        raise ValueError(f"unknown strategy {strategy!r}; choose from {STRATEGIES}")
    seconds = time.perf_counter() - start
    return StrategyResult.scored(task.name, strategy, items, outputs, predictions, seconds)
