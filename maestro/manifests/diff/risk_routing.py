"""Risk rules for Provider and Route: where data may go, and which models receive traffic.

A route target (candidate, fallback, shadow or pin) that is added is high when it lets the route reach a
jurisdiction it did not reach before, following routes that refer to other routes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from maestro.manifests.diff.documents import Ctx, Index, spec_field
from maestro.manifests.diff.handlers import Handler, Rules, Verdict, fixed, flag, item, rises, set_rule, words
from maestro.manifests.diff.model import HIGH, MEDIUM, Op, Risk
from maestro.manifests.diff.values import MISSING, brief
from maestro.manifests.diff.walk import Delta, is_route_ref, keyed, pair_key

_TARGET_LISTS: Final = ("candidates", "fallback", "shadow")


def jurisdiction(side: Index, provider: Any) -> str | None:
    where = spec_field(side, "Provider", provider, "jurisdiction")
    return where if isinstance(where, str) else None


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _route_targets(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for field in _TARGET_LISTS:
        yield from _dicts(spec.get(field))
    pins = spec.get("pins")
    for pin in pins if isinstance(pins, list) else ():
        if isinstance(pin, dict) and isinstance(pin.get("target"), dict):
            yield pin["target"]


def _reach(side: Index, target: Mapping[str, Any], seen: frozenset[str]) -> set[str]:
    """The jurisdictions a route target (a provider/model pair, or another route) can send data to."""
    if is_route_ref(target):
        return _reachable(side, target["route"], seen)
    where = jurisdiction(side, target.get("provider"))
    return {where} if where else set()


def _reachable(side: Index, route: Any, seen: frozenset[str] = frozenset()) -> set[str]:
    doc = side.get(("Route", route)) if isinstance(route, str) and route not in seen else None
    if doc is None:
        return set()
    out: set[str] = set()
    for target in _route_targets(doc.spec):
        out |= _reach(side, target, seen | {doc.name})
    return out


def _fresh_jurisdictions(ctx: Ctx, target: Mapping[str, Any]) -> str:
    before = _reachable(ctx.sides.old, ctx.old.name)
    fresh = sorted(_reach(ctx.sides.new, target, frozenset({ctx.new.name})) - before)
    return ", ".join(f"'{j}'" for j in fresh)


def _route_target(what: str, removed: tuple[Risk, str]) -> Handler:
    """A candidate, fallback, shadow or pin added to a route (high when it reaches a new jurisdiction)."""
    on_removed = fixed(*removed)

    def handler(d: Delta, ctx: Ctx) -> Verdict:
        key = words(d, ctx)["key"]
        swap = _swapped(ctx, d)
        if d.op is Op.REMOVED:
            if swap:
                return Verdict(MEDIUM, f"model changed: {what} '{key}' replaced by '{swap}'")
            return on_removed(d, ctx)
        added = d.new if isinstance(d.new, dict) else {}
        pinned = added.get("target")
        fresh = _fresh_jurisdictions(ctx, pinned if isinstance(pinned, dict) else added)
        if fresh:
            return Verdict(
                HIGH, f"{what} '{key}' added: it sends data to {fresh}, which this route did not reach before"
            )
        if swap:
            return Verdict(MEDIUM, f"model changed: {what} '{swap}' replaced by '{key}'")
        return Verdict(MEDIUM, f"{what} '{key}' added: a new model receives traffic")

    return handler


def _swapped(ctx: Ctx, d: Delta) -> str | None:
    """When one model of a provider replaced another in a route's list: the key of the other one."""
    field = d.parts[1] if len(d.parts) == 3 else None
    changed = d.old if d.op is Op.REMOVED else d.new
    if field not in _TARGET_LISTS or not isinstance(changed, dict) or "provider" not in changed:
        return None
    before, after = (keyed(_dicts(doc.spec.get(str(field))), pair_key) for doc in (ctx.old, ctx.new))
    gone = [k for k, v in before.items() if k not in after and v.get("provider") == changed["provider"]]
    came = [k for k, v in after.items() if k not in before and v.get("provider") == changed["provider"]]
    if len(gone) != 1 or len(came) != 1:
        return None
    return came[0] if d.op is Op.REMOVED else gone[0]


def _pin_provider(d: Delta, ctx: Ctx) -> Verdict:
    key = words(d, ctx)["key"]
    fresh = _fresh_jurisdictions(ctx, {"provider": d.new}) if d.new is not MISSING else ""
    if fresh:
        return Verdict(HIGH, f"pin '{key}' now sends data to {fresh}, which this route did not reach before")
    return Verdict(MEDIUM, f"model changed: pin '{key}' now targets provider {brief(d.new)}")


