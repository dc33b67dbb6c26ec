"""The entries ``maestro validate``, ``eval`` and ``gate`` append to the ledger, in a module cheap to import.

A repository keeps a ledger when it has ``.maestro/keys/``; only then are the ledger and its cryptography
imported, so ``maestro validate`` elsewhere (a pre-commit hook) pays nothing for it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from maestro.manifests.validate import ValidationResult, repository_root

KEYS_DIR = Path(".maestro") / "keys"  # the same as maestro.ledger.keys.KEYS_DIR, without importing it

if TYPE_CHECKING:
    from maestro.evals.gate import GateResult
    from maestro.ledger.statement import Action


def record_validation(result: ValidationResult, key: Path | None = None) -> None:
    """Append a "validate" entry when the repository keeps a ledger and a signing key is configured."""
    root = repository_root()
    texts = result.manifests.locator.texts
    if not (root / KEYS_DIR).is_dir() or not texts:
        return
    from maestro.ledger.record import record
    from maestro.ledger.statement import Action, PolicyResult, Subject

    hashes = {name: hashlib.sha256(text.encode()).hexdigest() for name, text in sorted(texts.items())}
    findings = sorted({(d.rule, str(d.severity)) for d in result.diagnostics})
    summary = result.summary
    details = {
        "errors": summary.errors,
        "warnings": summary.warnings,
        "files": summary.files,
        "documents": summary.documents,
        "failed": result.failed(),
    }

    def action(actor: str) -> Action:
        return Action(
            action="validate",
            actor=actor,
            subjects=[Subject(name, digest) for name, digest in hashes.items()],
            manifests=hashes,
            policies=[PolicyResult(rule, severity) for rule, severity in findings],
            details=details,
        )

    _announce(record(root, action, key))


def record_eval(cards: Sequence[Mapping[str, Any]], key: Path | None = None) -> None:
    """Append an "eval" entry (each scorecard's digest, pass rate, cost) where the repository keeps a ledger."""
    if not cards:
        return
    suites = {
        str(c["suite"]): {
            "digest": c.get("digest"),
            "revision": c.get("revision"),
            "cases": c["summary"]["cases"],
            "passRate": c["summary"]["passRate"],
            "problems": len(c["problems"]),
        }
        for c in cards
    }
    cost = sum(float(c["cost"]["totalUsd"]) for c in cards)
    _record("eval", cards, {"suites": suites}, [], cost, key)


def record_gate(result: GateResult, cards: Sequence[Mapping[str, Any]], key: Path | None = None) -> None:
    """Append a "gate" entry: the verdict per suite and metric, over the scorecards it judged."""
    from maestro.ledger.statement import PolicyResult

    policies = [PolicyResult(f"{f.suite}/{f.metric}", str(f.verdict)) for f in result.findings]
    _record("gate", cards, {"verdict": str(result.verdict)}, policies, None, key)


def _record(
    name: str,
    cards: Sequence[Mapping[str, Any]],
    details: dict[str, Any],
    policies: Sequence[Any],
    cost: float | None,
    key: Path | None,
) -> None:
    root = repository_root()
    if not (root / KEYS_DIR).is_dir():
        return
    from maestro.ledger.record import record
    from maestro.ledger.statement import Action, Subject

    subjects = [Subject.of(f"scorecard/{c['suite']}", json.dumps(c, sort_keys=True).encode()) for c in cards]
    manifests = {f"EvalSuite/{c['suite']}": str(c["digest"]) for c in cards if c.get("digest")}

    def action(actor: str) -> Action:
        return Action(
            action=name,
            actor=actor,
            subjects=subjects,
            manifests=manifests,
            policies=list(policies),
            cost_usd=cost,
            details=details,
        )

    _announce(record(root, action, key))


def _announce(recorded: Any) -> None:
    if recorded is not None:
        typer.echo(f"ledger: recorded entry {recorded.index} in {recorded.store}", err=True)
