"""Autonomy earned by metrics: where an Agent or Pipeline stands against its next level's ``promotion`` block.

This module measures and builds entries from what it is given; ``maestro.runtime.standing`` reads the run
store, the eval history and the ledger, and records.

    runs            finished runs (succeeded, failed, rejected) whose pinned manifests put the subject at its
                    current level (the run store); ``minRunsAtLowerLevel`` counts them
    eval pass rate  the latest scorecard of the subject's suite (an EvalSuite targeting it, else one targeting
                    the agent's route), with the exact 95% interval of ``maestro.evals.stats``;
                    ``minEvalPassRate`` is met when the one-sided 95% lower bound reaches it
    incidents       refused forbidden actions (``run.tool.refused``), failed side effects (``run.node.end``
                    failed on a tool whose action writes), rollbacks of a rollout on one of the subject's routes
                    (``rollout.transition`` ``rollback``) and operator incidents (``autonomy.incident``),
                    since the first counted run; ``maxIncidents`` bounds them
    evidence        listed for the people who approve the raise; not checked here

An incident is a ledger entry (``record_incident``); when a Policy says ``demoteOnIncident`` and the subject
acts at ``atOrAbove`` or higher, an ``autonomy.demote`` entry follows, and ``demoted_to`` makes the runtime's
gate judge the subject's tools at the lower level while its manifest still names the level it was demoted
from. ``raise_action`` builds the dual-control ``autonomy.raise`` entry with the status as its subject.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from maestro.errors import MaestroError
from maestro.evals import stats
from maestro.evidence import Action, Subject
from maestro.manifests.autonomy import WRITES
from maestro.manifests.kinds.agent import Agent
from maestro.manifests.kinds.autonomylevel import AutonomyLevel
from maestro.manifests.kinds.evalsuite import EvalSuite
from maestro.manifests.kinds.pipeline import Pipeline, Step
from maestro.manifests.kinds.policy import Policy
from maestro.manifests.loader import ManifestSet

INCIDENT, DEMOTE, RAISE = "autonomy.incident", "autonomy.demote", "autonomy.raise"
COUNTED = frozenset({"succeeded", "failed", "rejected"})
READ = (INCIDENT, DEMOTE, "run.tool.refused", "run.node.end", "rollout.transition")


class AutonomyError(MaestroError):
    """The subject is unknown, or an incident cannot be recorded (no ledger); the message says what to do."""


@dataclass(frozen=True, slots=True)
class Target:
    """The Agent or Pipeline whose autonomy is measured, as its manifests say now."""

    kind: str
    name: str
    level: AutonomyLevel
    routes: frozenset[str]  # the routes its model calls use (rollbacks on them are its incidents)
    steps: Mapping[tuple[str, str], str]  # (pipeline, step id) -> the action of the tool it calls, for its tool steps

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class RunSeen:
    """A run as autonomy counts it: its pipeline, status, start time, and the subject's level in its manifests."""

    id: str
    pipeline: str
    status: str
    created: float
    level: str | None  # the subject's autonomy level in the run's pinned manifests; None if it took no part


@dataclass(frozen=True, slots=True)
class Entry:
    """A ledger entry autonomy reads: its index, time (ISO), action and details."""

    index: int
    time: str
    action: str
    details: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Incident:
    index: int
    time: str
    kind: str  # refused | failed-side-effect | rollback | operator
    what: str


@dataclass(frozen=True, slots=True)
class PassRate:
    suite: str
    created: str
    passes: int
    n: int
    value: float
    low: float  # the exact two-sided 95% interval
    high: float
    lower_bound: float  # the exact one-sided 95% lower bound


@dataclass(frozen=True, slots=True)
class Criterion:
    name: str  # minEvalPassRate | minRunsAtLowerLevel | maxIncidents | evidence
    needed: Any
    actual: Any
    met: bool | None  # None: checked by people, not here
    gap: str  # how far, in words

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "needed": self.needed, "actual": self.actual, "met": self.met, "gap": self.gap}


@dataclass(frozen=True, slots=True)
class Status:
    target: Target
    next_level: AutonomyLevel | None
    demoted_to: str | None
    runs: Mapping[str, int]  # status -> runs at the current level
    pass_rate: PassRate | None
    incidents: tuple[Incident, ...]
    criteria: tuple[Criterion, ...] = field(default_factory=tuple)

    @property
    def earned(self) -> bool:
        """Whether every criterion checked here is met (the listed evidence is for the approvers)."""
        return self.next_level is not None and all(c.met is not False for c in self.criteria)

    def to_json(self) -> dict[str, Any]:
        level, nxt = self.target.level, self.next_level
        return {
            "subject": self.target.ref,
            "level": {"name": level.name, "level": level.level},
            "demotedTo": self.demoted_to,
            "next": {"name": nxt.name, "level": nxt.level} if nxt else None,
            "runs": dict(self.runs),
            "evalPassRate": _rate_json(self.pass_rate),
            "incidents": [{"index": i.index, "time": i.time, "kind": i.kind, "what": i.what} for i in self.incidents],
            "criteria": [c.to_json() for c in self.criteria],
            "earned": self.earned,
        }


