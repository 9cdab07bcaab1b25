"""The chapter's whole pipeline at toy scale: pretrain -> SFT -> reward model -> DPO / RLHF.

Every size comes from the active profile (:func:`settings`), so the reproduction
(``python -m funlm.repro ch02``, :mod:`funlm.rlhf.experiment`), the demo notebooks and the
exercise share one recipe.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from funlm.experiment import ExperimentSettings
from funlm.gpt3.corpus import CharCorpus
from funlm.gpt3.pretrain import ModelSize, make_gpt, pretrain
from funlm.models.gpt import GPT
from funlm.profile import Profile
from funlm.rlhf.data import Comparison, Demonstration, sequence_batch, sft_batch
from funlm.rlhf.policy import sample_responses, sequence_logprob
from funlm.rlhf.world import (
    TOPICS,
    Instruction,
    WordTokenizer,
    format_prompt,
    generate_reviews,
    judge,
    make_tokenizer,
    random_instruction,
)
from funlm.train import TrainResult, train

BLOCK_SIZE = 48  # prompt (at most 12 words) + the longest response of the world (33 words)


@dataclass(frozen=True)
class Settings(ExperimentSettings):
    """Sizes of every stage for one profile."""

    corpus_chars: int
    small: ModelSize
    large: ModelSize  # at least 4x the small model's (non-embedding) parameters
    pretrain_steps: int
    pretrain_batch: int
    n_demos: int
    sft_steps: int
    sft_lr: float
    n_pairs: int  # labeller comparisons for the reward model
    n_val_pairs: int
    rm_steps: int
    rm_lr: float
    n_policy_prompts: int  # prompts whose two SFT samples are compared (DPO data)
    dpo_steps: int
    dpo_lr: float
    betas: tuple[float, ...]  # DPO's beta grid; the value used is chosen on the selection split
    rlhf_steps: int
    rlhf_betas: tuple[float, ...]  # RLHF's KL-coefficient grid, chosen the same way
    rlhf_lr: float
    eval_repeats: int  # samples per evaluation instruction (36 instructions)
    selection_repeats: int  # samples per selection instruction (12 instructions)
    batch_size: int = 32


def settings(profile: Profile) -> Settings:
    """The chapter's recipe, sized for ``profile``."""
    P = profile
    return Settings(
        profile=P.name,
        device=P.device,
        corpus_chars=P.pick(grade=100_000, cpu=300_000, gpu=2_000_000),
        small=P.pick(grade=ModelSize(2, 2, 32), cpu=ModelSize(2, 4, 64), gpu=ModelSize(2, 4, 64)),
        large=P.pick(grade=ModelSize(3, 4, 64), cpu=ModelSize(4, 4, 96), gpu=ModelSize(6, 8, 128)),
        pretrain_steps=P.pick(grade=100, cpu=250, gpu=1500),
        pretrain_batch=P.pick(grade=32, cpu=32, gpu=64),
        n_demos=P.pick(grade=1000, cpu=2000, gpu=8000),
        sft_steps=P.pick(grade=150, cpu=400, gpu=1500),
        sft_lr=3e-3,
        n_pairs=P.pick(grade=1000, cpu=3000, gpu=10_000),
        n_val_pairs=P.pick(grade=200, cpu=500, gpu=1000),
        rm_steps=P.pick(grade=100, cpu=400, gpu=1500),
        rm_lr=2e-3,
        n_policy_prompts=P.pick(grade=200, cpu=1000, gpu=4000),
        dpo_steps=P.pick(grade=30, cpu=200, gpu=800),
        dpo_lr=1e-4,
        betas=(0.1, 0.3, 1.0),
        rlhf_steps=P.pick(grade=5, cpu=60, gpu=400),
        rlhf_betas=(0.01, 0.05, 0.2),
        rlhf_lr=1e-4,
        eval_repeats=P.pick(grade=2, cpu=10, gpu=20),
        selection_repeats=P.pick(grade=2, cpu=16, gpu=40),
    )


