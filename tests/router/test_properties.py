"""Property tests: the router never fails open, never widens the allowed set, and replays exactly."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maestro import router
from maestro.manifests.loader import SourceFile
from maestro.manifests.validate import validate_sources
from maestro.report.decision import decision_dict
from maestro.router import Circuit, DeploymentState, LiveState, Request

ROOT = Path(__file__).resolve().parents[2]
POLICY = (ROOT / "policies" / "default.yaml").read_bytes()
JURISDICTIONS = ["us", "eu", "uk", "onprem"]
TAGS = ["pii.email", "pii.phone", "pii.payment-card", "secret.credential", "sensitivity.public", "phi.health"]


def _provider(i: int, jurisdiction: str, retention: int, training: bool) -> dict:
    return {
        "apiVersion": "maestro.dev/v1",
        "kind": "Provider",
        "metadata": {"name": f"p{i}"},
        "spec": {
            "type": "openai-compatible",
            "baseUrl": f"https://p{i}.example.com/v1",
            "jurisdiction": jurisdiction,
            "dataRetentionDays": retention,
            "trainingUse": training,
            "models": [
                {"name": "m", "contextWindow": 8000, "price": {"inputPer1M": 1.0 + i, "outputPer1M": 2.0 + i}},
                {"name": "big", "contextWindow": 128000, "price": {"inputPer1M": 5.0, "outputPer1M": 15.0}},
            ],
        },
    }


@st.composite
def worlds(draw: st.DrawFn) -> tuple[router.RouterTable, list[str], dict]:
    n = draw(st.integers(2, 7))
    facts = [
        (draw(st.sampled_from(JURISDICTIONS)), draw(st.sampled_from([0, 30])), draw(st.booleans())) for _ in range(n)
    ]
    providers = [_provider(i, *f) for i, f in enumerate(facts)]
    keys = [f"p{i}/{m}" for i in range(n) for m in ("m", "big")]
    pairs = [dict(zip(("provider", "model"), k.split("/"), strict=True)) for k in keys]
    chosen = draw(st.lists(st.sampled_from(range(len(pairs))), min_size=1, max_size=4, unique=True))
    rest = [i for i in range(len(pairs)) if i not in chosen]
    fallback = draw(st.lists(st.sampled_from(rest), max_size=3, unique=True)) if rest else []
    candidates = [dict(pairs[i], weight=draw(st.integers(0, 5))) for i in chosen]
    if not any(c["weight"] for c in candidates):
        candidates[0]["weight"] = 1
    require = draw(st.lists(st.sampled_from(JURISDICTIONS), min_size=1, max_size=3, unique=True))
    route = {
        "apiVersion": "maestro.dev/v1",
        "kind": "Route",
        "metadata": {"name": "r"},
        "spec": {
            "alias": "chat",
            "candidates": candidates,
            "fallback": [pairs[i] for i in fallback],
            "rules": [
                {"name": "pii-rule", "when": "'pii.phone' in request.tags", "require": {"jurisdictions": require}}
            ],
            "pins": [
                {
                    "name": "pin",
                    "when": "request.caller == 'pinned'",
                    "target": pairs[draw(st.sampled_from(range(len(pairs))))],
                }
            ],
            "shadow": [dict(pairs[draw(st.sampled_from(range(len(pairs))))], sampleRate=1.0)],
            "objective": {"quality": 0.5, "cost": 0.5},
        },
    }
    sources = [SourceFile("policy.yaml", POLICY, "")]
    sources += [SourceFile(f"d{i}.yaml", json.dumps(doc).encode(), "") for i, doc in enumerate([*providers, route])]
    result = validate_sources(sources)
    table = router.build(result.manifests)
    oracle = {"facts": {f"p{i}": f for i, f in enumerate(facts)}, "require": set(require)}
    return table, keys, oracle


requests = st.builds(
    lambda tags, caller, tokens: Request(alias="chat", tags=frozenset(tags), caller=caller, input_tokens=tokens),
    st.lists(st.sampled_from(TAGS), max_size=3),
    st.sampled_from(["", "pinned", "web"]),
    st.integers(0, 20000),
)


def states(keys: list[str]) -> st.SearchStrategy[LiveState]:
    one = st.builds(
        DeploymentState,
        circuit=st.sampled_from(list(Circuit)),
        latency_p95_ms=st.none() | st.floats(1, 20000),
        error_rate=st.floats(0, 1),
        saturated=st.booleans(),
    )
    return st.dictionaries(st.sampled_from(keys), one).map(lambda d: LiveState(deployments=d))


def oracle_allows(oracle: dict, key: str, tags: frozenset[str]) -> bool:
    """An independent reading of policies/default.yaml's allow blocks and the route rule."""
    jurisdiction, retention, training = oracle["facts"][key.split("/", maxsplit=1)[0]]
    for tag in tags:
        if tag.startswith(("pii.", "phi.")) and (jurisdiction not in ("eu", "onprem") or retention or training):
            return False
        if tag == "secret.credential" and jurisdiction != "onprem":
            return False
    return not ("pii.phone" in tags and jurisdiction not in oracle["require"])


