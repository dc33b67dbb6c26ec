"""One MCP tool call against the real example server over stdio: checked arguments, idempotency keys, and a
clear error for a server that does not start or does not answer."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
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


@pytest.fixture
def http_server(state: Path) -> Iterator[str]:
    """The example server over streamable HTTP on a free port of 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, EXAMPLE[1], "--http", str(port)], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)


def test_over_http_the_key_travels_as_the_idempotency_key_header_too(http_server: str, state: Path, tmp_path: Path):
    server = tools.Server("refunds", url=http_server)
    args = {"order_id": "A10432", "amount": 249.0, "reason": "damaged"}
    first = tools.call(server, REFUND, args, "run-h:refund:0:0", tmp_path)
    again = tools.call(server, REFUND, args, "run-h:refund:0:0", tmp_path)
    assert first == again and runtime_repo.refunds(state) == 1
    with sqlite3.connect(state) as conn:
        rows = conn.execute("SELECT key, header FROM calls").fetchall()
    assert rows == [("run-h:refund:0:0", "run-h:refund:0:0")] * 2
