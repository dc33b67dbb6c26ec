"""Checks over the whole set of manifests, after each document passed its schema."""

from __future__ import annotations

from collections.abc import Callable

from maestro.manifests.checks.context import Checker, Taxonomy
from maestro.manifests.diagnostics import Diagnostic
from maestro.manifests.loader import Document, ManifestSet

# The kinds whose checks run first, as they always have (findings keep their order); then every other kind in
# the registry's order.
_FIRST = ("Provider", "Policy")


def _checks() -> list[Callable[[Checker], None]]:
    from maestro.manifests.kinds import KINDS  # the kinds name these modules' checks

    order = [*_FIRST, *(k for k in KINDS if k not in _FIRST)]
    return [check for name in order for check in KINDS[name].checks]


def check_set(manifests: ManifestSet) -> list[Diagnostic]:
    """Every whole-set finding: unique names, references, fallbacks, tags, graphs and CEL."""
    checker = Checker(manifests, Taxonomy.of(manifests))
    _unique_names(checker)
    for check in _checks():
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
