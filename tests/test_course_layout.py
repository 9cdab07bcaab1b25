"""The tools find the course through configuration (``--course``, ``FUNLM_COURSE``, the marker
file at or above the current directory), never through where ``autograder`` is installed, so an
instructor can point them at a fork or a copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course import CONFIG_RELPATH, COURSE_ENV, CourseLayout, CourseNotFound
from autograder.grading import cli

REPO = Path(__file__).resolve().parents[1]


def _copy_course(root: Path, assignments: list[str]) -> Path:
    """A minimal copy of the course: its nbgrader config and some assignments."""
    (root / CONFIG_RELPATH).parent.mkdir(parents=True)
    shutil.copyfile(REPO / CONFIG_RELPATH, root / CONFIG_RELPATH)
    for name in assignments:
        for folder in ("solutions", "exercises"):
            shutil.copytree(REPO / folder / name, root / folder / name)
    return root


def test_the_layout_reads_its_folder_names_from_the_nbgrader_config():
    course = CourseLayout.at(REPO)
    assert course.root == REPO
    assert (course.solutions, course.exercises) == (REPO / "solutions", REPO / "exercises")
    assert course.config_file == REPO / "autograder" / "nbgrader_config.py"
    assert course.assignments() == sorted(
        p.name for p in (REPO / "solutions").iterdir() if list(p.glob("*.ipynb"))
    )


def test_the_marker_is_found_from_a_subfolder(tmp_path, monkeypatch):
    copy = _copy_course(tmp_path / "fork", ["ch00_orientation"])
    monkeypatch.delenv(COURSE_ENV)
    assert CourseLayout.find(copy / "solutions" / "ch00_orientation").root == copy
    monkeypatch.chdir(copy / "exercises")
    assert CourseLayout.find().assignments() == ["ch00_orientation"]


def test_the_environment_variable_wins_over_the_current_folder(tmp_path, monkeypatch):
    copy = _copy_course(tmp_path / "fork", ["ch00_orientation"])
    monkeypatch.chdir(REPO)
    monkeypatch.setenv(COURSE_ENV, str(copy))
    assert CourseLayout.find().root == copy


def test_no_course_is_an_error_that_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv(COURSE_ENV)
    with pytest.raises(CourseNotFound, match=f"--course DIR or set {COURSE_ENV}"):
        CourseLayout.find(tmp_path)
    monkeypatch.setenv(COURSE_ENV, str(tmp_path))
    with pytest.raises(CourseNotFound, match="is not a FunLM course"):
        CourseLayout.find()


def test_funlm_grade_grades_against_the_configured_copy(tmp_path, monkeypatch, capsys):
    # the copy holds only ch00: its list of assignments is the one the command knows
    copy = _copy_course(tmp_path / "fork", ["ch00_orientation"])
    submissions = tmp_path / "subs"
    submissions.mkdir()
    monkeypatch.setenv(COURSE_ENV, str(copy))
    code = cli.run(["ch01_gpt3", str(submissions), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "unknown assignment 'ch01_gpt3' (known: ch00_orientation)" in capsys.readouterr().err
    # --course overrides the environment: the repository knows ch01 (and stops at the next
    # check, the missing submissions folder)
    missing = str(tmp_path / "missing")
    code = cli.run(["ch01_gpt3", missing, "--out", str(tmp_path / "out"), "--course", str(REPO)])
    assert code == 2
    assert "submissions not found" in capsys.readouterr().err


def test_funlm_exercises_outside_a_course_says_how_to_point_at_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != COURSE_ENV}
    result = subprocess.run(
        [sys.executable, "-m", "autograder.authoring.generate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "funlm-exercises: error: no FunLM course" in result.stderr
