"""The manifest checks of a serve block (maestro/manifests/checks/serve.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.lane import write_repo

from maestro.lane.config import LaneConfig, lanes_of
from maestro.lane.errors import LaneError
from maestro.manifests.checks.serve import flag_names, loopback, unknown_arg
from maestro.manifests.validate import validate


def findings(root: Path, rule: str) -> list[str]:
    return [f"{d.line}:{d.message}" for d in validate([root / "manifests"]).diagnostics if d.rule == rule]


def test_served_name_must_be_a_model(tmp_path: Path) -> None:
    found = findings(write_repo(tmp_path, serve="    servedName: tiyn"), "serve.served-name")
    assert found == ["11:servedName 'tiyn' is not one of this provider's models; did you mean 'tiny'?"]


def test_a_good_serve_block_is_clean(tmp_path: Path) -> None:
    root = write_repo(tmp_path, serve='    servedName: tiny\n    extraArgs: ["--enforce-eager", "--seed", "-1"]')
    assert not validate([root / "manifests"]).diagnostics


def test_every_bad_flag_is_reported(tmp_path: Path) -> None:
    root = write_repo(tmp_path, serve='    extraArgs: ["--nope", "1", "--model", "x"]')
    assert len(findings(root, "serve.extra-arg")) == 2


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--seed", "-1", "--enforce-eager"], ["--seed", "--enforce-eager"]),
        (["--seed=3", "-O", "3"], ["--seed", "-O"]),
        (["value", "-"], []),
    ],
)
def test_flag_names(args: list[str], names: list[str]) -> None:
    assert [n for _, n in flag_names(args)] == names


def test_unknown_arg() -> None:
    assert unknown_arg("--enforce-eager") is None
    assert "serve.dtype" in (unknown_arg("--dtype") or "")


@pytest.mark.parametrize(
    "args",
    [
        ["--trust-remote-code"],
        ["--trust-remote-code=true"],
        ["--middleware", "evil.Middleware"],
        ["--worker-cls", "evil.Worker"],
        ["--worker-extension-cls", "evil.Ext"],
        ["--scheduler-cls", "evil.Scheduler"],
        ["--tool-parser-plugin", "evil.py"],
        ["--logits-processors", "evil:Proc"],
        ["--kv-transfer-config", '{"kv_connector_module_path": "evil"}'],
        ["--tokenizer-mode", "custom"],
        ["--tokenizer-mode=custom"],
    ],
)
def test_code_loading_flags_are_refused_with_their_location(tmp_path: Path, args: list[str]) -> None:
    quoted = ", ".join(f"'{a}'" for a in args)
    root = write_repo(tmp_path, serve=f"    extraArgs: [{quoted}]")
    (finding,) = [d for d in validate([root / "manifests"]).diagnostics if d.rule == "serve.code-loading"]
    assert (finding.line, finding.path) == (11, "spec.serve.extraArgs[0]")
    assert args[0].split("=")[0] in finding.message and "may not load code" in finding.message
    with pytest.raises(LaneError, match="may not load code"):
        LaneConfig.of(next(iter(validate([root / "manifests"]).manifests.of_kind("Provider"))))


def test_harmless_values_of_a_code_flag_are_allowed(tmp_path: Path) -> None:
    root = write_repo(tmp_path, serve='    extraArgs: ["--tokenizer-mode", "auto", "--no-trust-remote-code"]')
    assert not validate([root / "manifests"]).diagnostics


def test_a_literal_api_key_in_extra_args_is_refused(tmp_path: Path) -> None:
    (message,) = findings(write_repo(tmp_path, serve='    extraArgs: ["--api-key", "sk-1"]'), "serve.extra-arg")
    assert "serve.apiKey" in message


def open_lane(root: Path, serve: str, provider_key: str = "") -> Path:
    lane = root / "manifests" / "lane.yaml"
    text = lane.read_text().replace("http://127.0.0.1:", "http://0.0.0.0:")
    text = text.replace("  serve:\n", f"{provider_key}  serve:\n{serve}")
    lane.write_text(text)
    return root


def test_a_non_loopback_bind_needs_a_key(tmp_path: Path) -> None:
    root = open_lane(write_repo(tmp_path), "")
    (finding,) = [d for d in validate([root / "manifests"]).diagnostics if d.rule == "serve.open-bind"]
    assert finding.path == "spec.baseUrl" and finding.line == 6 and "0.0.0.0" in finding.message
    with pytest.raises(LaneError, match="without a key"):
        lanes_of(validate([root / "manifests"]).manifests)


def test_a_non_loopback_bind_with_a_key_reference_is_clean(tmp_path: Path) -> None:
    serve = "    apiKey: {env: LANE_API_KEY}\n"
    root = open_lane(write_repo(tmp_path), serve, provider_key="  apiKey: {env: LANE_API_KEY}\n")
    assert not validate([root / "manifests"]).diagnostics
    (config,) = lanes_of(validate([root / "manifests"]).manifests).values()
    assert (config.host, config.api_key_env) == ("0.0.0.0", "LANE_API_KEY")


def test_a_literal_lane_key_is_a_secret_inline(tmp_path: Path) -> None:
    root = open_lane(write_repo(tmp_path), "    apiKey: sk-literal\n")
    rules = {d.rule for d in validate([root / "manifests"]).diagnostics}
    assert "secret.inline" in rules


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        *[("127.0.0.1", True), ("127.3.4.5", True), ("localhost", True), ("::1", True), ("[::1]", True)],
        *[("0.0.0.0", False), ("10.0.0.5", False), ("lane.internal", False), ("::", False)],
    ],
)
def test_loopback(host: str, expected: bool) -> None:
    assert loopback(host) is expected
