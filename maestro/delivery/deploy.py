"""``maestro deploy [REV]``: the GitOps apply of a git revision's manifests.

    p = plan(root, "HEAD", conn, keyring)          # what changes since the deployed revision, and what it waits for
    done = apply(p, conn, actor, reload=..., begin=..., record=...)

A plan diffs the revision deployed last (``deployments`` in the state store; the first deploy has none, so
every document is new) against REV with the semantic diff of ``maestro diff`` and takes its highest risk. It
waits when:

* REV's manifests differ from the working tree's: gateways reload from their manifest folders, so check REV
  out first (``drift``);
* a freeze holds: a Policy's ``freezeWindows`` whose ``applies`` is absent or names ``deploy``, or an ad-hoc
  ``maestro freeze`` (deny wins);
* a change is high-risk and the approvals are short: the Policy's ``dualControl`` rule for
  ``deploy.high-risk`` (its ``approvers``; one approval when no rule names it). An approval is a sign-off
  (``maestro.delivery.signoffs``) on the plan's digest, which names the deployed and the new commit and every
  change, so a plan that changes needs its approvals again.

Applying reloads each gateway named (``POST /admin/reload``; a gateway whose freeze is engaged refuses), starts
the Rollouts whose target or own manifest changed, stores the deployment and records it in the ledger
(``deploy``, or ``deploy.high-risk`` carrying its sign-offs, which ``maestro ledger verify`` checks).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from maestro.delivery import freeze, signoffs
from maestro.delivery.errors import DeliveryError, RolloutError
from maestro.delivery.freeze import Freezes
from maestro.delivery.machine import ACTIVE, Phase
from maestro.delivery.notify import Notice
from maestro.delivery.spec import RolloutSpec, resolve
from maestro.delivery.store import RolloutStore
from maestro.evidence import Action, PolicyResult, Subject
from maestro.ledger import Keyring
from maestro.ledger import signoffs as ledger_signoffs
from maestro.ledger.dualcontrol import holder
from maestro.ledger.signoffs import Signoff
from maestro.manifests import sources, windows
from maestro.manifests.diff import Change, DiffResult, Risk, diff_sources
from maestro.manifests.kinds.policy import Policy, Webhook
from maestro.manifests.kinds.rollout import Rollout
from maestro.manifests.loader import ManifestSet, SourceFile
from maestro.manifests.validate import validate_sources
from maestro.state.store import migrate

COMPONENT = "deployments"
MIGRATIONS = [
    "CREATE TABLE deployments (id INTEGER PRIMARY KEY AUTOINCREMENT, revision TEXT NOT NULL, commit_id TEXT NOT NULL, "
    "previous TEXT, risk TEXT NOT NULL, digest TEXT NOT NULL, actor TEXT NOT NULL, at REAL NOT NULL)"
]
HIGH_RISK = "deploy.high-risk"  # the ledger action of a deploy with a high-risk change, and its dualControl rule
RELOAD_TIMEOUT_S = 30.0


class DeployError(DeliveryError):
    """A deploy that cannot go ahead: REV's manifests have errors, it waits for approvals or a freeze."""


@dataclass(frozen=True, slots=True)
class Plan:
    revision: str  # as named (HEAD, a tag)
    commit: str
    previous: str | None  # the commit deployed last; None before the first deploy
    changes: tuple[Change, ...]
    risk: str  # the highest change's risk; "none" when nothing changed
    needs: int  # approvals needed (0 unless a change is high-risk)
    rule: str  # the dualControl rule that asks them ('' for the default of one)
    approvers: tuple[str, ...]  # who approved the plan's digest and counts
    signoffs: tuple[Signoff, ...]
    rollouts: tuple[RolloutSpec, ...]  # to start
    skipped: tuple[str, ...]  # Rollouts touched but not started, and why
    frozen: str
    drift: str
    digest: str
    webhooks: tuple[Webhook, ...] = ()  # REV's Policies' webhooks, told about the deployment

    @property
    def waits_for(self) -> str:
        """Why the plan cannot be applied now ('' when it can)."""
        if self.drift:
            return self.drift
        if self.frozen:
            return f"{self.frozen}; deploy after it ends"
        if len(self.approvers) < self.needs:
            who = ", ".join(self.approvers) or "none"
            return (
                f"a high-risk change needs {self.needs} approval(s) of this plan ({self.digest[:19]}) by key holders "
                f"other than the deployer; it has {len(self.approvers)} ({who}): ask them to run "
                f"`maestro deploy approve {self.revision}`"
            )
        return ""

    def as_json(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "commit": self.commit,
            "previous": self.previous,
            "risk": self.risk,
            "changes": [_change_json(c) for c in self.changes],
            "approvals": {"needed": self.needs, "rule": self.rule, "approvers": list(self.approvers)},
            "rollouts": [s.name for s in self.rollouts],
            "skipped": list(self.skipped),
            "frozen": self.frozen,
            "drift": self.drift,
            "digest": self.digest,
            "waitsFor": self.waits_for,
        }


