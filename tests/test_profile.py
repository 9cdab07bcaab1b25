from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import funlm
from funlm.profile import PROFILES, ProfileError


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
