"""The routing decision, scenario by scenario: each in a small manifest set built here, or the example."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
from helpers.router import ROOT, model, pair, policy, provider, route, table

from maestro import router
from maestro.manifests.loader import SourceFile
from maestro.manifests.validate import validate, validate_sources
from maestro.router import Circuit, DeploymentState, LiveState, Request, RouterError, Stage

MINI = "openai-us/gpt-4o-mini"
HAIKU = "anthropic-us/claude-3-5-haiku-20241022"
NIM_8B = "nim-eu/meta/llama-3.1-8b-instruct"
LOCAL = "local-lane/smollm2-135m-instruct"
MISTRAL = "mistral-eu/mistral-small-latest"
US = (MINI, HAIKU)

# --- building small manifest sets (the builders are in helpers.router) ---------------------------------------


def two_providers(**route_spec: Any) -> router.RouterTable:
    """us/m and eu/m, both weight 1, on route 'r' (alias chat)."""
    return table(
        provider("us", "us"),
        provider("eu", "eu"),
        route("r", "chat", [pair("us/m"), pair("eu/m")], **route_spec),
    )


def ask(alias: str = "chat", text: str = "hello", **fields: Any) -> Request:
    if "tags" in fields:
        fields["tags"] = frozenset(fields["tags"])
    return Request(alias=alias, messages=({"role": "user", "content": text},), **fields)


def stages(decision: router.Decision) -> dict[str, set[Stage]]:
    out: dict[str, set[Stage]] = {}
    for r in decision.removed:
        out.setdefault(r.deployment, set()).add(r.stage)
    return out


@pytest.fixture(scope="module")
def example() -> router.RouterTable:
    result = validate([ROOT / "manifests", ROOT / "policies"])
    assert result.summary.errors == 0
    return router.build(result.manifests)


# --- the example repository ---------------------------------------------------------------------------------


def test_an_untagged_request_tries_the_candidates_then_the_fallbacks(example: router.RouterTable) -> None:
    decision = router.decide(example, ask(text="where is my order?"))
    assert set(decision.order[:2]) == {MINI, HAIKU}
    # gpt-4o, held at weight 0 for the example rollout, is never picked by weight: it follows as a failover
    assert decision.order[2:] == ("openai-us/gpt-4o", NIM_8B, LOCAL)
    assert decision.removed == ()
    assert decision.denied is None
    assert decision.tags == frozenset() and decision.detected_tags == frozenset()
    assert {s.deployment for s in decision.scores} == {MINI, HAIKU, "openai-us/gpt-4o"}


def test_the_primary_follows_the_route_weights_over_seeds(example: router.RouterTable) -> None:
    primaries = Counter(router.decide(example, ask(), seed=seed).primary for seed in range(2000))
    assert set(primaries) == {MINI, HAIKU}
    assert 0.87 <= primaries[MINI] / 2000 <= 0.93


@pytest.mark.parametrize(
    ("text", "asserted", "detected"),
    [
        ("please write to bob.smith@example.com", set(), {"pii.email"}),
        ("call me on +44 20 7946 0958", set(), {"pii.phone"}),
        ("hello", {"pii.email"}, set()),
        ("hello", {"pii.phone"}, set()),
        ("reach me at ann@example.org", {"pii.phone"}, {"pii.email"}),
    ],
)
def test_personal_data_never_reaches_a_us_provider(
    example: router.RouterTable, text: str, asserted: set[str], detected: set[str]
) -> None:
    decision = router.decide(example, ask(text=text, tags=asserted))
    assert decision.detected_tags == frozenset(detected)
    assert decision.tags == frozenset(asserted | detected)
    assert decision.order == (NIM_8B, LOCAL)
    assert decision.denied is None
    for key in US:
        assert key not in decision.allowed
        tag_removals = [r for r in decision.removed if r.deployment == key and r.stage == Stage.TAG]
        assert tag_removals, key
        assert all(any(f"'{t}'" in r.reason for t in decision.tags) for r in tag_removals)


def test_the_shadow_that_keeps_data_is_not_allowed_for_personal_data(example: router.RouterTable) -> None:
    decision = router.decide(example, ask(tags={"pii.email"}))
    assert MISTRAL not in decision.allowed
    assert any(r.deployment == MISTRAL and "retention" in r.reason for r in decision.removed)


def test_the_route_rule_on_phone_numbers_adds_its_requirement(example: router.RouterTable) -> None:
    decision = router.decide(example, ask(tags={"pii.phone"}))
    rule = "route rule 'contact-details-stay-in-eu'"
    for key in US:
        assert any(r.deployment == key and r.stage == Stage.ROUTE_RULE and r.rule == rule for r in decision.removed)


def test_the_credentials_rule_denies_the_request(example: router.RouterTable) -> None:
    decision = router.decide(example, ask(tags={"secret.credential"}))
    assert decision.order == ()
    assert decision.primary is None
    assert decision.denied is not None and "'no-credentials'" in decision.denied


@pytest.mark.parametrize("tags", [{"pii.unheard-of"}, {"pii.email", "made.up"}, {"sensitivity.public", "x"}])
def test_an_unknown_tag_denies_everything(example: router.RouterTable, tags: set[str]) -> None:
    decision = router.decide(example, ask(tags=tags))
    assert decision.order == ()
    assert decision.allowed == frozenset()
    assert decision.denied is not None and "unknown" in decision.denied


def test_an_unknown_alias_lists_the_known_ones(example: router.RouterTable) -> None:
    with pytest.raises(RouterError) as info:
        router.decide(example, ask(alias="chatt"))
    assert "'chatt'" in str(info.value)
    assert "known aliases: chat, chat-eu-pii, local" in str(info.value)


# --- pins ---------------------------------------------------------------------------------------------------


def test_a_pin_overrides_the_weights(example: router.RouterTable) -> None:
    for seed in range(50):
        decision = router.decide(example, ask(caller="batch-jobs"), seed=seed)
        assert decision.pinned_by == "batch-jobs-on-mini"
        assert decision.primary == MINI
        assert decision.order.count(MINI) == 1
    assert router.decide(example, ask(caller="web")).pinned_by is None


def test_a_pin_to_a_target_that_is_not_allowed_is_ignored(example: router.RouterTable) -> None:
    decision = router.decide(example, ask(caller="batch-jobs", tags={"pii.email"}))
    assert decision.pinned_by is None
    assert decision.order == (NIM_8B, LOCAL)


def test_a_pin_to_a_target_that_is_down_is_ignored(example: router.RouterTable) -> None:
    state = LiveState({MINI: DeploymentState(circuit=Circuit.OPEN)})
    decision = router.decide(example, ask(caller="batch-jobs"), state)
    assert decision.pinned_by is None
    assert decision.primary == HAIKU
    assert MINI not in decision.order


@pytest.mark.parametrize(("headers", "pinned"), [({}, False), ({"x-lane": "eu"}, True), ({"x-lane": "us"}, False)])
def test_a_pin_whose_condition_cannot_be_evaluated_does_not_apply(headers: dict[str, str], pinned: bool) -> None:
    pins = [{"name": "eu-header", "when": "request.headers['x-lane'] == 'eu'", "target": pair("eu/m")}]
    routes = table(
        provider("us", "us", model(quality=0.9)),
        provider("eu", "eu", model(quality=0.1)),
        route("r", "chat", [pair("us/m"), pair("eu/m")], pins=pins, objective={"quality": 1.0}),
    )
    decision = router.decide(routes, ask(headers=headers))
    assert (decision.pinned_by == "eu-header") is pinned
    assert decision.primary == ("eu/m" if pinned else "us/m")


# --- scores and weights -------------------------------------------------------------------------------------


def _cheap_and_dear(
    objective: dict[str, float], cheap_weight: int = 1, dear_weight: int = 1, **spec: Any
) -> router.RouterTable:
    return table(
        provider("cheap", "us", model(price=0.1, quality=0.3)),
        provider("dear", "us", model(price=10.0, quality=0.9)),
        route(
            "r",
            "chat",
            [pair("cheap/m", weight=cheap_weight), pair("dear/m", weight=dear_weight)],
            objective=objective,
            **spec,
        ),
    )


@pytest.mark.parametrize(
    ("objective", "best"),
    [({"cost": 1.0}, "cheap/m"), ({"quality": 1.0}, "dear/m"), ({"quality": 0.2, "cost": 0.8}, "cheap/m")],
)
def test_with_equal_weights_the_best_score_leads(objective: dict[str, float], best: str) -> None:
    routes = _cheap_and_dear(objective)
    for seed in range(30):
        decision = router.decide(routes, ask(), seed=seed)
        assert decision.primary == best
        assert decision.scores[0].deployment == best
        assert decision.scores[0].total > decision.scores[1].total


@pytest.mark.parametrize(
    "objective",
    [{"cost": 1.0}, {"quality": 0.5, "latency": 0.2, "cost": 0.3}, {"reliability": 0.6, "sovereignty": 0.3}],
)
def test_score_parts_lie_in_zero_one_and_the_total_follows_the_weights(objective: dict[str, float]) -> None:
    state = LiveState(
        {
            "cheap/m": DeploymentState(latency_p95_ms=300.0, error_rate=0.1),
            "dear/m": DeploymentState(latency_p95_ms=900.0, error_rate=0.02),
        }
    )
    decision = router.decide(_cheap_and_dear(objective), ask(), state)
    assert len(decision.scores) == 2
    for score in decision.scores:
        assert set(score.parts) == {"quality", "latency", "cost", "reliability", "sovereignty"}
        assert all(0.0 <= v <= 1.0 for v in score.parts.values()), score.parts
        expected = sum(w * score.parts[k] for k, w in objective.items()) / sum(objective.values())
        assert score.total == pytest.approx(expected, abs=1e-6)
        assert score.cost_usd > 0
    by_key = {s.deployment: s for s in decision.scores}
    assert by_key["cheap/m"].parts["cost"] == 1.0 and by_key["dear/m"].parts["cost"] == 0.0
    assert by_key["cheap/m"].parts["latency"] == 1.0 and by_key["dear/m"].parts["latency"] == 0.0
    assert by_key["cheap/m"].parts["reliability"] == pytest.approx(0.9)


def test_a_weight_zero_candidate_never_leads_while_a_weighted_one_is_left() -> None:
    routes = _cheap_and_dear({"cost": 1.0}, cheap_weight=0, dear_weight=1)
    for seed in range(30):
        decision = router.decide(routes, ask(), seed=seed)
        assert decision.order == ("dear/m", "cheap/m")
    down = LiveState({"dear/m": DeploymentState(circuit=Circuit.OPEN)})
    assert router.decide(routes, ask(), down).order == ("cheap/m", "dear/m")  # one of two open: panic, it goes last
    no_panic = _cheap_and_dear({"cost": 1.0}, cheap_weight=0, dear_weight=1, panicThreshold=0)
    assert router.decide(no_panic, ask(), down).order == ("cheap/m",)


# --- hard constraints ---------------------------------------------------------------------------------------


def _constrained() -> router.RouterTable:
    """small (4k context, cheap) and big (128k context, dear, weight 90), both in the EU; a US fallback.

    validate flags the US fallback (route.fallback-widens); the router must hold the line on its own anyway.
    """
    return table(
        provider("eu", "eu", model("small", context=4000, price=0.1), model("big", context=128_000, price=50.0)),
        provider("us", "us"),
        route(
            "r",
            "chat",
            [pair("eu/big", weight=90), pair("eu/small", weight=10)],
            fallback=[pair("us/m")],
            limits={"maxCostUsd": 0.05, "maxLatency": "8s"},
        ),
        clean=False,
    )


def _panicless(threshold: float = 0.0) -> router.RouterTable:
    """``_constrained`` with the route's panic threshold set (0: never panic)."""
    return table(
        provider("eu", "eu", model("small", context=4000, price=0.1), model("big", context=128_000, price=50.0)),
        provider("us", "us"),
        route(
            "r",
            "chat",
            [pair("eu/big", weight=90), pair("eu/small", weight=10)],
            fallback=[pair("us/m")],
            limits={"maxCostUsd": 0.05, "maxLatency": "8s"},
            panicThreshold=threshold,
        ),
        clean=False,
    )


