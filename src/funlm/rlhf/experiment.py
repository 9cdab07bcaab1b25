"""The chapter's whole experiment in one call: what the reproduction and the demo notebook run.

:func:`run_stages` (the demo notebook keeps its models) and :func:`run_experiment` (the
numbers, ``python -m funlm.repro ch02``) pretrain a small and a >= 4x larger base model on the
same review corpus, fine-tune the small one (SFT), train a reward model, and align the SFT
model three ways, each over a small grid of its KL strength:

- ``dpo``: DPO on pairs of SFT samples labelled by the hidden judge (noise-free labels);
- ``dpo_rm``: DPO on the *same* pairs labelled by the learned reward model, the signal RLHF
  optimises, so that DPO and RLHF are compared on equal information;
- ``rlhf``: REINFORCE against the reward model with a KL penalty.

Each method's beta (KL coefficient) is chosen on the 12 held-out *selection* instructions; every
reported number is measured on the 36 *evaluation* instructions (:func:`split_instructions`),
with 95 % bootstrap intervals over those instructions for the comparisons the chapter makes.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import torch

from funlm.gpt3.corpus import CharCorpus
from funlm.gpt3.pretrain import eval_batches
from funlm.models.gpt import GPT
from funlm.profile import seed_everything
from funlm.rlhf.data import Comparison, Demonstration, make_comparisons, make_demonstrations
from funlm.rlhf.dpo import train_dpo
from funlm.rlhf.pg import RLHFLog, reward_model_fn, train_rlhf
from funlm.rlhf.pipeline import (
    BLOCK_SIZE,
    Settings,
    eval_instructions,
    judged_scores,
    kl_to_reference,
    label_pairs,
    mean_judged,
    policy_samples,
    pretrain_base,
    sample_policy,
    selection_instructions,
    split_instructions,
    supervised_finetune,
    win_scores,
    world_corpus,
)
from funlm.rlhf.reward_model import (
    RewardModel,
    preference_correct,
    reward_scores,
    train_reward_model,
)
from funlm.rlhf.world import POINTS, Instruction, WordTokenizer, format_prompt, judge_parts
from funlm.stats import Interval, bootstrap_mean, paired_bootstrap_diff
from funlm.train import TrainResult, evaluate

# Pass marks of the headline claims (kept in the record so that pages quote, not type, them).
THRESHOLDS = {"rm_accuracy": 0.85, "winrate": 0.7}

# The three ways of aligning the SFT model, in the order the record and the plots list them.
METHODS = ("dpo", "dpo_rm", "rlhf")


@dataclass
class Outcome:
    """Models, sampled responses and measured numbers of one run."""

    settings: Settings
    models: dict[str, Any] = field(default_factory=dict)  # GPTs and the reward model
    instructions: list[Instruction] = field(default_factory=list)  # the evaluation set
    responses: dict[str, list[str]] = field(default_factory=dict)  # per stage, on instructions
    numbers: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, Any] = field(default_factory=dict)
    tokenizer: Any = None


def _round(x: float, n: int = 4) -> float:
    return round(float(x), n)


def _parts(instructions: list[Instruction], responses: list[str]) -> dict[str, float]:
    parts = [judge_parts(i, r) for i, r in zip(instructions, responses, strict=True)]
    return {k: _round(np.mean([p[k] for p in parts]), 3) for k in parts[0]}


def per_instruction(values: list[float], repeats: int) -> np.ndarray:
    """Means over each instruction's ``repeats`` consecutive samples (instruction-major order).

    Intervals resample instructions, not samples: the samples of one instruction are not
    independent evidence about a policy.
    """
    array = np.asarray(values, dtype=float)
    return array.reshape(-1, repeats).mean(axis=1)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch CPU threads (None: leave as is), then restore.

    Models this small run fastest on one thread: splitting their tiny matrix products across
    cores costs more in synchronisation than it gains, and much more on a busy machine.
    """
    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def run_stages(
    settings: Settings,
    *,
    seed: int = 0,
    progress: bool | None = False,
    log: Callable[[str], None] = print,
    threads: int | None = 1,
) -> Outcome:
    """Run every stage at the sizes of ``settings``; ``log`` gets one line per finished stage.

    The :class:`Outcome` keeps the trained models and sampled responses (the demo notebook
    explores them); :func:`run_experiment` keeps only the measured numbers and curves.
    """
    with torch_threads(threads if settings.device == "cpu" else None):
        return _run(settings, seed=seed, progress=progress, log=log)


