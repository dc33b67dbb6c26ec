"""What every kind's record shares: where it came from, and the entry that makes a kind known.

A record is built once, when the loader admits a schema-valid document, from that document's data; the
schema has checked every shape a record reads, so building one never fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from maestro.manifests.loader import Source

if TYPE_CHECKING:
    from maestro.manifests.checks.context import Checker
    from maestro.manifests.diff.handlers import Rules
    from maestro.manifests.diff.model import Risk

R_co = TypeVar("R_co", covariant=True)


@dataclass(frozen=True, slots=True)
class KindEntry(Generic[R_co]):
    """One kind: its schema file, how its record is built, its whole-set checks and its diff risk rules."""

    name: str
    schema: str  # a file in maestro/builtin/schemas
    record: Callable[[str, Mapping[str, Any], Source], R_co]  # (name, spec, source) -> the record
    checks: tuple[Callable[[Checker], None], ...] = ()
    risk: Rules = ()
    removed: tuple[Risk, str] | None = None  # the risk of deleting a document of this kind; medium when None


def opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


__all__ = ["KindEntry", "Source", "opt_float", "opt_int"]