def test_a_context_window_too_small_removes_the_model() -> None:
    decision = router.decide(_constrained(), ask(input_tokens=5000))
    # 5,000 tokens overflow small's 4k window; at 50 USD per 1M they also cost big more than the 0.05 cap
    assert stages(decision) == {"eu/small": {Stage.CONTEXT}, "eu/big": {Stage.COST}}
    assert decision.order == ("us/m",)


def test_the_cost_cap_removes_the_dear_model_and_keeps_the_cheap_one() -> None:
    routes = _constrained()
    for seed in range(30):
        decision = router.decide(routes, ask(input_tokens=1000), seed=seed)
        assert stages(decision)["eu/big"] == {Stage.COST}
        assert decision.primary == "eu/small"
    assert router.decide(routes, ask(input_tokens=10)).removed == ()


@pytest.mark.parametrize(
    ("live", "stage"),
    [
        (DeploymentState(circuit=Circuit.OPEN), Stage.CIRCUIT),
        (DeploymentState(saturated=True), Stage.SATURATED),
        (DeploymentState(latency_p95_ms=9000.0), Stage.LATENCY),
    ],
)
def test_live_state_removes_an_unhealthy_deployment(live: DeploymentState, stage: Stage) -> None:
    decision = router.decide(_constrained(), ask(input_tokens=10), LiveState({"eu/big": live}))
    assert stages(decision) == {"eu/big": {stage}}
    assert decision.order == ("eu/small", "us/m")