def run_experiment(settings: Settings) -> dict[str, Any]:
    """The chapter's measured numbers and training curves (``python -m funlm.repro ch02``)."""
    outcome = run_stages(settings, progress=False)
    return {**outcome.numbers, "curves": outcome.curves}


@dataclass
class _Candidate:
    """One trained policy of a method's beta grid."""

    model: GPT
    selection_judged: float
    curve: Any  # DPO: per-step losses; RLHF: the RLHFLog


class _StageClock:
    """Seconds per finished stage, and one log line for each."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.timings: dict[str, float] = {}
        self._clock = time.perf_counter()

    def done(self, stage: str, message: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(now - self._clock, 1)
        self._clock = now
        self.log(f"[{stage} {self.timings[stage]:.0f}s] {message}")


@dataclass
class _Run:
    """What the stages after pretraining share: sizes, seed, tokenizer, instruction sets."""

    S: Settings
    seed: int
    progress: bool | None
    tok: WordTokenizer
    ev: list[Instruction]  # the evaluation instructions: every reported number
    sel: list[Instruction]  # the selection instructions: choosing each method's beta
    clock: _StageClock

    def respond(self, model: GPT) -> list[str]:
        # one sampling seed for every policy: common random numbers for the paired comparisons
        return sample_policy(model, self.tok, self.ev, seed=self.seed + 100)

    def select_score(self, model: GPT) -> float:
        return mean_judged(self.sel, sample_policy(model, self.tok, self.sel, seed=self.seed + 200))


@dataclass
class _Measured:
    """The evaluation-split numbers of every stage (see :func:`_evaluate`)."""

    stages: tuple[str, ...]
    reward: dict[str, float]
    rm_score: dict[str, float]
    winrates: dict[str, float]
    intervals: dict[str, Interval]
    rm_accuracy: float


def _run(S: Settings, *, seed: int, progress: bool | None, log: Callable[[str], None]) -> Outcome:
    seed_everything(seed)
    clock = _StageClock(log)
    corpus = world_corpus(S.corpus_chars, seed=seed)
    (small, small_run), (large, large_run) = _pretrain_stage(S, corpus, seed, progress, clock)
    tok = corpus.tokenizer
    ev, sel = eval_instructions(S.eval_repeats), selection_instructions(S.selection_repeats)
    run = _Run(S, seed, progress, tok, ev, sel, clock)
    responses = {"base": run.respond(small), "large_base": run.respond(large)}
    demos = make_demonstrations(S.n_demos, seed=seed)
    sft, sft_run = _sft_stage(run, small, demos, responses)
    rm, rm_run, rm_correct = _reward_model_stage(run, sft)
    rm_fn, judge_pairs, rm_pairs, agreement = _preference_data(run, sft, rm)
    grids = _dpo_grids(run, sft, {"dpo": judge_pairs, "dpo_rm": rm_pairs})
    grids["rlhf"] = _rlhf_grid(run, sft, rm_fn)
    chosen, by_beta = _choose_betas(run, grids, sft, rm, responses)
    models = {
        "base": small,
        "sft": sft,
        **{m: grids[m][chosen[m]].model for m in METHODS},
        "large_base": large,
    }
    pretrain_loss = _alignment_tax(models, corpus, S.device)
    measured = _evaluate(run, responses, rm, rm_correct)
    clock.done("evaluate", f"chosen betas {chosen} (on the selection split)")
    counts = {
        "params": (small.num_params(), large.num_params()),
        "policy_pairs": (len(judge_pairs), len(rm_pairs)),
    }
    out = Outcome(settings=S, instructions=ev, responses=responses, tokenizer=tok)
    out.numbers = {
        "rm_accuracy": _round(measured.rm_accuracy),
        **_reward_numbers(run, measured, responses, demos),
        **_beta_numbers(run, chosen, by_beta),
        "small_aligned_vs_large_base_winrate": measured.winrates["dpo_vs_large_base"],
        "winrates": measured.winrates,
        "intervals": {k: v.as_record() for k, v in measured.intervals.items()},
        "pretrain_loss": pretrain_loss,
        **_size_numbers(run, counts, agreement),
        "stage_seconds": clock.timings,
        "thresholds": dict(THRESHOLDS),
        "criteria": _criteria(measured, by_beta, S.betas, counts["params"]),
    }
    out.curves = _curves(small_run, large_run, sft_run, rm_run, grids)
    out.models = {
        **models,
        "rm": rm,
        **{f"{m}_beta_{b}": c.model for m in METHODS for b, c in grids[m].items()},
    }
    return out


def _pretrain_stage(
    S: Settings, corpus: CharCorpus, seed: int, progress: bool | None, clock: _StageClock
) -> tuple[tuple[GPT, TrainResult], tuple[GPT, TrainResult]]:
    """The small base model and the >= 4x larger one, pretrained on the same review corpus."""
    (small, small_run), (large, large_run) = (
        pretrain_base(
            config,
            corpus,
            steps=S.pretrain_steps,
            batch_size=S.pretrain_batch,
            seed=seed,
            device=S.device,
            progress=progress,
        )
        for config in (S.small, S.large)
    )
    clock.done(
        "pretrain",
        f"small {small.num_params():,} / large {large.num_params():,} parameters, val loss "
        f"{small_run.final_eval_loss:.3f} / {large_run.final_eval_loss:.3f}",
    )
    return (small, small_run), (large, large_run)


def _sft_stage(
    run: _Run, small: GPT, demos: list[Demonstration], responses: dict[str, list[str]]
) -> tuple[GPT, TrainResult]:
    """Supervised fine-tuning of the small base model on the demonstrations."""
    S = run.S
    sft, sft_run = supervised_finetune(
        small,
        run.tok,
        demos,
        steps=S.sft_steps,
        lr=S.sft_lr,
        batch_size=S.batch_size,
        seed=run.seed,
        progress=run.progress,
    )
    responses["sft"] = run.respond(sft)
    run.clock.done(
        "sft",
        f"judged reward base {mean_judged(run.ev, responses['base']):.3f} -> sft "
        f"{mean_judged(run.ev, responses['sft']):.3f}",
    )
    return sft, sft_run


def _reward_model_stage(run: _Run, sft: GPT) -> tuple[RewardModel, TrainResult, list[float]]:
    """The reward model (from the SFT model) on labeller comparisons; held-out correctness."""
    S = run.S
    pairs = make_comparisons(S.n_pairs, seed=run.seed)
    val_pairs = make_comparisons(S.n_val_pairs, seed=run.seed + 1)
    rm = RewardModel.from_lm(sft)
    rm_run = train_reward_model(
        rm,
        run.tok,
        pairs,
        steps=S.rm_steps,
        lr=S.rm_lr,
        batch_size=S.batch_size,
        seed=run.seed,
        progress=run.progress,
    )
    rm_correct = preference_correct(rm, run.tok, val_pairs)
    run.clock.done("reward_model", f"held-out preference accuracy {np.mean(rm_correct):.3f}")
    return rm, rm_run, rm_correct


def _preference_data(
    run: _Run, sft: GPT, rm: RewardModel
) -> tuple[Callable, list[Comparison], list[Comparison], dict[str, float | int]]:
    """DPO data: two SFT samples per random instruction, labelled by the judge and by the RM.

    Returns the reward model as a reward function, both labelled sets and how often the two
    labellings agree.
    """
    samples = policy_samples(sft, run.tok, run.S.n_policy_prompts, seed=run.seed)
    rm_fn = reward_model_fn(rm, run.tok)
    judge_pairs = label_pairs(samples, judged_scores)
    rm_pairs = label_pairs(samples, rm_fn)
    return rm_fn, judge_pairs, rm_pairs, _label_agreement(samples, rm_fn)


def _selection_scores(grid: dict[float, _Candidate]) -> dict[float, float]:
    return {b: round(c.selection_judged, 3) for b, c in grid.items()}


def _dpo_grids(
    run: _Run, sft: GPT, data: dict[str, list[Comparison]]
) -> dict[str, dict[float, _Candidate]]:
    """One DPO policy per beta for each labelled data set (``{method: pairs}``)."""
    S = run.S
    grids: dict[str, dict[float, _Candidate]] = {}
    for method, pairs in data.items():
        grids[method] = {}
        for beta in S.betas:
            policy = copy.deepcopy(sft)
            result = train_dpo(
                policy,
                sft,
                run.tok,
                pairs,
                beta=beta,
                steps=S.dpo_steps,
                lr=S.dpo_lr,
                batch_size=S.batch_size,
                seed=run.seed,
                progress=run.progress,
            )
            grids[method][beta] = _Candidate(policy, run.select_score(policy), result.train_loss)
        run.clock.done(
            method,
            f"{len(pairs)} pairs; selection reward by beta {_selection_scores(grids[method])}",
        )
    return grids


def _rlhf_grid(run: _Run, sft: GPT, rm_fn: Callable) -> dict[float, _Candidate]:
    """One RLHF (REINFORCE against the reward model) policy per KL coefficient."""
    S = run.S
    grid: dict[float, _Candidate] = {}
    for beta in S.rlhf_betas:
        policy = copy.deepcopy(sft)
        rlhf_log = train_rlhf(
            policy,
            sft,
            rm_fn,
            run.tok,
            beta=beta,
            steps=S.rlhf_steps,
            batch_size=S.batch_size,
            lr=S.rlhf_lr,
            seed=run.seed,
            progress=run.progress,
        )
        grid[beta] = _Candidate(policy, run.select_score(policy), rlhf_log)
    run.clock.done("rlhf", f"selection reward by beta {_selection_scores(grid)}")
    return grid


def _choose_betas(
    run: _Run,
    grids: dict[str, dict[float, _Candidate]],
    sft: GPT,
    rm: RewardModel,
    responses: dict[str, list[str]],
) -> tuple[dict[str, float], dict[str, dict[str, dict[str, float]]]]:
    """Each method's beta, chosen on the selection split (ties: the larger beta, closer to
    SFT), and every candidate measured on the evaluation split; the chosen policies' responses
    go into ``responses``."""
    chosen = {
        m: max(grids[m], key=lambda b, m=m: (grids[m][b].selection_judged, b)) for m in METHODS
    }
    prompts = [format_prompt(i) for i in run.ev]
    by_beta: dict[str, dict[str, dict[str, float]]] = {}
    for method in METHODS:
        by_beta[method] = {}
        for beta, cand in grids[method].items():
            answers = run.respond(cand.model)
            if beta == chosen[method]:
                responses[method] = answers
            by_beta[method][str(beta)] = {
                "selection_judged": _round(cand.selection_judged),
                "judged": _round(mean_judged(run.ev, answers)),
                "kl": _round(kl_to_reference(cand.model, sft, run.tok, run.ev, answers)),
                "rm_score": _round(reward_scores(rm, run.tok, prompts, answers).mean()),
            }
    return chosen, by_beta


def _alignment_tax(models: dict[str, GPT], corpus: CharCorpus, device: str) -> dict[str, float]:
    """How much worse each model predicts the pretraining text (validation loss)."""
    val = eval_batches(corpus.val_ids, BLOCK_SIZE, 32, 4)
    val = [(x.to(device), y.to(device)) for x, y in val]
    return {name: _round(evaluate(m, val), 4) for name, m in models.items()}


# (first, second) pairs compared by win rate (first's answer preferred) and by paired reward
# difference (mean of first - second), over the same evaluation instructions.
WIN_PAIRS = (
    ("dpo", "large_base"),
    ("dpo_rm", "large_base"),
    ("rlhf", "large_base"),
    ("sft", "large_base"),
    ("dpo", "sft"),
    ("large_base", "base"),
)
DIFF_PAIRS = (
    ("sft", "base"),
    ("large_base", "base"),
    ("dpo", "sft"),
    ("dpo_rm", "sft"),
    ("rlhf", "sft"),
    ("dpo", "rlhf"),
    ("dpo_rm", "rlhf"),
    ("dpo", "dpo_rm"),
)


def _evaluate(
    run: _Run, responses: dict[str, list[str]], rm: RewardModel, rm_correct: list[float]
) -> _Measured:
    """Judged reward, reward-model score and win rates of every stage on the evaluation split,
    with 95 % bootstrap intervals over the instructions."""
    ev, repeats = run.ev, run.S.eval_repeats
    stages = ("base", "large_base", "sft", *METHODS)
    prompts = [format_prompt(i) for i in ev]
    judged = {s: judged_scores(ev, responses[s]) for s in stages}
    per_item = {s: per_instruction(judged[s], repeats) for s in stages}
    reward = {s: _round(np.mean(judged[s])) for s in stages}
    rm_score = {s: _round(reward_scores(rm, run.tok, prompts, responses[s]).mean()) for s in stages}
    wins = {
        f"{a}_vs_{b}": per_instruction(win_scores(ev, responses[a], responses[b]), repeats)
        for a, b in WIN_PAIRS
    }
    intervals = {
        "rm_accuracy": bootstrap_mean(rm_correct),
        **{f"reward_{s}": bootstrap_mean(per_item[s]) for s in stages},
        **{f"winrate_{k}": bootstrap_mean(v) for k, v in wins.items()},
        # paired over the same evaluation instructions: mean of (first - second)
        **{
            f"{a}_minus_{b}": paired_bootstrap_diff(per_item[b], per_item[a]) for a, b in DIFF_PAIRS
        },
    }
    winrates = {k: _round(v.mean()) for k, v in wins.items()}
    return _Measured(stages, reward, rm_score, winrates, intervals, float(np.mean(rm_correct)))


def _reward_numbers(
    run: _Run, m: _Measured, responses: dict[str, list[str]], demos: list[Demonstration]
) -> dict[str, Any]:
    """Judged reward per stage (and of the demonstrations), its parts and the RM's scores."""
    return {
        **{f"reward_{s}": m.reward[s] for s in ("base", "large_base", "sft", *METHODS)},
        "reward_demonstrations": _round(
            np.mean([sum(judge_parts(d.instruction, d.response).values()) for d in demos])
        ),
        "judge_points": dict(POINTS),
        "judge_parts": {s: _parts(run.ev, responses[s]) for s in m.stages},
        "rm_score": m.rm_score,
    }


