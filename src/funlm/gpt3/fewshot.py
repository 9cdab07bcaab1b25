"""Zero-, one- and few-shot classification with a causal LM: score label words, batch the work.

The model is never fine-tuned. For each test item we build a k-shot prompt
(:func:`funlm.gpt3.prompting.build_prompt`), compute the log-probability of every candidate label as
the continuation of the prompt (:func:`score_continuations`) and predict the most likely label.
This is how GPT-3 (Brown et al. 2020) evaluated its multiple-choice tasks, and it needs one
forward pass per prompt when every label is a single token. A prefix shared by all prompts
(instruction + one fixed set of demonstrations) is computed once and its key/value cache reused.

Reused by chapter 3 (in-context learning) and chapter 5 (prompt engineering).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from funlm.answer_keys import answer_key
from funlm.data import read_jsonl
from funlm.gpt3.prompting import Example, PromptFormat, build_prompt, format_query, prompt_prefix

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from matplotlib.figure import Figure
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

SENTIMENT_FILE = "ch01_sentiment.jsonl"


@dataclass(frozen=True)
class ClassificationTask:
    """A prompt-specified classification task: instruction, format, labels and examples."""

    name: str
    instruction: str
    labels: tuple[str, ...]
    fmt: PromptFormat
    test: tuple[Example, ...]
    demos: tuple[Example, ...] = field(default=())  # the pool demonstrations are drawn from


def load_sentiment_task() -> ClassificationTask:
    """The shipped review-sentiment task: 60 test items and a pool of 20 demonstrations."""
    rows = read_jsonl(SENTIMENT_FILE)

    def pick(split: str) -> tuple[Example, ...]:
        return tuple(Example(r["text"], r["label"]) for r in rows if r["split"] == split)

    return ClassificationTask(
        name="sentiment",
        instruction="Classify the sentiment of each review as positive or negative.",
        labels=("positive", "negative"),
        fmt=PromptFormat(input_prefix="Review: ", output_prefix="Sentiment:"),
        test=pick("test"),
        demos=pick("demo"),
    )


def _encode(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else []


@answer_key
def score_continuations(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    continuations: Sequence[str],
    *,
    prefix: str = "",
    batch_size: int = 16,
) -> torch.Tensor:
    """``scores[i, j]`` = log P(continuations[j] | prefix + prompts[i]), summed over its tokens.

    Prefix, prompt and continuation are tokenized separately and concatenated, so the tokens of
    a continuation are the same after every prompt. A non-empty ``prefix`` shared by all prompts
    (an instruction and fixed demonstrations, say) is run once and its keys and values are
    reused for every batch; end it on a word, not on whitespace, so that the pieces tokenize
    as the whole text would (see :func:`funlm.gpt3.prompting.prompt_prefix`). Rows are left-padded
    with position ids that skip the padding, sorted by length to waste little work, and run
    ``batch_size`` at a time without gradients. When every continuation is one token, one
    forward pass per prompt scores all of them at once.
    """
    import torch

    from funlm.models.decoding import PrefixCache, forward_rows

    prefix_ids = _encode(tokenizer, prefix)
    prompt_ids = [_encode(tokenizer, p) for p in prompts]
    cont_ids = [_encode(tokenizer, c) for c in continuations]
    if any(len(c) == 0 for c in cont_ids):
        raise ValueError("every continuation must have at least one token")
    if any(len(p) == 0 for p in prompt_ids):
        raise ValueError("every prompt must have at least one token")
    single = all(len(c) == 1 for c in cont_ids)
    # one row per (prompt, continuation) pair, or one per prompt when all are single tokens
    if single:
        rows = [(i, -1, ids) for i, ids in enumerate(prompt_ids)]
    else:
        rows = [(i, j, p + c) for i, p in enumerate(prompt_ids) for j, c in enumerate(cont_ids)]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    scores = torch.zeros(len(prompts), len(continuations))
    order = sorted(range(len(rows)), key=lambda r: len(rows[r][2]))
    prefix_kv = PrefixCache.build(model, prefix_ids) if prefix_ids else None
    for start in range(0, len(order), batch_size):
        chunk = [rows[r] for r in order[start : start + batch_size]]
        # only the last positions predict continuation tokens
        keep = 1 if single else max(len(cont_ids[j]) for _, j, _ in chunk) + 1
        logits, _ = forward_rows(
            model, [ids for _, _, ids in chunk], pad_token_id=pad, prefix=prefix_kv,
            logits_to_keep=keep,
        )  # fmt: skip
        logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()  # (B, keep, V)
        for b, (i, j, _) in enumerate(chunk):
            if single:
                scores[i] = logprobs[b, -1, [c[0] for c in cont_ids]]
            else:
                n_cont = len(cont_ids[j])
                # the logits at position t predict token t + 1
                steps = torch.arange(keep - n_cont - 1, keep - 1)
                scores[i, j] = logprobs[b, steps, torch.tensor(cont_ids[j])].sum()
    return scores


def classify(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    labels: Sequence[str],
    *,
    prefix: str = "",
    batch_size: int = 16,
) -> list[str]:
    """The most likely label (scored as ``" " + label``) after ``prefix + prompt``."""
    continuations = [" " + label for label in labels]
    scores = score_continuations(
        model, tokenizer, prompts, continuations, prefix=prefix, batch_size=batch_size
    )
    return [labels[int(j)] for j in scores.argmax(dim=1)]


def draw_demos(pool: Sequence[Example], k: int, rng: np.random.Generator) -> list[Example]:
    """``k`` distinct demonstrations drawn uniformly from ``pool`` (in random order)."""
    if k > len(pool):
        raise ValueError(f"k={k} is larger than the demonstration pool ({len(pool)})")
    return [pool[int(i)] for i in rng.permutation(len(pool))[:k]]


def kshot_prompts(
    task: ClassificationTask, k: int, *, seed: int = 0, items: Sequence[Example] | None = None
) -> list[str]:
    """One k-shot prompt per item, with demonstrations drawn afresh for every item (as GPT-3)."""
    items = task.test if items is None else items
    rng = np.random.default_rng([seed, k])
    return [
        build_prompt(task.instruction, draw_demos(task.demos, k, rng), item.input, task.fmt)
        for item in items
    ]


def shared_demo_prompts(
    task: ClassificationTask, k: int, *, seed: int = 0, items: Sequence[Example] | None = None
) -> tuple[str, list[str]]:
    """``(prefix, queries)``: one demonstration set (drawn with ``seed``) shared by every item.

    The sets are nested: for one seed, the k = 1 demonstration opens the k = 4 set, and so on.

    ``prefix + queries[i]`` equals ``build_prompt(task.instruction, demos, items[i].input)``;
    the shared prefix lets :func:`score_continuations` reuse its keys and values.
    """
    items = task.test if items is None else items
    demos = draw_demos(task.demos, k, np.random.default_rng(seed))  # nested: k=1 ⊂ k=4 ⊂ k=8
    prefix = prompt_prefix(task.instruction, demos, task.fmt)
    glue = task.fmt.separator if prefix else ""  # the prefix ends on a word (see prompt_prefix)
    return prefix, [glue + format_query(item.input, task.fmt) for item in items]


def kshot_predictions(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    task: ClassificationTask,
    k: int,
    *,
    seed: int = 0,
    items: Sequence[Example] | None = None,
    shared_demos: bool = True,
    batch_size: int = 16,
) -> list[str]:
    """The predicted label of every item (default: all of ``task.test``) with k-shot prompts.

    ``shared_demos=True`` uses one demonstration set per ``seed`` for all items (fast: the
    prefix is computed once); ``False`` draws new demonstrations for every item.
    """
    if shared_demos:
        prefix, prompts = shared_demo_prompts(task, k, seed=seed, items=items)
    else:
        prefix, prompts = "", kshot_prompts(task, k, seed=seed, items=items)
    return classify(model, tokenizer, prompts, task.labels, prefix=prefix, batch_size=batch_size)


def accuracy(predictions: Sequence[str], items: Sequence[Example]) -> float:
    """Fraction of ``predictions`` equal to the items' ``output``."""
    gold = [item.output for item in items]
    return float(np.mean([p == g for p, g in zip(predictions, gold, strict=True)]))


