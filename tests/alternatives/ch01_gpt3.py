"""ch01: correct answers written differently from the reference solution."""

CASES: dict[str, str] = {
    # einsum scores on pre-scaled queries, a lower-triangular mask applied with torch.where,
    # heads split by chunk + stack and merged by unbind + cat, q/k/v taken from a (B, T, 3, C) view
    "attention": """\
def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    T, D = q.shape[-2], q.shape[-1]
    scores = torch.einsum("bhtd,bhsd->bhts", q * D**-0.5, k)
    allowed = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    scores = torch.where(allowed, scores, torch.full_like(scores, float("-inf")))
    weights = F.softmax(scores, dim=-1)
    return torch.einsum("bhts,bhsd->bhtd", weights, v)


def split_heads(x: torch.Tensor, n_head: int) -> torch.Tensor:
    # chunk h holds channels h*D ... (h+1)*D - 1
    return torch.stack(x.chunk(n_head, dim=-1), dim=1)


def merge_heads(y: torch.Tensor) -> torch.Tensor:
    return torch.cat(y.unbind(dim=1), dim=-1)


def multi_head_attention(x: torch.Tensor, c_attn: nn.Linear, c_proj: nn.Linear,
                         n_head: int) -> torch.Tensor:
    B, T, C = x.shape
    q, k, v = c_attn(x).reshape(B, T, 3, C).unbind(dim=2)
    heads = [split_heads(t, n_head) for t in (q, k, v)]
    return c_proj(merge_heads(causal_attention(*heads)))
""",
    # the block reuses part 1's multi_head_attention and spells out the MLP; the model folds the
    # blocks with functools.reduce and projects with the (tied) embedding matrix directly;
    # the parameter count adds up helper counts for every module
    "tiny_gpt": """\
import functools

from funlm.models.gpt import MLP, CausalSelfAttention  # the two halves of a block


class Block(nn.Module):
    \"\"\"Pre-norm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)).\"\"\"

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        attn, mlp = self.attn, self.mlp
        h = self.ln_1(x)
        x = x + multi_head_attention(h, attn.c_attn, attn.c_proj, attn.n_head)
        h = self.ln_2(x)
        hidden = F.gelu(mlp.c_fc(h), approximate="tanh")
        return x + mlp.c_proj(hidden)


class TinyGPT(nn.Module):
    \"\"\"Token + position embeddings, n_layer blocks, final LayerNorm, tied LM head.\"\"\"

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # weight tying

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        B, T = idx.shape
        positions = torch.arange(T, device=idx.device).unsqueeze(0).expand(B, T)
        x = self.transformer.wte(idx) + self.transformer.wpe(positions)
        x = functools.reduce(lambda h, block: block(h), self.transformer.h, x)
        # lm_head shares wte's matrix, so project onto the embeddings directly
        return self.transformer.ln_f(x) @ self.transformer.wte.weight.T


def gpt_param_count(vocab_size: int, block_size: int, n_layer: int, n_embd: int,
                    non_embedding: bool = True) -> int:
    def linear(n_in, n_out):
        return n_in * n_out + n_out

    def layer_norm(n):
        return 2 * n

    C = n_embd
    block_modules = [
        layer_norm(C), linear(C, 3 * C), linear(C, C),  # ln_1, attention
        layer_norm(C), linear(C, 4 * C), linear(4 * C, C),  # ln_2, MLP
    ]
    count = n_layer * sum(block_modules) + layer_norm(C)  # + ln_f
    if not non_embedding:
        count += (vocab_size + block_size) * C  # wte and wpe; lm_head is tied to wte
    return int(count)
""",
    # everything done once in sorted order: a keep-mask for top-k and top-p, exclusive cumsum by
    # shifting, then the probabilities scattered back; greedy through F.one_hot
    "sampling": """\
def next_token_distribution(logits: torch.Tensor, temperature: float = 1.0,
                            top_k: int | None = None, top_p: float | None = None) -> torch.Tensor:
    logits = logits.to(torch.float32)
    V = logits.shape[0]
    if temperature == 0:
        return F.one_hot(torch.argmax(logits), V).to(torch.float32)
    sorted_logits, order = torch.sort(logits / temperature, descending=True)
    keep = torch.ones(V, dtype=torch.bool)
    if top_k is not None:
        keep[top_k:] = False
    neg_inf = torch.full_like(sorted_logits, float("-inf"))
    if top_p is not None:
        p = F.softmax(torch.where(keep, sorted_logits, neg_inf), dim=0)
        mass_before = torch.cat([p.new_zeros(1), torch.cumsum(p, dim=0)[:-1]])
        keep = keep & (mass_before < top_p)
    sorted_probs = F.softmax(torch.where(keep, sorted_logits, neg_inf), dim=0)
    return torch.zeros_like(sorted_probs).scatter(0, order, sorted_probs)
""",
    # one rng.integers draw per row, windows of block_size + 1 by fancy indexing in torch;
    # add-one counts with np.add.at and the loss as log(total) - mean log(count)
    "pretrain": """\
def get_batch(ids: np.ndarray, block_size: int, batch_size: int,
              rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    data = torch.as_tensor(np.asarray(ids)).long()
    last_start = len(data) - block_size - 1
    starts = torch.tensor([int(rng.integers(0, last_start + 1)) for _ in range(batch_size)])
    windows = data[starts[:, None] + torch.arange(block_size + 1)]  # (B, T + 1)
    return windows[:, :-1].clone(), windows[:, 1:].clone()


def unigram_loss(train_ids: np.ndarray, val_ids: np.ndarray, vocab_size: int) -> float:
    counts = np.ones(vocab_size, dtype=np.float64)
    np.add.at(counts, np.asarray(train_ids, dtype=np.int64), 1.0)
    val_counts = counts[np.asarray(val_ids, dtype=np.int64)]
    return float(math.log(counts.sum()) - np.log(val_counts).mean())
""",
    # the statistics module: linear_regression for the line, squared correlation for R^2
    "fit": """\
import statistics


def fit_power_law(n, loss) -> tuple[float, float, float]:
    log_n = [math.log(float(value)) for value in n]
    log_loss = [math.log(float(value)) for value in loss]
    slope, intercept = statistics.linear_regression(log_n, log_loss)
    alpha = -slope
    # for a least-squares line with intercept, R^2 is the squared correlation
    r2 = statistics.correlation(log_n, log_loss) ** 2
    return math.exp(intercept / alpha), float(alpha), float(r2)
""",
    # the prompt grown piece by piece; label ids through encode, log_softmax in float64 and the
    # label columns picked with index_select
    "prompting": r"""def build_prompt(instruction: str, demos: list[tuple[str, str]], query: str,
                 input_prefix: str = "Review: ", output_prefix: str = "Sentiment:") -> str:
    text = instruction + "\n\n" if instruction else ""
    for example_input, example_output in demos:
        text += input_prefix + example_input + "\n" + output_prefix + " " + example_output + "\n\n"
    return text + input_prefix + query + "\n" + output_prefix


def label_logprobs(model, tokenizer, prompts: list[str], labels: list[str]) -> torch.Tensor:
    label_ids = torch.tensor([tokenizer.encode(" " + label, add_special_tokens=False)[0]
                              for label in labels])
    encoded = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    model.eval()
    with torch.inference_mode():
        out = model(input_ids=encoded["input_ids"].to(model.device),
                    attention_mask=encoded["attention_mask"].to(model.device))
        last = out.logits[:, -1, :].to("cpu", torch.float64)  # left padding: real last token
        logp = F.log_softmax(last, dim=-1)
        return torch.index_select(logp, 1, label_ids).float()
""",
}
