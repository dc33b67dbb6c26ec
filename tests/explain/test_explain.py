"""maestro explain on the example repository: every kind, every format, and bad targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import maestro.cli.main  # noqa: F401  (registers the commands)
from maestro.cli.app import app
from maestro.explain import explain
from maestro.manifests.validate import validate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = [ROOT / "manifests", ROOT / "policies"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["explain", *args, "--manifests", str(EXAMPLE[0]), "--manifests", str(EXAMPLE[1])])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def example():
    result = validate(EXAMPLE)
    assert result.summary.errors == 0
    return result.manifests


def test_every_document_of_the_example_is_explained(example):
    kinds = set()
    for doc in example.documents:
        e = explain(example, doc)
        kinds.add(doc.kind)
        assert doc.name in e.summary
        assert e.sections and all(s.lines for s in e.sections)
    assert kinds == {
        "Provider",
        "Route",
        "Policy",
        "AutonomyLevel",
        "Agent",
        "Pipeline",
        "EvalSuite",
        "Rollout",
    }


def test_route_says_order_rules_and_failure_chain():
    code, out = run("Route/support-chat")
    assert code == 0
    assert "openai-us/gpt-4o-mini: 90% of traffic" in out
    assert (
        "when `'pii.email' in request.tags || 'pii.phone' in request.tags`: "
        "only providers with jurisdiction in eu, onprem" in out
    )
    chain = out.index("if openai-us/gpt-4o-mini fails")
    assert out.index("moves on to anthropic-us/claude-3-5-haiku-20241022") > chain
    assert (
        "if local-lane/smollm2-135m-instruct fails (5xx, timeout, 429, connection error): the caller gets a 503" in out
    )
    assert "caller faults (other 4xx) are returned as they are" in out


def test_route_json_lists_the_whole_order():
    code, out = run("Route/support-chat", "--format", "json")
    assert code == 0
    facts = json.loads(out)["explanations"][0]["facts"]
    assert facts["order"] == [
        "openai-us/gpt-4o-mini",
        "anthropic-us/claude-3-5-haiku-20241022",
        "openai-us/gpt-4o",  # weight 0 (held for the example rollout): after the weighted candidates
        "nim-eu/meta/llama-3.1-8b-instruct",
        "local-lane/smollm2-135m-instruct",
    ]


def test_pipeline_graph_and_human_approval():
    code, out = run("Pipeline/refund-flow", "--format", "mermaid")
    assert code == 0
    assert out.startswith("flowchart TD")
    assert 's_approve{{"approve: human approval"}}' in out
    assert "(max 3x)" in out
    code, out = run("Pipeline/refund-flow")
    assert "approve: 1 approver(s) with role support-lead must approve before it goes on" in out


def test_policy_says_which_providers_each_tag_reaches():
    code, out = run("Policy/default", "--format", "json")
    assert code == 0
    reach = json.loads(out)["explanations"][0]["facts"]["reach"]
    assert "openai-us" not in reach["pii.email"]
    assert {"nim-eu", "local-lane"} <= set(reach["pii.email"])
    assert reach["secret.credential"] == ["local-lane"]
    assert "openai-us" in reach["sensitivity.public"]


def test_autonomy_level_counts_approvers():
    code, out = run("AutonomyLevel/L4", "--format", "json")
    facts = json.loads(out)["explanations"][0]["facts"]
    assert code == 0
    assert facts["approvers"] >= 2
    assert "irreversible" in facts["needsApproval"]


def test_autonomy_level_says_actions_in_neither_list_are_forbidden():
    code, out = run("AutonomyLevel/L2", "--format", "json")
    facts = json.loads(out)["explanations"][0]["facts"]
    assert code == 0
    assert facts["forbidden"] == ["deploy", "irreversible"]
    assert "deploy" not in facts["needsApproval"]
    text = run("AutonomyLevel/L2")[1]
    assert "deploy, irreversible are forbidden" in text
    assert "Forbidden (in neither list)" in text


def test_provider_says_whether_its_secret_is_set_never_its_value(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-very-secret-value")
    code, out = run("Provider/openai-us")
    assert code == 0
    assert "API key from $OPENAI_API_KEY: set" in out
    assert "sk-test-very-secret-value" not in out
    monkeypatch.delenv("OPENAI_API_KEY")
    assert "NOT SET" in run("Provider/openai-us")[1]


def test_a_file_explains_each_of_its_documents():
    code, out = run(str(ROOT / "manifests" / "routes.yaml"))
    assert code == 0
    assert out.count("Route/") >= 3


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("Route/nope", "no Route named 'nope'"),
        ("Rotue/support-chat", "neither a file nor KIND/NAME"),
        ("support-chat", "neither a file nor KIND/NAME"),
    ],
)
def test_bad_targets_are_usage_errors(target, message):
    code, out = run(target)
    assert code == 2
    assert message in out
    assert "Traceback" not in out


def test_mermaid_for_a_kind_without_a_graph_is_a_usage_error():
    code, out = run("Provider/openai-us", "--format", "mermaid")
    assert code == 2
    assert "has no graph" in out


def test_an_agent_tool_forbidden_at_its_level_is_explained_as_forbidden(tmp_path):
    import shutil

    for folder in EXAMPLE:
        shutil.copytree(folder, tmp_path / folder.name)
    agents = tmp_path / "manifests" / "agents.yaml"
    agents.write_text(agents.read_text(encoding="utf-8").replace("action: write", "action: deploy"), encoding="utf-8")
    manifests = validate([tmp_path / "manifests", tmp_path / "policies"]).manifests
    e = explain(manifests, manifests.get("Agent", "support-agent"))
    assert e.facts["toolsForbidden"] == ["issue_refund"]
    assert e.facts["toolsNeedingApproval"] == []
    assert "issue_refund (deploy): forbidden at L2 (in neither list): it never runs" in next(
        s.lines for s in e.sections if s.title == "Tools"
    )


def test_every_registered_kind_has_an_explanation():
    from maestro.explain import EXPLAINERS
    from maestro.manifests.kinds import KINDS

    assert set(EXPLAINERS) == set(KINDS)


def test_a_document_of_an_unknown_kind_is_not_explained_as_another(example):
    from dataclasses import replace

    from maestro.manifests.kinds import UnknownKind

    rollout = next(d for d in example.documents if d.kind == "Rollout")
    with pytest.raises(UnknownKind, match="unknown kind 'Canary'"):
        explain(example, replace(rollout, kind="Canary"))


def test_a_recurring_freeze_window_is_explained(tmp_path):
    (tmp_path / "policy.yaml").write_text(
        "apiVersion: maestro.dev/v1\nkind: Policy\nmetadata:\n  name: p\nspec:\n  freezeWindows:\n"
        "    - name: fridays\n      cron: '0 18 * * 5'\n      duration: 64h\n      timeZone: Europe/Paris\n"
    )
    result = validate([tmp_path])
    e = explain(result.manifests, result.manifests.get("Policy", "p"))
    (freeze,) = [s for s in e.sections if s.title == "Freeze windows"]
    assert freeze.lines == ("fridays: from each '0 18 * * 5' (Europe/Paris) for 64h",)


def test_an_agent_shows_its_mcp_servers_and_whether_they_honour_idempotency_keys():
    code, out = run("Agent/support-agent", "-o", "json")
    facts = json.loads(out)["explanations"][0]["facts"]
    assert code == 0
    assert facts["mcpServers"] == [{"name": "refunds", "transport": "stdio", "idempotencyKeys": True}]
    assert facts["idempotentTools"] == []
    assert facts["toolsNeedingApproval"] == ["issue_refund"]  # the keys that were there before are kept
    text = run("Agent/support-agent")[1]
    assert "refunds: stdio `python examples/mcp_refund_server.py`; honours idempotency keys" in text


def test_an_idempotent_tool_and_a_server_without_keys_are_explained(tmp_path):
    import shutil

    for folder in EXAMPLE:
        shutil.copytree(folder, tmp_path / folder.name)
    agents = tmp_path / "manifests" / "agents.yaml"
    text = agents.read_text(encoding="utf-8").replace(", idempotencyKeys: true}", "}")
    text = text.replace("      action: write\n", "      action: write\n      idempotent: true\n")
    agents.write_text(text, encoding="utf-8")
    manifests = validate([tmp_path / "manifests", tmp_path / "policies"]).manifests
    e = explain(manifests, manifests.get("Agent", "support-agent"))
    assert e.facts["idempotentTools"] == ["issue_refund"]
    assert e.facts["mcpServers"] == [{"name": "refunds", "transport": "stdio", "idempotencyKeys": False}]
    tools = next(s.lines for s in e.sections if s.title == "Tools")
    assert (
        tools[1]
        == "issue_refund (write): waits for a human approval; idempotent (safe to call again with the same arguments)"
    )
    assert tools[0] == "lookup_order (read): runs on its own"
    (servers,) = next(s.lines for s in e.sections if s.title == "MCP servers")
    assert servers.endswith("does not say it honours idempotency keys")


def test_a_policy_shows_its_demotion_on_incident():
    code, out = run("Policy/default", "-o", "json")
    facts = json.loads(out)["explanations"][0]["facts"]
    assert code == 0
    assert facts["demoteOnIncident"] == {"atOrAbove": 3, "to": "L2"}
    assert facts["unknownTags"] == "deny"
    assert (
        "an incident at level 3 or above demotes the agent or pipeline to L2 (a ledger entry)"
        in run("Policy/default")[1]
    )


def test_a_policy_without_demotion_says_incidents_never_demote(tmp_path):
    (tmp_path / "policy.yaml").write_text("apiVersion: maestro.dev/v1\nkind: Policy\nmetadata:\n  name: p\nspec: {}\n")
    result = validate([tmp_path])
    e = explain(result.manifests, result.manifests.get("Policy", "p"))
    assert e.facts["demoteOnIncident"] is None
    (demotion,) = [s for s in e.sections if s.title == "Demotion on incident"]
    assert demotion.lines == ("none: an incident never demotes an agent or pipeline on its own",)
