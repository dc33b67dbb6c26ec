"""The ledger entry of one ``maestro validate``: the manifests read (by content hash), the rules hit, the counts.

``validation_action(result)`` returns the entry to record as a function of the signer's name (an entry's
actor is bound to the key that signs it), or None when nothing was read; the caller records it through
``maestro.ledger.record``, which this package, below the ledger, does not import.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from maestro.evidence import Action, PolicyResult, Subject
from maestro.manifests.validate import ValidationResult


def validation_action(result: ValidationResult) -> Callable[[str], Action] | None:
    """A "validate" entry: a subject and a manifest hash per file, a policy result per (rule, severity) found."""
    texts = result.manifests.locator.texts
    if not texts:
        return None

    def build(actor: str) -> Action:  # hashed only when a ledger records it: validate elsewhere pays nothing
        hashes = {name: hashlib.sha256(text.encode()).hexdigest() for name, text in sorted(texts.items())}
        findings = sorted({(d.rule, str(d.severity)) for d in result.diagnostics})
        summary = result.summary
        return Action(
            action="validate",
            actor=actor,
            subjects=[Subject(name, digest) for name, digest in hashes.items()],
            manifests=hashes,
            policies=[PolicyResult(rule, severity) for rule, severity in findings],
            details={
                "errors": summary.errors,
                "warnings": summary.warnings,
                "files": summary.files,
                "documents": summary.documents,
                "failed": result.failed(),
            },
        )

    return build
