"""A procedurally generated English-like corpus for pretraining tiny GPTs offline ("TinyWorld").

No text is downloaded or shipped: :func:`generate_corpus` writes it from a seeded random
generator, so the same seed always gives the same text (and there is no licence question).

The text describes a small imaginary world. It is built so that bigger models keep finding more
to learn, which is what a scaling-law experiment needs. Its lines are of four kinds:

- **facts about people** (``mira lives in osaka. she works as a baker.``): every person has fixed
  attributes and is mentioned with a Zipf-distributed frequency;
- **creature sentences** in made-up words (``the toku bimase chases the ralo.``): a lexicon of
  invented nouns, verbs and adjectives used with Zipf-distributed frequencies, where each verb
  prefers a few objects;
- **arithmetic** (``7 plus 5 is 12.``), a rule;
- **counting** in words (``three, four, five.``), learnt by any model.

Spelling a word or recalling a fact is a small "piece" of knowledge; the pieces are used with
power-law (Zipf) frequencies, so a frequent piece is cheap to learn and a rare one is not, and
the number of pieces a model can hold grows smoothly with its size. This is the mechanism that
Michaud et al. (2023) propose for neural scaling laws.

The tokenizer is character-level (:class:`CharTokenizer`) over a fixed alphabet, which makes the
unigram baseline (:func:`unigram_loss`) easy to compute and to explain.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from funlm.answer_keys import answer_key

if TYPE_CHECKING:  # pragma: no cover
    import torch

ALPHABET = "\n .,0123456789abcdefghijklmnopqrstuvwxyz"

CITIES = [
    "seoul", "busan", "paris", "rome", "cairo", "lima", "oslo", "delhi", "tokyo", "dakar",
    "quito", "hanoi", "lagos", "kyiv", "perth", "miami", "dubai", "sofia", "riga", "bern",
]  # fmt: skip
JOBS = [
    "baker", "doctor", "farmer", "pilot", "teacher", "painter", "singer", "nurse", "writer",
    "tailor", "driver", "chef", "dentist", "sailor", "lawyer", "miner", "potter", "guard",
]  # fmt: skip
PETS = ["cat", "dog", "parrot", "rabbit", "turtle", "goat", "horse", "duck", "fish", "snake"]
COLORS = ["red", "blue", "green", "black", "white", "yellow", "brown", "gray", "pink", "orange"]
FOODS = [
    "rice", "bread", "apples", "noodles", "soup", "cheese", "fish", "plums", "dumplings",
    "beans", "grapes", "pizza", "kimchi", "cake", "tea", "honey",
]  # fmt: skip
NUMBER_WORDS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
]  # fmt: skip
ONSETS = ["b", "d", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "y", "ch", "sh"]
VOWELS = ["a", "e", "i", "o", "u", "ae", "eo"]


@dataclass(frozen=True)
class CorpusConfig:
    """What the generated corpus contains (defaults: the course's standard corpus)."""

    n_people: int = 1000
    n_nouns: int = 600
    n_verbs: int = 150
    n_adjectives: int = 150
    objects_per_verb: int = 4
    zipf_exponent: float = 1.0  # the i-th most common person or word has weight 1 / i**exponent
    mix: tuple[float, float, float, float] = (0.45, 0.35, 0.12, 0.08)  # people/creatures/+/count
    seed: int = 0  # fixes the world: people, their facts and the lexicon


@dataclass(frozen=True)
class Person:
    """One inhabitant of the world and the facts the corpus states about them."""

    name: str
    pronoun: str  # "he" or "she"
    city: str
    job: str
    pet: str
    color: str
    food: str
    age: int
    friend: str


class Zipf:
    """Draws items with probability proportional to ``1 / rank**exponent`` (rank 1 = first)."""

    def __init__(self, items: list, exponent: float) -> None:
        self.items = items
        weights = [1.0 / (rank**exponent) for rank in range(1, len(items) + 1)]
        self.cumulative = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random):
        u = rng.random() * self.cumulative[-1]
        return self.items[bisect.bisect_right(self.cumulative, u)]


def _made_up_words(
    n: int, rng: random.Random, taken: set[str], syllables: tuple[int, int]
) -> list[str]:
    words: list[str] = []
    while len(words) < n:
        k = rng.randint(*syllables)
        word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(k))
        if word not in taken:
            taken.add(word)
            words.append(word)
    return words


