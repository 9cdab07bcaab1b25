"""The chapter's whole experiment in one call: what the reproduction and the demo notebook run.

:func:`run_experiment` pretrains a small and a >= 4x larger base model on the same review
corpus, fine-tunes the small one (SFT), trains a reward model, aligns the SFT model with DPO
(for several beta) and with REINFORCE against the reward model, and measures every stage with
the hidden judge on the same evaluation instructions.
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
from funlm.rlhf.pg import reward_model_fn, train_rlhf
from funlm.rlhf.pipeline import (
    BLOCK_SIZE,
    Settings,
    eval_instructions,
    kl_to_reference,
    mean_judged,
    policy_comparisons,
    pretrain_base,
    sample_policy,
    settings,
    supervised_finetune,
    win_rate,
    world_corpus,
)
from funlm.rlhf.reward_model import (
    RewardModel,
    preference_accuracy,
    reward_scores,
    train_reward_model,
)
from funlm.rlhf.world import Instruction, format_prompt, judge_parts
from funlm.train import evaluate


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
    out.instructions = ev
    R = out.responses
    R["base"] = sample_policy(small, tok, ev, seed=seed + 100)
    R["large_base"] = sample_policy(large, tok, ev, seed=seed + 101)

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
    R["sft"] = sample_policy(sft, tok, ev, seed=seed + 102)
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
    rm_accuracy = preference_accuracy(rm, tok, val_pairs)
    done("reward_model", f"held-out preference accuracy {rm_accuracy:.3f}")

    policy_pairs = policy_comparisons(sft, tok, S.n_policy_prompts, seed=seed)
    prompts = [format_prompt(i) for i in ev]
    by_beta: dict[str, dict[str, float]] = {}
    dpo_models: dict[float, GPT] = {}
    dpo_loss: dict[str, list[float]] = {}
    for beta in S.betas:
        policy = copy.deepcopy(sft)
        run = train_dpo(
            policy,
            sft,
            tok,
            policy_pairs,
            beta=beta,
            steps=S.dpo_steps,
            lr=S.dpo_lr,
            batch_size=S.batch_size,
            seed=seed,
            progress=progress,
        )
        responses = sample_policy(policy, tok, ev, seed=seed + 103)
        R[f"dpo_beta_{beta}"] = responses
        dpo_models[beta] = policy
        dpo_loss[str(beta)] = [_round(v, 4) for v in run.train_loss]
        by_beta[str(beta)] = {
            "judged": _round(mean_judged(ev, responses)),
            "kl": _round(kl_to_reference(policy, sft, tok, ev, responses)),
            "rm_score": _round(reward_scores(rm, tok, prompts, responses).mean()),
        }
    beta0 = S.dpo_beta
    dpo = dpo_models[beta0]
    R["dpo"] = R[f"dpo_beta_{beta0}"]
    done("dpo", f"{len(policy_pairs)} judged pairs of SFT samples; by beta {by_beta}")

    rlhf = copy.deepcopy(sft)
    rlhf_log = train_rlhf(
        rlhf,
        sft,
        reward_model_fn(rm, tok),
        tok,
        beta=S.rlhf_beta,
        steps=S.rlhf_steps,
        batch_size=S.batch_size,
        lr=S.rlhf_lr,
        seed=seed,
        progress=progress,
    )
    R["rlhf"] = sample_policy(rlhf, tok, ev, seed=seed + 104)
    done("rlhf", f"judged reward {mean_judged(ev, R['rlhf']):.3f}")

    # The alignment tax: how much worse each model predicts the pretraining text.
    val = eval_batches(corpus.val_ids, BLOCK_SIZE, 32, 4)
    val = [(x.to(device), y.to(device)) for x, y in val]
    models = {"base": small, "sft": sft, "dpo": dpo, "rlhf": rlhf, "large_base": large}
    pretrain_loss = {name: _round(evaluate(m, val), 4) for name, m in models.items()}

    stages = ("base", "large_base", "sft", "dpo", "rlhf")
    reward = {s: _round(mean_judged(ev, R[s])) for s in stages}
    rm_score = {s: _round(reward_scores(rm, tok, prompts, R[s]).mean()) for s in stages}
    kl = {s: _round(kl_to_reference(models[s], sft, tok, ev, R[s])) for s in ("dpo", "rlhf")}
    winrate = _round(win_rate(ev, R["dpo"], R["large_base"]))
    kl_by_beta = {b: v["kl"] for b, v in by_beta.items()}
    kls = [by_beta[str(b)]["kl"] for b in sorted(S.betas)]
    out.numbers = {
        "rm_accuracy": _round(rm_accuracy),
        "reward_base": reward["base"],
        "reward_large_base": reward["large_base"],
        "reward_sft": reward["sft"],
        "reward_dpo": reward["dpo"],
        "reward_rlhf": reward["rlhf"],
        "reward_demonstrations": _round(
            np.mean([sum(judge_parts(d.instruction, d.response).values()) for d in demos])
        ),
        "judge_parts": {s: _parts(ev, R[s]) for s in stages},
        "rm_score": rm_score,
        "kl_to_sft": kl,
        "kl_by_beta": kl_by_beta,
        "dpo_by_beta": by_beta,
        "dpo_beta": beta0,
        "rlhf_beta": S.rlhf_beta,
        "small_aligned_vs_large_base_winrate": winrate,
        "winrates": {
            "dpo_vs_large_base": winrate,
            "sft_vs_large_base": _round(win_rate(ev, R["sft"], R["large_base"])),
            "rlhf_vs_large_base": _round(win_rate(ev, R["rlhf"], R["large_base"])),
            "dpo_vs_sft": _round(win_rate(ev, R["dpo"], R["sft"])),
            "large_base_vs_base": _round(win_rate(ev, R["large_base"], R["base"])),
        },
        "pretrain_loss": pretrain_loss,
        "params": {"small": n_small, "large": n_large, "ratio": _round(n_large / n_small, 2)},
        "n_eval": len(ev),
        "n_policy_pairs": len(policy_pairs),
        "stage_seconds": timings,
        "criteria": {
            "rm_accuracy_ge_0.85": rm_accuracy >= 0.85,
            "reward_rises_base_sft_dpo": reward["base"] < reward["sft"] < reward["dpo"],
            "rlhf_beats_sft": reward["rlhf"] > reward["sft"],
            "kl_decreases_with_beta": all(a > b for a, b in pairwise(kls)),
            "large_is_4x": n_large >= 4 * n_small,
            "winrate_gt_0.7": winrate > 0.7,
        },
    }
    out.curves = {
        "pretrain_eval_loss": {"small": small_run.eval_loss, "large": large_run.eval_loss},
        "sft_loss": [_round(v) for v in sft_run.train_loss],
        "rm_loss": [_round(v) for v in rm_run.train_loss],
        "dpo_loss": dpo_loss,
        "rlhf": {"rm_reward": rlhf_log.rm_reward, "judged": rlhf_log.judged, "kl": rlhf_log.kl},
    }
    out.models = {**models, "rm": rm, **{f"dpo_beta_{b}": m for b, m in dpo_models.items()}}
    return out
