"""An example MCP server (stdio or streamable HTTP) for the refund-flow pipeline: ``lookup_order`` and
``issue_refund``.

    python examples/mcp_refund_server.py                   # speaks MCP on stdin/stdout
    python examples/mcp_refund_server.py --http 8765       # streamable HTTP at http://127.0.0.1:8765/mcp

It honours idempotency keys: a call whose ``_meta`` carries an ``idempotencyKey`` (or, over HTTP, whose
request carries an ``Idempotency-Key`` header) already seen returns the first result and does nothing
again, so a refund retried after a crash is paid once. Every call and every side effect is counted in the
SQLite file named by ``$MAESTRO_REFUND_STATE`` (default ``refund-state.db`` in the working folder),
so a test can assert "refunded once"::

    SELECT tool, count(*) FROM calls GROUP BY tool        -- calls received, repeats included
    SELECT key, header FROM calls                         -- the key in _meta, the Idempotency-Key header
    SELECT count(*) FROM refunds                          -- refunds actually paid

For crash drills, ``$MAESTRO_REFUND_DELAY_S`` makes ``issue_refund`` wait that long after paying and before
answering: a worker killed in that window has a side effect done and no answer recorded.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from typing import Any

from mcp.server.mcpserver import Context, MCPServer

STATE_ENV = "MAESTRO_REFUND_STATE"
DELAY_ENV = "MAESTRO_REFUND_DELAY_S"
ORDERS: dict[str, dict[str, Any]] = {
    "A10432": {"status": "delivered", "items": ["kettle"], "amount": 249.0, "currency": "EUR"},
    "A10001": {"status": "delivered", "items": ["mug"], "amount": 40.0, "currency": "EUR"},
    "A20002": {"status": "in transit", "items": ["lamp", "bulb"], "amount": 120.0, "currency": "EUR"},
}

server = MCPServer("refund-example")


def _db() -> sqlite3.Connection:
    conn = sqlite3.connect(os.environ.get(STATE_ENV, "refund-state.db"), timeout=30, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS calls (tool TEXT, key TEXT, header TEXT)")
    conn.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, result TEXT)")
    conn.execute("CREATE TABLE IF NOT EXISTS refunds (order_id TEXT, amount REAL, key TEXT)")
    return conn


def _key(ctx: Context) -> str | None:
    meta = ctx.request_context.meta
    value = meta.get("idempotencyKey") if isinstance(meta, dict) else getattr(meta, "idempotencyKey", None)
    return str(value) if value else _header(ctx)


def _header(ctx: Context) -> str | None:
    """The ``Idempotency-Key`` header of the HTTP request (None over stdio)."""
    request = ctx.request_context.request
    headers = getattr(request, "headers", None)
    return headers.get("idempotency-key") if headers is not None else None


def _once(ctx: Context, tool: str, effect: Any) -> dict[str, Any]:
    """Run ``effect`` once per idempotency key; a repeated key returns the first result."""
    key = _key(ctx)
    conn = _db()
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO calls VALUES (?, ?, ?)", (tool, key, _header(ctx)))
        if key is not None:
            row = conn.execute("SELECT result FROM results WHERE key = ?", (key,)).fetchone()
            if row is not None:
                conn.execute("COMMIT")
                return dict(json.loads(row[0]))
        result: dict[str, Any] = effect(conn)
        if key is not None:
            conn.execute("INSERT INTO results VALUES (?, ?)", (key, json.dumps(result)))
        conn.execute("COMMIT")
        return result
    finally:
        conn.close()


@server.tool()
def lookup_order(order_id: str, ctx: Context) -> dict[str, Any]:
    """Look up an order by its id: status, items, amount paid."""

    def effect(_conn: sqlite3.Connection) -> dict[str, Any]:
        order = ORDERS.get(order_id)
        if order is None:
            return {"order_id": order_id, "found": False, "amount": 0}
        return {"order_id": order_id, "found": True, **order}

    return _once(ctx, "lookup_order", effect)


@server.tool()
def issue_refund(order_id: str, amount: float, reason: str, ctx: Context) -> dict[str, Any]:
    """Refund all or part of an order to the original payment method."""
    key = _key(ctx)

    def effect(conn: sqlite3.Connection) -> dict[str, Any]:
        conn.execute("INSERT INTO refunds VALUES (?, ?, ?)", (order_id, amount, key))
        refund_id = conn.execute("SELECT count(*) FROM refunds").fetchone()[0]
        return {"order_id": order_id, "refunded": amount, "reason": reason, "refund_id": f"R{refund_id:05d}"}

    result = _once(ctx, "issue_refund", effect)
    time.sleep(float(os.environ.get(DELAY_ENV, "0") or 0))
    return result


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