@dataclass(frozen=True)
class World:
    """Everything that stays fixed between corpora of the same ``config.seed``."""

    people: list[Person]
    nouns: list[str]
    verbs: list[str]
    adjectives: list[str]
    objects: dict[str, list[str]]  # the nouns each verb prefers as objects


def make_world(config: CorpusConfig) -> World:
    """People with fixed attributes, and the made-up lexicon, from ``config.seed``."""
    rng = random.Random(config.seed)
    taken = set(CITIES + JOBS + PETS + COLORS + FOODS + NUMBER_WORDS)
    taken |= {"the", "a", "an", "he", "she", "is", "in", "of", "as", "plus"}
    names = _made_up_words(config.n_people, rng, taken, (2, 3))
    nouns = _made_up_words(config.n_nouns, rng, taken, (1, 3))
    verbs = _made_up_words(config.n_verbs, rng, taken, (1, 2))
    adjectives = _made_up_words(config.n_adjectives, rng, taken, (1, 3))
    people = [
        Person(
            name=name,
            pronoun=rng.choice(["he", "she"]),
            city=rng.choice(CITIES),
            job=rng.choice(JOBS),
            pet=rng.choice(PETS),
            color=rng.choice(COLORS),
            food=rng.choice(FOODS),
            age=rng.randint(18, 89),
            friend=rng.choice([other for other in names[:50] if other != name]),
        )
        for name in names
    ]
    objects = {verb: rng.sample(nouns, config.objects_per_verb) for verb in verbs}
    return World(people, nouns, verbs, adjectives, objects)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _person_line(p: Person, rng: random.Random) -> str:
    """A short paragraph stating some of ``p``'s facts; the name first, then pronouns."""
    facts = [
        f"lives in {p.city}",
        f"works as {_article(p.job)} {p.job}",
        f"has {_article(p.color)} {p.color} {p.pet}",
        f"likes {p.food}",
        f"is {p.age} years old",
        f"is a friend of {p.friend}",
    ]
    chosen = rng.sample(facts, rng.randint(2, 4))
    return " ".join(f"{p.name if j == 0 else p.pronoun} {fact}." for j, fact in enumerate(chosen))


def _third_person(verb: str) -> str:
    return verb + ("es" if verb.endswith(("ch", "sh", "s")) else "s")


def _creature_line(
    world: World, nouns: Zipf, verbs: Zipf, adjectives: Zipf, rng: random.Random
) -> str:
    """Two or three sentences in the made-up lexicon, with agreement and preferred objects."""
    sentences = []
    for _ in range(rng.randint(2, 3)):
        verb = verbs.draw(rng)
        plural = rng.random() < 0.5
        subject = f"the {adjectives.draw(rng)} {nouns.draw(rng)}{'s' if plural else ''}"
        obj = rng.choice(world.objects[verb]) if rng.random() < 0.9 else nouns.draw(rng)
        sentences.append(f"{subject} {verb if plural else _third_person(verb)} the {obj}.")
    return " ".join(sentences)


def _arithmetic_line(rng: random.Random) -> str:
    """A few additions of numbers below 20, written with digits."""
    parts = []
    for _ in range(rng.randint(2, 3)):
        a, b = rng.randint(0, 19), rng.randint(0, 19)
        parts.append(f"{a} plus {b} is {a + b}.")
    return " ".join(parts)


def _counting_line(rng: random.Random) -> str:
    """Counting in words from a random start (easy, learnt by any model)."""
    start = rng.randint(0, 5)
    return ", ".join(NUMBER_WORDS[start : start + rng.randint(3, 5)]) + "."


