"""ch03_icl: answer cells that only delegate to the matching ``funlm`` functions.

``tests/test_delegation.py`` grades a submission made of these cells through ``funlm-grade``
and checks that the parts in ``ZERO_PARTS`` score 0 while the others keep full marks.

Part 1's answers (prompt building and label-word scoring) are chapter 1's graded answers
too; they live in ``funlm.gpt3.prompting`` / ``funlm.gpt3.fewshot``, which chapter 3 does not
own. The part-1 test forbids them only where they are marked with ``@answer_key``, so part 1 must
score 0 exactly when one of them is marked.
"""

from __future__ import annotations

from funlm.answer_keys import is_answer_key
from funlm.gpt3.fewshot import classify, score_continuations
from funlm.gpt3.prompting import build_prompt

CASES: dict[str, str] = {
    "part1": """
from funlm.gpt3.fewshot import classify, score_continuations
from funlm.gpt3.prompting import Example, PromptFormat, build_prompt

TOPIC = PromptFormat(input_prefix="Text: ", output_prefix="Topic:")


def build_icl_prompt(demos: list[tuple[str, str]], query: str) -> str:
    return build_prompt("", [Example(x, y) for x, y in demos], query, TOPIC)


def label_logprobs(model, tokenizer, prompt: str, labels: list[str]) -> torch.Tensor:
    return score_continuations(model, tokenizer, [prompt], [" " + label for label in labels])[0]


def predict_label(model, tokenizer, prompt: str, labels: list[str]) -> str:
    return classify(model, tokenizer, [prompt], labels)[0]
""",
    "part2": """
from funlm.icl.demos import random_labels
from funlm.icl.demos import score_conditions as funlm_score_conditions
from funlm.gpt3.prompting import Example
from funlm.stats import paired_bootstrap_diff


def random_label_demos(
    demos: list[tuple[str, str]], labels: list[str], seed: int
) -> list[tuple[str, str]]:
    out = random_labels([Example(x, y) for x, y in demos], labels, np.random.default_rng(seed))
    return [(e.input, e.output) for e in out]


def score_conditions(classify, conditions: dict[str, list[tuple[str, str]]],
                     items: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    return funlm_score_conditions(classify, conditions, items)


def paired_bootstrap(
    a: np.ndarray, b: np.ndarray, idx: np.ndarray, level: float = 0.95
) -> tuple[float, float, float]:
    interval = paired_bootstrap_diff(a, b, level=level, resamples=len(idx))
    return interval.mean, interval.lo, interval.hi
""",
    "part3": """
from funlm.icl.regression import normalised_error_by_k, sample_regression_prompts


def sample_prompts(
    batch_size: int, n_points: int, d: int, generator: torch.Generator | None = None
):
    return sample_regression_prompts(batch_size, n_points, d, generator=generator)


def normalised_error(preds: torch.Tensor, ys: torch.Tensor, d: int) -> torch.Tensor:
    return normalised_error_by_k(preds, ys, d)
""",
    "part4": """
from funlm.icl.regression import (
    averaging_predictions,
    least_squares_predictions,
    nearest_neighbour_predictions,
)


def least_squares_predict(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    return least_squares_predictions(xs, ys)


def knn_predict(xs: torch.Tensor, ys: torch.Tensor, n_neighbours: int = 3) -> torch.Tensor:
    return nearest_neighbour_predictions(xs, ys, n_neighbours)


def averaging_predict(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    return averaging_predictions(xs, ys)
""",
    "part5": """
from funlm.icl import regression_model


def interleave_xy(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    return regression_model.interleave(xs, ys)


def regression_loss(model, batch) -> torch.Tensor:
    return regression_model.regression_loss(model, batch)
""",
    "part6": """
from funlm.icl.induction import induction_scores, previous_token_scores, repeated_sequences


def repeated_batch(batch_size: int, seq_len: int, vocab_size: int, min_period: int, max_period: int,
                   generator: torch.Generator | None = None):
    return repeated_sequences(
        batch_size, seq_len, vocab_size, min_period, max_period, generator=generator
    )


def induction_score(attn: torch.Tensor, periods: torch.Tensor) -> torch.Tensor:
    return induction_scores(attn, periods)


def previous_token_score(attn: torch.Tensor) -> torch.Tensor:
    return previous_token_scores(attn)
""",
}

ZERO_PARTS: list[str] = ["test_part2", "test_part3", "test_part4", "test_part5", "test_part6"]
if any(is_answer_key(f) for f in (build_prompt, score_continuations, classify)):
    ZERO_PARTS.insert(0, "test_part1")
