"""ch00: correct answers written differently from the reference solution."""

CASES: dict[str, str] = {
    # the tokenizer's __call__ instead of encode()
    "count_tokens": """\
def count_tokens(text: str, tokenizer) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])
""",
    # **encoded inputs, softmax as a tensor method, top-k by sorting a Python list
    "next_token": """\
def next_token_probs(model, tokenizer, prompt: str) -> torch.Tensor:
    encoded = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)
    model.eval()
    with torch.inference_mode():
        last = model(**encoded).logits[:, -1, :]
    return last.float().softmax(dim=-1)[0].to("cpu")


def top_k_tokens(probs, tokenizer, k):
    ranked = sorted(enumerate(probs.tolist()), key=lambda pair: pair[1], reverse=True)
    return [(tokenizer.decode([index]), float(p)) for index, p in ranked[:k]]
""",
    # a while loop over a Python list of ids, rebuilt as a tensor each step
    "greedy": """\
def greedy_decode(model, input_ids, max_new_tokens, eos_token_id=None):
    tokens = input_ids[0].tolist()
    made = 0
    while made < max_new_tokens:
        batch = torch.tensor([tokens], device=input_ids.device)
        with torch.no_grad():
            next_id = int(torch.argmax(model(batch).logits[0, -1]))
        tokens.append(next_id)
        made += 1
        if next_id == eos_token_id:
            break
    return torch.tensor([tokens], dtype=torch.long, device=input_ids.device)
""",
    # messages built with a conditional list, generation through the student's own greedy loop
    "chat": """\
def build_chat_prompt(tokenizer, question, system=None):
    messages = ([{"role": "system", "content": system}] if system is not None else []) + [
        {"role": "user", "content": question}
    ]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def chat(model, tokenizer, question, max_new_tokens=40):
    prompt = build_chat_prompt(tokenizer, question)
    ids = torch.tensor([tokenizer.encode(prompt, add_special_tokens=False)], device=model.device)
    full = greedy_decode(model, ids, max_new_tokens, tokenizer.eos_token_id)
    return tokenizer.decode(full[0, ids.shape[1]:].tolist(), skip_special_tokens=True).strip()
""",
    # cross-entropy of the shifted sequence (what pretraining minimises)
    "perplexity": """\
import math

import torch.nn.functional as F


def perplexity(model, tokenizer, text):
    ids = tokenizer.encode(text, add_special_tokens=False, return_tensors="pt").to(model.device)
    with torch.no_grad():
        logits = model(ids).logits
    loss = F.cross_entropy(logits[0, :-1].float(), ids[0, 1:])
    return math.exp(loss.item())
""",
}
