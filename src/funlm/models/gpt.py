"""A small, readable GPT (decoder-only transformer) for teaching, after nanoGPT.

Read in order: attention -> MLP -> block -> config -> GPT. Shapes in comments use
B = batch, T = sequence length, C = n_embd, H = n_head, D = C // H (head size), V = vocab_size.

The same class serves every chapter that trains a model from scratch:
- chapter 1 pretrains it on a small corpus and sweeps its size for a scaling law;
- chapter 2 fine-tunes it (SFT, reward model head, DPO);
- chapter 3 trains it on in-context regression prompts (``forward(embeds=...)``) and, with
  ``use_mlp=False``, as an attention-only model whose attention patterns we inspect
  (``record_attention=True`` keeps the last forward pass's attention weights per layer).

Its parameter layout matches Hugging Face's GPT-2 so that a test can check our logits against
``transformers.GPT2LMHeadModel`` built from the same weights (:func:`from_hf_gpt2`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F

from funlm.answer_keys import answer_key
from funlm.models.draws import draw_multinomial


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t may only look at positions <= t."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        assert config.n_embd % config.n_head == 0, "n_embd must be divisible by n_head"
        self.n_head = config.n_head
        # one matrix computes queries, keys and values for all heads at once
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)
        self.record_attention = False
        self.last_attention: torch.Tensor | None = None  # (B, H, T, T) when recorded

    @answer_key
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)  # each (B, T, C)
        # split channels into heads: (B, T, C) -> (B, H, T, D)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        # scaled dot-product scores; dividing by sqrt(D) keeps the softmax from saturating
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))  # (B, H, T, T)
        future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        scores = scores.masked_fill(future, float("-inf"))  # no peeking at later tokens
        weights = F.softmax(scores, dim=-1)
        if self.record_attention:
            self.last_attention = weights.detach()
        y = self.dropout(weights) @ v  # (B, H, T, D)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-join the heads
        return self.dropout(self.c_proj(y))


class MLP(nn.Module):
    """Position-wise feed-forward network: expand 4x, GELU, project back."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate="tanh")  # GPT-2's GELU
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.use_mlp = config.use_mlp
        if config.use_mlp:
            self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
            self.mlp = MLP(config)

    @answer_key
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))  # tokens exchange information
        if self.use_mlp:
            x = x + self.mlp(self.ln_2(x))  # each token computes on its own
        return x


@dataclass
class GPTConfig:
    """Hyper-parameters of :class:`GPT` (the course's names: see the book's glossary)."""

    vocab_size: int = 256
    block_size: int = 128  # longest context the model can see
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True
    use_mlp: bool = True  # False gives an attention-only transformer (chapter 3)
    tie_weights: bool = True  # share token embedding and output projection, as GPT-2 does


class GPT(nn.Module):
    """Token + position embeddings, a stack of blocks, a final norm and the LM head."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_weights:
            self.lm_head.weight = self.transformer.wte.weight
        self.apply(self._init_weights)
        # GPT-2: scale the residual projections by 1/sqrt(2 * n_layer) at init
        for name, param in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(param, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    @answer_key
    def num_params(self, non_embedding: bool = True) -> int:
        """Parameter count; by default without the embeddings (Kaplan et al.'s N)."""
        total = sum(p.numel() for p in self.parameters())
        if non_embedding:
            total -= self.transformer.wte.weight.numel() + self.transformer.wpe.weight.numel()
        return total

    @answer_key
    def forward(
        self,
        idx: torch.Tensor | None = None,
        targets: torch.Tensor | None = None,
        *,
        embeds: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return ``(logits, loss)``; ``loss`` is None without ``targets``.

        ``idx``: (B, T) token ids, or ``embeds``: (B, T, C) input vectors (for tasks whose
        inputs are not tokens). ``targets``: (B, T) ids, with -100 for positions to ignore.
        """
        if (idx is None) == (embeds is None):
            raise ValueError("pass exactly one of idx or embeds")
        tok = self.transformer.wte(idx) if idx is not None else embeds  # (B, T, C)
        T = tok.shape[1]
        if T > self.config.block_size:
            raise ValueError(f"sequence length {T} > block_size {self.config.block_size}")
        pos = self.transformer.wpe(torch.arange(T, device=tok.device))  # (T, C)
        x = self.transformer.drop(tok + pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100
            )
        return logits, loss

    def record_attention(self, on: bool = True) -> None:
        """Keep each layer's attention weights from the next forward passes."""
        for block in self.transformer.h:
            block.attn.record_attention = on

    def attention_maps(self) -> list[torch.Tensor]:
        """Per layer, the attention weights (B, H, T, T) of the last recorded forward pass."""
        maps = [block.attn.last_attention for block in self.transformer.h]
        if any(m is None for m in maps):
            raise RuntimeError("call model.record_attention() and run a forward pass first")
        return maps  # type: ignore[return-value]

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Extend ``idx`` (B, T) by sampling; ``temperature=0`` means greedy."""
        for _ in range(max_new_tokens):
            context = idx[:, -self.config.block_size :]
            logits = self(context)[0][:, -1, :]  # (B, V)
            if temperature == 0:
                next_id = logits.argmax(dim=-1, keepdim=True)
            else:
                logits = logits / temperature
                if top_k is not None:
                    kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                probs = F.softmax(logits, dim=-1)
                next_id = draw_multinomial(probs, num_samples=1, generator=generator)
            idx = torch.cat([idx, next_id], dim=1)
        return idx


def from_hf_gpt2(hf_model: nn.Module) -> GPT:
    """A :class:`GPT` carrying the weights of a ``transformers.GPT2LMHeadModel``.

    GPT-2 stores its linear layers as ``Conv1D`` with transposed weights; we transpose them.
    """
    hf_config = hf_model.config
    config = GPTConfig(
        vocab_size=hf_config.vocab_size,
        block_size=hf_config.n_positions,
        n_layer=hf_config.n_layer,
        n_head=hf_config.n_head,
        n_embd=hf_config.n_embd,
        dropout=0.0,
        bias=True,
    )
    model = GPT(config)
    source = hf_model.state_dict()
    transposed = (
        "attn.c_attn.weight",
        "attn.c_proj.weight",
        "mlp.c_fc.weight",
        "mlp.c_proj.weight",
    )
    with torch.no_grad():
        for name, param in model.state_dict().items():
            if name.endswith("attn.bias") or name.endswith("attn.masked_bias"):
                continue
            value = source[name]
            if any(name.endswith(suffix) for suffix in transposed):
                value = value.t()
            param.copy_(value)
    return model
