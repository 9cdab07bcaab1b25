"""Decoding throughput of SmolLM2 with :func:`funlm.models.decoding.generate_tokens`.

``python -m funlm.bench_decode`` (or ``make bench-decode``) decodes after chapter 6's
ReAct prompts (a long shared prefix: instructions, tools and few-shot trajectories; then each
task's question) at batch sizes 1, 8 and 32 and prints, for each, the tokens per second of

- ``decode``: the steady state, one new token per row per step (the time of a call that
  decodes ``--new-tokens + 1`` tokens minus that of a call that decodes 1, i.e. without the
  prefill);
- ``end-to-end``: the whole call, the prefill of every row's own tokens included.

EOS is ignored, so every row decodes exactly the asked number of tokens; the shared prefix is
computed once beforehand (reported apart). The load average before and after and
``OMP_WAIT_POLICY`` are printed too: on a shared 2-core machine both change the figure a lot
(the Makefile exports ``OMP_WAIT_POLICY=PASSIVE``, which costs throughput on a quiet machine
but protects a busy one).

This is a benchmark, not a test. Greedy decoding, float32, the profile's device.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from typing import Any

DEFAULT_BATCHES = (1, 8, 32)


def bench_prompts(n: int) -> list[str]:
    """``n`` chapter 6 ReAct prompts (the first step of a task), repeating tasks if needed."""
    from funlm.agents import ReActPrompt, default_registry, load_tasks

    tasks = load_tasks()
    prompt = ReActPrompt(default_registry())
    return [prompt.render(tasks[i % len(tasks)].question) for i in range(n)]


def run(
    batches: Sequence[int] = DEFAULT_BATCHES,
    *,
    new_tokens: int = 32,
    repeats: int = 2,
    device: str | None = None,
) -> dict[str, Any]:
    """Time greedy decoding at each batch size; the best of ``repeats`` runs of each call counts."""
    import torch

    from funlm.models.decoding import PrefixCache, generate_tokens, shared_prefix_length
    from funlm.models.small_lm import load_small_lm

    load_before = os.getloadavg()
    model, tokenizer = load_small_lm(device=device)
    rows = [tokenizer.encode(p, add_special_tokens=False) for p in bench_prompts(max(batches))]
    shared = shared_prefix_length(rows)
    start = time.perf_counter()
    prefix = PrefixCache.build(model, rows[0][:shared])
    prefix_seconds = time.perf_counter() - start
    suffixes = [r[shared:] for r in rows]

    def timed(batch: int, n_tokens: int) -> float:
        start = time.perf_counter()
        out = generate_tokens(
            model,
            suffixes[:batch],
            prefix=prefix,
            max_new_tokens=n_tokens,
            eos_token_id=None,
            pad_token_id=tokenizer.pad_token_id,
        )
        seconds = time.perf_counter() - start
        if out.row_steps != batch * n_tokens:
            raise RuntimeError(f"{out.row_steps} tokens decoded, expected {batch * n_tokens}")
        return seconds

    timed(1, 2)  # warm-up: first calls allocate and pick kernels
    results = []
    for batch in batches:
        first = min(timed(batch, 1) for _ in range(repeats))  # prefill + first token
        total = min(timed(batch, new_tokens + 1) for _ in range(repeats))
        decode = max(total - first, 1e-9)
        row = {
            "batch": batch,
            "prefill_seconds": round(first, 2),
            "decode_seconds": round(decode, 2),
            "decode_tokens_per_second": round(batch * new_tokens / decode, 1),
            "end_to_end_tokens_per_second": round(batch * (new_tokens + 1) / total, 1),
        }
        results.append(row)
        print(
            f"batch {batch:>3}: decode {row['decode_tokens_per_second']:7.1f} tokens/s, "
            f"end-to-end {row['end_to_end_tokens_per_second']:7.1f} tokens/s "
            f"(prefill {first:.2f} s, {new_tokens} steps {decode:.2f} s)",
            flush=True,
        )
    return {
        "model": "SmolLM2-135M-Instruct",
        "device": str(next(model.parameters()).device),
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
        "new_tokens_per_row": new_tokens,
        "prefix_tokens": shared,
        "prefix_seconds": round(prefix_seconds, 2),
        "row_tokens": [len(s) for s in suffixes[: max(batches)]],
        "results": results,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--batches", default=",".join(map(str, DEFAULT_BATCHES)), help="batch sizes, e.g. 1,8,32"
    )
    parser.add_argument("--new-tokens", type=int, default=32, help="tokens decoded per row")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each call (best)")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the profile's)")
    args = parser.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",") if b.strip()]
    report = run(batches, new_tokens=args.new_tokens, repeats=args.repeats, device=args.device)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
