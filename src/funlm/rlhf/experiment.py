"""The chapter's whole experiment in one call: what the reproduction and the demo notebook run.

:func:`run_experiment` pretrains a small and a >= 4x larger base model on the same review
corpus, fine-tunes the small one (SFT), trains a reward model, and aligns the SFT model three
ways, each over a small grid of its KL strength:

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

from funlm.models.gpt import GPT
from funlm.pretrain import eval_batches
from funlm.profile import Profile, seed_everything
from funlm.rlhf.data import make_comparisons, make_demonstrations
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
    settings,
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
from funlm.rlhf.world import POINTS, Instruction, format_prompt, judge_parts
from funlm.stats import bootstrap_mean, paired_bootstrap_diff
from funlm.train import evaluate

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


def run_experiment(
    profile: Profile,
    *,
    seed: int = 0,
    progress: bool | None = False,
    log: Callable[[str], None] = print,
    threads: int | None = 1,
) -> Outcome:
    """Run every stage sized by ``profile``; ``log`` gets one line per finished stage."""
    with torch_threads(threads if profile.device == "cpu" else None):
        return _run(profile, seed=seed, progress=progress, log=log)


@dataclass
class _Candidate:
    """One trained policy of a method's beta grid."""

    model: GPT
    selection_judged: float
    curve: Any  # DPO: per-step losses; RLHF: the RLHFLog