def _beta_numbers(
    run: _Run, chosen: dict[str, float], by_beta: dict[str, dict[str, dict[str, float]]]
) -> dict[str, Any]:
    """Every candidate beta's numbers, the chosen betas and how they were chosen."""
    S = run.S
    selection_split, evaluation_split = split_instructions()
    return {
        "kl_to_sft": {m: by_beta[m][str(chosen[m])]["kl"] for m in METHODS},
        "kl_by_beta": {b: v["kl"] for b, v in by_beta["dpo"].items()},
        "dpo_by_beta": by_beta["dpo"],
        "dpo_rm_by_beta": by_beta["dpo_rm"],
        "rlhf_by_beta": by_beta["rlhf"],
        "dpo_beta": chosen["dpo"],
        "dpo_rm_beta": chosen["dpo_rm"],
        "rlhf_beta": chosen["rlhf"],
        "betas": list(S.betas),
        "rlhf_betas": list(S.rlhf_betas),
        "selection": {
            "metric": "mean judged reward on the selection split",
            "instructions": [i.text for i in selection_split],
            "n_instructions": len(selection_split),
            "repeats": S.selection_repeats,
            "chosen": chosen,
            "scores": {
                m: {str(b): v["selection_judged"] for b, v in by_beta[m].items()} for m in METHODS
            },
        },
        "evaluation": {
            "n_instructions": len(evaluation_split),
            "repeats": S.eval_repeats,
            "disjoint_from_selection": not set(selection_split) & set(evaluation_split),
        },
    }


