"""``funlm.repro.summary``: the table of measured numbers that chapter 7 shows."""

from __future__ import annotations

import json

from funlm.repro.summary import (
    NO_RESULTS,
    command_for,
    default_results_dir,
    flatten,
    format_interval,
    format_value,
    load_results,
    missing_chapters,
    to_html,
    to_markdown,
)


def _write(folder, name, data):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(data), encoding="utf-8")


def test_no_results_is_a_clean_message(tmp_path):
    results = load_results(tmp_path / "absent", "cpu")
    assert results == []
    assert NO_RESULTS in to_markdown(results)
    assert NO_RESULTS in to_html(results)
    assert missing_chapters(results, ["ch01", "ch06"]) == ["ch01", "ch06"]
    assert command_for("ch06") == (
        "python -m funlm.repro ch06 --profile cpu --out results/repro/ch06-cpu.json"
    )


def test_reads_only_the_requested_profile_and_uses_headline_keys(tmp_path):
    folder = tmp_path / "results" / "repro"
    ch06 = {
        "chapter": "ch06",
        "profile": "cpu",
        "success_with_tools": 0.5,
        "success_without_tools": 0.25,
        "avg_steps": 2.0,
        "parse_error_rate": 0.125,
        "injection_blocked": 1.0,
        "n_tasks": 36,
        "not_a_headline": 123,
        "seconds": 300.0,
    }
    _write(folder, "ch06-cpu.json", ch06)
    _write(folder, "ch06-grade.json", {**ch06, "success_with_tools": 0.0})
    _write(folder, "ch99-cpu.json", {"x": {"y": 0.123456, "curve": list(range(20))}, "ok": True})
    (folder / "ch05-cpu.json").write_text("{broken", encoding="utf-8")
    (folder / "notes.json").write_text("{}", encoding="utf-8")
    results = load_results(folder, "cpu")
    assert [r.chapter for r in results] == ["ch06", "ch99"]
    table = to_markdown(results)
    assert "| ch06 | `success_with_tools` | 0.5 |  |" in table
    assert "not_a_headline" not in table  # ch06 has HEADLINE_KEYS
    assert "| ch99 | `x.y` | 0.123 |" in table  # unknown chapter: every key, flattened
    assert "| ch99 | `ok` | yes |" in table
    assert "curve" not in table  # long lists are curves, not headline numbers
    assert "| ch06 | `seconds` | 300 |" in table
    assert "<td>0.125</td>" in to_html(results)
    assert missing_chapters(results, ["ch05", "ch06"]) == ["ch05"]


def test_default_results_dir_finds_the_repository_root(tmp_path, monkeypatch, repo_root):
    monkeypatch.delenv("FUNLM_RESULTS", raising=False)
    assert default_results_dir(repo_root / "book" / "ch07_outro") == repo_root / "results" / "repro"
    assert default_results_dir(tmp_path) == tmp_path / "results" / "repro"
    monkeypatch.setenv("FUNLM_RESULTS", str(tmp_path / "elsewhere"))
    assert default_results_dir(repo_root) == tmp_path / "elsewhere"


def test_format_and_flatten():
    assert format_value(0.123456) == "0.123" and format_value(True) == "yes"
    assert format_value([1.23456, 2]) == "[1.23, 2]"
    assert format_value("x" * 200).endswith("…") and len(format_value("x" * 200)) == 80
    assert flatten("a", {"b": {"c": 1}, "d": 2}) == [("a.b.c", 1), ("a.d", 2)]
    assert flatten("a", {}) == [("a", {})]


def test_gpu_check_summary_renders_every_job_and_its_result(tmp_path):
    from funlm.repro.summary import gpu_check_markdown, load_gpu_check

    assert load_gpu_check(tmp_path / "absent.json") is None
    summary = {
        "executor": "inprocess",
        "parallel_jobs": 4,
        "timeout_s": 420,
        "wall_seconds": 300.5,
        "device": {"gpu": "NVIDIA H200", "torch": "2.11.0", "python": "3.12.3", "cpu_count": 16},
        "jobs": [
            {"kind": "repro", "name": "ch01", "ok": True, "seconds": 120.04, "timed_out": False},
            {"kind": "notebook", "name": "ch05_small_lm", "ok": False, "seconds": 420.0,
             "timed_out": True},
            {"kind": "notebook", "name": "ch06_agents", "ok": False, "seconds": 3.0,
             "timed_out": False, "error_tail": "Traceback ...\n  x = y\nRuntimeError: a | b\n"},
        ],
    }  # fmt: skip
    _write(tmp_path, "gpu-check.json", summary)
    loaded = load_gpu_check(tmp_path / "gpu-check.json")
    text = gpu_check_markdown(loaded)
    assert "NVIDIA H200" in text and "inprocess" in text
    assert "| repro | ch01 | ok | 120 | 1 |  |" in text
    assert "| notebook | ch05_small_lm | time limit | 420 | 1 |  |" in text
    # a failed job shows the last line of its error, escaped for the table
    assert "| notebook | ch06_agents | failed | 3 | 1 | RuntimeError: a \\| b |" in text


def test_example_outputs_are_not_headline_rows(tmp_path):
    data = {"specialised_vs_prompted": {"specialised_acc": 0.7, "method": "LoRA", "examples": {}}}
    _write(tmp_path, "ch05-cpu.json", {**data, "seconds": 1.0})
    table = to_markdown(load_results(tmp_path, "cpu"))
    assert "specialised_acc" in table
    assert "method" not in table and "examples" not in table


def test_intervals_are_shown_where_records_carry_them(tmp_path):
    from funlm.stats import paired_bootstrap_diff

    gap = paired_bootstrap_diff([1, 1, 0, 1, 0, 1, 1, 0], [0, 1, 0, 0, 0, 1, 0, 0])
    with_intervals = {
        "success_with_tools": 0.1667,
        "intervals": {
            "react_minus_act": gap.as_record(),
            "broken": {"mean": 0.1},  # no lo/hi: skipped, not a crash
            "not_a_dict": 3,
        },
        "seconds": 10.0,
    }
    _write(tmp_path, "ch06-cpu.json", with_intervals)
    _write(tmp_path, "ch01-cpu.json", {"scaling_alpha": 0.19, "seconds": 5.0})  # no intervals
    results = load_results(tmp_path, "cpu")
    ch01, ch06 = results
    assert ch01.intervals() == []
    (row,) = ch06.intervals()
    assert row.name == "react_minus_act" and row.n == 8 and row.level == 0.95
    assert row.lo <= row.mean <= row.hi and row.contains_zero == (row.lo <= 0 <= row.hi)
    table = to_markdown(results)
    lo, hi = format_value(row.lo), format_value(row.hi)
    mean = format_value(row.mean)
    assert f"| ch06 | `intervals.react_minus_act` | {mean} | [{lo}, {hi}] (95%, n=8) |" in table
    assert "broken" not in table and "not_a_dict" not in table
    assert "| ch01 | `scaling_alpha` | 0.19 |  |" in table  # a record without intervals
    assert "<td>[" in to_html(results)
    assert format_interval(row) == f"[{lo}, {hi}] (95%, n=8)"
