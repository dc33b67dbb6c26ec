"""The decision: a pure function of the routing table, the request, a live-state snapshot and a seed.

Order of work, and why nothing can widen the allowed set:
1. governance (``governance.refusal_before``): the kill switch, route rules that deny, budgets;
2. the allowed set, computed once: every deployment the route could ever use (candidates, pin targets,
   fallbacks, shadows) is judged against the tags (asserted and detected), the Policy rules and the route
   rules' requirements. Every later step only picks from this set;
3. hard constraints (context window, max cost, max latency, open circuit, saturation) on the allowed ones;
4. the primary: a matching pin, else a seeded weighted pick when weights differ (or a route's live weights set
   them, even equal: a rollout's 50/50), else the best score;
   the other candidates follow by score, then the fallbacks in the order written;
5. shadows: allowed shadow targets, sampled by their rate with the same seed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from maestro.manifests.requirements import Requirement
from maestro.policy.allow import DENY_RULE, request_view
from maestro.policy.detect import detect_messages
from maestro.router import sticky
from maestro.router.governance import EVALUATION_ERRORS, refusal_after, refusal_before
from maestro.router.model import (
    Circuit,
    Decision,
    DeploymentState,
    LiveState,
    Removal,
    Request,
    Score,
    Stage,
)
from maestro.router.table import Deployment, RouterTable, RouteTable

_EMPTY_STATE = LiveState()
_HEALTHY = DeploymentState()
OBJECTIVES = ("quality", "latency", "cost", "reliability", "sovereignty")


@dataclass(frozen=True, slots=True)
class _Ask:
    """One decision's inputs, worked out once."""

    table: RouterTable
    route: RouteTable
    state: LiveState
    view: Mapping[str, Any]
    tags: frozenset[str]
    input_tokens: int
    output_tokens: int
    seed: int
    decision_id: str
    sticky_key: str = ""  # the caller or session a Rollout's stickiness keeps on one side ('' when none)


def decide(
    table: RouterTable,
    request: Request,
    state: LiveState = _EMPTY_STATE,
    *,
    seed: int = 0,
    detect: bool = True,
) -> Decision:
    """Decide which deployments serve ``request``, in order, and why the others do not."""
    route = table.route(request.alias)
    detected = detect_messages(request.messages) if detect else frozenset()
    tags = request.tags | detected
    input_tokens = request.input_tokens if request.input_tokens is not None else estimate_tokens(request.messages)
    view = request_view(
        sorted(tags),
        caller=request.caller,
        team=request.team,
        alias=request.alias,
        tokens=input_tokens,
        headers=dict(request.headers),
        metadata=dict(request.metadata),
    )
    did = decision_id(route, request, tags, seed)
    key = sticky.key_of(route.sticky, caller=request.caller, metadata=request.metadata, headers=request.headers)
    ask = _Ask(table, route, state, view, tags, input_tokens, request.max_output_tokens, seed, did, key)
    base: dict[str, Any] = {
        "decision_id": did,
        "route": route.name,
        "alias": route.alias,
        "tags": tags,
        "detected_tags": detected,
        "policy_versions": table.versions,
    }
    refusal = refusal_before(table, route, state, view, request.team)
    if refusal is not None:
        return Decision(order=(), removed=(), scores=(), allowed=frozenset(), refusal=refusal, **base)
    removed: list[Removal] = []
    allowed = _allowed(ask, removed)
    eligible, panic = _eligible(ask, allowed, removed)
    eligible = _off_by_live_weight(ask, eligible, removed)
    candidates = [d for d, _ in route.candidates if d.key in eligible]
    scores = _scores(ask, candidates, {key: cost for key, (_, cost) in eligible.items()})
    pinned, primary = _primary(ask, candidates, scores, eligible)
    ranked = sorted(candidates, key=lambda d: (-scores[d.key].total, d.key))
    order = [primary] if primary else []
    order += [d.key for d in ranked] + [d.key for d in route.fallback if d.key in eligible]
    if panic is not None:  # the deployments whose circuit is open go after the others, each in its place
        order = sorted(order, key=lambda k: ask.state.of(k).circuit == Circuit.OPEN)
    shadow = tuple(d.key for d, rate in route.shadow if d.key in allowed and _draw(did, "shadow:" + d.key) < rate)
    refusal = None if order else refusal_after(route.name, removed)
    return Decision(
        order=tuple(dict.fromkeys(order)),
        removed=tuple(removed),
        scores=tuple(scores[d.key] for d in ranked),
        allowed=frozenset(allowed),
        shadow=shadow,
        pinned_by=pinned,
        refusal=refusal,
        panic=panic,
        **base,
    )


