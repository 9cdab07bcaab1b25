"""Chapter 5's headline experiment: prompting strategies on a small model, then a specialised one.

:func:`run_experiment` (``python -m funlm.repro ch05`` records it) runs SmolLM2-135M-Instruct
on the two shipped task sets (bilingual sentiment, 1–2-step arithmetic word problems) and reports

- ``strategy_acc`` / ``format_error_rate``: per task and strategy (zero-shot, few-shot,
  chain-of-thought, zero-shot CoT, self-consistency, constrained decoding);
- ``acc_by_group``: per language (sentiment) and per number of steps (arithmetic);
- ``korean``: the Korean half of the sentiment set with English and with Korean prompts;
- ``cot_delta``: CoT minus direct (few-shot) accuracy on arithmetic, whatever its sign, with
  the other comparisons in ``cot_delta_detail``;
- ``specialised_vs_prompted``: SmolLM2 specialised with LoRA on generated arithmetic problems
  (short worked solutions as targets) vs the best prompting strategy, on the held-out test
  problems (never used for training or as demonstrations);
- ``examples``: a few raw outputs per strategy, good and failing, for the book;
- ``intervals``: 95 % paired bootstrap intervals of the comparisons above, each over the same
  items scored both ways (:func:`funlm.stats.paired_bootstrap_diff`): ``cot_delta`` and the
  other CoT deltas, the specialised model minus the best prompt, and the Korean prompt minus
  the English prompt on the Korean items.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import funlm.prompt_eng.templates as T
from funlm.experiment import ExperimentSettings
from funlm.profile import Profile, seed_everything
from funlm.prompt_eng.harness import (
    STRATEGIES,
    StrategyResult,
    StrategySettings,
    extractor,
    generate,
    is_correct,
    run_strategy,
)
from funlm.prompt_eng.specialise import add_lora, finetune, sft_example
from funlm.prompt_eng.tasks import (
    Item,
    arith_train_items,
    load_arith,
    load_sentiment,
    stratified_subset,
)
from funlm.stats import paired_bootstrap_diff

SEED = 0
KOREAN_PROMPT_STRATEGIES = ("zero_shot", "few_shot", "constrained")


@dataclass(frozen=True)
class Settings(ExperimentSettings):
    """Every size of the chapter's experiments for one profile (the book uses the same table)."""

    n_sentiment: int | None  # test items (None: all 64)
    n_arith: int | None  # test items (None: all 60)
    batch_size: int
    direct_tokens: int
    cot_tokens: dict[str, int]  # per task
    zero_shot_cot_tokens: int
    n_samples: int  # self-consistency
    temperature: float
    n_train: int  # generated arithmetic problems for the specialised model
    lora_rank: int
    lora_top_layers: int
    epochs: int
    specialised_tokens: dict[str, int]  # per task
    lr: float
    train_batch_size: int


def settings(profile: Profile) -> Settings:
    """Chapter 5's sizes for ``profile``."""
    P = profile
    return Settings(
        profile=P.name,
        device=P.device,
        n_sentiment=P.pick(cpu=None, gpu=None, grade=4),
        n_arith=P.pick(cpu=None, gpu=None, grade=2),
        batch_size=P.pick(cpu=32, gpu=64, grade=8),
        direct_tokens=P.pick(cpu=8, gpu=8, grade=6),
        cot_tokens={
            "sentiment": P.pick(cpu=32, gpu=48, grade=12),
            "arithmetic": P.pick(cpu=40, gpu=64, grade=12),
        },
        zero_shot_cot_tokens=P.pick(cpu=48, gpu=96, grade=12),
        n_samples=P.pick(cpu=3, gpu=10, grade=2),
        temperature=0.7,
        n_train=P.pick(cpu=320, gpu=2000, grade=8),
        lora_rank=8,
        lora_top_layers=P.pick(cpu=8, gpu=30, grade=1),
        epochs=P.pick(cpu=1, gpu=2, grade=1),
        specialised_tokens={"arithmetic": P.pick(cpu=32, gpu=32, grade=12), "sentiment": 4},
        lr=2e-3,
        train_batch_size=16,
    )


def strategy_settings(S: Settings, task: str) -> StrategySettings:
    """How :func:`funlm.prompt_eng.harness.run_strategy` runs ``task`` at these sizes."""
    return StrategySettings(
        batch_size=S.batch_size,
        direct_tokens=S.direct_tokens,
        cot_tokens=S.cot_tokens[task],
        zero_shot_cot_tokens=S.zero_shot_cot_tokens,
        n_samples=S.n_samples,
        temperature=S.temperature,
        seed=SEED,
    )