@pytest.mark.parametrize(
    "live",
    [
        DeploymentState(circuit=Circuit.HALF_OPEN),
        DeploymentState(latency_p95_ms=7999.0),
        DeploymentState(error_rate=0.9),
    ],
)
def test_live_state_within_bounds_removes_nothing(live: DeploymentState) -> None:
    decision = router.decide(_constrained(), ask(input_tokens=10), LiveState({"eu/big": live}))
    assert decision.removed == ()
    assert set(decision.order) == {"eu/big", "eu/small", "us/m"}


@pytest.mark.parametrize(
    ("live", "input_tokens"),
    [
        (DeploymentState(circuit=Circuit.OPEN), 10),
        (DeploymentState(saturated=True), 10),
        (DeploymentState(latency_p95_ms=60_000.0), 10),
        (DeploymentState(), 3_000_000),
    ],
)
def test_no_constraint_lets_a_disallowed_deployment_in(live: DeploymentState, input_tokens: int) -> None:
    routes = _constrained()
    state = LiveState({"eu/big": live, "eu/small": live})
    decision = router.decide(routes, ask(tags={"pii.email"}, input_tokens=input_tokens), state)
    assert "us/m" not in decision.allowed and "us/m" not in decision.order
    if live.circuit == Circuit.OPEN:  # every allowed one is open: panic tries them all, still only them
        assert set(decision.order) == {"eu/big", "eu/small"} and decision.panic is not None
        return
    assert decision.order == ()
    assert decision.denied is not None and decision.denied.startswith("no deployment is allowed and available")


