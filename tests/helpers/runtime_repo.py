"""A throwaway repository for runtime tests: a fake model upstream, the example MCP refund server, a refund
pipeline (triage -> lookup -> approve when over 100 -> refund -> reply) and ledger keys for alice and bob."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from helpers.ledger import key
from maestro.ledger.keys import write_public_key, write_signing_key

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

MANIFESTS = """apiVersion: maestro.dev/v1
kind: Provider
metadata: {{name: fake}}
spec:
  type: openai
  baseUrl: {url}
  apiKey: {{env: FAKE_API_KEY}}
  jurisdiction: us
  models:
    - {{name: m1, contextWindow: 100000, price: {{inputPer1M: 1.0, outputPer1M: 2.0}}}}
---
apiVersion: maestro.dev/v1
kind: Route
metadata: {{name: chat-route}}
spec:
  alias: chat
  candidates:
    - {{provider: fake, model: m1, weight: 100}}
---
apiVersion: maestro.dev/v1
kind: AutonomyLevel
metadata: {{name: L2}}
spec:
  level: 2
  allowedWithoutApproval: [read]
  requiresApproval: [write]
  approvals: {{required: 1}}
---
apiVersion: maestro.dev/v1
kind: AutonomyLevel
metadata: {{name: L0}}
spec:
  level: 0
  allowedWithoutApproval: [read]
  requiresApproval: []
---
apiVersion: maestro.dev/v1
kind: Agent
metadata: {{name: support-agent}}
spec:
  route: chat-route
  prompt: {{system: "You triage refund requests. Answer JSON with intent and order_id."}}
  autonomyLevel: L2
  mcpServers:
    - name: refunds
      command: [python, {server}]
      env: [MAESTRO_REFUND_STATE, MAESTRO_REFUND_DELAY_S]
      idempotencyKeys: true
  tools:
    - name: lookup_order
      action: read
      server: refunds
      inputSchema:
        type: object
        properties: {{order_id: {{type: string, pattern: "^A[0-9]{{5}}$"}}}}
        required: [order_id]
    - name: issue_refund
      action: {refund_action}
      server: refunds
      inputSchema:
        type: object
        properties:
          order_id: {{type: string}}
          amount: {{type: number, exclusiveMinimum: 0}}
          reason: {{type: string, enum: [damaged, not-delivered, wrong-item, return, goodwill]}}
        required: [order_id, amount, reason]
---
apiVersion: maestro.dev/v1
kind: Pipeline
metadata: {{name: refund-flow}}
spec:
  start: triage
{pipeline_level}  steps:
    - {{id: triage, type: model, route: chat-route, prompt: "TRIAGE: answer JSON with intent and order_id."}}
    - {{id: lookup, type: tool, agent: support-agent, tool: lookup_order}}
    - {{id: approve, type: approval, approval: {{approvers: 1, timeout: 1h, onTimeout: reject}}}}
    - {{id: refund, type: tool, agent: support-agent, tool: issue_refund}}
    - {{id: reply, type: model, route: chat-route, prompt: "REPLY: write to the customer."}}
  edges:
    - {{from: triage, to: lookup, when: "output.intent == 'refund'"}}
    - {{from: triage, to: reply, when: "output.intent != 'refund'"}}
    - {{from: lookup, to: approve, when: "output.amount > 100"}}
    - {{from: lookup, to: refund, when: "output.amount <= 100"}}
    - {{from: approve, to: refund, when: "output.approved"}}
    - {{from: approve, to: reply, when: "!output.approved"}}
    - {{from: refund, to: reply}}
"""


def answer(body: dict[str, Any]) -> str:
    """The fake model: triage answers JSON from the request; reply answers text."""
    system = body["messages"][0]["content"]
    state = json.loads(body["messages"][-1]["content"])
    if system.startswith("TRIAGE"):
        return json.dumps({"intent": state.get("intent", "refund"), "order_id": state["order_id"]})
    return f"Dear customer, about order {state.get('order_id')}: done."


def write(root: Path, url: str, *, refund_action: str = "write", pipeline_level: str = "", keys: bool = True) -> Path:
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    text = MANIFESTS.format(
        url=url,
        server=EXAMPLES / "mcp_refund_server.py",
        refund_action=refund_action,
        pipeline_level=f"  autonomyLevel: {pipeline_level}\n" if pipeline_level else "",
    )
    (root / "manifests" / "all.yaml").write_text(text, encoding="utf-8")
    if keys:
        for name in ("alice", "bob", "carol"):
            write_public_key(key(name).public, root)
        write_signing_key(key("alice"), root / "alice.key", force=True)
        write_signing_key(key("bob"), root / "bob.key", force=True)
        write_signing_key(key("carol"), root / "carol.key", force=True)
    return root


def refunds(state_file: Path) -> int:
    """Refunds the example server actually paid."""
    if not state_file.exists():
        return 0
    with sqlite3.connect(state_file) as conn:
        return int(conn.execute("SELECT count(*) FROM refunds").fetchone()[0])


def calls(state_file: Path, tool: str) -> int:
    if not state_file.exists():
        return 0
    with sqlite3.connect(state_file) as conn:
        return int(conn.execute("SELECT count(*) FROM calls WHERE tool = ?", (tool,)).fetchone()[0])