def _examples(result: StrategyResult, k: int = 2) -> dict[str, list[dict[str, str]]]:
    """Up to ``k`` correct and ``k`` failing outputs (a failure: wrong or unreadable)."""
    good, bad = [], []
    for out, pred, gold in zip(result.outputs, result.predictions, result.golds, strict=True):
        row = {"output": out[:300], "extracted": str(pred), "gold": gold}
        (good if is_correct(pred, gold) else bad).append(row)
    return {"good": good[:k], "bad": bad[:k]}


def _round(x: float) -> float:
    return round(float(x), 4)


@dataclass
class Sweep:
    """Every (task, strategy) result of a sweep, with the items it ran on."""

    tasks: dict[str, tuple[T.TaskSpec, list[Item], list[Item]]]
    results: dict[tuple[str, str], StrategyResult] = field(default_factory=dict)

    def table(self, key: str = "accuracy") -> dict[str, dict[str, float]]:
        """``{task: {strategy: value}}`` for ``accuracy`` or ``format_error_rate``."""
        out: dict[str, dict[str, float]] = {}
        for (task, strategy), r in self.results.items():
            out.setdefault(task, {})[strategy] = _round(getattr(r, key))
        return out

    def groups(self) -> dict[str, dict[str, dict[str, float]]]:
        out: dict[str, dict[str, dict[str, float]]] = {}
        for (task, strategy), r in self.results.items():
            by_group = {g: _round(v) for g, v in r.accuracy_by_group().items()}
            out.setdefault(task, {})[strategy] = by_group
        return out


def chapter_tasks(S: Settings) -> dict[str, tuple[T.TaskSpec, list[Item], list[Item]]]:
    """The two tasks with their (profile-sized) test items and their demonstrations."""
    return {
        "sentiment": (
            T.SENTIMENT,
            stratified_subset(load_sentiment("test"), S.n_sentiment),
            load_sentiment("demo"),
        ),
        "arithmetic": (
            T.ARITH,
            stratified_subset(load_arith("test"), S.n_arith),
            load_arith("demo"),
        ),
    }


def run_sweep(
    model: Any,
    tokenizer: Any,
    S: Settings,
    strategies: Sequence[str] = STRATEGIES,
    task_names: Sequence[str] | None = None,
) -> Sweep:
    """Every strategy on every task (or on the tasks named in ``task_names``)."""
    tasks = chapter_tasks(S)
    sweep = Sweep({k: v for k, v in tasks.items() if task_names is None or k in task_names})
    for name, (spec, items, demos) in sweep.tasks.items():
        for strategy in strategies:
            sweep.results[(name, strategy)] = run_strategy(
                model, tokenizer, spec, strategy, items, demos, strategy_settings(S, name)
            )
    return sweep


def korean_check(model: Any, tokenizer: Any, S: Settings, sweep: Sweep) -> dict[str, Any]:
    """The Korean sentiment items with the English prompt (from the sweep) and a Korean one."""
    _, items, demos = sweep.tasks["sentiment"]
    ko_items = [it for it in items if it.lang == "ko"]
    en_items = [it for it in items if it.lang == "en"]
    strategies = sorted(
        {st for task, st in sweep.results if task == "sentiment"}, key=STRATEGIES.index
    )
    groups = sweep.groups()["sentiment"]
    out: dict[str, Any] = {
        "n_items": len(ko_items),
        "english_prompt_acc": {st: groups[st].get("ko") for st in strategies},
        "english_items_acc": {st: groups[st].get("en") for st in strategies},
        "korean_prompt_acc": {},
        "korean_prompt_format_error_rate": {},
        "examples": {},
    }
    intervals: dict[str, Any] = {}
    for strategy in KOREAN_PROMPT_STRATEGIES:
        r = run_strategy(
            model,
            tokenizer,
            T.SENTIMENT_KO,
            strategy,
            ko_items,
            demos,
            strategy_settings(S, "sentiment"),
        )
        out["korean_prompt_acc"][strategy] = _round(r.accuracy)
        out["korean_prompt_format_error_rate"][strategy] = _round(r.format_error_rate)
        out["examples"][strategy] = _examples(r)
        english = sweep.results.get(("sentiment", strategy))
        if english is not None:  # the same Korean items under the English prompt
            on_ko = [c for c, g in zip(english.correct, english.groups, strict=True) if g == "ko"]
            intervals[f"korean_minus_english_prompt_{strategy}"] = paired_bootstrap_diff(
                on_ko, r.correct
            ).as_record()
    out["intervals"] = intervals

    def per_char(group: list[Item]) -> float:
        tokens = sum(len(tokenizer.encode(it.text, add_special_tokens=False)) for it in group)
        return _round(tokens / max(1, sum(len(it.text) for it in group)))

    out["tokens_per_char"] = {"en": per_char(en_items), "ko": per_char(ko_items)}
    en = out["tokens_per_char"]["en"]
    out["tokens_per_char_ratio"] = round(out["tokens_per_char"]["ko"] / en, 2) if en else None
    return out


