"""Chapter 1: the generated TinyWorld corpus, its tokenizer, batches and the pretraining sweep."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from funlm.gpt3.corpus import (
    ALPHABET,
    LINE_KINDS,
    CharTokenizer,
    CorpusConfig,
    generate_corpus,
    get_batch,
    line_kind,
    load_corpus,
    make_world,
    unigram_loss,
)
from funlm.gpt3.pretrain import (
    ModelSize,
    SweepSettings,
    eval_batches,
    loss_by_kind,
    make_gpt,
    pretrain,
    scaling_sweep,
    sweep_settings,
)
from funlm.profile import profile


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(60_000, 12_000)


def test_generation_is_deterministic_and_seeded():
    a = generate_corpus(5_000, seed=1)
    assert a == generate_corpus(5_000, seed=1)
    assert a != generate_corpus(5_000, seed=2)
    assert len(a) >= 5_000 and a.endswith("\n")
    assert set(a) <= set(ALPHABET)


def test_train_and_validation_describe_the_same_world(corpus):
    world = make_world(CorpusConfig())
    top = world.people[0]  # the most frequent person (Zipf rank 1)
    assert f"{top.name} lives in {top.city}." in corpus.train_text + corpus.val_text
    for text in (corpus.train_text, corpus.val_text):
        for line in text.splitlines():
            if line.startswith(top.name + " lives in "):
                assert line.startswith(f"{top.name} lives in {top.city}.")
    assert corpus.train_text[:2000] != corpus.val_text[:2000]


def test_people_frequencies_follow_zipf(corpus):
    world = make_world(CorpusConfig())
    lines = corpus.train_text.splitlines()
    first = sum(line.startswith(world.people[0].name + " ") for line in lines)
    tenth = sum(line.startswith(world.people[9].name + " ") for line in lines)
    assert first > 4 * tenth > 0  # expected ratio 10 for exponent 1


def test_char_tokenizer_round_trip_and_errors():
    tok = CharTokenizer()
    assert tok.vocab_size == len(ALPHABET)
    text = "mira is 34 years old.\n"
    assert tok.decode(tok.encode(text)) == text
    with pytest.raises(ValueError, match="not in the alphabet"):
        tok.encode("Mira")


def test_unigram_loss_matches_a_hand_computation():
    train = np.array([0, 0, 1])  # counts + 1 -> [3, 2, 1] / 6
    val = np.array([0, 2])
    expected = -(math.log(3 / 6) + math.log(1 / 6)) / 2
    assert unigram_loss(train, val, 3) == pytest.approx(expected, rel=1e-12)


def test_corpus_unigram_baseline_is_close_to_its_entropy(corpus):
    counts = np.bincount(corpus.train_ids, minlength=corpus.vocab_size)
    p = counts[counts > 0] / counts.sum()
    entropy = float(-(p * np.log(p)).sum())
    assert corpus.unigram_loss() == pytest.approx(entropy, abs=0.02)
    assert 2.5 < corpus.unigram_loss() < math.log(corpus.vocab_size)


def test_get_batch_returns_shifted_windows():
    ids = np.arange(100)
    x, y = get_batch(ids, 8, 4, np.random.default_rng(0))
    assert x.shape == y.shape == (4, 8) and x.dtype == torch.int64
    assert torch.equal(y, x + 1)
    assert torch.equal(x[:, 1:] - x[:, :-1], torch.ones(4, 7, dtype=torch.int64))


def test_eval_batches_are_fixed_and_non_overlapping():
    ids = np.arange(1000)
    batches = eval_batches(ids, 10, 3, 2)
    starts = [int(x[i, 0]) for x, _ in batches for i in range(3)]
    assert starts == [0, 10, 20, 30, 40, 50]
    with pytest.raises(ValueError, match="too short"):
        eval_batches(ids, 100, 5, 5)


def test_every_profile_sweeps_at_least_five_sizes():
    for name in ("cpu", "gpu", "grade"):
        settings = sweep_settings(profile(name))
        n = [make_gpt(s, 39, 8).num_params() for s in settings.sizes]
        assert len(n) >= 5 and n == sorted(n)


def test_pretraining_beats_the_unigram_baseline(corpus):
    model = make_gpt(ModelSize(2, 2, 32), corpus.vocab_size, 32)
    result = pretrain(model, corpus, steps=60, batch_size=16, n_eval_batches=2, eval_every=30)
    assert [step for step, _ in result.eval_loss] == [30, 60]
    assert result.final_eval_loss < corpus.unigram_loss() - 0.3


def test_scaling_sweep_is_seeded(corpus):
    settings = SweepSettings(
        sizes=(ModelSize(1, 2, 8), ModelSize(1, 2, 16)), steps=5, batch_size=4, block_size=16,
        lr=3e-3, n_train_chars=0, n_val_chars=0, n_eval_batches=1,
    )  # fmt: skip
    a = scaling_sweep(corpus, settings, progress=False)
    b = scaling_sweep(corpus, settings, progress=False)
    assert [p.val_loss for p in a] == [p.val_loss for p in b]
    assert [p.n_params for p in a] == sorted(p.n_params for p in a)


def test_every_line_has_one_of_the_four_kinds(corpus):
    kinds = [line_kind(line) for line in corpus.val_text.splitlines()]
    assert set(kinds) == set(LINE_KINDS)
    assert line_kind("7 plus 5 is 12.") == "arithmetic"
    assert line_kind("three, four, five.") == "counting"
    assert line_kind("the big toku chases the ralo.") == "creatures"
    assert line_kind("mira lives in rome.") == "people"


def test_loss_by_kind_scores_each_kind_separately(corpus):
    model = make_gpt(ModelSize(1, 2, 16), corpus.vocab_size, 32)
    losses = loss_by_kind(model, corpus.val_text, corpus.tokenizer, lines_per_kind=5)
    assert set(losses) == set(LINE_KINDS)
    # an untrained model is close to uniform over the alphabet
    for value in losses.values():
        assert value == pytest.approx(math.log(corpus.vocab_size), abs=0.3)