settings.register_profile("router", max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@settings(settings.get_profile("router"))
@given(st.data())
def test_decisions_never_leave_the_allowed_set(data: st.DataObject) -> None:
    table, keys, oracle = data.draw(worlds())
    request = data.draw(requests)
    state = data.draw(states(keys))
    decision = router.decide(table, request, state, seed=data.draw(st.integers(0, 100)))
    assert set(decision.order) <= decision.allowed
    assert set(decision.shadow) <= decision.allowed
    for key in decision.allowed:
        assert oracle_allows(oracle, key, decision.tags), (key, decision.tags)
    for removal in decision.removed:
        if removal.stage in (router.Stage.CIRCUIT, router.Stage.SATURATED, router.Stage.CONTEXT):
            assert removal.deployment not in decision.order


@settings(settings.get_profile("router"))
@given(st.data())
def test_live_state_and_seed_never_change_the_allowed_set(data: st.DataObject) -> None:
    table, keys, _ = data.draw(worlds())
    request = data.draw(requests)
    calm = router.decide(table, request, LiveState(), seed=0)
    stormy = router.decide(table, request, data.draw(states(keys)), seed=data.draw(st.integers(0, 10**6)))
    assert stormy.allowed == calm.allowed
    assert set(stormy.order) <= calm.allowed


@settings(settings.get_profile("router"))
@given(st.data())
def test_more_tags_never_allow_more(data: st.DataObject) -> None:
    table, _, _ = data.draw(worlds())
    request = data.draw(requests)
    extra = data.draw(st.sampled_from(TAGS))
    wider = router.decide(table, request)
    narrower = router.decide(table, Request(alias="chat", tags=request.tags | {extra}, caller=request.caller))
    assert narrower.allowed <= wider.allowed


@settings(settings.get_profile("router"))
@given(st.data())
def test_unknown_tags_deny_everything(data: st.DataObject) -> None:
    table, _, _ = data.draw(worlds())
    request = data.draw(requests)
    decision = router.decide(table, Request(alias="chat", tags=request.tags | {"pii.unheard-of"}))
    assert decision.order == ()
    assert decision.allowed == frozenset()
    assert decision.denied is not None and "unknown" in decision.denied


def test_replaying_ten_thousand_requests_gives_identical_decisions() -> None:
    result = validate_sources(
        [SourceFile(str(p), p.read_bytes(), str(p.parent)) for p in sorted((ROOT / "manifests").glob("*.yaml"))]
        + [SourceFile("policy.yaml", POLICY, "")]
    )
    rng = random.Random(7)
    texts = ["hello", "mail bob@example.com", "call +44 20 7946 0958", "card 4111 1111 1111 1111", "refund order 12"]
    recorded = [
        Request(
            alias=rng.choice(["chat", "chat-eu-pii", "local"]),
            messages=({"role": "user", "content": rng.choice(texts)},),
            caller=rng.choice(["web", "batch-jobs"]),
            tags=frozenset(rng.sample(TAGS[:4], rng.randint(0, 1))),
            request_id=f"req-{i}",
        )
        for i in range(10_000)
    ]
    first = [
        json.dumps(decision_dict(router.decide(router.build(result.manifests), r, seed=1)), default=str)
        for r in recorded[:50]
    ]
    table = router.build(result.manifests)
    once = [json.dumps(decision_dict(router.decide(table, r, seed=1)), default=str) for r in recorded]
    again_table = router.build(result.manifests)
    twice = [json.dumps(decision_dict(router.decide(again_table, r, seed=1)), default=str) for r in recorded]
    assert once == twice
    assert once[:50] == first
    assert len({json.loads(d)["primary"] for d in once}) > 1