def test_when_every_allowed_deployment_is_down_the_denial_says_so_first() -> None:
    state = LiveState({k: DeploymentState(circuit=Circuit.OPEN) for k in ("eu/big", "eu/small")})
    decision = router.decide(_panicless(), ask(tags={"pii.email"}, input_tokens=10), state)
    assert decision.denied is not None
    assert decision.denied.split(": ", 1)[1].startswith("its circuit is open")


# --- the panic threshold (Envoy's): most of the allowed deployments open, every allowed one is tried ---------

OPEN = DeploymentState(circuit=Circuit.OPEN)


def test_one_open_circuit_of_two_panics_at_the_default_threshold() -> None:
    # a starved gateway opened the healthy fallback's circuit: still tried, after the primary
    decision = router.decide(two_providers(), ask(), LiveState({"us/m": OPEN}))
    assert decision.panic is not None and decision.order == ("eu/m", "us/m") and decision.removed == ()
    assert router.decide(two_providers(panicThreshold=0.51), ask(), LiveState({"us/m": OPEN})).order == ("eu/m",)


def test_one_open_circuit_of_three_is_removed_without_panic() -> None:
    decision = router.decide(_constrained(), ask(input_tokens=10), LiveState({"eu/big": OPEN}))
    assert stages(decision) == {"eu/big": {Stage.CIRCUIT}}
    assert decision.panic is None and decision.order == ("eu/small", "us/m")


def test_two_open_circuits_of_three_panic_and_every_allowed_deployment_is_tried() -> None:
    state = LiveState({"eu/big": OPEN, "us/m": OPEN})
    decision = router.decide(_constrained(), ask(input_tokens=10), state)
    assert decision.removed == ()  # nothing removed: the open ones are in the order, and the decision says why
    assert decision.order == ("eu/small", "eu/big", "us/m")  # the open ones after the closed one, in their order
    assert decision.panic is not None
    assert "2 of the 3 allowed deployment(s) have an open circuit (eu/big, us/m)" in decision.panic
    assert "at least the route's panic threshold of 50%" in decision.panic