def _size_numbers(
    run: _Run, counts: dict[str, tuple[int, int]], agreement: dict[str, float | int]
) -> dict[str, Any]:
    """Model sizes, evaluation and preference-data sizes and the training budget."""
    S = run.S
    n_small, n_large = counts["params"]
    return {
        "params": {"small": n_small, "large": n_large, "ratio": _round(n_large / n_small, 2)},
        "n_eval": len(run.ev),
        "n_selection": len(run.sel),
        "n_policy_prompts": S.n_policy_prompts,
        "n_policy_pairs": counts["policy_pairs"][0],
        "n_policy_pairs_rm": counts["policy_pairs"][1],
        "rm_label_agreement": agreement,
        "steps": {"dpo": S.dpo_steps, "rlhf": S.rlhf_steps, "batch_size": S.batch_size},
    }


def _criteria(
    m: _Measured,
    by_beta: dict[str, dict[str, dict[str, float]]],
    betas: tuple[float, ...],
    params: tuple[int, int],
) -> dict[str, bool]:
    """Each headline claim of the chapter as a boolean computed from the numbers."""
    reward, intervals = m.reward, m.intervals
    kls = [by_beta["dpo"][str(b)]["kl"] for b in sorted(betas)]
    selection_split, evaluation_split = split_instructions()
    n_small, n_large = params
    return {
        "rm_accuracy_at_threshold": m.rm_accuracy >= THRESHOLDS["rm_accuracy"],
        "reward_rises_base_sft_dpo": reward["base"] < reward["sft"] < reward["dpo"],
        "sft_gain_interval_above_zero": intervals["sft_minus_base"].lo > 0,
        "dpo_gain_interval_above_zero": intervals["dpo_minus_sft"].lo > 0,
        "rlhf_beats_sft": reward["rlhf"] > reward["sft"],
        "kl_decreases_with_beta": all(a > b for a, b in pairwise(kls)),
        "large_is_4x": n_large >= 4 * n_small,
        "winrate_above_threshold": m.winrates["dpo_vs_large_base"] > THRESHOLDS["winrate"],
        "winrate_interval_above_threshold": (
            intervals["winrate_dpo_vs_large_base"].lo > THRESHOLDS["winrate"]
        ),
        "beta_chosen_on_held_out_prompts": not set(selection_split) & set(evaluation_split),
    }


