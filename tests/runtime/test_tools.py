"""One MCP tool call against the real example server over stdio: checked arguments, idempotency keys, and a
clear error for a server that does not start or does not answer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import runtime_repo

from maestro.runtime import tools
from maestro.runtime.errors import NodeError

EXAMPLE = ("python", str(runtime_repo.EXAMPLES / "mcp_refund_server.py"))
SERVER = tools.Server("refunds", EXAMPLE, None, ("MAESTRO_REFUND_STATE",))
REFUND = tools.Tool("issue_refund", "write", None, "refunds", None)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "refunds.db"
    monkeypatch.setenv("MAESTRO_REFUND_STATE", str(path))
    return path


def test_a_repeated_idempotency_key_refunds_once(state: Path, tmp_path: Path) -> None:
    args = {"order_id": "A10432", "amount": 249.0, "reason": "damaged"}
    first = tools.call(SERVER, REFUND, args, "run-1:refund:0:0", tmp_path)
    again = tools.call(SERVER, REFUND, args, "run-1:refund:0:0", tmp_path)
    other = tools.call(SERVER, REFUND, args, "run-2:refund:0:0", tmp_path)
    assert first == again == {"order_id": "A10432", "refunded": 249.0, "reason": "damaged", "refund_id": "R00001"}
    assert first["refund_id"] == again["refund_id"] != other["refund_id"]
    assert runtime_repo.refunds(state) == 2
    assert runtime_repo.calls(state, "issue_refund") == 3


def test_arguments_are_checked_against_the_declared_schema_before_any_call(state: Path, tmp_path: Path) -> None:
    declared = tools.Tool("issue_refund", "write", None, "refunds", {"type": "object", "required": ["order_id"]})
    with pytest.raises(NodeError, match=r"fail its inputSchema \(the Agent manifest\): \(arguments\): 'order_id'"):
        tools.call(SERVER, declared, {"amount": 1}, "k", tmp_path)
    with pytest.raises(NodeError, match=r"as server 'refunds' lists it\): \(arguments\): 'reason' is a required"):
        tools.call(SERVER, REFUND, {"order_id": "A10432", "amount": 1.0}, "k", tmp_path)
    assert runtime_repo.calls(state, "issue_refund") == 0


def test_a_server_that_does_not_start_or_hangs_is_a_clear_error(tmp_path: Path) -> None:
    missing = tools.Server("gone", ("/nonexistent/mcp-server",))
    with pytest.raises(NodeError, match=r"MCP server 'gone' failed on 'issue_refund'"):
        tools.call(missing, REFUND, {}, "k", tmp_path)
    hanging = tools.Server("slow", (sys.executable, "-c", "import time; time.sleep(60)"))
    with pytest.raises(NodeError, match=r"MCP server 'slow' did not answer 'issue_refund' within 3s"):
        tools.call(hanging, REFUND, {}, "k", tmp_path, timeout_s=3)
