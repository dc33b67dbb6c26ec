"""The Policy kind: the taxonomy of tags and jurisdictions, deny rules, budgets, freezes, the kill switch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maestro.manifests.checks.autonomy import check_demotion
from maestro.manifests.checks.routing import check_policies
from maestro.manifests.kinds.base import KindEntry, Source


@dataclass(frozen=True, slots=True)
class PolicyRule:
    name: str
    when: str  # CEL over request and provider
    effect: str  # deny, ...
    message: str | None


@dataclass(frozen=True, slots=True)
class Budget:
    name: str
    limit_usd: float
    period: str  # hour, day, week, month
    on_exceed: str  # block, downgrade, alert
    route: str | None
    team: str | None
    api_key: str | None
    scope: Mapping[str, str]  # route, team, apiKey as written (shown in its order)


@dataclass(frozen=True, slots=True)
class Tag:
    name: str
    tag_class: str
    description: str | None
    allow: Mapping[str, Any] | None  # the tag's data requirement as written; None when it has none


@dataclass(frozen=True, slots=True)
class DualControl:
    name: str
    action: str
    approvers: int
    distinct_approvers: bool | None
    requester_may_approve: bool | None
    expires_after: str | None


@dataclass(frozen=True, slots=True)
class FreezeWindow:
    """A fixed window (``start``, ``end``) or a recurring one (``cron``, ``duration``, ``time_zone``)."""

    name: str
    start: str | None
    end: str | None
    cron: str | None
    duration: str | None  # as written (64h)
    time_zone: str
    reason: str | None
    applies: tuple[str, ...]

    def as_written(self) -> dict[str, Any]:
        """The window as a manifest writes it (``maestro.manifests.windows.parse`` reads this)."""
        fields: dict[str, Any] = {"name": self.name, "start": self.start, "end": self.end, "cron": self.cron}
        fields |= {"duration": self.duration, "reason": self.reason}
        if self.cron is not None:
            fields["timeZone"] = self.time_zone
        if self.applies:
            fields["applies"] = list(self.applies)
        return {k: v for k, v in fields.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook told about events: ``url_env`` holds its URL; ``format`` json or slack; ``events`` what it hears."""

    name: str
    url_env: str
    format: str
    events: tuple[str, ...]  # empty: every event

    def hears(self, kind: str) -> bool:
        return not self.events or kind in self.events


@dataclass(frozen=True, slots=True)
class Demotion:
    """``demoteOnIncident``: an incident at level ``at_or_above`` or higher demotes to the level named ``to``."""

    at_or_above: int
    to: str


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    source: Source
    rules: tuple[PolicyRule, ...]
    budgets: tuple[Budget, ...]
    freeze_windows: tuple[FreezeWindow, ...]
    kill_engaged: bool
    kill_routes: tuple[str, ...]  # empty: every route
    taxonomy: Mapping[str, Any]  # jurisdictions and tags as written (read by the whole-set checks)
    tags: tuple[Tag, ...]
    dual_control: tuple[DualControl, ...]
    unknown_tags: str
    notifications: tuple[Webhook, ...] = ()
    demotion: Demotion | None = None

    @property
    def ref(self) -> str:
        return f"Policy/{self.name}"

    @property
    def deny_rules(self) -> tuple[PolicyRule, ...]:
        return tuple(r for r in self.rules if r.effect == "deny")


def _budget(b: Mapping[str, Any]) -> Budget:
    scope = b["scope"]
    return Budget(
        b["name"],
        float(b["limitUsd"]),
        b["period"],
        b.get("onExceed", "block"),
        scope.get("route"),
        scope.get("team"),
        scope.get("apiKey"),
        scope,
    )


def freeze_window(w: Mapping[str, Any]) -> FreezeWindow:
    return FreezeWindow(
        w["name"],
        w.get("start"),
        w.get("end"),
        w.get("cron"),
        w.get("duration"),
        w.get("timeZone", "UTC"),
        w.get("reason"),
        tuple(w.get("applies", [])),
    )


def policy(name: str, spec: Mapping[str, Any], source: Source) -> Policy:
    kill, taxonomy = spec.get("killSwitch", {}), spec.get("taxonomy", {})
    return Policy(
        name,
        source,
        tuple(PolicyRule(r["name"], r["when"], r["effect"], r.get("message")) for r in spec.get("rules", [])),
        tuple(_budget(b) for b in spec.get("budgets", [])),
        tuple(freeze_window(w) for w in spec.get("freezeWindows", [])),
        bool(kill.get("engaged")),
        tuple(kill.get("routes", [])),
        taxonomy,
        tuple(Tag(t["name"], t["class"], t.get("description"), t.get("allow")) for t in taxonomy.get("tags", [])),
        tuple(
            DualControl(
                d["name"],
                d["action"],
                d["approvers"],
                d.get("distinctApprovers"),
                d.get("requesterMayApprove"),
                d.get("expiresAfter"),
            )
            for d in spec.get("dualControl", [])
        ),
        spec.get("unknownTags", "deny"),
        tuple(
            Webhook(n["name"], n["url"]["env"], n.get("format", "json"), tuple(n.get("events", [])))
            for n in spec.get("notifications", [])
        ),
        Demotion(int(d["atOrAbove"]), d["to"]) if (d := spec.get("demoteOnIncident")) else None,
    )


KIND = KindEntry(
    "Policy",
    "policy.json",
    policy,
    (check_policies, check_demotion),
    "risk_governance:POLICY",
    ("high", "policy removed: its rules, budgets, freeze windows and dual control no longer apply"),
)
