"""The lane tests' helpers: a manifest repository with one vllm Provider on a free port, the fake server."""

from __future__ import annotations

import socket
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