def _rate_json(rate: PassRate | None) -> dict[str, Any] | None:
    if rate is None:
        return None
    return {
        "suite": rate.suite,
        "scorecard": rate.created,
        "passes": rate.passes,
        "n": rate.n,
        "value": rate.value,
        "interval": [rate.low, rate.high],
        "lowerBound95": rate.lower_bound,
    }


# --- the subject ------------------------------------------------------------------------------------------


def target(manifests: ManifestSet, name: str) -> Target:
    """The Agent or Pipeline ``name`` (``Agent/NAME`` or ``Pipeline/NAME`` when both exist)."""
    kind, _, bare = name.rpartition("/")
    agent = manifests.record(Agent, bare) if kind in ("", "Agent") else None
    pipeline = manifests.record(Pipeline, bare) if kind in ("", "Pipeline") else None
    if agent is not None and pipeline is not None:
        raise AutonomyError(f"both Agent/{bare} and Pipeline/{bare} exist; name one of them")
    if agent is None and pipeline is None:
        known = sorted(a.ref for a in manifests.records(Agent)) + sorted(p.ref for p in manifests.records(Pipeline))
        raise AutonomyError(f"no Agent or Pipeline named '{name}'; known: {', '.join(known) or 'none'}")
    if agent is not None:
        return _agent_target(manifests, agent)
    assert pipeline is not None
    return _pipeline_target(manifests, pipeline)


def _level(manifests: ManifestSet, name: str | None, owner: str) -> AutonomyLevel:
    if not name:
        raise AutonomyError(
            f"{owner} names no autonomyLevel of its own: its tools are gated at its agents' levels; ask about an "
            "agent (`maestro autonomy status AGENT`)"
        )
    level = manifests.record(AutonomyLevel, name)
    if level is None:
        raise AutonomyError(
            f"{owner} names no AutonomyLevel that exists ({name or 'none'}); `maestro validate` says more"
        )
    return level


def _acting(step: Step) -> Step:
    """The step that does the work: a map step's sub-step (each branch), else the step itself."""
    return step.map.step if step.map is not None else step


def _tool_actions(manifests: ManifestSet, pipeline: Pipeline, agent: str | None) -> dict[tuple[str, str], str]:
    """The steps of ``pipeline`` that act for an agent (``agent`` only, when given): a tool step (or a map over
    one) with its tool's action, an agent step (its tool loop) as ``agent``."""
    out: dict[tuple[str, str], str] = {}
    for step in pipeline.steps:
        acting = _acting(step)
        owner = manifests.record(Agent, acting.agent or "")
        if owner is None or (agent is not None and owner.name != agent):
            continue
        tool = owner.tool(acting.tool or "") if acting.type == "tool" else None
        if tool is not None:
            out[(pipeline.name, step.id)] = tool.action
        elif acting.type == "agent":
            out[(pipeline.name, step.id)] = "agent"
    return out


def _agent_target(manifests: ManifestSet, agent: Agent) -> Target:
    steps: dict[tuple[str, str], str] = {}
    for pipeline in manifests.records(Pipeline):
        steps |= _tool_actions(manifests, pipeline, agent.name)
    level = _level(manifests, agent.autonomy_level, agent.ref)
    return Target("Agent", agent.name, level, frozenset({agent.route}), steps)


def _pipeline_target(manifests: ManifestSet, pipeline: Pipeline) -> Target:
    routes: set[str] = set()
    for step in map(_acting, pipeline.steps):
        agent = manifests.record(Agent, step.agent or "")
        routes.update(r for r in (step.route, agent.route if agent else None) if r)
    level = _level(manifests, pipeline.autonomy_level, pipeline.ref)
    return Target("Pipeline", pipeline.name, level, frozenset(routes), _tool_actions(manifests, pipeline, None))


def level_in(manifests: ManifestSet, kind: str, name: str, pipeline: str) -> str | None:
    """The autonomy level of ``kind/name`` in a run of ``pipeline`` pinned to ``manifests``; None when the
    subject took no part in that run (another pipeline, or one without a step of the agent)."""
    run_pipeline = manifests.record(Pipeline, pipeline)
    if run_pipeline is None:
        return None
    if kind == "Pipeline":
        return run_pipeline.autonomy_level if pipeline == name else None
    agent = manifests.record(Agent, name)
    if agent is None or not any(_acting(s).agent == name for s in run_pipeline.steps):
        return None
    return agent.autonomy_level


