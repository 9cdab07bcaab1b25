"""ch00: answer cells that only hand the work to funlm (or to ``model.generate``)."""

CASES: dict[str, str] = {
    "next_token": '''\
from funlm.gpt3.widgets import next_token_logits


def next_token_probs(model, tokenizer, prompt: str) -> torch.Tensor:
    """Probability of every vocabulary token following `prompt`; shape (vocab_size,)."""
    return torch.softmax(next_token_logits(model, tokenizer, prompt), dim=-1)


def top_k_tokens(probs: torch.Tensor, tokenizer, k: int) -> list[tuple[str, float]]:
    """The `k` most likely tokens as (decoded token, probability), most likely first."""
    values, indices = torch.topk(probs, k)
    return [(tokenizer.decode([int(i)]), float(v)) for v, i in zip(values, indices)]
''',
    "greedy": '''\
def greedy_decode(model, input_ids: torch.Tensor, max_new_tokens: int,
                  eos_token_id: int | None = None) -> torch.Tensor:
    """Greedy generation, one token at a time; returns prompt + new tokens, shape (1, T + n)."""
    return model.generate(input_ids, attention_mask=torch.ones_like(input_ids),
                          max_new_tokens=max_new_tokens, do_sample=False,
                          eos_token_id=eos_token_id, pad_token_id=eos_token_id)
''',
}

ZERO_PARTS: list[str] = ["test_next_token", "test_greedy"]

# what each zeroed test says (the tripwire's hint, or the test's own refusal)
HINTS: dict[str, str] = {"test_next_token": "모범 답안", "test_greedy": "model.generate"}
