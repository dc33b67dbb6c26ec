"""maestro deploy [REV] [--dry-run | --approve] [--gateway URL ...]

The GitOps apply (``maestro.delivery.deploy``): diff the deployed revision against REV, wait for a freeze or
for the approvals a high-risk change needs, reload the gateways, start the Rollouts, record the deployment.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated

import typer

from maestro import state
from maestro.cli.app import EXIT_FINDINGS
from maestro.cli.output import FormatAlias
from maestro.cli.reference import examples
from maestro.cli.rollout import Json, Key, NoLedger, Output, StatePath, controller, output_format
from maestro.delivery import deploy
from maestro.delivery.controller import Controller
from maestro.delivery.notify import Notifier
from maestro.delivery.signoffs import Signoffs
from maestro.delivery.spec import RolloutSpec
from maestro.errors import UsageError
from maestro.ledger.record import trusted_key, trusted_keyring
from maestro.manifests.validate import repository_root

TOKEN_ENV = "MAESTRO_ADMIN_TOKEN"


def deploy_command(
    revision: Annotated[str, typer.Argument(help="The git revision to deploy (a branch, tag or commit).")] = "HEAD",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
    approve: Annotated[
        bool, typer.Option("--approve", help="Sign the plan with your ledger key (a high-risk deploy needs it).")
    ] = False,
    gateway: Annotated[
        list[str] | None,
        typer.Option(
            "--gateway", metavar="URL", help=f"A running gateway to reload (repeatable; token from ${TOKEN_ENV})."
        ),
    ] = None,
    state_path: StatePath = None,
    key: Key = None,
    no_ledger: NoLedger = False,
    output: Output = None,
    as_json: Json = False,
    format_alias: FormatAlias = None,
) -> None:
    """Deploy REV's manifests: diff, risk, approvals, reload the gateways, start the Rollouts it touches."""
    fmt = output_format(output, as_json, format_alias)
    root = repository_root(Path.cwd())
    if approve:
        _approve(root, revision, state_path, key, fmt)
        return
    with controller(state_path, key, no_ledger or dry_run, "deploy") as (c, actor):
        p = deploy.plan(root, revision, c.conn, trusted_keyring(root), requester=actor, now=time.time())
        if dry_run:
            _emit(fmt, p.as_json(), _text(p.as_json()))
            return
        token = os.environ.get(TOKEN_ENV) or None
        done = deploy.apply(
            p,
            c.conn,
            actor,
            reload=lambda: deploy.reload_gateways(gateway or [], token),
            begin=lambda spec: _begin(c, spec, actor),
            record=c.record,
        )
    data = done.as_json()
    _emit(fmt, data, _text(data))
    if done.plan.webhooks:  # after the report: a failing webhook is retried, recorded, and never fails the deploy
        notifier = Notifier(state_path or state.default_path(Path.cwd()), done.plan.webhooks)
        notifier.notify(deploy.notice(done))
        notifier.flush()
        notifier.stop()
    if any(not r.ok for r in done.reloaded) or done.failed:
        raise typer.Exit(EXIT_FINDINGS)


def _approve(root: Path, revision: str, state_path: str | None, key: Path | None, fmt: str) -> None:
    signing = trusted_key(root, key)
    if signing is None:
        raise UsageError("approving needs your ledger key: `maestro keys init`, or --key FILE")
    with controller(state_path, key, True, "deploy") as (c, _):
        p = deploy.plan(root, revision, c.conn, trusted_keyring(root), requester="", now=time.time())
        Signoffs(c.conn).add("deploy", p.digest, signing, requester="")
        p = deploy.plan(root, revision, c.conn, trusted_keyring(root), requester="", now=time.time())
    _emit(fmt, p.as_json(), f"approved by {signing.name}\n{_text(p.as_json())}")


def _begin(c: Controller, spec: RolloutSpec, actor: str) -> None:
    c.begin(spec, actor)


def _emit(fmt: str, data: dict[str, object], text: str) -> None:
    typer.echo(json.dumps(data, indent=2, default=str) if fmt == "json" else text)


def _text(d: dict[str, object]) -> str:
    previous = str(d["previous"])[:12] if d["previous"] else "nothing deployed yet"
    lines = [f"deploy {d['revision']} ({str(d['commit'])[:12]}) over {previous}: risk {d['risk']}"]
    changes = d["changes"]
    assert isinstance(changes, list)
    lines += [f"  {c['risk']:<6} {c['op']:<8} {c['ref']} {c['path']}  {c['reason']}".rstrip() for c in changes]
    approvals = d["approvals"]
    assert isinstance(approvals, dict)
    if approvals["needed"]:
        who = ", ".join(approvals["approvers"]) or "none"
        lines.append(f"approvals: {len(approvals['approvers'])} of {approvals['needed']} ({who})")
    for key, label in (("rollouts", "starts rollout"), ("skipped", "skips rollout"), ("started", "started")):
        for item in d.get(key) or []:  # type: ignore[attr-defined]
            lines.append(f"{label}: {item}")
    for r in d.get("reloaded") or []:  # type: ignore[attr-defined]
        lines.append(f"gateway {r['gateway']}: {'reloaded' if r['ok'] else 'NOT reloaded'}, {r['detail']}")
    if d.get("id") is None:
        lines.append(f"waits for: {d['waitsFor']}" if d["waitsFor"] else "ready to deploy")
    else:
        lines.append(f"deployed (deployment {d['id']})")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    app.command(
        "deploy",
        epilog=examples(
            "maestro deploy --dry-run",
            "maestro deploy v1.4.0 --approve",
            "maestro deploy HEAD --gateway http://127.0.0.1:8080 --json",
        ),
    )(deploy_command)