def _off_by_live_weight(ask: _Ask, eligible: dict[str, Any], removed: list[Removal]) -> dict[str, Any]:
    """A candidate whose live weight is 0 (a rollback, an abort) gets no traffic, not even as a fallback."""
    live = ask.state.weights.get(ask.route.name)
    if not live:
        return eligible
    off = [key for key, weight in live.items() if weight == 0 and key in eligible]
    for key in off:
        reason = f"its live weight on route '{ask.route.name}' is 0 (set at run time, e.g. a rollback)"
        removed.append(Removal(key, Stage.WEIGHT, "live-weights", reason))
    return {k: v for k, v in eligible.items() if k not in off}


def estimate_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """A cheap estimate: four characters a token, four tokens of overhead a message."""
    chars = 0
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(len(p["text"]) for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return chars // 4 + 4 * len(messages)


def decision_id(route: RouteTable, request: Request, tags: Iterable[str], seed: int) -> str:
    payload = json.dumps(
        [route.version, request.request_id, request.caller, request.team, sorted(tags), list(request.messages), seed],
        sort_keys=True,
        default=str,
    )
    return "dec_" + hashlib.sha256(payload.encode()).hexdigest()[:24]


def _draw(decision: str, purpose: str) -> float:
    digest = hashlib.sha256(f"{decision}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _holds(program: Any, view: Mapping[str, Any], *, on_error: bool = True) -> bool:
    """A condition over the request. A rule that cannot be evaluated holds (fail closed); a pin does not."""
    try:
        return bool(program.execute({"request": view}))
    except EVALUATION_ERRORS:
        return on_error


def _allowed(ask: _Ask, removed: list[Removal]) -> set[str]:
    """The deployments the tags, the Policy rules and the route rules' requirements admit; judged per class."""
    route = ask.route
    requirements = [r.requirement for r in route.rules if r.requirement is not None and _holds(r.program, ask.view)]
    classes = ask.table.policy_class
    tags = sorted(ask.tags)
    by_class: dict[int, tuple[tuple[Stage, str, str], ...]] = {}
    allowed: set[str] = set()
    for d in route.universe:
        cls = classes[d.provider.name]
        reasons = by_class.get(cls)
        if reasons is None:
            reasons = by_class[cls] = _provider_reasons(ask, d, tags, requirements)
        if reasons:
            removed.extend(Removal(d.key, stage, rule, reason) for stage, rule, reason in reasons)
        else:
            allowed.add(d.key)
    return allowed


def _provider_reasons(
    ask: _Ask, d: Deployment, tags: Sequence[str], requirements: Sequence[Requirement]
) -> tuple[tuple[Stage, str, str], ...]:
    out = []
    for kind, reason in ask.table.policy.findings(d.provider, tags, ask.view):
        out.append((Stage.POLICY if kind == DENY_RULE else Stage.TAG, kind, reason))
    for requirement in requirements:
        out.extend((Stage.ROUTE_RULE, requirement.source, reason) for reason in requirement.violations(d.provider))
    return tuple(out)


def _eligible(
    ask: _Ask, allowed: set[str], removed: list[Removal]
) -> tuple[dict[str, tuple[Deployment, float]], str | None]:
    """The allowed deployments that meet every hard constraint, each with its estimated cost, and why open
    circuits were ignored (the route's panic threshold), if they were."""
    out = {}
    opened: dict[str, tuple[Deployment, float]] = {}  # only their circuit keeps them out
    at: list[int] = []  # where each one's removal goes in ``removed`` when there is no panic
    live_of = ask.state.deployments.get
    fits = ask.input_tokens + ask.output_tokens
    cap, limit = ask.route.max_cost_usd, ask.route.max_latency_ms
    for d in ask.route.universe:
        if d.key not in allowed:
            continue
        cost = (ask.input_tokens * d.price_in + ask.output_tokens * d.price_out) / 1_000_000
        live = live_of(d.key)
        if (
            fits <= d.context_window
            and (cap is None or cost <= cap)
            and (
                live is None
                or (
                    not live.saturated
                    and (limit is None or live.latency_p95_ms is None or live.latency_p95_ms <= limit)
                )
            )
        ):
            if live is None or live.circuit != Circuit.OPEN:
                out[d.key] = (d, cost)
            else:
                opened[d.key] = (d, cost)
                at.append(len(removed) + len(at))
            continue
        stage, reason = _constraint(ask, d, cost, live)
        removed.append(Removal(d.key, stage, stage.value, reason))
    if not opened:
        return out, None
    panic = _panic(ask.route, out, opened)
    if panic is not None:
        return {**out, **opened}, panic
    for i, (key, _) in zip(at, opened.items(), strict=True):
        removed.insert(i, Removal(key, Stage.CIRCUIT, Stage.CIRCUIT.value, "its circuit is open after recent failures"))
    return out, None


def _panic(route: RouteTable, closed: Mapping[str, object], opened: Mapping[str, object]) -> str | None:
    """Why the open circuits are ignored: at least the route's panic threshold of the deployments it may serve
    from (allowed, and fit but for their circuit) have an open one. None when they are not ignored."""
    threshold = route.settings.panic_threshold
    if threshold <= 0:
        return None
    serving = {d.key for d, _ in route.candidates} | {p.target.key for p in route.pins}
    serving |= {d.key for d in route.fallback}
    ejected = [k for k in opened if k in serving]
    total = len(ejected) + sum(1 for k in closed if k in serving)
    if not ejected or len(ejected) / total < threshold:
        return None
    return (
        f"panic: {len(ejected)} of the {total} allowed deployment(s) have an open circuit ({', '.join(ejected)}), "
        f"at least the route's panic threshold of {threshold:.0%}: their circuits are ignored, and they are tried "
        "after the others"
    )


def _constraint(ask: _Ask, d: Deployment, cost: float, live: DeploymentState | None) -> tuple[Stage, str]:
    """Why ``d`` fails a hard constraint (called only when it does)."""
    route, input_tokens, output_tokens = ask.route, ask.input_tokens, ask.output_tokens
    if input_tokens + output_tokens > d.context_window:
        return Stage.CONTEXT, f"{input_tokens}+{output_tokens} tokens do not fit its {d.context_window}-token context"
    if route.max_cost_usd is not None and cost > route.max_cost_usd:
        return Stage.COST, f"estimated ${cost:.5f} is over the route's ${route.max_cost_usd:g} cap"
    assert live is not None  # the only other reasons are live ones
    if live.circuit == Circuit.OPEN:
        return Stage.CIRCUIT, "its circuit is open after recent failures"
    if live.saturated:
        return Stage.SATURATED, "it is saturated (queue or KV cache past the threshold)"
    return (
        Stage.LATENCY,
        f"p95 latency {live.latency_p95_ms:.0f} ms is over the route's {route.max_latency_ms:.0f} ms",
    )


def _scores(ask: _Ask, candidates: Sequence[Deployment], costs: Mapping[str, float]) -> dict[str, Score]:
    weights = [ask.route.objective.get(k, 0.0) for k in OBJECTIVES]
    if not any(weights):
        weights = [1.0] * len(OBJECTIVES)
    total_weight = sum(weights)
    wq, wl, wc, wr, ws = (w / total_weight for w in weights)
    live_of = ask.state.deployments.get
    sovereignty = ask.table.sovereignty
    lives = [live_of(d.key, _HEALTHY) for d in candidates]
    cost_part = _lower_is_better([costs[d.key] for d in candidates])
    latency = [live.latency_p95_ms for live in lives]
    known = [v for v in latency if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    span = high - low
    out = {}
    new = tuple.__new__  # Score(...) without the NamedTuple constructor's extra call: hundreds per decision
    for d, live, cost, lat in zip(candidates, lives, cost_part, latency, strict=True):
        lat_part = 0.5 if lat is None else 1.0 if span == 0 else 1.0 - (lat - low) / span
        rel = 1.0 - live.error_rate
        sov = sovereignty.get(d.provider.name, 0.0)
        total = wq * d.quality + wl * lat_part + wc * cost + wr * rel + ws * sov
        parts = {"quality": d.quality, "latency": lat_part, "cost": cost, "reliability": rel, "sovereignty": sov}
        out[d.key] = new(Score, (d.key, total, parts, costs[d.key]))
    return out


def _lower_is_better(values: Sequence[float]) -> list[float]:
    """1 for the lowest value, 0 for the highest, linear between; all 1 when they are equal."""
    if not values:
        return []
    low, high = min(values), max(values)
    if high == low:
        return [1.0] * len(values)
    span = high - low
    return [1.0 - (v - low) / span for v in values]


def _primary(
    ask: _Ask, candidates: Sequence[Deployment], scores: Mapping[str, Score], eligible: Mapping[str, object]
) -> tuple[str | None, str | None]:
    """(the pin that chose it, the primary deployment)."""
    for pin in ask.route.pins:
        if pin.target.key in eligible and _holds(pin.program, ask.view, on_error=False):
            return pin.name, pin.target.key
    live = [(d, ask.state.weight(ask.route.name, d.key, w)) for d, w in ask.route.candidates]
    weighted = [(d, w) for d, w in live if d.key in scores and w > 0]
    split = bool(ask.state.weights.get(ask.route.name)) and len(weighted) > 1  # live weights (a rollout) split even
    if split or len({w for _, w in weighted}) > 1:
        total = sum(w for _, w in weighted)
        draw = sticky.point(ask.route.name, ask.sticky_key) if ask.sticky_key else None
        point = (draw if draw is not None else _draw(ask.decision_id, f"weight:{ask.seed}")) * total
        for d, w in weighted:
            point -= w
            if point < 0:
                return None, d.key
    # weight 0 means never picked by weight: such a candidate leads only when no weighted one is left
    pool = [d for d, _ in weighted] or list(candidates)
    if pool:
        best = max(pool, key=lambda d: (scores[d.key].total, d.key))
        return None, best.key
    return None, None