# --- measuring --------------------------------------------------------------------------------------------


def status(
    manifests: ManifestSet,
    subject: Target,
    runs: Sequence[RunSeen],
    scorecards: Mapping[str, Mapping[str, Any]],
    entries: Sequence[Entry],
) -> Status:
    """Where ``subject`` stands: its runs at the current level, its suite's pass rate, its incidents since the
    first of those runs, and each criterion of the next level's promotion block, with how far it is."""
    current = [r for r in runs if r.level == subject.level.name]
    counts = {s: sum(1 for r in current if r.status == s) for s in sorted({r.status for r in current})}
    since = min((r.created for r in current), default=None)
    incidents = tuple(incidents_of(subject, entries, since))
    rate = pass_rate(manifests, subject, scorecards)
    nxt = next_level(manifests, subject.level)
    demoted = demoted_to(entries, subject.ref, subject.level.name)
    done = sum(n for s, n in counts.items() if s in COUNTED)
    suites = [s.name for s in suites_of(manifests, subject)]
    criteria = _criteria(nxt, done, rate, incidents, suites) if nxt else ()
    return Status(subject, nxt, demoted, counts, rate, incidents, criteria)


def next_level(manifests: ManifestSet, level: AutonomyLevel) -> AutonomyLevel | None:
    above = [lv for lv in manifests.records(AutonomyLevel) if lv.level > level.level]
    return min(above, key=lambda lv: lv.level) if above else None


def suites_of(manifests: ManifestSet, subject: Target) -> list[EvalSuite]:
    """The subject's suites: those targeting it, else (an agent) those targeting its route."""
    suites = sorted(manifests.records(EvalSuite), key=lambda s: s.name)
    own = [s for s in suites if s.target_kind == subject.kind.lower() and s.target_name == subject.name]
    if own or subject.kind != "Agent":
        return own
    return [s for s in suites if s.target_kind == "route" and s.target_name in subject.routes]


def pass_rate(manifests: ManifestSet, subject: Target, scorecards: Mapping[str, Mapping[str, Any]]) -> PassRate | None:
    """The pass rate of the latest scorecard of the subject's suite with the most cases graded (the strongest
    evidence; among equals, the lowest lower bound)."""
    rates = []
    for suite in suites_of(manifests, subject):
        card = scorecards.get(suite.name) or {}
        summary = card.get("summary", {}).get("passRate") or {}
        n = int(summary.get("n") or 0)
        if n:
            passes = round(float(summary.get("sum") or 0))
            low, high = stats.clopper_pearson(passes, n)
            bound = stats.lower_bound(passes, n)
            rates.append(PassRate(suite.name, str(card.get("created", "")), passes, n, passes / n, low, high, bound))
    return max(rates, key=lambda r: (r.n, -r.lower_bound), default=None)


def incidents_of(subject: Target, entries: Iterable[Entry], since: float | None) -> Iterable[Incident]:
    """The subject's incidents among ``entries``, from ``since`` (epoch seconds; None: all)."""
    from datetime import datetime

    for e in entries:
        if since is not None and datetime.fromisoformat(e.time.replace("Z", "+00:00")).timestamp() < since:
            continue
        found = _incident(subject, e)
        if found is not None:
            yield Incident(e.index, e.time, *found)


def _incident(subject: Target, e: Entry) -> tuple[str, str] | None:
    d = e.details
    step = (str(d.get("pipeline")), str(d.get("node")))
    if e.action == INCIDENT and d.get("subject") == subject.ref:
        return "operator", str(d.get("reason", ""))
    if e.action == "run.tool.refused" and step in subject.steps:
        return "refused", f"run {d.get('run')}: {d.get('reason', 'refused')}"
    if e.action == "run.node.end" and d.get("status") == "failed" and subject.steps.get(step) in WRITES:
        return "failed-side-effect", f"run {d.get('run')}, step {step[1]}: {d.get('error')}"
    if e.action == "rollout.transition" and d.get("event") == "rollback" and d.get("route") in subject.routes:
        return "rollback", f"rollout {d.get('rollout')} rolled back route {d.get('route')}: {d.get('reason')}"
    return None


def demoted_to(entries: Iterable[Entry], ref: str, level: str | None) -> str | None:
    """The level ``ref`` was last demoted to from ``level`` (the level its manifest names now), or None."""
    found = None
    for e in entries:
        if e.action == DEMOTE and e.details.get("subject") == ref and e.details.get("from") == level:
            found = str(e.details.get("to"))
    return found


