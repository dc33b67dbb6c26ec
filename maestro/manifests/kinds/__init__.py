"""The manifest kinds: one module per kind, and the registry that makes a kind known.

A kind's module holds its typed, frozen record (built once, when the loader admits a schema-valid document),
names its whole-set checks and its diff risk rules, and ends with one ``KIND`` entry. The line for it in
``KINDS`` below makes the kind known to the schemas, the loader, ``maestro validate``, the diff and
``maestro explain`` (whose explainers sit in a higher layer, ``maestro/explain``, keyed by these names).
A kind not in ``KINDS`` is an error everywhere (``UnknownKind``), never a guess.

Adding a kind: see docs/architecture.md, "Adding a kind".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from maestro.errors import MaestroError
from maestro.manifests.kinds import agent, autonomylevel, evalsuite, pipeline, policy, provider, rollout, route
from maestro.manifests.kinds.base import KindEntry, Source

if TYPE_CHECKING:
    from maestro.manifests.checks.context import Checker
    from maestro.manifests.diff.handlers import Rules
    from maestro.manifests.diff.model import Risk


class Kind(Protocol):
    """What the rest of maestro needs to know about a kind."""

    @property
    def name(self) -> str: ...
    @property
    def schema(self) -> str: ...
    @property
    def record(self) -> Callable[[str, Mapping[str, Any], Source], object]: ...
    @property
    def checks(self) -> tuple[Callable[[Checker], None], ...]: ...
    @property
    def risk(self) -> Rules: ...
    @property
    def removed(self) -> tuple[Risk, str] | None: ...


class UnknownKind(MaestroError):
    """A kind that no registry line names."""


# The registry, in the order kinds are listed to users. One line per kind.
KINDS: dict[str, Kind] = {
    "Provider": provider.KIND,
    "Route": route.KIND,
    "Policy": policy.KIND,
    "AutonomyLevel": autonomylevel.KIND,
    "Agent": agent.KIND,
    "Pipeline": pipeline.KIND,
    "EvalSuite": evalsuite.KIND,
    "Rollout": rollout.KIND,
}


def kind(name: str) -> Kind:
    """The registry entry of ``name``; an unknown kind is an error that lists the known ones."""
    found = KINDS.get(name)
    if found is None:
        raise UnknownKind(f"unknown kind '{name}'; maestro knows: {', '.join(KINDS)}")
    return found


__all__ = ["KINDS", "Kind", "KindEntry", "Source", "UnknownKind", "kind"]