def _run(
    profile: Profile, *, seed: int, progress: bool | None, log: Callable[[str], None]
) -> Outcome:
    S = settings(profile)
    device = profile.device
    seed_everything(seed)
    out = Outcome(settings=S)
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def done(stage: str, message: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 1)
        clock = now
        log(f"[{stage} {timings[stage]:.0f}s] {message}")

    corpus = world_corpus(S.corpus_chars, seed=seed)
    tok = corpus.tokenizer
    out.tokenizer = tok
    (small, small_run), (large, large_run) = (
        pretrain_base(
            config,
            corpus,
            steps=S.pretrain_steps,
            batch_size=S.pretrain_batch,
            seed=seed,
            device=device,
            progress=progress,
        )
        for config in (S.small, S.large)
    )
    n_small, n_large = small.num_params(), large.num_params()
    done(
        "pretrain",
        f"small {n_small:,} / large {n_large:,} parameters, val loss "
        f"{small_run.final_eval_loss:.3f} / {large_run.final_eval_loss:.3f}",
    )

    ev = eval_instructions(S.eval_repeats)
    sel = selection_instructions(S.selection_repeats)
    out.instructions = ev
    R = out.responses

    def respond(model: GPT) -> list[str]:
        # one sampling seed for every policy: common random numbers for the paired comparisons
        return sample_policy(model, tok, ev, seed=seed + 100)

    R["base"] = respond(small)
    R["large_base"] = respond(large)

    demos = make_demonstrations(S.n_demos, seed=seed)
    sft, sft_run = supervised_finetune(
        small,
        tok,
        demos,
        steps=S.sft_steps,
        lr=S.sft_lr,
        batch_size=S.batch_size,
        seed=seed,
        progress=progress,
    )
    R["sft"] = respond(sft)
    done(
        "sft",
        f"judged reward base {mean_judged(ev, R['base']):.3f} -> sft "
        f"{mean_judged(ev, R['sft']):.3f}",
    )

    pairs = make_comparisons(S.n_pairs, seed=seed)
    val_pairs = make_comparisons(S.n_val_pairs, seed=seed + 1)
    rm = RewardModel.from_lm(sft)
    rm_run = train_reward_model(
        rm,
        tok,
        pairs,
        steps=S.rm_steps,
        lr=S.rm_lr,
        batch_size=S.batch_size,
        seed=seed,
        progress=progress,
    )
    rm_correct = preference_correct(rm, tok, val_pairs)
    rm_accuracy = float(np.mean(rm_correct))
    done("reward_model", f"held-out preference accuracy {rm_accuracy:.3f}")

    # DPO data: two SFT samples per random instruction, labelled twice.
    samples = policy_samples(sft, tok, S.n_policy_prompts, seed=seed)
    rm_fn = reward_model_fn(rm, tok)
    judge_pairs = label_pairs(samples, judged_scores)
    rm_pairs = label_pairs(samples, rm_fn)
    agreement = _label_agreement(samples, rm_fn)

    def select_score(model: GPT) -> float:
        return mean_judged(sel, sample_policy(model, tok, sel, seed=seed + 200))

    grids: dict[str, dict[float, _Candidate]] = {m: {} for m in METHODS}
    for method, data in (("dpo", judge_pairs), ("dpo_rm", rm_pairs)):
        for beta in S.betas:
            policy = copy.deepcopy(sft)
            run = train_dpo(
                policy,
                sft,
                tok,
                data,
                beta=beta,
                steps=S.dpo_steps,
                lr=S.dpo_lr,
                batch_size=S.batch_size,
                seed=seed,
                progress=progress,
            )
            grids[method][beta] = _Candidate(policy, select_score(policy), run.train_loss)
        done(
            method,
            f"{len(data)} pairs; selection reward by beta "
            f"{ {b: round(c.selection_judged, 3) for b, c in grids[method].items()} }",
        )

    for beta in S.rlhf_betas:
        policy = copy.deepcopy(sft)
        rlhf_log = train_rlhf(
            policy,
            sft,
            rm_fn,
            tok,
            beta=beta,
            steps=S.rlhf_steps,
            batch_size=S.batch_size,
            lr=S.rlhf_lr,
            seed=seed,
            progress=progress,
        )
        grids["rlhf"][beta] = _Candidate(policy, select_score(policy), rlhf_log)
    done(
        "rlhf",
        "selection reward by beta "
        f"{ {b: round(c.selection_judged, 3) for b, c in grids['rlhf'].items()} }",
    )

    # Choose each method's beta on the selection split (ties: the larger beta, closer to SFT).
    chosen = {
        m: max(grids[m], key=lambda b, m=m: (grids[m][b].selection_judged, b)) for m in METHODS
    }
    prompts = [format_prompt(i) for i in ev]
    by_beta: dict[str, dict[str, dict[str, float]]] = {}
    for method in METHODS:
        by_beta[method] = {}
        for beta, cand in grids[method].items():
            responses = respond(cand.model)
            if beta == chosen[method]:
                R[method] = responses
            by_beta[method][str(beta)] = {
                "selection_judged": _round(cand.selection_judged),
                "judged": _round(mean_judged(ev, responses)),
                "kl": _round(kl_to_reference(cand.model, sft, tok, ev, responses)),
                "rm_score": _round(reward_scores(rm, tok, prompts, responses).mean()),
            }
    models = {
        "base": small,
        "sft": sft,
        **{m: grids[m][chosen[m]].model for m in METHODS},
        "large_base": large,
    }

    # The alignment tax: how much worse each model predicts the pretraining text.
    val = eval_batches(corpus.val_ids, BLOCK_SIZE, 32, 4)
    val = [(x.to(device), y.to(device)) for x, y in val]
    pretrain_loss = {name: _round(evaluate(m, val), 4) for name, m in models.items()}

    stages = ("base", "large_base", "sft", *METHODS)
    judged = {s: judged_scores(ev, R[s]) for s in stages}
    per_item = {s: per_instruction(judged[s], S.eval_repeats) for s in stages}
    reward = {s: _round(np.mean(judged[s])) for s in stages}
    rm_score = {s: _round(reward_scores(rm, tok, prompts, R[s]).mean()) for s in stages}
    kl = {m: by_beta[m][str(chosen[m])]["kl"] for m in METHODS}
    wins = {
        f"{a}_vs_{b}": per_instruction(win_scores(ev, R[a], R[b]), S.eval_repeats)
        for a, b in (
            ("dpo", "large_base"),
            ("dpo_rm", "large_base"),
            ("rlhf", "large_base"),
            ("sft", "large_base"),
            ("dpo", "sft"),
            ("large_base", "base"),
        )
    }
    winrates = {k: _round(v.mean()) for k, v in wins.items()}
    intervals = {
        "rm_accuracy": bootstrap_mean(rm_correct),
        **{f"reward_{s}": bootstrap_mean(per_item[s]) for s in stages},
        **{f"winrate_{k}": bootstrap_mean(v) for k, v in wins.items()},
        # paired over the same evaluation instructions: mean of (first - second)
        **{
            f"{a}_minus_{b}": paired_bootstrap_diff(per_item[b], per_item[a])
            for a, b in (
                ("sft", "base"),
                ("large_base", "base"),
                ("dpo", "sft"),
                ("dpo_rm", "sft"),
                ("rlhf", "sft"),
                ("dpo", "rlhf"),
                ("dpo_rm", "rlhf"),
                ("dpo", "dpo_rm"),
            )
        },
    }
    kls = [by_beta["dpo"][str(b)]["kl"] for b in sorted(S.betas)]
    selection_split, evaluation_split = split_instructions()
    done("evaluate", f"chosen betas {chosen} (on the selection split)")
    out.numbers = {
        "rm_accuracy": _round(rm_accuracy),
        "reward_base": reward["base"],
        "reward_large_base": reward["large_base"],
        "reward_sft": reward["sft"],
        "reward_dpo": reward["dpo"],
        "reward_dpo_rm": reward["dpo_rm"],
        "reward_rlhf": reward["rlhf"],
        "reward_demonstrations": _round(
            np.mean([sum(judge_parts(d.instruction, d.response).values()) for d in demos])
        ),
        "judge_points": dict(POINTS),
        "judge_parts": {s: _parts(ev, R[s]) for s in stages},
        "rm_score": rm_score,
        "kl_to_sft": kl,
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
        "small_aligned_vs_large_base_winrate": winrates["dpo_vs_large_base"],
        "winrates": winrates,
        "intervals": {k: v.as_record() for k, v in intervals.items()},
        "pretrain_loss": pretrain_loss,
        "params": {"small": n_small, "large": n_large, "ratio": _round(n_large / n_small, 2)},
        "n_eval": len(ev),
        "n_selection": len(sel),
        "n_policy_prompts": S.n_policy_prompts,
        "n_policy_pairs": len(judge_pairs),
        "n_policy_pairs_rm": len(rm_pairs),
        "rm_label_agreement": agreement,
        "steps": {"dpo": S.dpo_steps, "rlhf": S.rlhf_steps, "batch_size": S.batch_size},
        "stage_seconds": timings,
        "thresholds": dict(THRESHOLDS),
        "criteria": {
            "rm_accuracy_at_threshold": rm_accuracy >= THRESHOLDS["rm_accuracy"],
            "reward_rises_base_sft_dpo": reward["base"] < reward["sft"] < reward["dpo"],
            "sft_gain_interval_above_zero": intervals["sft_minus_base"].lo > 0,
            "dpo_gain_interval_above_zero": intervals["dpo_minus_sft"].lo > 0,
            "rlhf_beats_sft": reward["rlhf"] > reward["sft"],
            "kl_decreases_with_beta": all(a > b for a, b in pairwise(kls)),
            "large_is_4x": n_large >= 4 * n_small,
            "winrate_above_threshold": winrates["dpo_vs_large_base"] > THRESHOLDS["winrate"],
            "winrate_interval_above_threshold": (
                intervals["winrate_dpo_vs_large_base"].lo > THRESHOLDS["winrate"]
            ),
            "beta_chosen_on_held_out_prompts": not set(selection_split) & set(evaluation_split),
        },
    }
    out.curves = {
        "pretrain_eval_loss": {"small": small_run.eval_loss, "large": large_run.eval_loss},
        "sft_loss": [_round(v) for v in sft_run.train_loss],
        "rm_loss": [_round(v) for v in rm_run.train_loss],
        "dpo_loss": {str(b): [_round(v) for v in c.curve] for b, c in grids["dpo"].items()},
        "dpo_rm_loss": {str(b): [_round(v) for v in c.curve] for b, c in grids["dpo_rm"].items()},
        "rlhf": {str(b): _rlhf_curve(c.curve) for b, c in grids["rlhf"].items()},
    }
    out.models = {
        **models,
        "rm": rm,
        **{f"{m}_beta_{b}": c.model for m in METHODS for b, c in grids[m].items()},
    }
    return out


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
