"""A toy "review world" where human preference is a program, so every RLHF stage can be measured.

People in this world write short reviews of things (``the soup was tasty. i loved the soup.``).
That text is the **pretraining corpus**: a model trained on it writes fluent reviews, but it has
never seen an instruction. An **instruction** asks for a review with three requirements::

    q: write a short positive review of the soup.
    a: the soup was tasty.

- sentiment: ``positive`` or ``negative``;
- topic: one of :data:`TOPICS`;
- length: ``short`` means one sentence, otherwise two or three sentences.

The hidden **judge** (:func:`judge`) plays the human labeller: it scores a response in [0, 1]
from those requirements. Demonstrations (for SFT) and comparisons (for the reward model and DPO)
are written by imperfect "labellers" (:func:`write_response`) whose answers have flaws at a known
rate, so a model that only imitates them stays below the judge's maximum.

The tokenizer is word-level (:class:`WordTokenizer`): the world has about 70 words, so a
sequence (prompt + response) fits in 48 tokens and a model learns the language in a few hundred
steps on a laptop CPU. The chat markers ``q:`` and ``a:`` never appear in pretraining.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from funlm.answer_keys import answer_key

EOS = "\n"  # a response ends at the end of its line

TOPICS = (
    "soup", "pizza", "rice", "bread", "coffee", "cake",
    "room", "bed", "staff", "music", "salad", "tea",
)  # fmt: skip
POSITIVE_WORDS = ("great", "lovely", "tasty", "fresh", "nice", "perfect")
NEGATIVE_WORDS = ("awful", "bland", "stale", "cold", "bad", "dirty")
POSITIVE_VERBS = ("loved", "enjoyed")
NEGATIVE_VERBS = ("hated", "never")
DAYS = ("monday", "friday", "sunday", "saturday")
COMPANY = ("my sister", "a friend", "my dad", "two friends")

SENTIMENTS = ("positive", "negative")

# Points the judge gives for each requirement (they sum to 1).
POINTS = {"form": 0.1, "topic": 0.3, "sentiment": 0.4, "length": 0.2}


INSTRUCTION_WORDS = ("q:", "a:", "write", "a", "short", "positive", "negative", "review", "of")
FIXED_WORDS = (
    "the", "was", "very", "i", "would", "never", "order", "again",
    "we", "went", "there", "on", "with", "my", "sister", "friend", "dad", "two", "friends",
)  # fmt: skip


class WordTokenizer:
    """Word-level tokenizer of the review world: one id per word, full stop and newline.

    ``decode(encode(text)) == text`` for text written the world's way: words separated by single
    spaces, a full stop right after its word, no spaces around newlines.
    """

    def __init__(self) -> None:
        words = [EOS, "."]
        for group in (INSTRUCTION_WORDS, FIXED_WORDS, TOPICS, POSITIVE_WORDS, NEGATIVE_WORDS,
                      POSITIVE_VERBS, NEGATIVE_VERBS, DAYS):  # fmt: skip
            for w in group:
                if w not in words:
                    words.append(w)
        self.words = words
        self._index = {w: i for i, w in enumerate(words)}

    @property
    def vocab_size(self) -> int:
        return len(self.words)

    @property
    def eos_id(self) -> int:
        return self._index[EOS]

    def tokens(self, text: str) -> list[str]:
        """The words, full stops and newlines of ``text``."""
        spaced = text.replace(".", " . ").replace(EOS, f" {EOS} ")
        return [t for t in spaced.split(" ") if t]

    def encode(self, text: str) -> list[int]:
        try:
            return [self._index[t] for t in self.tokens(text)]
        except KeyError as error:
            raise ValueError(f"word {error.args[0]!r} is not in the review world") from None

    def decode(self, ids) -> str:
        out = ""
        for i in ids:
            word = self.words[int(i)]
            if word in (".", EOS) or not out or out.endswith(EOS):
                out += word
            else:
                out += " " + word
        return out


def make_tokenizer() -> WordTokenizer:
    """The toy world's tokenizer."""
    return WordTokenizer()