def test_panic_never_brings_back_a_deployment_policy_removed() -> None:
    # pii.email keeps us/m out (policy); both EU deployments are open: panic tries them, never us/m
    state = LiveState({"eu/big": OPEN, "eu/small": OPEN, "us/m": DeploymentState()})
    decision = router.decide(_constrained(), ask(tags={"pii.email"}, input_tokens=10), state)
    assert decision.panic is not None and set(decision.order) == {"eu/big", "eu/small"}
    assert stages(decision)["us/m"] == {Stage.TAG}


def test_panic_never_brings_back_a_deployment_another_constraint_removed() -> None:
    # 5,000 tokens: small's context is too small and big is over the cost cap; only us/m fits, and it is open
    decision = router.decide(_constrained(), ask(input_tokens=5000), LiveState({"us/m": OPEN}))
    assert decision.panic is not None and decision.order == ("us/m",)
    assert stages(decision) == {"eu/small": {Stage.CONTEXT}, "eu/big": {Stage.COST}}


@pytest.mark.parametrize(
    ("threshold", "panics"), [(0.0, False), (0.5, True), (0.66, True), (0.67, False), (1.0, False)]
)
def test_the_panic_threshold_is_the_route_s_own(threshold: float, panics: bool) -> None:
    # two of three open (0.667): at least 0.5 and 0.66, not 0.67 nor 1.0; 0 never panics
    state = LiveState({"eu/big": OPEN, "us/m": OPEN})
    decision = router.decide(_panicless(threshold), ask(input_tokens=10), state)
    assert (decision.panic is not None) is panics
    assert set(decision.order) == ({"eu/small", "eu/big", "us/m"} if panics else {"eu/small"})
    if not panics:  # the removals keep the order of the route's deployments
        assert [r.deployment for r in decision.removed] == ["eu/big", "us/m"]


def test_the_panic_threshold_is_checked_by_the_schema() -> None:
    docs = [provider("us", "us"), route("r", "chat", [pair("us/m")], panicThreshold=1.5)]
    result = validate_sources([SourceFile(f"doc{i}.yaml", json.dumps(d).encode(), "") for i, d in enumerate(docs)])
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert [d.path for d in errors] == ["spec.panicThreshold"], errors


# --- budgets and the kill switch -----------------------------------------------------------------------------


def _budgeted(**policy_spec: Any) -> router.RouterTable:
    return table(
        provider("us", "us"),
        route("r", "chat", [pair("us/m")]),
        route("r2", "other", [pair("us/m")]),
        policy("money", **policy_spec),
    )


BUDGETS = [
    {"name": "route-r", "scope": {"route": "r"}, "limitUsd": 10, "period": "month", "onExceed": "block"},
    {"name": "research", "scope": {"team": "research"}, "limitUsd": 5, "period": "day", "onExceed": "block"},
]


@pytest.mark.parametrize(
    ("alias", "team", "spend", "denied_by"),
    [
        ("chat", "", {"route-r": 10.0}, "route-r"),
        ("chat", "", {"route-r": 9.99}, None),
        ("chat", "", {}, None),
        ("other", "", {"route-r": 50.0}, None),
        ("other", "research", {"research": 5.0}, "research"),
        ("chat", "research", {"research": 7.0}, "research"),
        ("chat", "support", {"research": 7.0}, None),
        ("chat", "", {"research": 7.0}, None),
        ("chat", "research", {"research": 4.0}, None),
    ],
)
def test_a_spent_blocking_budget_denies_only_its_scope(
    alias: str, team: str, spend: dict[str, float], denied_by: str | None
) -> None:
    decision = router.decide(_budgeted(budgets=BUDGETS), ask(alias=alias, team=team), LiveState(spend_usd=spend))
    if denied_by is None:
        assert decision.denied is None
        assert decision.order == ("us/m",)
    else:
        assert decision.order == ()
        assert decision.denied is not None and f"budget '{denied_by}'" in decision.denied


@pytest.mark.parametrize(
    ("kill", "denied_aliases"),
    [
        ({"engaged": True}, {"chat", "other"}),
        ({"engaged": True, "routes": []}, {"chat", "other"}),
        ({"engaged": True, "routes": ["r2"]}, {"other"}),
        ({"engaged": False, "routes": ["r2"]}, set()),
    ],
)
def test_the_kill_switch_denies_the_routes_it_covers(kill: dict[str, Any], denied_aliases: set[str]) -> None:
    routes = _budgeted(killSwitch=kill)
    for alias in ("chat", "other"):
        decision = router.decide(routes, ask(alias=alias))
        if alias in denied_aliases:
            assert decision.order == ()
            assert decision.denied is not None and "kill switch" in decision.denied
        else:
            assert decision.order == ("us/m",)


