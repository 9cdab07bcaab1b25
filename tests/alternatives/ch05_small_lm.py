"""ch05: correct answers written differently from the reference solution."""

CASES: dict[str, str] = {
    # str.format and a hand-built comma list; messages from a helper and a nested comprehension;
    # the chat template called with keyword arguments
    "templates": r'''
def format_instruction(labels: list[str] | None) -> str:
    """The sentence that fixes the answer format."""
    names = list(labels or [])
    if len(names) == 0:
        return "Answer with a single number."
    if len(names) == 2:
        first, second = names
        return "Answer with exactly one word: {} or {}.".format(first, second)
    listed = ""
    for position, name in enumerate(names):
        listed += name if position == 0 else ", " + name
    return "Answer with exactly one of: " + listed + "."


def _message(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def few_shot_messages(instruction: str, demos: list[tuple[str, str]], query: str,
                      answer_format: str) -> list[dict[str, str]]:
    """[system, (user, assistant) * k, user] chat messages."""
    system = " ".join([instruction, answer_format]).strip()
    turns = [
        _message(role, content)
        for pair in demos
        for role, content in zip(("user", "assistant"), pair)
    ]
    return [_message("system", system), *turns, _message("user", query)]


def render_prompt(tokenizer, messages: list[dict[str, str]]) -> str:
    """The chat-formatted prompt text, ending with the opened assistant turn."""
    options = {"add_generation_prompt": True, "tokenize": False}
    return tokenizer.apply_chat_template(conversation=[dict(m) for m in messages], **options)
''',
    # one alternation regex for all candidates (leftmost match, first candidate on ties),
    # ANSWER_MARKER.split for the text after the last marker, str.split on ``` for the fence,
    # a generator of repaired JSON attempts
    "extraction": r'''
def _candidate_regex(word: str) -> str:
    escaped = re.escape(word)
    if word.isascii():
        # case-insensitive, and not glued to other Latin letters
        return f"(?i:(?<![A-Za-z]){escaped}(?![A-Za-z]))"
    return escaped


def extract_label(
    text: str, labels: list[str], aliases: dict[str, str] | None = None
) -> str | None:
    """The label that the text answers with (earliest candidate, after the last marker first)."""
    mapping = {**{label: label for label in labels}, **(aliases or {})}
    words = [word for word in mapping if word]
    if not words:
        return None
    finder = re.compile("|".join(f"({_candidate_regex(word)})" for word in words))
    pieces = ANSWER_MARKER.split(text)
    scopes = [pieces[-1], text] if len(pieces) > 1 else [text]
    for scope in scopes:
        hit = finder.search(scope)
        if hit is not None:
            return mapping[words[hit.lastindex - 1]]
    return None


def _to_number(token: str):
    value = float(token.replace(",", ""))
    return int(value) if value % 1 == 0 else value


def _numbers_in(part: str) -> list:
    values = [_to_number(m.group()) for m in NUMBER.finditer(part)]
    if values:
        return values
    for word in re.split(r"[^A-Za-z]+", part):
        if word.lower() in NUMBER_WORDS:
            values.append(NUMBER_WORDS[word.lower()])
    return values


def extract_number(text: str) -> int | float | None:
    """The numeric answer: first number after the last marker, else the last number."""
    pieces = ANSWER_MARKER.split(text)
    if len(pieces) > 1:
        after_marker = _numbers_in(pieces[-1])
        if after_marker:
            return after_marker[0]
    everywhere = _numbers_in(text)
    return everywhere[-1] if everywhere else None


_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}


def _json_attempts(chunk: str):
    yield chunk
    repaired = re.sub(r",(\s*[}\]])", r"\1", chunk)
    repaired = re.sub(r"\b(?:True|False|None)\b", lambda m: _PY_LITERALS[m.group()], repaired)
    yield repaired
    if '"' not in repaired:
        yield repaired.replace("'", '"')


def extract_json(text: str) -> dict | None:
    """The JSON object in the text (code fence first), with small repairs; None if none."""
    scopes = []
    fenced = text.split("```")
    if len(fenced) >= 3:
        inside = fenced[1]
        if inside[:4].lower() == "json":
            inside = inside[4:]
        scopes.append(inside)
    scopes.append(text)
    for scope in scopes:
        braces = re.search(r"\{.*\}", scope, re.DOTALL)  # first { to last }
        if braces is None:
            continue
        for attempt in _json_attempts(braces.group()):
            try:
                value = json.loads(attempt)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return None
''',
    # numbers.Real for the numeric check, running counters; a while loop over batch offsets
    "harness": r'''
from numbers import Real


def _is_hit(prediction, gold: str) -> bool:
    if prediction is None:
        return False
    if isinstance(prediction, Real) and not isinstance(prediction, bool):
        try:
            target = float(gold)
        except (TypeError, ValueError):
            return False
        return float(prediction) == target
    return str(prediction) == gold


def score(predictions: list, golds: list[str]) -> tuple[float, float]:
    """(accuracy, format_error_rate); None is wrong and a format error."""
    total = len(golds)
    if len(predictions) != total:
        raise ValueError(f"{len(predictions)} predictions but {total} gold answers")
    if total == 0:
        return (0.0, 0.0)
    hits = errors = 0
    for prediction, gold in zip(predictions, golds):
        hits += _is_hit(prediction, gold)
        errors += prediction is None
    return (hits / total, errors / total)


def evaluate(predict_batch, items: list[tuple[str, str]], batch_size: int) -> dict:
    """Predict in consecutive batches of at most batch_size, then score."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    texts = [text for text, _ in items]
    golds = [gold for _, gold in items]
    predictions = []
    offset = 0
    while offset < len(texts):
        batch = texts[offset:offset + batch_size]
        predictions += list(predict_batch(batch))
        offset += len(batch)
    accuracy, format_error_rate = score(predictions, golds)
    return dict(accuracy=accuracy, format_error_rate=format_error_rate, predictions=predictions)
''',
    # collections.Counter (most_common keeps first-seen order on ties); an explicit loop with map
    "self_consistency": r'''
from collections import Counter


def majority_vote(answers: list):
    """Most common non-None answer; ties go to the answer seen first; None if none."""
    tally = Counter(answer for answer in answers if answer is not None)
    if not tally:
        return None
    winner, _ = tally.most_common(1)[0]
    return winner


def self_consistency(sample_fn, prompts: list[str], n: int, extract) -> list:
    """Majority answer over n samples per prompt."""
    votes = []
    for samples in sample_fn(list(prompts), n):
        votes.append(majority_vote(list(map(extract, samples))))
    return votes
''',
    # a prefix tree of the labels; a boolean mask with masked_fill; explicit left padding,
    # input_ids/attention_mask passed by name and rows decoded one by one
    "constrained": r'''
from transformers import LogitsProcessorList

_END = None  # trie key marking the end of a label


def allowed_next_tokens(
    generated: list[int], label_ids: list[list[int]], eos_token_id: int
) -> list[int]:
    """Tokens that keep the reply on the way to one of the labels (then EOS)."""
    trie = {}
    for ids in label_ids:
        node = trie
        for token in ids:
            node = node.setdefault(int(token), {})
        node[_END] = {}
    node = trie
    for token in generated:
        node = node.get(int(token))
        if node is None:
            return [eos_token_id]
    following = {eos_token_id if key is _END else key for key in node}
    return sorted(following) or [eos_token_id]


class LabelConstraint:
    """Logits processor: only label continuations (then EOS) keep a finite score."""

    def __init__(self, label_ids: list[list[int]], prompt_length: int, eos_token_id: int):
        self.label_ids = [list(ids) for ids in label_ids]
        self.prompt_length = int(prompt_length)
        self.eos_token_id = eos_token_id

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        keep = torch.zeros_like(scores, dtype=torch.bool)
        for row, sequence in enumerate(input_ids.tolist()):
            written = sequence[self.prompt_length:]
            keep[row, allowed_next_tokens(written, self.label_ids, self.eos_token_id)] = True
        return scores.masked_fill(~keep, float("-inf"))


def constrained_classify(
    model, tokenizer, prompts: list[str], labels: list[str], batch_size: int = 8
) -> list[str]:
    """Greedy generation restricted to the labels; one label string per prompt."""
    label_ids = [tokenizer.encode(label, add_special_tokens=False) for label in labels]
    budget = 1 + max(len(ids) for ids in label_ids)
    replies = []
    for first in range(0, len(prompts), batch_size):
        batch = tokenizer(list(prompts[first:first + batch_size]), return_tensors="pt",
                          padding="longest", padding_side="left", add_special_tokens=False)
        input_ids = batch["input_ids"].to(model.device)
        attention_mask = batch["attention_mask"].to(model.device)
        width = input_ids.size(1)
        constraint = LabelConstraint(label_ids, width, tokenizer.eos_token_id)
        with torch.inference_mode():
            output = model.generate(
                input_ids=input_ids, attention_mask=attention_mask, max_new_tokens=budget,
                do_sample=False, num_beams=1, logits_processor=LogitsProcessorList([constraint]),
                pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
            )
        for row in output[:, width:]:
            replies.append(tokenizer.decode(row, skip_special_tokens=True).strip())
    return replies
''',
    # base.requires_grad_(False), nn.init.zeros_, the low-rank path as two F.linear calls;
    # the tokenizer's __call__ and list unpacking for the SFT example
    "lora": r'''
import math

import torch.nn.functional as F


class LoRALinear(nn.Module):
    """Frozen nn.Linear plus a trainable low-rank update (alpha / r) * B @ A."""

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16.0):
        super().__init__()
        base.requires_grad_(False)
        self.base = base
        like = {"dtype": base.weight.dtype, "device": base.weight.device}
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, **like))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.lora_B = nn.Parameter(nn.init.zeros_(torch.empty(base.out_features, r, **like)))
        self.scaling = alpha / r

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low_rank = F.linear(F.linear(x, self.lora_A), self.lora_B)  # x A^T B^T
        return self.base(x) + self.scaling * low_rank


def sft_example(tokenizer, messages: list[dict[str, str]], answer: str) -> dict[str, list[int]]:
    """Prompt + answer + EOS as input_ids; labels are -100 on the prompt."""
    rendered = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    prompt_ids = list(tokenizer(rendered, add_special_tokens=False)["input_ids"])
    answer_ids = [*tokenizer(answer, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
    labels = [-100 for _ in prompt_ids] + answer_ids
    return {"input_ids": prompt_ids + answer_ids, "labels": labels}
''',
}