def data_requirements(
    at: str, *, jurisdictions: tuple[str, str, str], retention: str, training: tuple[str, str]
) -> Rules:
    """The rules for what a route rule requires of a provider, or a policy tag allows (at ``at``).

    ``jurisdictions`` says (allowed one more, allowed one fewer, no longer restricted); ``training`` says
    (providers that train on data now allowed, no longer allowed). Absent ``trainingUse`` allows them.
    """
    allowed, disallowed, unrestricted = jurisdictions
    return (
        (f"{at}.jurisdictions", set_rule(Op.ADDED, allowed, disallowed, absent_means_any=unrestricted)),
        (f"{at}.maxRetentionDays", rises(retention, HIGH)),
        (f"{at}.trainingUse", flag(True, True, *training)),
    )


PROVIDER: Final[Rules] = (
    (
        "spec.jurisdiction",
        fixed(HIGH, "provider jurisdiction changed from {old} to {new}: routes that use it now send data to {new}"),
    ),
    (
        "spec.trainingUse",
        flag(True, False, "provider now trains on the data it receives", "provider no longer trains on data (tighter)"),
    ),
    ("spec.dataRetentionDays", rises("data retention (days)", HIGH, default=0)),
    ("spec.serve.model", fixed(MEDIUM, "model changed: the lane now serves {new} instead of {old}")),
    (
        "spec.models[]",
        item(
            removed=(MEDIUM, "model '{key}' removed: routes that use it will fail over"),
            added=(MEDIUM, "model '{key}' added to the provider"),
        ),
    ),
    ("spec.models[].price.*", fixed(MEDIUM, "price of model '{key}' changed: {leaf} {old} -> {new}")),
    # Where prompts and the key go: a change can send both to a server of the author's choosing.
    ("spec.baseUrl", fixed(HIGH, "endpoint changed: requests and the API key now go to {new}")),
    ("spec.apiKey*", fixed(HIGH, "credential reference changed: another secret is read and sent to the provider")),
    ("spec.serve.apiKey*", fixed(HIGH, "the lane's key reference changed")),
)

ROUTE: Final[Rules] = (
    (
        "spec.candidates[]",
        _route_target("candidate", (MEDIUM, "candidate '{key}' removed: its traffic moves to the other candidates")),
    ),
    ("spec.candidates[].weight", fixed(MEDIUM, "weights shifted: '{key}' from {old} to {new}")),
    ("spec.fallback", fixed(MEDIUM, "fallback order changed: another model is tried first when candidates fail")),
    (
        "spec.fallback[]",
        _route_target(
            "fallback",
            (HIGH, "fallback '{key}' removed: one place fewer to go when candidates fail or are not allowed"),
        ),
    ),
    ("spec.shadow[]", _route_target("shadow", (MEDIUM, "shadow '{key}' removed"))),
    ("spec.shadow[].sampleRate", fixed(MEDIUM, "shadow sample rate of '{key}' changed from {old} to {new}")),
    ("spec.pins[]", _route_target("pin", (MEDIUM, "pin '{key}' removed: its requests are routed normally"))),
    ("spec.pins[].target.provider", _pin_provider),
    ("spec.pins[].target.model", fixed(MEDIUM, "model changed: pin '{key}' now targets {new}")),
    ("spec.pins[].when", fixed(MEDIUM, "condition of pin '{key}' changed")),
    (
        "spec.rules[]",
        item(
            removed=(HIGH, "route rule '{key}' removed: the requests it guarded are no longer restricted"),
            added=(MEDIUM, "route rule '{key}' added (tighter)"),
        ),
    ),
    *data_requirements(
        "spec.rules[].require",
        jurisdictions=(
            "rule '{key}' now allows jurisdiction {e}",
            "rule '{key}' no longer allows {e} (tighter)",
            "rule '{key}' no longer restricts jurisdictions",
        ),
        retention="retention allowed by rule '{key}'",
        training=(
            "rule '{key}' no longer keeps data from providers that train on it",
            "rule '{key}' now keeps data from providers that train on it (tighter)",
        ),
    ),
    (
        "spec.rules[].deny",
        flag(
            False, False, "rule '{key}' no longer denies its requests", "rule '{key}' now denies its requests (tighter)"
        ),
    ),
    (
        "spec.rules[].when",
        fixed(MEDIUM, "condition of rule '{key}' changed: check it still matches every request it should"),
    ),
    ("spec.limits.maxCostUsd", rises("cost limit per request", MEDIUM)),
    ("spec.limits.*", rises("route limit {leaf}", MEDIUM)),
    ("spec.objective*", fixed(MEDIUM, "objective weights shifted: {leaf} from {old} to {new}")),
    (
        "spec.alias",
        fixed(MEDIUM, "alias changed from {old} to {new}: clients calling the old alias no longer reach this route"),
    ),
)