@dataclass(frozen=True, slots=True)
class Reloaded:
    gateway: str
    ok: bool
    detail: str  # the routes it serves now, or why it refused

    def as_json(self) -> dict[str, Any]:
        return {"gateway": self.gateway, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Deployment:
    id: int
    plan: Plan
    reloaded: tuple[Reloaded, ...]
    started: tuple[str, ...]
    failed: tuple[str, ...] = field(default=())  # Rollouts that could not start, and why

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.plan.as_json(),
            "reloaded": [r.as_json() for r in self.reloaded],
            "started": list(self.started),
            "failed": list(self.failed),
        }


class Deployments:
    """The deployments in the state store, newest last."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        migrate(conn, COMPONENT, MIGRATIONS)
        self.conn = conn

    def last(self) -> str | None:
        row = self.conn.execute("SELECT commit_id FROM deployments ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else str(row[0])

    def add(self, plan: Plan, actor: str) -> int:
        cursor = self.conn.execute(
            "INSERT INTO deployments (revision, commit_id, previous, risk, digest, actor, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (plan.revision, plan.commit, plan.previous, plan.risk, plan.digest, actor, time.time()),
        )
        return int(cursor.fetchone()[0])

    def history(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT id, revision, commit_id, previous, risk, actor, at FROM deployments ORDER BY id"
        ).fetchall()
        keys = ("id", "revision", "commit", "previous", "risk", "actor", "at")
        return [dict(zip(keys, r, strict=True)) for r in rows]


def plan(
    root: Path, revision: str, conn: sqlite3.Connection, keyring: Keyring | None, *, requester: str, now: float
) -> Plan:
    """What deploying ``revision`` of the repository at ``root`` does, and what it waits for."""
    commit = sources.commit(revision, root)
    previous = Deployments(conn).last()
    new = sources.git_side(commit, root)
    old_sources = sources.git_side(previous, root).sources if previous else ()
    result = diff_sources(old_sources, new.sources, new_files=new.files)
    manifests = _manifests(revision, new.sources)
    risk = result.max_risk
    needs, rule = _approvals(manifests) if risk is Risk.HIGH else (0, "")
    digest = _digest(previous, commit, result)
    collected = tuple(signoffs.Signoffs(conn).of("deploy", digest))
    rollouts, skipped = _rollouts(manifests, result, RolloutStore(conn), first=previous is None)
    return Plan(
        revision=revision,
        commit=commit,
        previous=previous,
        changes=result.changes,
        risk="none" if risk is None else str(risk),
        needs=needs,
        rule=rule,
        approvers=tuple(signoffs.counted("deploy", digest, collected, requester, keyring)),
        signoffs=collected,
        rollouts=rollouts,
        skipped=skipped,
        frozen=_frozen(manifests, Freezes(conn), now),
        drift=_drift(root, revision, new),
        digest=digest,
        webhooks=tuple(hook for policy in manifests.records(Policy) for hook in policy.notifications),
    )


def apply(
    p: Plan,
    conn: sqlite3.Connection,
    actor: str,
    *,
    reload: Callable[[], Sequence[Reloaded]],
    begin: Callable[[RolloutSpec], None],
    record: Callable[[Action], None] | None,
) -> Deployment:
    """Reload the gateways, start the Rollouts, store the deployment and record it; DeployError while it waits."""
    if p.waits_for:
        raise DeployError(f"not deployed: {p.waits_for}")
    reloaded = tuple(reload())
    started, failed = [], []
    for spec in p.rollouts:
        try:
            begin(spec)
            started.append(spec.name)
        except DeliveryError as e:
            failed.append(f"{spec.name}: {e}")
    deployment = Deployment(Deployments(conn).add(p, actor), p, reloaded, tuple(started), tuple(failed))
    if record is not None:
        record(_action(deployment, actor))
    return deployment


def notice(d: Deployment) -> Notice:
    """The notification of deployment ``d``."""
    p = d.plan
    failed = [r.gateway for r in d.reloaded if not r.ok]
    title = f"deployed {p.revision} ({p.commit[:12]}): {len(p.changes)} change(s), risk {p.risk}"
    title += f"; rollouts started: {', '.join(d.started)}" if d.started else ""
    title += f"; NOT reloaded: {', '.join(failed)}" if failed else ""
    data = {"revision": p.revision, "commit": p.commit, "previous": p.previous, "risk": p.risk, "id": d.id}
    return Notice("deploy", f"deploy/{p.commit}/{d.id}", title, data)


def reload_gateways(
    urls: Sequence[str], token: str | None, transport: httpx.BaseTransport | None = None
) -> list[Reloaded]:
    """``POST /admin/reload`` on each gateway; a gateway that refuses or cannot be reached is reported, not raised."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    done = []
    with httpx.Client(timeout=RELOAD_TIMEOUT_S, transport=transport, headers=headers) as client:
        for url in urls:
            try:
                response = client.post(url.rstrip("/") + "/admin/reload")
            except httpx.HTTPError as e:
                done.append(Reloaded(url, False, f"cannot reach it ({type(e).__name__}); reload it by hand"))
                continue
            if response.status_code == 200:
                routes = response.json().get("routes", [])
                done.append(Reloaded(url, True, f"serves {len(routes)} route(s)"))
            else:
                done.append(Reloaded(url, False, f"refused ({response.status_code}): {_error(response)}"))
    return done