def world_corpus(n_chars: int, seed: int = 0) -> CharCorpus:
    """Pretraining text of the review world (no instructions), with the world's tokenizer."""
    return CharCorpus(
        train_text=generate_reviews(n_chars, seed=seed),
        val_text=generate_reviews(max(n_chars // 10, 40_000), seed=seed + 1000),
        tokenizer=make_tokenizer(),
    )


def pretrain_base(
    size: ModelSize,
    corpus: CharCorpus,
    *,
    steps: int,
    batch_size: int,
    seed: int = 0,
    device: str = "cpu",
    progress: bool | None = None,
) -> tuple[GPT, TrainResult]:
    """A base model: the teaching GPT pretrained on the review corpus (chapter 1's recipe)."""
    model = make_gpt(size, corpus.vocab_size, BLOCK_SIZE, seed=seed)
    result = pretrain(
        model, corpus, steps=steps, batch_size=batch_size, lr=3e-3, n_eval_batches=4,
        seed=seed, device=device, progress=progress,
    )  # fmt: skip
    return model, result


def supervised_finetune(
    base: GPT,
    tokenizer: WordTokenizer,
    demos: list[Demonstration],
    *,
    steps: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool | None = None,
) -> tuple[GPT, TrainResult]:
    """SFT: a copy of ``base`` trained on demonstrations, loss on the response tokens only."""
    model = copy.deepcopy(base)
    device = next(model.parameters()).device
    rng = np.random.default_rng(seed)

    def batch(step: int):
        picked = [demos[i] for i in rng.choice(len(demos), size=batch_size, replace=False)]
        x, y = sft_batch(tokenizer, picked)
        return x.to(device), y.to(device)

    result = train(model, batch, steps=steps, lr=lr, weight_decay=0.0, progress=progress)
    return model, result


def split_instructions() -> tuple[list[Instruction], list[Instruction]]:
    """The world's 48 instructions as 12 for choosing hyperparameters and 36 for evaluation.

    A Latin square: topic ``k`` puts its ``k % 4``-th (sentiment, length) combination in the
    selection split, so that split has every topic once and every combination three times.
    Hyperparameters (DPO's beta, RLHF's KL coefficient) are chosen on the selection split and
    every reported number is measured on the evaluation split, which played no part in choosing.
    """
    combos = [(s, short) for s in ("positive", "negative") for short in (True, False)]
    selection, evaluation = [], []
    for k, topic in enumerate(TOPICS):
        for j, (sentiment, short) in enumerate(combos):
            target = selection if j == k % len(combos) else evaluation
            target.append(Instruction(sentiment, topic, short))
    return selection, evaluation


def eval_instructions(repeats: int) -> list[Instruction]:
    """The 36 evaluation instructions, each ``repeats`` times (instruction-major order)."""
    return [i for i in split_instructions()[1] for _ in range(repeats)]


def selection_instructions(repeats: int) -> list[Instruction]:
    """The 12 held-out selection instructions, each ``repeats`` times."""
    return [i for i in split_instructions()[0] for _ in range(repeats)]


def sample_policy(
    model: GPT,
    tokenizer: WordTokenizer,
    instructions: list[Instruction],
    *,
    seed: int = 0,
    temperature: float = 1.0,
) -> list[str]:
    """One sampled response per instruction (seeded)."""  # fmt: skip
    gen = torch.Generator().manual_seed(seed)
    prompts = [format_prompt(i) for i in instructions]
    return sample_responses(model, tokenizer, prompts, temperature=temperature, generator=gen)


def mean_judged(instructions: list[Instruction], responses: list[str]) -> float:
    """Mean judged reward of responses."""
    return float(np.mean([judge(i, r) for i, r in zip(instructions, responses, strict=True)]))


@torch.no_grad()
def kl_to_reference(
    policy: GPT,
    ref: GPT,
    tokenizer: WordTokenizer,
    instructions: list[Instruction],
    responses: list[str],
    batch_size: int = 256,
) -> float:
    """Monte Carlo KL(pi || pi_ref) per response: mean of log pi(y|x) - log pi_ref(y|x) over
    responses ``y`` sampled from ``policy``."""  # fmt: skip
    policy.eval()
    ref.eval()
    prompts = [format_prompt(i) for i in instructions]
    total = []
    for s in range(0, len(prompts), batch_size):
        ids, mask, _ = sequence_batch(
            tokenizer, prompts[s : s + batch_size], responses[s : s + batch_size]
        )
        total.append(sequence_logprob(policy, ids, mask) - sequence_logprob(ref, ids, mask))
    return float(torch.cat(total).mean())


def judged_scores(instructions: list[Instruction], responses: list[str]) -> list[float]:
    """The judge's reward of each response."""
    return [judge(i, r) for i, r in zip(instructions, responses, strict=True)]


def win_scores(instructions: list[Instruction], a: list[str], b: list[str]) -> list[float]:
    """Per item: 1 when the judge prefers ``a`` to ``b``, 0.5 for a tie, else 0."""
    wins = []
    for i, ra, rb in zip(instructions, a, b, strict=True):
        ja, jb = judge(i, ra), judge(i, rb)
        wins.append(1.0 if ja > jb else 0.5 if ja == jb else 0.0)
    return wins


def win_rate(instructions: list[Instruction], a: list[str], b: list[str]) -> float:
    """How often the judge prefers ``a`` to ``b`` (ties count one half)."""
    return float(np.mean(win_scores(instructions, a, b)))


Scorer = Callable[[list[Instruction], list[str]], Sequence[float] | torch.Tensor]


@dataclass(frozen=True)
class PolicySamples:
    """Two sampled responses ``a[k]``, ``b[k]`` of one policy to each ``instructions[k]``."""

    instructions: list[Instruction]
    a: list[str]
    b: list[str]


def policy_samples(
    model: GPT, tokenizer: WordTokenizer, n_prompts: int, *, seed: int = 0
) -> PolicySamples:
    """Two samples of ``model`` for each of ``n_prompts`` random instructions (seeded)."""
    rng = random.Random(f"policy-pairs-{seed}")
    instructions = [random_instruction(rng) for _ in range(n_prompts)]
    a = sample_policy(model, tokenizer, instructions, seed=seed + 1)
    b = sample_policy(model, tokenizer, instructions, seed=seed + 2)
    return PolicySamples(instructions, a, b)


def label_pairs(samples: PolicySamples, scorer: Scorer = judged_scores) -> list[Comparison]:
    """Comparisons of the two samples per instruction, the one ``scorer`` rates higher chosen;
    pairs the scorer rates equal (a tie teaches nothing) are dropped.

    ``scorer`` is the labeller: the hidden judge (noise-free labels) or a trained reward model
    (:func:`funlm.rlhf.pg.reward_model_fn`, the labels RLHF optimises).
    """
    sa = [float(v) for v in scorer(samples.instructions, samples.a)]
    sb = [float(v) for v in scorer(samples.instructions, samples.b)]
    pairs = []
    for i, x, y, px, py in zip(samples.instructions, samples.a, samples.b, sa, sb, strict=True):
        if px != py:
            pairs.append(Comparison(i, x, y) if px > py else Comparison(i, y, x))
    return pairs


def policy_comparisons(
    model: GPT, tokenizer: WordTokenizer, n_prompts: int, *, seed: int = 0
) -> list[Comparison]:
    """Comparisons of the model's own outputs, as InstructGPT's labellers ranked SFT samples:
    two samples per random instruction, the judge picks; ties are dropped."""
    return label_pairs(policy_samples(model, tokenizer, n_prompts, seed=seed))
