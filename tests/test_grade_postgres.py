"""The gradebook on a real PostgreSQL server (started by the test from the `pgserver` wheel):
two parallel workers write to it, and re-grading keeps manual grades and the rest of the CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from autograder.benches import hostile
from autograder.grading import cli as grade

pgserver = pytest.importorskip("pgserver")


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory):
    server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="stop")
    try:
        server.psql("CREATE DATABASE gradebook;")
        uri = server.get_uri("gradebook")
        yield uri.replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        server.cleanup()


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open(encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


@pytest.mark.slow
def test_postgres_gradebook_parallel_workers_and_regrading(tmp_path, postgres_url, small_lm):
    from nbgrader.api import Gradebook

    folder = tmp_path / "subs"
    folder.mkdir()
    part1 = hostile.notebook({"count_tokens": hostile.solution_answer("count_tokens")})
    (folder / "kim.ipynb").write_text(hostile.nbformat.writes(part1), encoding="utf-8")
    (folder / "lee.ipynb").write_text(hostile.nbformat.writes(hostile.notebook()), encoding="utf-8")
    (folder / "park.ipynb").write_bytes(b"")
    out = tmp_path / "out"
    argv = ["ch00_orientation", str(folder), "--out", str(out), "--db", postgres_url]
    argv += ["--workers", "2", "--timeout", "60"]
    assert grade.run(argv) == 0
    first = _rows(out)
    assert {s: r["score"] for s, r in first.items()} == {"kim": "20", "lee": "0", "park": "0"}
    assert first["park"]["status"] == "error"
    assert not (out / "gradebook.db").exists()  # the gradebook really is the PostgreSQL one

    # an instructor gives lee 7 points by hand for part 2, then the class is graded again
    with Gradebook(postgres_url, "funlm") as gradebook:
        assert gradebook.find_submission("ch00_orientation", "kim").score == 20
        part = gradebook.find_grade(
            "test_next_token", "ch00_orientation", "ch00_orientation", "lee"
        )
        part.manual_score = 7
        gradebook.db.commit()
    assert grade.run(argv) == 0
    second = _rows(out)
    assert second["lee"]["score"] == "7" and second["lee"]["test_next_token"] == "7"
    assert second["kim"] == first["kim"] and second["park"] == first["park"]
