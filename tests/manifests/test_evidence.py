"""maestro.manifests.evidence: the "validate" entry, built by the manifests package, signed elsewhere."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from helpers.repo import example_paths

from maestro.manifests.evidence import validation_action
from maestro.manifests.validate import validate


def test_the_validate_entry_hashes_every_file_read_and_counts_the_findings(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(example_repo)  # files are named relative to where validate runs
    routes = example_repo / "manifests" / "routes.yaml"
    routes.write_text(routes.read_text(encoding="utf-8") + "\n# a comment changes the hash\n", encoding="utf-8")
    result = validate(example_paths(example_repo))
    build = validation_action(result)
    assert build is not None
    action = build("alice")
    assert action.action == "validate" and action.actor == "alice"
    texts = result.manifests.locator.texts
    assert dict(action.manifests) == {n: hashlib.sha256(t.encode()).hexdigest() for n, t in texts.items()}
    assert [s.name for s in action.subjects] == sorted(texts)
    assert action.manifests["manifests/routes.yaml"] == hashlib.sha256(routes.read_bytes()).hexdigest()
    summary = result.summary
    assert dict(action.details) == {
        "errors": summary.errors,
        "warnings": summary.warnings,
        "files": summary.files,
        "documents": summary.documents,
        "failed": result.failed(),
    }
    assert [(p.name, p.result) for p in action.policies] == sorted(
        {(d.rule, str(d.severity)) for d in result.diagnostics}
    )