def _error(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def _manifests(revision: str, found: Sequence[SourceFile]) -> ManifestSet:
    result = validate_sources(found)
    if result.summary.errors:
        first = next(d for d in result.diagnostics if d.severity == "error")
        raise DeployError(
            f"{revision}'s manifests have {result.summary.errors} error(s), first {first.file}:{first.line}:"
            f"{first.column}: {first.message}; fix them (`maestro validate`) and commit before deploying"
        )
    return result.manifests


def _approvals(manifests: ManifestSet) -> tuple[int, str]:
    rules = [(d.approvers, d.name) for p in manifests.records(Policy) for d in p.dual_control if d.action == HIGH_RISK]
    return max(rules) if rules else (1, "")


def _frozen(manifests: ManifestSet, adhoc: Freezes, now: float) -> str:
    found = [("maestro freeze", w) for w in adhoc.windows()]
    for policy in manifests.records(Policy):
        for w in policy.freeze_windows:
            if not w.applies or "deploy" in w.applies:
                found.append((policy.ref, windows.parse(w.as_written())))
    return freeze.reason(now, False, found)


def _drift(root: Path, revision: str, new: sources.Side) -> str:
    tree = sources.working_tree(root)
    changes = diff_sources(new.sources, tree.sources, old_files=new.files, new_files=tree.files).changes
    if not changes:
        return ""
    return (
        f"the working tree's manifests differ from {revision} ({len(changes)} change(s), first {changes[0].ref} "
        f"{changes[0].path or ''}); gateways reload from the working tree, so check {revision} out (or commit) first"
    )


def _rollouts(
    manifests: ManifestSet, result: DiffResult, store: RolloutStore, *, first: bool
) -> tuple[tuple[RolloutSpec, ...], tuple[str, ...]]:
    """The Rollouts whose target or own manifest changed; those that are not started, and why."""
    changed = {c.ref for c in result.changes}
    start, skipped = [], []
    for r in manifests.records(Rollout):
        if r.ref not in changed and f"{r.target_kind}/{r.target_name}" not in changed:
            continue
        if first:
            skipped.append(
                f"{r.name}: a first deploy has no revision before it to roll out from; `maestro rollout start`"
            )
            continue
        try:
            spec = resolve(manifests, r.name)
        except RolloutError as e:
            skipped.append(f"{r.name}: {e}")
            continue
        last = store.get(r.name)
        if last is not None and last.state.phase in ACTIVE:
            skipped.append(f"{r.name}: already running")
        elif last is not None and last.state.phase == Phase.PROMOTED and last.spec.digest == spec.digest:
            skipped.append(f"{r.name}: already promoted as written ({spec.digest[:19]})")
        else:
            start.append(spec)
    return tuple(start), tuple(skipped)


def _digest(previous: str | None, commit: str, result: DiffResult) -> str:
    data = {"previous": previous, "commit": commit, "changes": [_change_json(c) for c in result.changes]}
    return "sha256:" + hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _change_json(c: Change) -> dict[str, Any]:
    return {"ref": c.ref, "path": c.path, "op": str(c.op), "risk": str(c.risk), "reason": c.reason}


def _action(d: Deployment, actor: str) -> Action:
    p = d.plan
    details: dict[str, Any] = {
        "revision": p.revision,
        "commit": p.commit,
        "previous": p.previous,
        "risk": p.risk,
        "changes": len(p.changes),
        "digest": p.digest,
        "reloaded": [r.as_json() for r in d.reloaded],
        "started": list(d.started),
        "failed": list(d.failed),
    }
    if p.needs:
        requester = holder(actor)
        details["signoffs"] = ledger_signoffs.details(
            "deploy", p.digest, p.signoffs, requester=requester, required=p.needs
        )
    plan_bytes = json.dumps(p.as_json(), sort_keys=True).encode()
    return Action(
        action=HIGH_RISK if p.needs else "deploy",
        actor=actor,
        subjects=[Subject.of(f"deploy/{p.commit}", plan_bytes)],
        policies=[PolicyResult(p.rule or "deploy/high-risk-default", "approved")] if p.needs else (),
        approvals=list(p.approvers),
        details=details,
    )
