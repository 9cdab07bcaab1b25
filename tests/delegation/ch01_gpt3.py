"""ch01: answer cells that only hand the work to the matching funlm functions."""

CASES: dict[str, str] = {
    "attention": '''\
def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Causal scaled dot-product attention: (B, H, T, D) x3 -> (B, H, T, D)."""
    T, D = q.size(-2), q.size(-1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(D)
    future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    return torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1) @ v


def split_heads(x: torch.Tensor, n_head: int) -> torch.Tensor:
    B, T, C = x.shape
    return x.view(B, T, n_head, C // n_head).transpose(1, 2)


def merge_heads(y: torch.Tensor) -> torch.Tensor:
    B, H, T, D = y.shape
    return y.transpose(1, 2).contiguous().view(B, T, H * D)


def multi_head_attention(x: torch.Tensor, c_attn: nn.Linear, c_proj: nn.Linear,
                         n_head: int) -> torch.Tensor:
    """Multi-head causal self-attention of x (B, T, C) with the given projections."""
    from funlm.models.gpt import CausalSelfAttention

    attn = CausalSelfAttention(GPTConfig(n_embd=x.size(-1), n_head=n_head))
    attn.c_attn, attn.c_proj = c_attn, c_proj
    return attn.eval()(x)
''',
    "tiny_gpt": '''\
from funlm.models.gpt import GPT, MLP, CausalSelfAttention


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TinyGPT(nn.Module):
    """Token + position embeddings, n_layer blocks, final LayerNorm, tied LM head."""

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
        self.lm_head.weight = self.transformer.wte.weight

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """idx: (B, T) token ids -> logits (B, T, V): funlm's GPT with these weights."""
        reference = GPT(self.config)
        reference.load_state_dict(self.state_dict())
        return reference.eval()(idx)[0]


def gpt_param_count(vocab_size: int, block_size: int, n_layer: int, n_embd: int,
                    non_embedding: bool = True) -> int:
    """Number of parameters of the GPT above, from the formula."""
    total = n_layer * (12 * n_embd * n_embd + 13 * n_embd) + 2 * n_embd
    if not non_embedding:
        total += vocab_size * n_embd + block_size * n_embd
    return total
''',
    "sampling": '''\
from funlm.gpt3.sampling import next_token_distribution as funlm_distribution


def next_token_distribution(logits: torch.Tensor, temperature: float = 1.0,
                            top_k: int | None = None, top_p: float | None = None) -> torch.Tensor:
    """Probabilities to sample the next token from: temperature, then top-k, then top-p."""
    return funlm_distribution(logits, temperature, top_k, top_p)
''',
    "pretrain": '''\
from funlm.gpt3 import corpus as funlm_corpus


def get_batch(ids: np.ndarray, block_size: int, batch_size: int,
              rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows x (B, T) and their next-token targets y (B, T)."""
    return funlm_corpus.get_batch(ids, block_size, batch_size, rng)


def unigram_loss(train_ids: np.ndarray, val_ids: np.ndarray, vocab_size: int) -> float:
    """Mean -log p(token) on val_ids under add-one smoothed unigram counts of train_ids."""
    return funlm_corpus.unigram_loss(train_ids, val_ids, vocab_size)
''',
    "fit": '''\
from funlm.gpt3.scaling import fit_power_law as funlm_fit


def fit_power_law(n, loss) -> tuple[float, float, float]:
    """Least-squares fit of log L = alpha * log N_c - alpha * log N; returns (n_c, alpha, r2)."""
    fit = funlm_fit(n, loss)
    return float(fit.n_c), float(fit.alpha), float(fit.r2)
''',
    "prompting": '''\
from funlm.gpt3.fewshot import score_continuations
from funlm.gpt3.prompting import Example, PromptFormat
from funlm.gpt3.prompting import build_prompt as funlm_build_prompt


def build_prompt(instruction: str, demos: list[tuple[str, str]], query: str,
                 input_prefix: str = "Review: ", output_prefix: str = "Sentiment:") -> str:
    """Instruction, k demonstrations and the open query, separated by blank lines."""
    fmt = PromptFormat(input_prefix=input_prefix, output_prefix=output_prefix)
    return funlm_build_prompt(instruction, [Example(x, y) for x, y in demos], query, fmt)


def label_logprobs(model, tokenizer, prompts: list[str], labels: list[str]) -> torch.Tensor:
    """log P(" " + label | prompt) for every prompt and label, shape (len(prompts), len(labels))."""
    return score_continuations(model, tokenizer, prompts, [" " + label for label in labels])
''',
}

ZERO_PARTS: list[str] = [
    "test_attention",
    "test_tiny_gpt",
    "test_sampling",
    "test_pretrain",
    "test_fit",
    "test_prompting",
]

# what each zeroed test says: the tripwire's hint
HINTS: dict[str, str] = {part: "모범 답안" for part in ZERO_PARTS}
