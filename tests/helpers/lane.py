"""The lane tests' helpers: a manifest repository with one vllm Provider on a free port, the fake server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from maestro.lane.config import LaneConfig, lanes_of
from maestro.lane.paths import LanePaths
from maestro.manifests.validate import validate

FAKE = Path(__file__).resolve().parents[1] / "lane" / "fake_vllm.py"

PROVIDER = """apiVersion: maestro.dev/v1
kind: Provider
metadata: {{name: {name}}}
spec:
  type: vllm
  baseUrl: http://127.0.0.1:{port}/v1
  jurisdiction: onprem
  models:
    - {{name: tiny, contextWindow: 2048, price: {{inputPer1M: 0, outputPer1M: 0}}}}
  serve:
{serve}
"""
POLICY = """apiVersion: maestro.dev/v1
kind: Policy
metadata: {name: base}
spec:
  taxonomy:
    jurisdictions: [{name: onprem}]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_repo(root: Path, serve: str = "    servedName: tiny\n    maxNumSeqs: 4", name: str = "lane-a") -> Path:
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    (root / "manifests" / "lane.yaml").write_text(PROVIDER.format(name=name, port=free_port(), serve=serve))
    (root / "manifests" / "policy.yaml").write_text(POLICY)
    return root


def config_of(root: Path) -> LaneConfig:
    result = validate([root / "manifests"])
    assert not result.summary.errors, [d.message for d in result.diagnostics]
    return next(iter(lanes_of(result.manifests).values()))


@dataclass
class Lane:
    root: Path
    paths: LanePaths
    config: LaneConfig
    conn: object
    env: dict[str, str]

    def set(self, **values: str) -> None:
        self.env.update(values)


def pids_mentioning(text: str) -> list[int]:
    """The processes (of this user, readable in /proc) whose command line contains ``text``."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone, or not ours to read
            continue
        if text in cmdline:
            out.append(int(entry.name))
    return out


def stop_processes_mentioning(text: str, grace_s: float = 20.0) -> list[int]:
    """SIGTERM the processes whose command line names ``text`` (a test's own Ray temp folder: only the cluster
    it started), then SIGKILL those still there after ``grace_s``. Never ``ray stop --force``, which ends every
    Ray process of the user. Returns the pids signalled."""
    pids = pids_mentioning(text)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    for pid in pids:
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
    return pids


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing
