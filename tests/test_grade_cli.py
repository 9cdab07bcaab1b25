"""`funlm-grade`: bad input to the command itself, and batches that need no kernel."""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.benches import hostile
from autograder.grading import cli, sandbox

GRADE = [sys.executable, "-m", "autograder.grading.cli"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*GRADE, *args], capture_output=True, text=True, timeout=300)


def _one_error_line(result: subprocess.CompletedProcess, text: str) -> None:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("funlm-grade: error: ") and text in lines[0], lines[0]


@pytest.fixture
def folder(tmp_path) -> Path:
    submissions = tmp_path / "subs"
    submissions.mkdir()
    (submissions / "alice.ipynb").write_bytes(b"")
    return submissions


def test_unknown_assignment(folder, tmp_path):
    result = _run("ch99_nothing", str(folder), "--out", str(tmp_path / "out"))
    _one_error_line(result, "unknown assignment 'ch99_nothing'")
    assert not (tmp_path / "out").exists()


def test_missing_submissions(tmp_path):
    result = _run("ch00_orientation", str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    _one_error_line(result, "submissions not found")


def test_unreadable_zip(tmp_path):
    bad = tmp_path / "class.zip"
    bad.write_bytes(b"this is not a zip file")
    result = _run("ch00_orientation", str(bad), "--out", str(tmp_path / "out"))
    _one_error_line(result, "cannot read the zip file")


def test_out_not_writable(folder, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    result = _run("ch00_orientation", str(folder), "--out", str(blocker / "out"))
    _one_error_line(result, "is not writable")


def test_unreachable_database(folder, tmp_path):
    url = "postgresql+psycopg://grader@127.0.0.1:1/gradebook"
    result = _run("ch00_orientation", str(folder), "--out", str(tmp_path / "out"), "--db", url)
    _one_error_line(result, "cannot use the gradebook database")
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_no_sandbox_means_no_grading(folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    code = cli.run(["ch00_orientation", str(folder), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "--unsafe-no-sandbox" in err[0]
    assert not (tmp_path / "out" / "grades.csv").exists()


def _broken_class(folder: Path) -> None:
    ctx = hostile.Context(out=folder.parent / "out", canary=folder.parent / "canary")
    picked = [c for c in hostile.cases() if c.status == "error"]
    hostile.write(folder, ctx, picked)
    (folder / "no id!.ipynb").write_bytes(b"{}")


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "grades.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_ungradable_files_get_error_rows_feedback_and_the_same_csv_twice(tmp_path):
    folder = tmp_path / "subs"
    _broken_class(folder)
    out = tmp_path / "out"
    first = _run("ch00_orientation", str(folder), "--out", str(out), "--workers", "2")
    assert first.returncode == 0, first.stderr
    assert "skipped no id!.ipynb: no valid student id" in first.stderr
    csv_text = (out / "grades.csv").read_text()
    rows = _rows(out)
    assert list(rows[0])[:6] == cli.BASE_COLUMNS
    assert list(rows[0])[6:] == list(hostile.points())
    assert {r["student_id"]: r["status"] for r in rows} == {
        "empty-file": "error",
        "invalid-json": "error",
        "wrong-assignment": "error",
    }
    assert all(r["score"] == "0" and r["max_score"] == "100" for r in rows)
    for row in rows:
        assert (out / "feedback" / f"{row['student_id']}.html").is_file()
    again = _run("ch00_orientation", str(folder), "--out", str(out), "--workers", "1")
    assert again.returncode == 0
    assert (out / "grades.csv").read_text() == csv_text


@pytest.mark.slow
def test_unsafe_mode_says_so_in_every_row(tmp_path, monkeypatch):
    folder = tmp_path / "subs"
    _broken_class(folder)
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in folder.iterdir():
            handle.write(path, f"download/{path.name}")
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    code = cli.run(
        ["ch00_orientation", str(archive), "--out", str(tmp_path / "out"), "--unsafe-no-sandbox"]
    )
    assert code == 0
    rows = _rows(tmp_path / "out")
    assert len(rows) == 3
    assert all(r["reason"].startswith(cli.UNSAFE_REASON) for r in rows)
