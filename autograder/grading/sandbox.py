"""The sandbox a student's kernel runs in: bubblewrap plus resource limits.

The kernel process is started as

    prlimit --as=… --fsize=… --nofile=… --core=0 --
        bwrap --unshare-all --disable-userns --die-with-parent --cap-drop ALL --clearenv …
              --ro-bind <only what Python, torch and the model need> --bind SCRATCH SCRATCH …
        python -m autograder.grading.guard_kernel -f SCRATCH/.funlm/kernel.json

so that inside it there is no network (a fresh network namespace), no other process, a
read-only view of an *allow-list* of host paths (the Python installation, the virtual
environment, the `funlm` and `autograder` sources, the converted model cache, system
libraries), an empty private ``/tmp``, and write access to the submission's scratch folder
only. The repository (with ``solutions/``), the grader's output folder and gradebook, the
submissions and the instructor's home are simply absent. The Jupyter messages travel over
Unix sockets in the scratch folder, so the notebook client (nbclient, in the trusted grader
process) stays outside.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import autograder
from autograder.grading.limits import Limits

#: The ``autograder`` package's source (bound read-only: the kernel runs its guard module).
AUTOGRADER_DIR = Path(autograder.__file__).resolve().parent
SANDBOX_UID = 1000
# Host files a Python process commonly reads under /etc (no secrets among them).
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/os-release",
)
MERGED_USR_LINKS = ("bin", "lib", "lib64", "sbin", "lib32", "libx32")


MATPLOTLIB_SUBDIR = "matplotlib"
#: The kernel the sandbox starts (:mod:`autograder.grading.guard_kernel`).
GUARD_MODULE = "autograder.grading.guard_kernel"


def matplotlib_cache(folder: Path) -> Path | None:
    """Build matplotlib's font list once, outside the sandbox, into ``folder``.

    Inside the sandbox matplotlib would otherwise rebuild it on its first import in every
    kernel, running ``fc-list`` (a new process: blocked, and noted as such) and taking
    seconds. Returns the folder, or None where matplotlib is not installed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.glob("fontlist-*.json")):
        return folder
    env = dict(os.environ, MPLCONFIGDIR=str(folder), MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, "-c", "import matplotlib.font_manager"],
        env=env,
        capture_output=True,
        timeout=300,
    )
    return folder if result.returncode == 0 and any(folder.glob("fontlist-*.json")) else None


class SandboxError(RuntimeError):
    """The sandbox cannot be set up safely here."""


@functools.cache
def bwrap_problem() -> str | None:
    """None when bubblewrap works here, else why not (one line)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    probe = [
        bwrap,
        "--unshare-all",
        "--die-with-parent",
        "--ro-bind",
        "/usr",
        "/usr",
        *_usr_links(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--",
        "/usr/bin/true",
    ]
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap does not start: {error}"
    if result.returncode != 0:
        return f"bubblewrap does not work here: {result.stderr.strip()[:200]}"
    return None


def _usr_links() -> list[str]:
    """Debian's merged /usr: /bin -> usr/bin etc. recreated as symlinks."""
    args: list[str] = []
    for name in MERGED_USR_LINKS:
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def readonly_paths() -> list[Path]:
    """What the kernel needs to see: Python, the venv, our sources, the model cache."""
    import funlm
    from funlm.models.small_lm import cache_dir

    paths = {
        Path(sys.base_prefix).resolve(),
        Path(sys.prefix).resolve(),
        Path(funlm.__file__).resolve().parents[1],  # src/ (funlm is installed editable or not)
        AUTOGRADER_DIR,
        Path(sys.executable).resolve().parent,
    }
    cache = cache_dir().resolve()
    if cache.is_dir():
        paths.add(cache)
    # keep only the outermost of nested paths
    ordered = sorted(paths, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in ordered:
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return kept


def check_exposure(visible: list[Path], secret: list[Path]) -> None:
    """Refuse to grade when a visible path would contain a secret one (e.g. a venv at /)."""
    for path in visible:
        for hidden in secret:
            hidden = hidden.resolve()
            if hidden.is_relative_to(path) or path == Path("/"):
                raise SandboxError(
                    f"the sandbox would expose {hidden} through {path}; move the virtual "
                    "environment or the model cache out of it"
                )


def sandbox_env(scratch: Path, limits: Limits) -> dict[str, str]:
    """The kernel's whole environment (nothing of the grader's leaks in)."""
    from funlm.models.small_lm import cache_dir

    threads = str(max(1, limits.threads))
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch),
        "IPYTHONDIR": str(scratch / ".funlm" / "ipython"),
        # pre-filled with the font list the grader built (matplotlib_cache): without it,
        # matplotlib's first import runs `fc-list`, which the sandbox blocks
        "MPLCONFIGDIR": str(scratch / ".funlm" / MATPLOTLIB_SUBDIR),
        "MPLBACKEND": "Agg",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": "0",
        "FUNLM_PROFILE": "grade",
        "FUNLM_CACHE": str(cache_dir()),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": threads,
        # Sleeping, not spinning, OpenMP workers: with kernels side by side on few cores,
        # spinning threads made small torch models up to 4x slower.
        "OMP_WAIT_POLICY": "PASSIVE",
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "NBGRADER_EXECUTION": "autograde",
    }


def kernel_command(
    scratch: Path,
    connection_file: Path,
    plan: Path,
    events: Path,
    limits: Limits,
    *,
    sandboxed: bool = True,
) -> list[str]:
    """argv that starts the guarded kernel for one submission."""
    env = sandbox_env(scratch, limits)
    env["FUNLM_GRADER_PLAN"] = str(plan)
    env["FUNLM_GRADER_EVENTS"] = str(events)
    kernel = [sys.executable, "-m", GUARD_MODULE, "-f", str(connection_file)]
    prlimit = [
        shutil.which("prlimit") or "prlimit",
        f"--as={limits.memory_mb * 1024 * 1024}",
        f"--fsize={limits.file_mb * 1024 * 1024}",
        "--nofile=4096",
        "--core=0",
        "--",
    ]
    if not sandboxed:
        return [*prlimit, "env", "-i", *(f"{k}={v}" for k, v in env.items()), *kernel]
    bwrap = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--die-with-parent",
        "--cap-drop",
        "ALL",
        "--clearenv",
        "--ro-bind",
        "/usr",
        "/usr",
        *_usr_links(),
    ]
    for path in ETC_FILES:
        if Path(path).exists():
            bwrap += ["--ro-bind", path, path]
    # A private, size-limited /tmp first: bwrap mounts in order, so the allow-listed paths
    # below stay visible even when the venv or the model cache lives under /tmp.
    bwrap += ["--size", str(limits.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    for path in readonly_paths():
        bwrap += ["--ro-bind", str(path), str(path)]
    bwrap += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--bind",
        str(scratch),
        str(scratch),
        "--chdir",
        str(scratch),
    ]
    for key, value in env.items():
        bwrap += ["--setenv", key, value]
    return [*prlimit, *bwrap, "--", *kernel]