# --- Policy rules and route rules ----------------------------------------------------------------------------

TAXONOMY = {
    "jurisdictions": [{"name": "us"}, {"name": "eu"}],
    "tags": [
        {"name": "secret.credential", "class": "secret", "allow": {"jurisdictions": ["us", "eu"]}},
        {"name": "sensitivity.public", "class": "sensitivity", "allow": {"jurisdictions": ["us", "eu"]}},
    ],
}


def _ruled(rules: list[dict[str, Any]], route_rules: list[dict[str, Any]] = ()) -> router.RouterTable:  # type: ignore[assignment]
    return table(
        policy("guard", taxonomy=TAXONOMY, rules=rules),
        provider("trainer", "us", training=True),
        provider("clean", "us"),
        provider("eu", "eu"),
        route("r", "chat", [pair("trainer/m"), pair("clean/m"), pair("eu/m")], rules=list(route_rules)),
        default_policy=False,
    )


NO_CREDENTIALS = {
    "name": "no-credentials-to-trainers",
    "when": "'secret.credential' in request.tags && provider.trainingUse",
    "effect": "deny",
}


@pytest.mark.parametrize(
    ("tags", "removed"),
    [({"secret.credential"}, {"trainer/m"}), ({"sensitivity.public"}, set()), (set(), set())],
)
def test_a_policy_deny_rule_removes_only_the_providers_it_matches(tags: set[str], removed: set[str]) -> None:
    decision = router.decide(_ruled([NO_CREDENTIALS]), ask(tags=tags))
    assert stages(decision) == {key: {Stage.POLICY} for key in removed}
    assert set(decision.order) == {"trainer/m", "clean/m", "eu/m"} - removed
    for r in decision.removed:
        assert "guard/no-credentials-to-trainers" in r.reason


@pytest.mark.parametrize(
    ("when", "removed"),
    [
        ("provider.name == 'clean'", {"clean/m"}),
        ("provider.name.startsWith('tr') && 'secret.credential' in request.tags", {"trainer/m"}),
        ("provider.region == 'nowhere'", set()),
    ],
)
def test_providers_alike_in_every_attribute_but_the_one_a_rule_reads_are_judged_apart(
    when: str, removed: set[str]
) -> None:
    """The router judges providers by policy class; a class must split on every field a deny rule reads."""
    rule = {"name": "by-field", "when": when, "effect": "deny"}
    routes = table(
        policy("guard", taxonomy=TAXONOMY, rules=[rule]),
        provider("trainer", "us"),
        provider("clean", "us"),
        route("r", "chat", [pair("trainer/m"), pair("clean/m")]),
        default_policy=False,
    )
    decision = router.decide(routes, ask(tags={"secret.credential"}))
    assert {r.deployment for r in decision.removed} == removed
    assert set(decision.order) == {"trainer/m", "clean/m"} - removed


@pytest.mark.parametrize("effect", ["warn", "require-approval"])
def test_a_policy_rule_that_does_not_deny_removes_nothing(effect: str) -> None:
    decision = router.decide(_ruled([dict(NO_CREDENTIALS, effect=effect)]), ask(tags={"secret.credential"}))
    assert decision.removed == ()


@pytest.mark.parametrize(("caller", "fails_closed"), [("web", True), ("", True), ("9", True), ("1", False)])
def test_a_policy_rule_that_cannot_be_evaluated_holds(caller: str, fails_closed: bool) -> None:
    rule = {"name": "numbered-callers", "when": "int(request.caller) > 3", "effect": "deny"}
    decision = router.decide(_ruled([rule]), ask(caller=caller))
    if fails_closed:
        assert decision.order == ()
        assert set(stages(decision)) == {"trainer/m", "clean/m", "eu/m"}
        reasons = {r.reason for r in decision.removed}
        if caller != "9":  # 9 > 3 holds; the others fail to evaluate and say so
            assert all("policy rule 'guard/numbered-callers' failed to evaluate (" in r for r in reasons), reasons
            assert all(r.endswith("so it denies it (fail closed)") for r in reasons)
    else:
        assert decision.removed == ()


