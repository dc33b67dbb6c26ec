"""The entry ``maestro validate`` appends to the ledger, in a module cheap to import.

A repository keeps a ledger when it has ``.maestro/keys/``; only then are the ledger and its cryptography
imported, so ``maestro validate`` elsewhere (a pre-commit hook) pays nothing for it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import typer

from maestro.manifests.validate import ValidationResult, repository_root

KEYS_DIR = Path(".maestro") / "keys"  # the same as maestro.ledger.keys.KEYS_DIR, without importing it


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

    recorded = record(root, action, key)
    if recorded is not None:
        typer.echo(f"ledger: recorded entry {recorded.index} in {recorded.store}", err=True)