def kshot_accuracy(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    task: ClassificationTask,
    ks: Sequence[int] = (0, 1, 4, 8),
    *,
    n_items: int | None = None,
    seeds: Sequence[int] = (0,),
    shared_demos: bool = True,
    batch_size: int = 16,
) -> dict[int, float]:
    """Accuracy for each number of shots k, averaged over demonstration draws ``seeds``.

    ``n_items`` limits the evaluation to the first items of ``task.test``.
    """
    items = task.test if n_items is None else task.test[:n_items]
    result: dict[int, float] = {}
    for k in ks:
        draws = seeds if k > 0 else seeds[:1]  # a zero-shot prompt has nothing to draw
        runs = [
            kshot_predictions(
                model, tokenizer, task, k, seed=s, items=items, shared_demos=shared_demos,
                batch_size=batch_size,
            )
            for s in draws
        ]  # fmt: skip
        result[k] = float(np.mean([accuracy(r, items) for r in runs]))
    return result


def plot_kshot(
    acc_per_draw: Mapping[int | str, Sequence[float]],
    positive_per_draw: Mapping[int | str, Sequence[float]],
    *,
    intervals: Mapping[str, Mapping[str, float]] | None = None,
    label: str = "",
) -> Figure:
    """Accuracy and share of "positive" answers against the number of shots k.

    ``acc_per_draw[k]`` / ``positive_per_draw[k]``: one value per demonstration draw (grey
    dots; the line is their mean). ``intervals`` (the ``"intervals"`` of a ch01 record) adds
    the 95 % interval of the accuracy at each k as error bars (``fewshot_acc_k{k}``).
    ``label`` names the run in the titles, e.g. ``"cpu profile, recorded"``.
    """
    import matplotlib.pyplot as plt

    shots = sorted(int(k) for k in acc_per_draw)
    acc = {k: list(acc_per_draw[_key(acc_per_draw, k)]) for k in shots}
    pos = {k: list(positive_per_draw[_key(positive_per_draw, k)]) for k in shots}
    suffix = f" ({label})" if label else ""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    for k in shots:
        ax1.plot([k] * len(acc[k]), acc[k], "o", color="lightgray")
        ax2.plot([k] * len(pos[k]), pos[k], "o", color="lightgray")
    means = [float(np.mean(acc[k])) for k in shots]
    ax1.plot(shots, means, "o-", color="tab:blue", label="mean over demo sets")
    if intervals:
        found = [k for k in shots if f"fewshot_acc_k{k}" in intervals]
        lo = [intervals[f"fewshot_acc_k{k}"]["lo"] for k in found]
        hi = [intervals[f"fewshot_acc_k{k}"]["hi"] for k in found]
        mid = [float(np.mean(acc[k])) for k in found]
        ax1.errorbar(found, mid, yerr=[np.subtract(mid, lo), np.subtract(hi, mid)], fmt="none",
                     ecolor="tab:blue", capsize=4, label="95% interval (items)")  # fmt: skip
    ax1.set_xlabel("number of demonstrations k")
    ax1.set_ylabel("accuracy")
    ax1.set_ylim(0, 1.02)
    ax1.axhline(0.5, color="gray", ls=":", lw=1)
    ax1.set_title("SmolLM2-135M accuracy" + suffix, fontsize=10)
    ax1.legend(fontsize=8)
    ax2.plot(shots, [float(np.mean(pos[k])) for k in shots], "o-", color="tab:orange")
    ax2.axhline(0.5, color="gray", ls=":", lw=1)
    ax2.set_xlabel("number of demonstrations k")
    ax2.set_ylabel("share of 'positive' answers")
    ax2.set_ylim(0, 1.02)
    ax2.set_title("Label bias (truth: 0.5)" + suffix, fontsize=10)
    fig.tight_layout()
    return fig


def _key(mapping: Mapping[int | str, Any], k: int) -> int | str:
    """``k`` as the mapping spells it (JSON records use string keys)."""
    return k if k in mapping else str(k)
