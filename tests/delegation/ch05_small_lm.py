"""ch05: answer cells that only hand the work to funlm.prompt_eng."""

CASES: dict[str, str] = {
    "templates": '''\
from funlm.prompt_eng import templates as funlm_templates


def format_instruction(labels: list[str] | None) -> str:
    """The sentence that fixes the answer format."""
    return funlm_templates.format_instruction(labels)


def few_shot_messages(instruction: str, demos: list[tuple[str, str]], query: str,
                      answer_format: str) -> list[dict[str, str]]:
    """[system, (user, assistant) * k, user] chat messages."""
    return funlm_templates.few_shot_messages(instruction, demos, query, answer_format)


def render_prompt(tokenizer, messages: list[dict[str, str]]) -> str:
    """The chat-formatted prompt text, ending with the opened assistant turn."""
    return funlm_templates.render(tokenizer, messages)
''',
    "extraction": '''\
from funlm.prompt_eng import extraction as funlm_extraction


def extract_label(
    text: str, labels: list[str], aliases: dict[str, str] | None = None
) -> str | None:
    """The label that the text answers with (earliest candidate, after the last marker first)."""
    return funlm_extraction.extract_label(text, labels, aliases)


def extract_number(text: str) -> int | float | None:
    """The numeric answer: first number after the last marker, else the last number."""
    return funlm_extraction.extract_number(text)


def extract_json(text: str) -> dict | None:
    """The JSON object in the text (code fence first), with small repairs; None if none."""
    return funlm_extraction.extract_json(text)
''',
    "harness": '''\
from funlm.prompt_eng.harness import score as funlm_score


def score(predictions: list, golds: list[str]) -> tuple[float, float]:
    """(accuracy, format_error_rate); None is wrong and a format error."""
    return funlm_score(predictions, golds)


def evaluate(predict_batch, items: list[tuple[str, str]], batch_size: int) -> dict:
    """Predict in consecutive batches of at most batch_size, then score."""
    predictions = []
    for start in range(0, len(items), batch_size):
        predictions.extend(predict_batch([x for x, _ in items[start:start + batch_size]]))
    accuracy, errors = score(predictions, [y for _, y in items])
    return {"accuracy": accuracy, "format_error_rate": errors, "predictions": predictions}
''',
    "self_consistency": '''\
from funlm.prompt_eng.self_consistency import majority_vote as funlm_majority_vote


def majority_vote(answers: list):
    """Most common non-None answer; ties go to the answer seen first; None if none."""
    return funlm_majority_vote(answers)


def self_consistency(sample_fn, prompts: list[str], n: int, extract) -> list:
    """Majority answer over n samples per prompt."""
    return [majority_vote([extract(s) for s in row]) for row in sample_fn(prompts, n)]
''',
    "constrained": '''\
from transformers import LogitsProcessorList

from funlm.prompt_eng import constrained as funlm_constrained


def allowed_next_tokens(
    generated: list[int], label_ids: list[list[int]], eos_token_id: int
) -> list[int]:
    """Tokens that keep the reply on the way to one of the labels (then EOS)."""
    return funlm_constrained.allowed_next_tokens(generated, label_ids, eos_token_id)


class LabelConstraint:
    """Logits processor: only label continuations (then EOS) keep a finite score."""

    def __init__(self, label_ids: list[list[int]], prompt_length: int, eos_token_id: int):
        self.inner = funlm_constrained.LabelLogitsProcessor(label_ids, prompt_length, eos_token_id)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        return self.inner(input_ids, scores)


def constrained_classify(
    model, tokenizer, prompts: list[str], labels: list[str], batch_size: int = 8
) -> list[str]:
    """Greedy generation restricted to the labels; one label string per prompt."""
    label_ids = [tokenizer.encode(label, add_special_tokens=False) for label in labels]
    answers = []
    for start in range(0, len(prompts), batch_size):
        enc = tokenizer(prompts[start:start + batch_size], return_tensors="pt", padding=True,
                        add_special_tokens=False).to(model.device)
        length = enc.input_ids.shape[1]
        with torch.no_grad():
            out = model.generate(
                **enc, max_new_tokens=max(len(i) for i in label_ids) + 1, do_sample=False,
                logits_processor=LogitsProcessorList(
                    [LabelConstraint(label_ids, length, tokenizer.eos_token_id)]
                ),
                pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        texts = tokenizer.batch_decode(out[:, length:], skip_special_tokens=True)
        answers += [t.strip() for t in texts]
    return answers
''',
    "lora": '''\
from funlm.prompt_eng import specialise as funlm_specialise


class LoRALinear(funlm_specialise.LoRALinear):
    """Frozen nn.Linear plus a trainable low-rank update (alpha / r) * B @ A."""


def sft_example(tokenizer, messages: list[dict[str, str]], answer: str) -> dict[str, list[int]]:
    """Prompt + answer + EOS as input_ids; labels are -100 on the prompt."""
    return funlm_specialise.sft_example(tokenizer, messages, answer)
''',
}

ZERO_PARTS: list[str] = [
    "test_templates",
    "test_extraction",
    "test_harness",
    "test_self_consistency",
    "test_constrained",
    "test_lora",
]

# what each zeroed test says: the tripwire's hint
HINTS: dict[str, str] = {part: "모범 답안" for part in ZERO_PARTS}
