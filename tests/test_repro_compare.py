"""`python -m funlm.repro chNN --compare FILE`: a learner's record beside the book's, no run."""

from __future__ import annotations

import copy
import json

import pytest

import funlm.repro.__main__ as repro_main
from funlm.repro.compare import compare_records, verdict


@pytest.fixture
def book(repo_root) -> dict:
    return json.loads((repo_root / "results/repro/ch03-cpu.json").read_text("utf-8"))


@pytest.fixture(autouse=True)
def no_runs(monkeypatch):
    """--compare FILE must never run the chapter."""

    def refuse(*args, **kwargs):
        raise AssertionError("--compare FILE ran the reproduction")

    monkeypatch.setattr(repro_main, "run_chapter", refuse)


def _compare(tmp_path, mine: dict, book: dict, capsys) -> tuple[int, dict, str]:
    mine_path, book_path = tmp_path / "mine.json", tmp_path / "book.json"
    mine_path.write_text(json.dumps(mine), "utf-8")
    book_path.write_text(json.dumps(book), "utf-8")
    status = repro_main.main(["ch03", "--compare", str(mine_path), "--reference", str(book_path)])
    out = capsys.readouterr().out
    return status, json.loads(out.strip().splitlines()[-1]), out


def test_the_books_own_record_agrees_with_itself(tmp_path, book, capsys):
    status, result, out = _compare(tmp_path, book, book, capsys)
    assert status == 0 and result["agree"] and result["compared"] > 20
    assert "min_acc.gold_k8" in out and "책의 기록" in out and "모두" in out


def test_a_number_outside_its_band_is_named(tmp_path, book, capsys):
    mine = copy.deepcopy(book)
    mine["min_acc"]["gold_k8"] = book["min_acc"]["gold_k8"] - 0.2
    mine["min_acc"]["random_k8"] = book["min_acc"]["random_k8"] + 0.01  # within 0.05
    mine["seconds"] = book["seconds"] * 5  # a slower machine is not a disagreement
    status, result, out = _compare(tmp_path, mine, book, capsys)
    assert status == 1 and result["outside"] == ["min_acc.gold_k8"]
    assert "벗어납니다" in out


def test_the_records_interval_is_the_band_where_there_is_one(book):
    book = dict(book, intervals={"min_gap_k8": {"mean": 0.28, "lo": 0.1, "hi": 0.45, "n": 64}})
    mine = dict(book, min_gap_k8=0.44)  # far outside the stated tolerance, inside the interval
    rows = {row.key: row for row in compare_records(mine, book)}
    assert rows["min_gap_k8"].source == "interval"
    assert rows["min_gap_k8"].band == (0.1, 0.45) and rows["min_gap_k8"].agrees
    outside = {row.key: row for row in compare_records(dict(book, min_gap_k8=0.46), book)}
    assert not outside["min_gap_k8"].agrees


def test_a_flipped_criterion_or_a_missing_number_disagrees(book):
    book = copy.deepcopy(book)
    book["induction"]["holds"] = True  # a yes/no claim under a headline key
    flipped = copy.deepcopy(book)
    flipped["induction"]["holds"] = False
    assert verdict(compare_records(flipped, book))["outside"] == ["induction.holds"]
    del flipped["induction"]["max_induction_score"]
    result = verdict(compare_records(flipped, book))
    assert result["outside"] == ["induction.max_induction_score", "induction.holds"]
    assert not result["agree"]


def test_wrong_chapter_and_missing_reference_are_one_line(tmp_path, book, capsys):
    other = tmp_path / "ch04.json"
    other.write_text(json.dumps(dict(book, chapter="ch04")), "utf-8")
    assert repro_main.main(["ch03", "--compare", str(other)]) == 2
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps(book), "utf-8")
    missing = tmp_path / "nowhere.json"
    assert repro_main.main(["ch03", "--compare", str(mine), "--reference", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "Traceback" not in err and "책의 기록이 없습니다" in err


def test_a_missing_model_wheel_is_one_line_not_a_traceback(monkeypatch, capsys):
    from funlm.models.small_lm import SmallLMUnavailable

    def missing(*args, **kwargs):
        raise SmallLMUnavailable(
            "모델을 찾을 수 없습니다: `pip install x`\nmodel missing: `pip install x`"
        )

    monkeypatch.setattr(repro_main, "run_chapter", missing)
    assert repro_main.main(["ch03", "--profile", "grade"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install x" in err and "model missing" in err
