"""Self-consistency (Wang et al. 2023): sample several reasoning paths, keep the majority answer.

:func:`majority_vote` is the voting rule. The ``self_consistency`` strategy of
:func:`funlm.prompt_eng.harness.run_strategy` draws the samples it votes over: each prompt is
read only once (its key/value cache is computed a single time and copied ``n`` times before
decoding), so ``n`` samples cost about ``n`` times the *new* tokens, not ``n`` times the long
few-shot prompt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

from funlm.answer_keys import answer_key


@answer_key
def majority_vote(answers: Sequence[Hashable | None]) -> Any:
    """The most common answer, ignoring ``None`` (failed extractions).

    Tie-breaking rule: among the answers with the highest count, the one that appears **first**
    in ``answers`` wins (samples are in the order they were drawn, so the rule is deterministic).
    Returns ``None`` when every answer is ``None`` or the list is empty.

    >>> majority_vote([3, 5, 5, None, 3])
    3
    >>> majority_vote([None, "negative", "positive", "positive"])
    'positive'
    >>> majority_vote([None, None]) is None
    True
    """
    valid = [a for a in answers if a is not None]
    if not valid:
        return None
    counts = Counter(valid)
    best = max(counts.values())
    return next(a for a in valid if counts[a] == best)


def vote_share(answers: Sequence[Hashable | None]) -> float:
    """Fraction of all samples that agree with the majority answer (0 when there is none)."""
    winner = majority_vote(answers)
    if winner is None or not answers:
        return 0.0
    return sum(a == winner for a in answers) / len(answers)
