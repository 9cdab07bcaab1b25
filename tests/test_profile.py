from __future__ import annotations

import importlib
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

import funlm
from funlm.profile import PROFILES, ProfileError

# the module (the package attribute `funlm.profile` is the function of the same name)
profile_module = importlib.import_module("funlm.profile")


def test_default_profile_is_cpu(monkeypatch):
    monkeypatch.delenv("FUNLM_PROFILE", raising=False)
    assert funlm.profile().name == "cpu"


@pytest.mark.parametrize("name", PROFILES)
def test_profile_from_environment(monkeypatch, name):
    monkeypatch.setenv("FUNLM_PROFILE", name)
    assert funlm.profile().name == name


def test_grade_profile_always_uses_cpu(monkeypatch):
    monkeypatch.setenv("FUNLM_PROFILE", "grade")
    monkeypatch.delenv("FUNLM_DEVICE", raising=False)
    assert funlm.profile().device == "cpu"


def test_device_override(monkeypatch):
    monkeypatch.setenv("FUNLM_DEVICE", "meta")
    assert funlm.profile("cpu").device == "meta"


def _fake_machine(monkeypatch, *, cuda: bool, mps: bool) -> None:
    monkeypatch.setattr(profile_module, "_cuda_available", lambda: cuda)
    monkeypatch.setattr(profile_module, "_mps_available", lambda: mps)
    monkeypatch.delenv("FUNLM_DEVICE", raising=False)


def test_a_mac_runs_the_cpu_profile_on_the_cpu(monkeypatch):
    """MPS gives numbers that differ from the book's CPU records: opt-in only."""
    _fake_machine(monkeypatch, cuda=False, mps=True)
    assert funlm.profile("cpu").device == "cpu"
    assert funlm.profile("grade").device == "cpu"
    assert funlm.profile("gpu").device == "mps"
    monkeypatch.setenv("FUNLM_DEVICE", "mps")
    assert funlm.profile("cpu").device == "mps"


def test_cuda_is_used_when_present(monkeypatch):
    _fake_machine(monkeypatch, cuda=True, mps=False)
    assert funlm.profile("cpu").device == "cuda"
    assert funlm.profile("gpu").device == "cuda"
    assert funlm.profile("grade").device == "cpu"


@pytest.mark.parametrize(
    ("value", "cuda", "mps", "fragment"),
    [("mps", False, False, "MPS"), ("cuda", False, True, "CUDA"), ("tpu", True, True, "tpu")],
)
def test_a_device_the_machine_lacks_is_one_line_with_the_fix(
    monkeypatch, value, cuda, mps, fragment
):
    _fake_machine(monkeypatch, cuda=cuda, mps=mps)
    monkeypatch.setenv("FUNLM_DEVICE", value)
    with pytest.raises(ProfileError) as error:
        funlm.profile("cpu")
    message = str(error.value)
    assert fragment in message and "unset FUNLM_DEVICE" in message
    assert "\n" not in message
    assert re.search(r"[\uac00-\ud7a3]", message), "the message starts in Korean"


def test_unknown_profile_lists_valid_ones(monkeypatch):
    monkeypatch.setenv("FUNLM_PROFILE", "nonsense")
    with pytest.raises(ProfileError) as error:
        funlm.profile()
    message = str(error.value)
    assert "nonsense" in message
    for name in PROFILES:
        assert name in message


def test_pick_returns_the_active_profiles_value():
    assert funlm.profile("grade").pick(cpu=100, gpu=1000, grade=10) == 10
    assert funlm.profile("cpu").pick(cpu=100, gpu=1000, grade=10) == 100


def test_seed_everything_repeats_random_streams():
    funlm.seed_everything(123)
    first = (torch.rand(3), np.random.rand(3))
    funlm.seed_everything(123)
    second = (torch.rand(3), np.random.rand(3))
    assert torch.equal(first[0], second[0])
    assert np.array_equal(first[1], second[1])


def test_import_is_cheap():
    """`import funlm` must not import torch/transformers or load a model."""
    code = (
        "import sys, funlm; print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