def _criteria(
    nxt: AutonomyLevel, runs: int, rate: PassRate | None, incidents: Sequence[Incident], suites: Sequence[str]
) -> tuple[Criterion, ...]:
    promotion = nxt.promotion
    out: list[Criterion] = []
    if "minEvalPassRate" in promotion:
        out.append(_eval_criterion(float(promotion["minEvalPassRate"]), rate, suites))
    if "minRunsAtLowerLevel" in promotion:
        need = int(promotion["minRunsAtLowerLevel"])
        gap = "met" if runs >= need else f"{need - runs} more run(s) at this level"
        out.append(Criterion("minRunsAtLowerLevel", need, runs, runs >= need, gap))
    if "maxIncidents" in promotion:
        most, seen = int(promotion["maxIncidents"]), len(incidents)
        gap = "met" if seen <= most else f"{seen - most} incident(s) too many; they count until the level changes"
        out.append(Criterion("maxIncidents", most, seen, seen <= most, gap))
    for item in promotion.get("evidence", []):
        out.append(Criterion("evidence", item, None, None, "attach it to the request for the approvers"))
    return tuple(out)


def _eval_criterion(need: float, rate: PassRate | None, suites: Sequence[str]) -> Criterion:
    clean = stats.cases_to_bound_rate(1 - need) if 0 < need < 1 else None
    tail = f"; at least {clean} cases, all passing" if clean else ""
    if not suites:
        return Criterion("minEvalPassRate", need, None, False, f"no EvalSuite targets it: add one{tail}")
    if rate is None:
        tail = f"`maestro eval {' '.join(suites)}`{tail}"
        return Criterion("minEvalPassRate", need, None, False, f"no scorecard of its suite yet: run {tail}")
    if rate.lower_bound >= need:
        return Criterion("minEvalPassRate", need, rate.lower_bound, True, "met")
    gap = f"95% lower bound {rate.lower_bound:.3f} is {need - rate.lower_bound:.3f} short"
    if clean and rate.n < clean:
        gap += f"; even all passing, {clean} cases are needed (the scorecard has {rate.n})"
    return Criterion("minEvalPassRate", need, rate.lower_bound, False, gap)


# --- recording --------------------------------------------------------------------------------------------


def incident_actions(
    manifests: ManifestSet, subject: Target, reason: str, actor: str, *, demote: bool = True
) -> list[Action]:
    """The entries an operator incident records: ``autonomy.incident``, then (with ``demote``) the
    ``autonomy.demote`` a Policy's ``demoteOnIncident`` orders at the subject's level."""
    details = {"subject": subject.ref, "reason": reason, "kind": "operator", "level": subject.level.name}
    out = [_action(INCIDENT, actor, subject, details)]
    to = demotion(manifests, subject.level) if demote else None
    if to is not None:
        out.append(demote_action(subject, to.name, reason, actor))
    return out


def demote_action(subject: Target, to: str, reason: str, actor: str) -> Action:
    details = {"subject": subject.ref, "from": subject.level.name, "to": to, "reason": reason}
    return _action(DEMOTE, actor, subject, details)


def demotion(manifests: ManifestSet, level: AutonomyLevel) -> AutonomyLevel | None:
    """The level a Policy's ``demoteOnIncident`` drops ``level`` to; None when none applies."""
    for policy in manifests.records(Policy):
        rule = policy.demotion
        target_level = manifests.record(AutonomyLevel, rule.to) if rule else None
        if rule and target_level and level.level >= rule.at_or_above and target_level.level < level.level:
            return target_level
    return None


def raise_action(subject: Status, actor: str) -> Action:
    """The dual-control ``autonomy.raise`` entry: the status as its subject and details, the next level."""
    assert subject.next_level is not None
    body = subject.to_json()
    return Action(
        RAISE,
        actor,
        [Subject.of(subject.target.ref, json.dumps(body, sort_keys=True).encode())],
        autonomy_level=subject.next_level.name,
        details={
            "subject": subject.target.ref,
            "from": subject.target.level.name,
            "to": subject.next_level.name,
            "criteria": body["criteria"],
            "runs": body["runs"],
            "evalPassRate": body["evalPassRate"],
            "incidents": len(subject.incidents),
        },
    )


def _action(name: str, actor: str, subject: Target, details: Mapping[str, Any]) -> Action:
    data = json.dumps(dict(details), sort_keys=True).encode()
    return Action(
        name, actor, [Subject.of(subject.ref, data)], autonomy_level=subject.level.name, details=dict(details)
    )