def _curves(
    small_run: TrainResult,
    large_run: TrainResult,
    sft_run: TrainResult,
    rm_run: TrainResult,
    grids: dict[str, dict[float, _Candidate]],
) -> dict[str, Any]:
    """The training curves the chapter's figures draw."""
    return {
        "pretrain_eval_loss": {"small": small_run.eval_loss, "large": large_run.eval_loss},
        "sft_loss": [_round(v) for v in sft_run.train_loss],
        "rm_loss": [_round(v) for v in rm_run.train_loss],
        "dpo_loss": {str(b): [_round(v) for v in c.curve] for b, c in grids["dpo"].items()},
        "dpo_rm_loss": {str(b): [_round(v) for v in c.curve] for b, c in grids["dpo_rm"].items()},
        "rlhf": {str(b): _rlhf_curve(c.curve) for b, c in grids["rlhf"].items()},
    }


def _rlhf_curve(log: RLHFLog) -> dict[str, list[float]]:
    return {
        "rm_reward": [_round(v) for v in log.rm_reward],
        "judged": [_round(v) for v in log.judged],
        "kl": [_round(v) for v in log.kl],
    }


def _label_agreement(samples: Any, rm_fn: Callable) -> dict[str, float | int]:
    """How often the reward model's label matches the judge's on pairs the judge does not tie."""
    ja = judged_scores(samples.instructions, samples.a)
    jb = judged_scores(samples.instructions, samples.b)
    ra = [float(v) for v in rm_fn(samples.instructions, samples.a)]
    rb = [float(v) for v in rm_fn(samples.instructions, samples.b)]
    agree = [float((x > y) == (p > q)) for x, y, p, q in zip(ja, jb, ra, rb, strict=True) if x != y]
    return {
        "agreement": _round(np.mean(agree)) if agree else float("nan"),
        "n_judge_untied": len(agree),
        "n_pairs": len(ja),
    }