@dataclass(frozen=True)
class Instruction:
    """What the user asks for: a review with a sentiment, a topic and a length."""

    sentiment: str  # "positive" or "negative"
    topic: str
    short: bool

    @property
    def text(self) -> str:
        size = "short " if self.short else ""
        return f"write a {size}{self.sentiment} review of the {self.topic}."


@answer_key
def format_prompt(instruction: Instruction | str) -> str:
    """The chat format ``q: <instruction>\\na:``; the response follows and ends with ``\\n``."""
    text = instruction.text if isinstance(instruction, Instruction) else instruction
    return f"q: {text}{EOS}a:"


def random_instruction(rng: random.Random) -> Instruction:
    return Instruction(rng.choice(SENTIMENTS), rng.choice(TOPICS), rng.random() < 0.5)


def all_instructions() -> list[Instruction]:
    """Every instruction of the world (2 sentiments x 12 topics x 2 lengths = 48)."""
    return [Instruction(s, t, short) for s in SENTIMENTS for t in TOPICS for short in (True, False)]


def sentence(topic: str, sentiment: str, rng: random.Random) -> str:
    """One review sentence about ``topic`` with the given sentiment."""
    if sentiment == "positive":
        templates = [
            f"the {topic} was {rng.choice(POSITIVE_WORDS)}.",
            f"the {topic} was very {rng.choice(POSITIVE_WORDS)}.",
            f"i {rng.choice(POSITIVE_VERBS)} the {topic}.",
        ]
    else:
        templates = [
            f"the {topic} was {rng.choice(NEGATIVE_WORDS)}.",
            f"the {topic} was very {rng.choice(NEGATIVE_WORDS)}.",
            f"i hated the {topic}.",
            f"i would never order the {topic} again.",
        ]
    return rng.choice(templates)


def filler(rng: random.Random) -> str:
    """A sentence with neither topic nor sentiment."""
    if rng.random() < 0.5:
        return f"we went there on {rng.choice(DAYS)}."
    return f"i was there with {rng.choice(COMPANY)}."


def _other(items: tuple[str, ...], item: str, rng: random.Random) -> str:
    return rng.choice([x for x in items if x != item])


# The flaws an imperfect labeller makes, and how often (the rest of the time: a perfect answer).
FLAWS = ("length", "sentiment", "topic", "filler")


def write_response(instruction: Instruction, rng: random.Random, flaw_rate: float = 0.5) -> str:
    """A labeller's answer to ``instruction``: perfect with probability ``1 - flaw_rate``.

    Otherwise it has one flaw: the wrong number of sentences, one sentence of the opposite
    sentiment, one sentence about another topic, or a filler sentence instead of content.
    """
    n = 1 if instruction.short else rng.choice((2, 3))
    sentences = [sentence(instruction.topic, instruction.sentiment, rng) for _ in range(n)]
    if rng.random() < flaw_rate:
        flaw = rng.choice(FLAWS)
        k = rng.randrange(len(sentences))
        if flaw == "length":  # short: 2 or 3 sentences; otherwise 1
            if instruction.short:
                topic, mood = instruction.topic, instruction.sentiment
                sentences += [sentence(topic, mood, rng) for _ in range(rng.choice((1, 2)))]
            else:
                sentences = sentences[:1]
        elif flaw == "sentiment":
            sentences[k] = sentence(
                instruction.topic, _other(SENTIMENTS, instruction.sentiment, rng), rng
            )
        elif flaw == "topic":
            sentences[k] = sentence(
                _other(TOPICS, instruction.topic, rng), instruction.sentiment, rng
            )
        else:
            sentences[k] = filler(rng)
    return " ".join(sentences)