@pytest.mark.parametrize(
    "when",
    [
        "int(request.caller) > 3",
        "request.tags[3] == 'x'",
        "request.headers['x-team'] == 'ops'",
        "1 / request.tokens > 0",
    ],
)
def test_a_route_deny_rule_that_cannot_be_evaluated_denies(when: str) -> None:
    routes = _ruled([], [{"name": "broken", "when": when, "deny": True}])
    decision = router.decide(routes, ask(caller="web", input_tokens=0))
    assert decision.order == ()
    assert decision.denied is not None
    assert decision.denied.startswith("route rule 'broken' failed to evaluate (")
    assert "so it denies the request (a rule that fails holds: fail closed)" in decision.denied


def test_a_route_deny_rule_that_holds_says_it_denies() -> None:
    routes = _ruled([], [{"name": "web-only", "when": "request.caller == 'web'", "deny": True}])
    decision = router.decide(routes, ask(caller="web"))
    assert decision.denied == "route rule 'web-only' denies the request"


@pytest.mark.parametrize(("when", "applies"), [("'sensitivity.public' in request.tags", True), ("false", False)])
def test_a_route_require_rule_removes_what_it_does_not_allow(when: str, applies: bool) -> None:
    rule = {"name": "eu-only", "when": when, "require": {"jurisdictions": ["eu"]}}
    decision = router.decide(_ruled([], [rule]), ask(tags={"sensitivity.public"}))
    if applies:
        assert decision.order == ("eu/m",)
        assert stages(decision) == {"trainer/m": {Stage.ROUTE_RULE}, "clean/m": {Stage.ROUTE_RULE}}
        assert all(r.rule == "route rule 'eu-only'" for r in decision.removed)
    else:
        assert decision.removed == ()


def test_a_route_require_rule_that_cannot_be_evaluated_applies() -> None:
    rule = {"name": "eu-only", "when": "int(request.caller) > 3", "require": {"jurisdictions": ["eu"]}}
    decision = router.decide(_ruled([], [rule]), ask(caller="web"))
    assert decision.order == ("eu/m",)


# --- shadows ---------------------------------------------------------------------------------------------------


def _shadowed(rate: float, **spec: Any) -> router.RouterTable:
    return table(
        provider("eu", "eu"),
        provider("us", "us"),
        route("r", "chat", [pair("eu/m")], shadow=[pair("us/m", sampleRate=rate)], **spec),
    )


@pytest.mark.parametrize(("rate", "low", "high"), [(0.0, 0, 0), (1.0, 500, 500), (0.3, 110, 190)])
def test_shadows_are_sampled_by_their_rate(rate: float, low: int, high: int) -> None:
    routes = _shadowed(rate)
    decisions = [router.decide(routes, ask(), seed=seed) for seed in range(500)]
    sampled = sum(1 for d in decisions if d.shadow == ("us/m",))
    assert low <= sampled <= high
    assert all(d.order == ("eu/m",) for d in decisions)


def test_the_example_shadow_is_sampled_at_five_percent(example: router.RouterTable) -> None:
    decisions = [router.decide(example, ask(), seed=seed) for seed in range(2000)]
    sampled = sum(1 for d in decisions if d.shadow == (MISTRAL,))
    assert 60 <= sampled <= 140
    assert all(MISTRAL not in d.order for d in decisions)


def test_a_shadow_that_is_not_allowed_is_never_sampled() -> None:
    routes = _shadowed(1.0)
    for seed in range(50):
        decision = router.decide(routes, ask(tags={"pii.email"}), seed=seed)
        assert decision.shadow == ()
        assert decision.order == ("eu/m",)


def test_a_shadow_is_never_served_even_when_nothing_else_is_up() -> None:
    down = LiveState({"eu/m": DeploymentState(circuit=Circuit.OPEN), "us/m": DeploymentState()})
    decision = router.decide(_shadowed(1.0, panicThreshold=0), ask(), down)
    assert decision.order == ()
    assert decision.denied is not None
    panicked = router.decide(_shadowed(1.0), ask(), down)  # in panic the open candidate is tried, never the shadow
    assert panicked.order == ("eu/m",) and panicked.panic is not None


# --- determinism ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [ask(), ask(caller="batch-jobs"), ask(text="mail bob@example.com"), ask(tags={"made.up"}), ask(team="support")],
)
def test_the_same_inputs_give_the_same_decision(example: router.RouterTable, request_: Request) -> None:
    rebuilt = router.build(validate([ROOT / "manifests", ROOT / "policies"]).manifests)
    state = LiveState({HAIKU: DeploymentState(latency_p95_ms=500.0)})
    first = router.decide(example, request_, state, seed=42)
    assert router.decide(example, request_, state, seed=42) == first
    assert router.decide(rebuilt, request_, state, seed=42) == first


