"""The book's ``{repro}`` role: numbers in the prose are read from results/repro/*.json."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))

from funlm_repro import ResultError, lookup, parse_target, render, results_dir

DATA = {"rm_accuracy": 0.8597, "kl_by_beta": {"0.1": 3.4266}, "curve": [[0, 4.19], [100, 3.4]]}


def test_target_names_file_keys_and_format():
    assert parse_target("ch02:rm_accuracy") == ("ch02-cpu", ["rm_accuracy"], "")
    assert parse_target("ch03-gpu:a/b|.2f") == ("ch03-gpu", ["a", "b"], ".2f")
    with pytest.raises(ResultError):
        parse_target("rm_accuracy")
    with pytest.raises(ResultError):
        parse_target("ch02:")


def test_lookup_walks_dicts_and_lists_and_names_what_is_missing():
    assert lookup(DATA, ["kl_by_beta", "0.1"]) == 3.4266
    assert lookup(DATA, ["curve", "1", "1"]) == 3.4
    with pytest.raises(ResultError, match=r"kl_by_beta/0\.3"):
        lookup(DATA, ["kl_by_beta", "0.3"])
    with pytest.raises(ResultError, match="curve/7"):
        lookup(DATA, ["curve", "7"])


def test_render_formats_numbers_and_refuses_whole_structures():
    assert render(0.85971) == "0.86"
    assert render(0.98314, ".3f") == "0.983"
    assert render(0.63, ".0%") == "63%"
    assert render(614400, ",") == "614,400"
    with pytest.raises(ResultError):
        render([1, 2])


def test_results_folder_is_beside_the_book(tmp_path):
    assert results_dir(tmp_path / "book", "book") == tmp_path / "results" / "repro"