def cot_summary(acc: dict[str, dict[str, float]], groups: dict[str, Any]) -> tuple[float, dict]:
    """``cot_delta`` (CoT minus few-shot direct answers on arithmetic) and related deltas."""
    arith, by_steps = acc["arithmetic"], groups["arithmetic"]
    delta = _round(arith["cot"] - arith["few_shot"])
    return delta, {
        "cot_minus_few_shot": delta,
        "cot_minus_zero_shot": _round(arith["cot"] - arith["zero_shot"]),
        "zero_shot_cot_minus_zero_shot": _round(arith["zero_shot_cot"] - arith["zero_shot"]),
        "self_consistency_minus_cot": _round(arith["self_consistency"] - arith["cot"]),
        "cot_minus_few_shot_by_steps": {
            g: _round(by_steps["cot"][g] - by_steps["few_shot"][g]) for g in by_steps["cot"]
        },
        "sentiment_cot_minus_few_shot": _round(
            acc["sentiment"]["cot"] - acc["sentiment"]["few_shot"]
        ),
    }


# (name, task, baseline strategy, compared strategy): compared minus baseline, paired by item
PAIRED_COMPARISONS = (
    ("cot_delta", "arithmetic", "few_shot", "cot"),
    ("cot_minus_zero_shot", "arithmetic", "zero_shot", "cot"),
    ("zero_shot_cot_minus_zero_shot", "arithmetic", "zero_shot", "zero_shot_cot"),
    ("self_consistency_minus_cot", "arithmetic", "cot", "self_consistency"),
    ("sentiment_cot_minus_few_shot", "sentiment", "few_shot", "cot"),
)


def paired_intervals(sweep: Sweep) -> dict[str, dict[str, Any]]:
    """95 % paired bootstrap intervals of :data:`PAIRED_COMPARISONS` present in ``sweep``.

    Both strategies answered the same items, so each item contributes one difference
    (1, 0 or -1) and the items are resampled together.
    """
    out = {}
    for name, task, base, other in PAIRED_COMPARISONS:
        a, b = sweep.results.get((task, base)), sweep.results.get((task, other))
        if a is not None and b is not None:
            out[name] = paired_bootstrap_diff(a.correct, b.correct).as_record()
    return out


def run_experiment(settings: Settings) -> dict[str, Any]:
    """Every strategy on both tasks, the Korean check, then the specialised model."""
    from funlm.models.small_lm import load_small_lm

    S = settings
    seed_everything(SEED)
    model, tokenizer = load_small_lm(S.device)
    sweep = run_sweep(model, tokenizer, S)
    acc, groups = sweep.table("accuracy"), sweep.groups()
    korean = korean_check(model, tokenizer, S, sweep)
    cot_delta, cot_detail = cot_summary(acc, groups)
    specialised = specialise(model, tokenizer, S, sweep, "arithmetic")
    intervals = {
        **paired_intervals(sweep),
        "specialised_minus_best_prompt": specialised["specialised_minus_best_prompt"],
        **korean.pop("intervals"),
    }
    return {
        "model": "SmolLM2-135M-Instruct",
        "n_items": {name: len(items) for name, (_, items, _) in sweep.tasks.items()},
        "strategy_acc": acc,
        "format_error_rate": sweep.table("format_error_rate"),
        "acc_by_group": groups,
        "korean": korean,
        "cot_delta": cot_delta,
        "cot_delta_detail": cot_detail,
        "specialised_vs_prompted": specialised,
        "examples": {
            task: {st: _examples(r) for (t, st), r in sweep.results.items() if t == task}
            for task in sweep.tasks
        },
        "timings": {
            task: {st: round(r.seconds, 1) for (t, st), r in sweep.results.items() if t == task}
            for task in sweep.tasks
        },
        "sizes": S.sizes(),
        "intervals": intervals,
    }