def review_line(rng: random.Random) -> str:
    """One line of pretraining text: a review of one or two things, mostly of one sentiment."""
    topic = rng.choice(TOPICS)
    mood = rng.choice(SENTIMENTS)
    parts = []
    for _ in range(rng.randint(1, 4)):
        u = rng.random()
        if u < 0.15:
            parts.append(filler(rng))
            continue
        t = topic if rng.random() < 0.8 else rng.choice(TOPICS)
        s = mood if rng.random() < 0.85 else _other(SENTIMENTS, mood, rng)
        parts.append(sentence(t, s, rng))
    return " ".join(parts)


def generate_reviews(n_chars: int, seed: int = 0) -> str:
    """About ``n_chars`` characters of pretraining text, one review per line (no instructions)."""
    rng = random.Random(f"reviews-{seed}")
    lines, total = [], 0
    while total < n_chars:
        line = review_line(rng)
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- the judge


def _any(words) -> str:
    return "(?:" + "|".join(words) + ")"


# Every sentence the world's grammar allows (the judge's "fluency" check).
_GRAMMAR = re.compile(
    "|".join(
        [
            f"the {_any(TOPICS)} was (?:very )?{_any(POSITIVE_WORDS + NEGATIVE_WORDS)}",
            f"i {_any(('loved', 'enjoyed', 'hated'))} the {_any(TOPICS)}",
            f"i would never order the {_any(TOPICS)} again",
            f"we went there on {_any(DAYS)}",
            f"i was there with {_any(COMPANY)}",
        ]
    )
)
_POSITIVE = set(POSITIVE_WORDS) | set(POSITIVE_VERBS)
_NEGATIVE = set(NEGATIVE_WORDS) | set(NEGATIVE_VERBS)


def split_sentences(response: str) -> list[str]:
    """The sentences of a response (text between full stops), without the stops."""
    return [s.strip() for s in response.strip().split(".") if s.strip()]


def well_formed(response: str) -> bool:
    """Every sentence is grammatical in the review world and the response ends with a stop."""
    sentences = split_sentences(response)
    if not sentences or not response.strip().endswith("."):
        return False
    return all(_GRAMMAR.fullmatch(s) for s in sentences)


def judge_parts(instruction: Instruction, response: str) -> dict[str, float]:
    """The judge's points per requirement (see :data:`POINTS`); their sum is the reward."""
    response = response.strip()
    sentences = split_sentences(response)
    words = re.findall(r"[a-z]+", response)
    topics = {w for w in words if w in TOPICS}
    pos = sum(w in _POSITIVE for w in words)
    neg = sum(w in _NEGATIVE for w in words)
    wanted, unwanted = (pos, neg) if instruction.sentiment == "positive" else (neg, pos)
    n = len(sentences)
    if instruction.short:
        length = 1.0 if n == 1 else 0.0
    else:
        length = 1.0 if n in (2, 3) else 0.5 if n == 4 else 0.0
    if instruction.topic not in topics:
        topic = 0.0
    else:
        topic = 1.0 if topics == {instruction.topic} else 0.5
    return {
        "form": POINTS["form"] * float(well_formed(response)),
        "topic": POINTS["topic"] * topic,
        "sentiment": POINTS["sentiment"] * (wanted / (wanted + unwanted) if wanted else 0.0),
        "length": POINTS["length"] * length,
    }


def judge(instruction: Instruction, response: str) -> float:
    """The hidden reward: how much a "person" likes ``response`` to ``instruction``, in [0, 1]."""
    return round(sum(judge_parts(instruction, response).values()), 6)


def parse_instruction(text: str) -> Instruction:
    """Invert :attr:`Instruction.text` (also accepts a full prompt from :func:`format_prompt`)."""
    match = re.search(r"write a (short )?(positive|negative) review of the (\w+)\.", text)
    if match is None or match.group(3) not in TOPICS:
        raise ValueError(f"not an instruction of the review world: {text!r}")
    return Instruction(match.group(2), match.group(3), bool(match.group(1)))
