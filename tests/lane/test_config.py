"""LaneConfig from Provider manifests, and the vLLM command built from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.lane import config_of, write_repo

from maestro.lane.command import server_argv
from maestro.lane.config import LaneConfig, Saturation, lanes_of, select
from maestro.lane.errors import LaneError
from maestro.manifests.validate import validate

ROOT = Path(__file__).resolve().parents[2]


def example() -> LaneConfig:
    result = validate([ROOT / "manifests", ROOT / "policies"])
    return lanes_of(result.manifests)["local-lane"]


def test_the_example_lane() -> None:
    lane = example()
    assert (lane.host, lane.port, lane.base) == ("127.0.0.1", 8000, "http://127.0.0.1:8000")
    assert lane.deployment == "local-lane/smollm2-135m-instruct"
    assert lane.saturation == Saturation(max_waiting=16, max_kv_cache_usage=0.9)
    assert lane.source.endswith("providers.yaml:" + lane.source.rsplit(":", 1)[1])


def test_command_carries_every_serve_field() -> None:
    argv = server_argv(example(), "/venv/bin/python", "/models/m")
    assert argv[:3] == ["/venv/bin/python", "-m", "vllm.entrypoints.openai.api_server"]
    pairs = {argv[i]: argv[i + 1] for i in range(3, len(argv) - 1) if argv[i].startswith("--")}
    assert pairs["--model"] == "/models/m"
    assert pairs["--served-model-name"] == "smollm2-135m-instruct"
    assert pairs["--port"] == "8000" and pairs["--host"] == "127.0.0.1"
    assert pairs["--dtype"] == "float32" and pairs["--max-model-len"] == "2048"
    assert pairs["--max-num-seqs"] == "32" and pairs["--gpu-memory-utilization"] == "0.3"
    assert "--enable-prefix-caching" in argv and "--tensor-parallel-size" not in argv


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, []),
        ({"prefix_caching": False}, ["--no-enable-prefix-caching"]),
        ({"tensor_parallel_size": 2}, ["--tensor-parallel-size", "2"]),
        ({"extra_args": ("--enforce-eager", "--seed", "7")}, ["--enforce-eager", "--seed", "7"]),
    ],
)
def test_optional_flags(fields: dict[str, object], expected: list[str]) -> None:
    config = LaneConfig(name="x", host="127.0.0.1", port=9, served_name="m", **fields)  # type: ignore[arg-type]
    assert server_argv(config, "py", "m")[11:] == expected


def test_served_name_defaults_to_the_first_model(tmp_path: Path) -> None:
    config = config_of(write_repo(tmp_path, serve="    maxNumSeqs: 2"))
    assert config.served_name == "tiny" and config.model is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ('["--bogus-flag"]', "'--bogus-flag' is not a vLLM engine argument"),
        ('["--enforce-eagre"]', "did you mean '--enforce-eager'?"),
        ('["--port=9000"]', "'--port' is set by maestro from spec.baseUrl"),
    ],
)
def test_bad_extra_args_are_refused(tmp_path: Path, args: str, message: str) -> None:
    result = validate([write_repo(tmp_path, serve=f"    extraArgs: {args}") / "manifests"])
    (doc,) = result.manifests.of_kind("Provider")
    assert any(d.rule == "serve.extra-arg" and message in d.message for d in result.diagnostics)
    with pytest.raises(LaneError, match=r"serve\.extraArgs"):
        LaneConfig.of(doc)


def test_select() -> None:
    lanes = {"a": example()}
    assert select(lanes, None) == [lanes["a"]]
    with pytest.raises(LaneError, match="no lane named 'b'"):
        select(lanes, "b")
    with pytest.raises(LaneError, match="no vllm Provider"):
        select({}, None)