SPECIALISED_SYSTEM = {"arithmetic": "Solve the math word problem.", "sentiment": None}


def specialised_messages(task: str, text: str) -> list[T.Message]:
    """The specialised model's prompt: a short system message (no demonstrations).

    Arithmetic: just the instruction (the answer format is what fine-tuning teaches);
    sentiment: the same zero-shot prompt the prompted model gets.
    """
    if task == "arithmetic":
        return [
            {"role": "system", "content": SPECIALISED_SYSTEM["arithmetic"]},
            {"role": "user", "content": text},
        ]
    return T.zero_shot_messages(T.SENTIMENT.instruction, text, T.SENTIMENT.fmt)


def training_data(task: str, S: Settings) -> tuple[list[Item], list[str]]:
    """Training items and their targets. Arithmetic targets are short worked solutions
    (``"3 * 5 = 15. 15 + 6 = 21. Answer: 21"``), generated fresh and never a test question;
    sentiment targets are the labels of the shipped train split."""
    if task == "arithmetic":
        items = arith_train_items(S.n_train, seed=SEED)
        return items, [T.cot_answer(it.rationale, it.answer) for it in items]
    items = stratified_subset(load_sentiment("train"), S.n_train)
    return items, [it.answer for it in items]


def specialise(
    model: Any, tokenizer: Any, S: Settings, sweep: Sweep, task: str = "arithmetic"
) -> dict[str, Any]:
    """LoRA-specialise the model for ``task`` and compare it with the sweep's best prompt on the
    same held-out test items. The model is changed in place (adapters added and trained)."""
    spec, items, _ = sweep.tasks[task]
    train_items, targets = training_data(task, S)
    if {it.text for it in items} & {it.text for it in train_items}:
        raise RuntimeError("train and test items overlap")
    seed_everything(SEED)
    adapters = add_lora(model, r=S.lora_rank, top_layers=S.lora_top_layers)
    examples = [
        sft_example(tokenizer, specialised_messages(task, it.text), target)
        for it, target in zip(train_items, targets, strict=True)
    ]
    start = time.perf_counter()
    ft = finetune(
        model,
        tokenizer,
        examples,
        epochs=S.epochs,
        lr=S.lr,
        batch_size=S.train_batch_size,
        seed=SEED,
    )
    train_seconds = time.perf_counter() - start
    prompts = [T.render(tokenizer, specialised_messages(task, it.text)) for it in items]
    start = time.perf_counter()
    outputs = generate(
        model,
        tokenizer,
        prompts,
        max_new_tokens=S.specialised_tokens[task],
        batch_size=S.batch_size,
    )
    extract = extractor(spec)
    predictions = [extract(o) for o in outputs]
    seconds = time.perf_counter() - start
    r = StrategyResult.scored(task, "specialised", items, outputs, predictions, seconds)
    prompted = sweep.table("accuracy")[task]
    best = max(prompted, key=lambda k: (prompted[k], -STRATEGIES.index(k)))
    best_result = sweep.results[(task, best)]
    return {
        "task": task,
        "method": f"LoRA r={S.lora_rank} on all projections of the top "
        f"{S.lora_top_layers} of 30 layers, {S.epochs} epoch(s); greedy answer to a "
        "one-line instruction, no demonstrations",
        "specialised_acc": _round(r.accuracy),
        "best_prompt": best,
        "best_prompt_acc": prompted[best],
        "specialised_wins": bool(r.accuracy > prompted[best]),
        # paired over the held-out items; the best prompt was picked on these same items,
        # which favours the prompt
        "specialised_minus_best_prompt": paired_bootstrap_diff(
            best_result.correct, r.correct
        ).as_record(),
        "specialised_format_error_rate": _round(r.format_error_rate),
        "specialised_by_group": {g: _round(v) for g, v in r.accuracy_by_group().items()},
        "best_prompt_by_group": {g: _round(v) for g, v in best_result.accuracy_by_group().items()},
        "seconds_per_item": {
            "specialised": _round(r.seconds / max(1, len(items))),
            best: _round(best_result.seconds / max(1, len(items))),
        },
        "n_train": len(train_items),
        "n_heldout": len(items),
        "lora_layers": len(adapters),
        "trainable_params": ft.trainable,
        "total_params": ft.total,
        "trainable_fraction": _round(ft.trainable / ft.total),
        "train_steps": ft.steps,
        "train_loss_first_last": [_round(ft.losses[0]), _round(ft.losses[-1])],
        "train_seconds": round(train_seconds, 1),
        "examples": _examples(r),
    }