def generate_corpus(n_chars: int, config: CorpusConfig | None = None, *, seed: int = 1) -> str:
    """About ``n_chars`` characters of TinyWorld text, one paragraph per line.

    ``config.seed`` fixes the world (people, their facts, the lexicon); ``seed`` fixes which
    sentences are drawn, so two corpora with different ``seed`` describe the same world in
    different sentences (use that for train and validation text).
    """
    config = config or CorpusConfig()
    world = make_world(config)
    people = Zipf(world.people, config.zipf_exponent)
    nouns = Zipf(world.nouns, config.zipf_exponent)
    verbs = Zipf(world.verbs, config.zipf_exponent)
    adjectives = Zipf(world.adjectives, config.zipf_exponent)
    kinds = list(itertools.accumulate(config.mix))
    rng = random.Random(f"tinyworld-{config.seed}-{seed}")
    lines: list[str] = []
    total = 0
    while total < n_chars:
        kind = bisect.bisect_right(kinds, rng.random() * kinds[-1])
        if kind == 0:
            line = _person_line(people.draw(rng), rng)
        elif kind == 1:
            line = _creature_line(world, nouns, verbs, adjectives, rng)
        elif kind == 2:
            line = _arithmetic_line(rng)
        else:
            line = _counting_line(rng)
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


LINE_KINDS = ("people", "creatures", "arithmetic", "counting")


def line_kind(line: str) -> str:
    """Which of the four kinds of TinyWorld text a generated line is (see the module doc)."""
    if line[:1].isdigit():
        return "arithmetic"
    if line.split(",")[0] in NUMBER_WORDS:
        return "counting"
    if line.startswith("the "):
        return "creatures"
    return "people"


class CharTokenizer:
    """Character-level tokenizer over a fixed alphabet: token id = position in the alphabet."""

    def __init__(self, alphabet: str = ALPHABET) -> None:
        if len(set(alphabet)) != len(alphabet):
            raise ValueError("alphabet has repeated characters")
        self.alphabet = alphabet
        self._index = {ch: i for i, ch in enumerate(alphabet)}

    @property
    def vocab_size(self) -> int:
        return len(self.alphabet)

    def encode(self, text: str) -> list[int]:
        try:
            return [self._index[ch] for ch in text]
        except KeyError as error:
            raise ValueError(f"character {error.args[0]!r} is not in the alphabet") from None

    def decode(self, ids: list[int] | np.ndarray) -> str:
        return "".join(self.alphabet[int(i)] for i in ids)


@answer_key
def unigram_loss(train_ids: np.ndarray, val_ids: np.ndarray, vocab_size: int) -> float:
    """Cross-entropy (nats/token) of ``val_ids`` under ``train_ids``' token frequencies.

    Add-one (Laplace) smoothing keeps unseen tokens finite. This is the loss of the best model
    that ignores context entirely: a trained language model must beat it.
    """
    counts = np.bincount(np.asarray(train_ids), minlength=vocab_size).astype(float) + 1.0
    log_probs = np.log(counts / counts.sum())
    return float(-log_probs[np.asarray(val_ids)].mean())


@dataclass
class CharCorpus:
    """Train/validation token arrays of a generated corpus, with its tokenizer."""

    train_text: str
    val_text: str
    tokenizer: CharTokenizer

    @cached_property
    def train_ids(self) -> np.ndarray:
        return np.asarray(self.tokenizer.encode(self.train_text), dtype=np.int64)

    @cached_property
    def val_ids(self) -> np.ndarray:
        return np.asarray(self.tokenizer.encode(self.val_text), dtype=np.int64)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    def unigram_loss(self) -> float:
        return unigram_loss(self.train_ids, self.val_ids, self.vocab_size)


def load_corpus(
    n_train_chars: int = 1_000_000,
    n_val_chars: int = 50_000,
    config: CorpusConfig | None = None,
) -> CharCorpus:
    """A generated train/validation corpus (same world, different sentences)."""
    config = config or CorpusConfig()
    return CharCorpus(
        train_text=generate_corpus(n_train_chars, config, seed=1),
        val_text=generate_corpus(n_val_chars, config, seed=2),
        tokenizer=CharTokenizer(),
    )


@answer_key
def get_batch(
    ids: np.ndarray,
    block_size: int,
    batch_size: int,
    generator: np.random.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` random windows: inputs ``x`` (B, T) and targets ``y`` = x shifted by one."""
    import torch

    starts = generator.integers(0, len(ids) - block_size, size=batch_size)
    x = np.stack([ids[s : s + block_size] for s in starts])
    y = np.stack([ids[s + 1 : s + 1 + block_size] for s in starts])
    return torch.from_numpy(x), torch.from_numpy(y)
