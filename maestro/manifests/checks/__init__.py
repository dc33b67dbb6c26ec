"""Checks over the whole set of manifests, after each document passed its schema."""

from __future__ import annotations

from collections.abc import Callable

from maestro.manifests.checks.autonomy import check_agents, check_levels
from maestro.manifests.checks.context import Checker, Taxonomy
from maestro.manifests.checks.delivery import check_evals, check_rollouts
from maestro.manifests.checks.pipelines import check_pipelines
from maestro.manifests.checks.routing import check_policies, check_providers, check_routes
from maestro.manifests.checks.secrets import check_key_env
from maestro.manifests.checks.serve import check_serve
from maestro.manifests.diagnostics import Diagnostic
from maestro.manifests.loader import Document, ManifestSet

CHECKS: tuple[Callable[[Checker], None], ...] = (
    check_providers,
    check_key_env,
    check_serve,
    check_policies,
    check_routes,
    check_levels,
    check_agents,
    check_pipelines,
    check_evals,
    check_rollouts,
)


def check_set(manifests: ManifestSet) -> list[Diagnostic]:
    """Every whole-set finding: unique names, references, fallbacks, tags, graphs and CEL."""
    checker = Checker(manifests, Taxonomy.of(manifests))
    _unique_names(checker)
    for check in CHECKS:
        check(checker)
    return checker.diagnostics


def _unique_names(c: Checker) -> None:
    first: dict[tuple[str, str], Document] = {}
    for doc in c.manifests.documents:
        key = (doc.kind, doc.name)
        if key in first:
            other = first[key]
            c.report(
                doc,
                ("metadata", "name"),
                "set.duplicate-name",
                f"{doc.ref} is already defined at {other.file}:{other.line}; names must be unique per kind",
            )
        else:
            first[key] = doc


__all__ = ["Taxonomy", "check_set"]
