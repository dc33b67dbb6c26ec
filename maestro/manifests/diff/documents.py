"""The two sides of a diff as documents, and which document of one side is which of the other.

Diffing needs readable YAML, not schema-valid YAML: a document is anything with a ``kind`` and a
``metadata.name``. Documents are matched by kind and name; an unmatched removed document and an unmatched
added one of the same kind with (nearly) the same spec are a rename.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from maestro.errors import SourceError
from maestro.manifests import yamlio
from maestro.manifests.diff.model import Change, Op, Risk
from maestro.manifests.diff.values import MISSING, canon
from maestro.manifests.diff.walk import compare
from maestro.manifests.loader import SourceFile


@dataclass(frozen=True, slots=True)
class Doc:
    kind: str
    name: str
    data: Mapping[str, Any]
    file: str
    base_dir: str

    @property
    def spec(self) -> Mapping[str, Any]:
        spec = self.data.get("spec")
        return spec if isinstance(spec, dict) else {}

    def change(self, path: str, op: Op, *, old: Any = None, new: Any = None, risk: Risk, reason: str) -> Change:
        """A change to this document (``path`` empty for the whole document; values None where absent)."""
        return Change(self.kind, self.name, path, op, old, new, risk, reason, self.file)


Index: TypeAlias = Mapping[tuple[str, str], Doc]


@dataclass(frozen=True, slots=True)
class Sides:
    old: Index
    new: Index


@dataclass(frozen=True, slots=True)
class Ctx:
    """A document on both sides (``old`` and ``new`` differ in name after a rename), and all documents."""

    sides: Sides
    old: Doc
    new: Doc


def spec_field(side: Index, kind: str, name: Any, field: str) -> Any:
    """``spec.<field>`` of the document ``kind/name`` on one side; None where there is no such document."""
    doc = side.get((kind, name)) if isinstance(name, str) else None
    return doc.spec.get(field) if doc else None


# --- reading ------------------------------------------------------------------------------------------


def read_side(sources: Iterable[SourceFile], limits: yamlio.Limits) -> dict[tuple[str, str], Doc]:
    docs: dict[tuple[str, str], Doc] = {}
    for source in sources:
        for doc in _parse_source(source, limits):
            docs.setdefault((doc.kind, doc.name), doc)  # a duplicate is validate's finding; keep the first
    return docs


def _parse_source(source: SourceFile, limits: yamlio.Limits) -> list[Doc]:
    if source.raw is None:
        raise SourceError(f"{source.name}: {source.error or 'cannot read the file'}")
    try:
        parsed = yamlio.parse(yamlio.decode(source.raw, limits), limits)
    except yamlio.YamlProblem as p:
        raise SourceError(f"{source.name}:{p.line}:{p.column}: {p.message}") from p
    docs = (_as_doc(source, p.data) for p in parsed)
    return [d for d in docs if d is not None]


def _as_doc(source: SourceFile, data: Any) -> Doc | None:
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        return None
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str):
        return None
    return Doc(data["kind"], name, data, source.name, source.base_dir)


# --- matching -------------------------------------------------------------------------------------------

_RENAME_SIMILARITY: Final = 0.8


@dataclass(frozen=True, slots=True)
class Matching:
    pairs: list[Ctx]  # the same kind and name on both sides (by kind and name), then the renames
    removed: list[Doc]  # only on the old side, and not renamed (by kind and name)
    added: list[Doc]  # only on the new side, and not a rename (by kind and name)


def match(sides: Sides) -> Matching:
    removed = [sides.old[k] for k in sorted(sides.old.keys() - sides.new.keys())]
    added = [sides.new[k] for k in sorted(sides.new.keys() - sides.old.keys())]
    renames = _renames(removed, added)
    kept = [(sides.old[k], sides.new[k]) for k in sorted(sides.old.keys() & sides.new.keys())]
    renamed_old = {(o.kind, o.name) for o, _ in renames}
    renamed_new = {(n.kind, n.name) for _, n in renames}
    return Matching(
        [Ctx(sides, o, n) for o, n in kept + renames],
        [d for d in removed if (d.kind, d.name) not in renamed_old],
        [d for d in added if (d.kind, d.name) not in renamed_new],
    )


def _renames(removed: Sequence[Doc], added: Sequence[Doc]) -> list[tuple[Doc, Doc]]:
    """Pairs (old, new) of the same kind whose specs are at least 80% alike, best matches first."""
    leaves = {id(d): _leaves(d) for d in (*removed, *added)}
    scored = []
    for i, o in enumerate(removed):
        for j, n in enumerate(added):
            if o.kind == n.kind:
                score = _similarity(leaves[id(o)], leaves[id(n)])
                if score >= _RENAME_SIMILARITY:
                    scored.append((-score, o.name, n.name, i, j))
    pairs: list[tuple[Doc, Doc]] = []
    used_old: set[int] = set()
    used_new: set[int] = set()
    for _, _, _, i, j in sorted(scored):
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            pairs.append((removed[i], added[j]))
    return pairs


def _leaves(doc: Doc) -> frozenset[str]:
    return frozenset(f"{d.path}={canon(d.new)}" for d in compare(doc.kind, MISSING, dict(doc.spec), ("spec",)))


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))