def test_seeds_change_only_the_weighted_primary(example: router.RouterTable) -> None:
    request = ask(text="order 12 is late")
    base = router.decide(example, request, seed=0)
    primaries = set()
    for seed in range(1, 200):
        decision = router.decide(example, request, seed=seed)
        primaries.add(decision.primary)
        assert decision.allowed == base.allowed
        assert decision.removed == base.removed
        assert decision.scores == base.scores
        assert set(decision.order) == set(base.order)
        assert decision.order[2:] == base.order[2:]
        assert decision.decision_id != base.decision_id
    assert primaries == {MINI, HAIKU}


def test_the_decision_id_depends_on_the_request_not_the_table_object(example: router.RouterTable) -> None:
    rebuilt = router.build(validate([ROOT / "manifests", ROOT / "policies"]).manifests)
    ids = {
        router.decide(t, ask(request_id=rid, caller=caller), seed=1).decision_id
        for t in (example, rebuilt)
        for rid in ("a", "b")
        for caller in ("web", "batch-jobs")
    }
    assert len(ids) == 4
    assert all(re.fullmatch(r"dec_[0-9a-f]{24}", i) for i in ids)


# --- fallbacks through other routes -------------------------------------------------------------------------


def _chained(a_fallback: list[dict[str, Any]], b_fallback: list[dict[str, Any]], *, clean: bool) -> router.RouterTable:
    return table(
        *(provider(f"p{i}", "eu") for i in range(1, 6)),
        route("a", "a", [pair("p1/m")], fallback=a_fallback),
        route("b", "b", [pair("p3/m")], fallback=b_fallback),
        clean=clean,
    )


def test_a_route_fallback_expands_the_other_route_in_place() -> None:
    routes = _chained([pair("p2/m"), {"route": "b"}, pair("p5/m")], [pair("p4/m")], clean=True)
    assert router.decide(routes, ask(alias="a")).order == ("p1/m", "p2/m", "p3/m", "p4/m", "p5/m")
    assert router.decide(routes, ask(alias="b")).order == ("p3/m", "p4/m")


@pytest.mark.parametrize(
    ("a_fallback", "b_fallback", "a_order", "b_order"),
    [
        (
            [pair("p2/m"), {"route": "b"}, pair("p5/m")],
            [pair("p4/m"), {"route": "a"}],
            ("p1/m", "p2/m", "p3/m", "p4/m", "p5/m"),
            ("p3/m", "p4/m", "p1/m", "p2/m", "p5/m"),
        ),
        ([{"route": "a"}, {"route": "b"}, {"route": "b"}], [], ("p1/m", "p3/m"), ("p3/m",)),
    ],
)
def test_fallback_cycles_expand_each_route_once(
    a_fallback: list[dict[str, Any]],
    b_fallback: list[dict[str, Any]],
    a_order: tuple[str, ...],
    b_order: tuple[str, ...],
) -> None:
    routes = _chained(a_fallback, b_fallback, clean=False)
    for alias, order in (("a", a_order), ("b", b_order)):
        fallback = [d.key for d in routes.route(alias).fallback]
        assert len(fallback) == len(set(fallback))
        assert router.decide(routes, ask(alias=alias)).order == order


# --- policy versions ------------------------------------------------------------------------------------------


def test_policy_versions_hash_every_route_provider_and_policy(example: router.RouterTable) -> None:
    versions = router.decide(example, ask()).policy_versions
    result = validate([ROOT / "manifests", ROOT / "policies"])
    expected = {d.ref for d in result.manifests.documents if d.kind in ("Route", "Provider", "Policy")}
    assert set(versions) == expected
    assert {"Route/support-chat", "Provider/openai-us", "Policy/default"} <= set(versions)
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", v) for v in versions.values())


def test_a_changed_document_changes_only_its_own_version() -> None:
    before = router.decide(two_providers(), ask()).policy_versions
    after = table(
        provider("us", "us", retention=7),
        provider("eu", "eu"),
        route("r", "chat", [pair("us/m"), pair("eu/m")]),
    )
    changed = {k for k, v in router.decide(after, ask()).policy_versions.items() if before[k] != v}
    assert changed == {"Provider/us"}
