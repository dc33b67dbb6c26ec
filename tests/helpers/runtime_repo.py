"""A throwaway repository for runtime tests: a fake model upstream, the example MCP refund server, a refund
pipeline (triage -> lookup -> approve when over 100 -> refund -> reply) and ledger keys for alice and bob."""

from __future__ import annotations

import json
import sqlite3
import time
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
    - {{name: m-big, contextWindow: 100000, price: {{inputPer1M: 100.0, outputPer1M: 200.0}}}}
---
apiVersion: maestro.dev/v1
kind: Route
metadata: {{name: big-route}}
spec:
  alias: big
  candidates:
    - {{provider: fake, model: m-big, weight: 90}}
    - {{provider: fake, model: m1, weight: 10}}
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
kind: Agent
metadata: {{name: refund-agent}}
spec:
  route: chat-route
  prompt: {{system: "AGENT: look the order up, refund it, answer JSON."}}
  autonomyLevel: L2
{agent_limits}  mcpServers:
    - name: refunds
      command: [python, {server}]
      env: [MAESTRO_REFUND_STATE, MAESTRO_REFUND_DELAY_S]
      idempotencyKeys: true
  tools:
    - name: lookup_order
      action: read
      description: Look an order up.
      server: refunds
      inputSchema: {{type: object, properties: {{order_id: {{type: string}}}}, required: [order_id]}}
    - name: issue_refund
      action: {refund_action}
      server: refunds
      inputSchema:
        type: object
        properties: {{order_id: {{type: string}}, amount: {{type: number}}, reason: {{type: string}}}}
---
apiVersion: maestro.dev/v1
kind: Pipeline
metadata: {{name: agent-flow}}
spec:
{agent_flow_limits}  steps:
    - {{id: work, type: agent, agent: refund-agent{agent_step}}}
---
apiVersion: maestro.dev/v1
kind: Pipeline
metadata: {{name: model-flow}}
spec:
{model_flow_limits}  steps:
    - {{id: ask, type: model, route: {model_route}, prompt: "{model_prompt}"{model_step}}}
---
apiVersion: maestro.dev/v1
kind: Pipeline
metadata: {{name: map-flow}}
spec:
  steps:
    - id: lookups
      type: map
      map:
        over: "{map_over}"
        step: {{type: tool, agent: support-agent, tool: {map_tool}}}
        concurrency: 2
        into: orders
---
apiVersion: maestro.dev/v1
kind: Pipeline
metadata: {{name: parent-flow}}
spec:
  steps:
    - {{id: sub, type: pipeline, pipeline: refund-flow}}
---
apiVersion: maestro.dev/v1
kind: Pipeline
metadata: {{name: refund-flow}}
spec:
  start: triage
{pipeline_level}  steps:
    - {{id: triage, type: model, route: chat-route, prompt: "TRIAGE: answer JSON with intent and order_id."}}
    - {{id: lookup, type: tool, agent: support-agent, tool: lookup_order}}
    - {{id: approve, type: approval, approval: {{approvers: 1, timeout: 1h, onTimeout: reject{approve_roles}}}}}
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


def answer(body: dict[str, Any]) -> str | dict[str, Any]:
    """The fake model: triage answers JSON from the request; reply answers text; the refund agent asks for
    lookup_order (wipe_orders for A20002), then issue_refund of the amount found, then answers JSON with what
    the tools said; SLOW
    answers after 3 s."""
    system = body["messages"][0]["content"]
    if system.startswith("AGENT"):
        return agent_answer(body)
    if system.startswith("SLOW"):
        time.sleep(3)
        return "late"
    state = json.loads(body["messages"][-1]["content"])
    if system.startswith("TRIAGE"):
        return json.dumps({"intent": state.get("intent", "refund"), "order_id": state["order_id"]})
    return f"Dear customer, about order {state.get('order_id')}: done."


def agent_answer(body: dict[str, Any]) -> str | dict[str, Any]:
    messages = body["messages"]
    results = [json.loads(m["content"]) for m in messages if m["role"] == "tool"]
    order = json.loads(messages[1]["content"])["order_id"]
    if not results:
        name = "wipe_orders" if order == "A20002" else "lookup_order"  # the agent has no tool wipe_orders
        return {"tool_calls": [{"name": name, "arguments": {"order_id": order}}]}
    if "error" in results[0]:
        return json.dumps({"order_id": order, "refund": results[0]})
    if len(results) == 1:
        refund = {"order_id": order, "amount": results[0].get("amount"), "reason": "damaged"}
        return {"tool_calls": [{"name": "issue_refund", "arguments": refund}]}
    return json.dumps({"order_id": order, "refund": results[-1]})


def write(
    root: Path,
    url: str,
    *,
    refund_action: str = "write",
    pipeline_level: str = "",
    keys: bool = True,
    agent_limits: str = "",
    agent_step: str = "",
    agent_flow_limits: str = "",
    model_route: str = "chat-route",
    model_prompt: str = "REPLY",
    model_step: str = "",
    model_flow_limits: str = "",
    map_over: str = "state.orders",
    map_tool: str = "lookup_order",
    approve_roles: str = "",
) -> Path:
    """The manifests; ``agent_limits`` etc. are YAML put in place as written (``limits: {maxSteps: 2}``)."""
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    text = MANIFESTS.format(
        url=url,
        server=EXAMPLES / "mcp_refund_server.py",
        refund_action=refund_action,
        pipeline_level=f"  autonomyLevel: {pipeline_level}\n" if pipeline_level else "",
        agent_limits=f"  {agent_limits}\n" if agent_limits else "",
        agent_step=f", {agent_step}" if agent_step else "",
        agent_flow_limits=f"  {agent_flow_limits}\n" if agent_flow_limits else "",
        model_route=model_route,
        model_prompt=model_prompt,
        model_step=f", {model_step}" if model_step else "",
        model_flow_limits=f"  {model_flow_limits}\n" if model_flow_limits else "",
        map_over=map_over,
        map_tool=map_tool,
        approve_roles=f", roles: [{approve_roles}]" if approve_roles else "",
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
