"""Comparing two sets of manifests, and saying how risky each change is and why.

The core is pure: it takes already-read sources (and, optionally, functions that read a file a manifest
refers to, such as a prompt file) and returns plain records. Diffing needs readable YAML, not schema-valid
YAML: a document is anything with a ``kind`` and a ``metadata.name``.

Documents are matched by kind and name; an unmatched removed document and an unmatched added one of the
same kind with (nearly) the same spec are a rename. Inside a document, lists of named things are matched
by their name or id (route targets by ``provider/model``, pipeline edges by ``from->to``) and their order
is ignored, except where order means something: a route's fallback chain and a rollout's steps. Lists of
scalars such as jurisdictions or actions compare as sets.

Risk: ``high`` loosens a guard rail (more autonomy, fewer approvals, data reaching a new jurisdiction, a
weaker policy, a removed fallback or eval check), ``medium`` changes behaviour (prompts, models, weights,
any other setting), ``low`` changes only words for people (labels, descriptions).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, Final, TypeAlias

from maestro.errors import SourceError
from maestro.manifests import yamlio
from maestro.manifests.loader import SourceFile

FileReader: TypeAlias = Callable[[str, str], "bytes | None"]
"""Reads a file a manifest refers to: ``(base_dir of the manifest, relative path)`` -> bytes, or None."""


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RISK_ORDER.index(self)


_RISK_ORDER: Final = (Risk.LOW, Risk.MEDIUM, Risk.HIGH)
HIGH, MEDIUM, LOW = Risk.HIGH, Risk.MEDIUM, Risk.LOW


class Op(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    RENAMED = "renamed"
    MOVED = "moved"


@dataclass(frozen=True, slots=True)
class Change:
    """One change. ``path`` is empty for a whole document; values are None where absent, secrets redacted."""

    kind: str
    name: str
    path: str
    op: Op
    old: Any
    new: Any
    risk: Risk
    reason: str
    file: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class DiffResult:
    changes: tuple[Change, ...]

    def counts(self) -> dict[Risk, int]:
        counts = dict.fromkeys(_RISK_ORDER, 0)
        for c in self.changes:
            counts[c.risk] += 1
        return counts

    @property
    def max_risk(self) -> Risk | None:
        return max((c.risk for c in self.changes), key=lambda r: r.rank, default=None)

    def reaches(self, risk: Risk) -> bool:
        """Whether some change is at or above ``risk``."""
        return any(c.risk.rank >= risk.rank for c in self.changes)


def diff_sources(
    old: Iterable[SourceFile],
    new: Iterable[SourceFile],
    *,
    old_files: FileReader | None = None,
    new_files: FileReader | None = None,
    limits: yamlio.Limits | None = None,
) -> DiffResult:
    """Every change from ``old`` to ``new``, grouped by document (sorted by kind and name)."""
    limits = limits or yamlio.Limits()
    sides = _Sides(_read_side(old, limits), _read_side(new, limits))
    return DiffResult(tuple(_changes(sides, old_files, new_files)))


# --- reading ------------------------------------------------------------------------------------------


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()


@dataclass(frozen=True, slots=True)
class _Doc:
    kind: str
    name: str
    data: Mapping[str, Any]
    file: str
    base_dir: str

    @property
    def spec(self) -> Mapping[str, Any]:
        spec = self.data.get("spec")
        return spec if isinstance(spec, dict) else {}


_Index: TypeAlias = Mapping[tuple[str, str], _Doc]


@dataclass(frozen=True, slots=True)
class _Sides:
    old: _Index
    new: _Index


def _read_side(sources: Iterable[SourceFile], limits: yamlio.Limits) -> dict[tuple[str, str], _Doc]:
    docs: dict[tuple[str, str], _Doc] = {}
    for source in sources:
        for doc in _parse_source(source, limits):
            docs.setdefault((doc.kind, doc.name), doc)  # a duplicate is validate's finding; keep the first
    return docs


def _parse_source(source: SourceFile, limits: yamlio.Limits) -> list[_Doc]:
    if source.raw is None:
        raise SourceError(f"{source.name}: {source.error or 'cannot read the file'}")
    try:
        parsed = yamlio.parse(yamlio.decode(source.raw, limits), limits)
    except yamlio.YamlProblem as p:
        raise SourceError(f"{source.name}:{p.line}:{p.column}: {p.message}") from p
    docs = (_as_doc(source, p.data) for p in parsed)
    return [d for d in docs if d is not None]


def _as_doc(source: SourceFile, data: Any) -> _Doc | None:
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        return None
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str):
        return None
    return _Doc(data["kind"], name, data, source.name, source.base_dir)


# --- matching documents ---------------------------------------------------------------------------------

_RENAME_SIMILARITY: Final = 0.8


def _changes(sides: _Sides, old_files: FileReader | None, new_files: FileReader | None) -> Iterator[Change]:
    removed = sorted(sides.old.keys() - sides.new.keys())
    added = sorted(sides.new.keys() - sides.old.keys())
    renames = _renames([sides.old[k] for k in removed], [sides.new[k] for k in added])
    pairs = [(sides.old[k], sides.new[k]) for k in sorted(sides.old.keys() & sides.new.keys())] + renames
    groups: list[tuple[tuple[str, str], list[Change]]] = []
    for o, n in pairs:
        groups.append(((n.kind, n.name), _document_changes(_Ctx(sides, o, n), old_files, new_files)))
    renamed_old = {(o.kind, o.name) for o, _ in renames}
    renamed_new = {(n.kind, n.name) for _, n in renames}
    groups.extend((k, [_removed_document(sides.old[k])]) for k in removed if k not in renamed_old)
    groups.extend((k, [_added_document(sides.new[k], sides)]) for k in added if k not in renamed_new)
    for _, changes in sorted(groups, key=lambda g: g[0]):
        yield from changes


def _renames(removed: Sequence[_Doc], added: Sequence[_Doc]) -> list[tuple[_Doc, _Doc]]:
    """Pairs (old, new) of the same kind whose specs are at least 80% alike, best matches first."""
    leaves = {id(d): _leaves(d) for d in (*removed, *added)}
    scored = []
    for i, o in enumerate(removed):
        for j, n in enumerate(added):
            if o.kind == n.kind:
                score = _similarity(leaves[id(o)], leaves[id(n)])
                if score >= _RENAME_SIMILARITY:
                    scored.append((-score, o.name, n.name, i, j))
    pairs: list[tuple[_Doc, _Doc]] = []
    used_old: set[int] = set()
    used_new: set[int] = set()
    for _, _, _, i, j in sorted(scored):
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            pairs.append((removed[i], added[j]))
    return pairs


def _leaves(doc: _Doc) -> frozenset[str]:
    return frozenset(f"{d.path}={_canon(d.new)}" for d in _compare(doc.kind, MISSING, dict(doc.spec), ("spec",)))


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


def _document_changes(ctx: _Ctx, old_files: FileReader | None, new_files: FileReader | None) -> list[Change]:
    out: list[Change] = []
    if ctx.old.name != ctx.new.name:
        out.append(_renamed(ctx))
    for delta in _compare(ctx.new.kind, _body(ctx.old.data), _body(ctx.new.data), ()):
        out.append(_change(ctx, delta))
    if old_files is not None and new_files is not None:
        out.extend(_file_changes(ctx, old_files, new_files))
    return out


def _body(data: Mapping[str, Any]) -> dict[str, Any]:
    """The document without ``metadata.name`` (matched already; a rename is its own change)."""
    body = dict(data)
    if isinstance(body.get("metadata"), dict):
        body["metadata"] = {k: v for k, v in body["metadata"].items() if k != "name"}
    return body


def _renamed(ctx: _Ctx) -> Change:
    reason = f"renamed from '{ctx.old.name}': anything that refers to it by name must change too"
    return Change(
        ctx.new.kind,
        ctx.new.name,
        "metadata.name",
        Op.RENAMED,
        ctx.old.name,
        ctx.new.name,
        MEDIUM,
        reason,
        ctx.new.file,
    )


_REMOVED_DOCUMENT: Final[Mapping[str, tuple[Risk, str]]] = {
    "Policy": (HIGH, "policy removed: its rules, budgets, freeze windows and dual control no longer apply"),
    "AutonomyLevel": (HIGH, "autonomy level removed: the limits it set on agents and pipelines are gone"),
    "EvalSuite": (HIGH, "eval suite removed: its checks no longer gate changes"),
}


def _removed_document(doc: _Doc) -> Change:
    risk, reason = _REMOVED_DOCUMENT.get(doc.kind, (MEDIUM, f"{doc.kind} removed"))
    return Change(doc.kind, doc.name, "", Op.REMOVED, None, None, risk, reason, doc.file)


def _added_document(doc: _Doc, sides: _Sides) -> Change:
    reason = f"{doc.kind} added"
    if doc.kind == "Provider":
        where = _jurisdiction(sides.new, doc.name)
        reason = f"provider added in jurisdiction '{where}': routes may send data to it" if where else reason
    return Change(doc.kind, doc.name, "", Op.ADDED, None, None, MEDIUM, reason, doc.file)


# --- files a manifest refers to ---------------------------------------------------------------------------

_FILE_FIELDS: Final[Mapping[str, tuple[tuple[tuple[str, ...], str], ...]]] = {
    "Agent": ((("spec", "prompt", "file"), "prompt file"),),
    "EvalSuite": ((("spec", "target", "prompt", "file"), "prompt file"), (("spec", "dataset", "file"), "dataset file")),
}


def _file_changes(ctx: _Ctx, old_files: FileReader, new_files: FileReader) -> Iterator[Change]:
    """Changed contents of files referred to by the same path on both sides (best effort: unreadable is skipped)."""
    for path, what in _FILE_FIELDS.get(ctx.new.kind, ()):
        ref = _dig(ctx.old.data, path)
        if not isinstance(ref, str) or ref != _dig(ctx.new.data, path):
            continue
        before, after = old_files(ctx.old.base_dir, ref), new_files(ctx.new.base_dir, ref)
        if before is None or after is None or before == after:
            continue
        yield Change(
            ctx.new.kind,
            ctx.new.name,
            ".".join(path),
            Op.CHANGED,
            f"{ref} ({_digest(before)})",
            f"{ref} ({_digest(after)})",
            MEDIUM,
            f"{what} content changed ({ref})",
            ctx.new.file,
        )


def _dig(data: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _digest(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:12]


# --- comparing inside a document ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Key:
    """A list item's key inside a path: a name, an id, ``provider/model``, ``from->to`` or a position."""

    value: str


_Part: TypeAlias = "str | _Key"


@dataclass(frozen=True, slots=True)
class _Delta:
    parts: tuple[_Part, ...]
    op: Op
    old: Any
    new: Any
    element: bool = False  # one member of a set-like list of scalars

    @property
    def path(self) -> str:
        return "".join(
            f"[{p.value}]" if isinstance(p, _Key) else (f".{p}" if i else p) for i, p in enumerate(self.parts)
        )

    @property
    def shape(self) -> str:
        return "".join("[]" if isinstance(p, _Key) else (f".{p}" if i else p) for i, p in enumerate(self.parts))


_SET_FIELDS: Final = frozenset(
    {
        "tags",
        "jurisdictions",
        "allowedWithoutApproval",
        "requiresApproval",
        "capabilities",
        "applies",
        "roles",
        "routes",
        "evidence",
        "when",
    }
)
_ORDERED: Final = frozenset({("Route", "spec.fallback"), ("Rollout", "spec.steps")})


def _compare(kind: str, old: Any, new: Any, parts: tuple[_Part, ...]) -> Iterator[_Delta]:
    if _same(old, new):
        return
    if _is(old, dict) and _is(new, dict):
        yield from _compare_maps(kind, _or(old, {}), _or(new, {}), parts)
    elif _is(old, list) and _is(new, list):
        yield from _compare_lists(kind, old, new, parts)
    else:
        yield _leaf(parts, old, new)


def _is(value: Any, kind: type) -> bool:
    return value is MISSING or isinstance(value, kind)


def _or(value: Any, empty: Any) -> Any:
    return empty if value is MISSING else value


def _leaf(parts: tuple[_Part, ...], old: Any, new: Any, *, element: bool = False) -> _Delta:
    op = Op.ADDED if old is MISSING else Op.REMOVED if new is MISSING else Op.CHANGED
    return _Delta(parts, op, old, new, element)


def _compare_maps(kind: str, old: dict[str, Any], new: dict[str, Any], parts: tuple[_Part, ...]) -> Iterator[_Delta]:
    keys = list(old) + [k for k in new if k not in old]
    for key in keys:
        yield from _compare(kind, old.get(key, MISSING), new.get(key, MISSING), (*parts, key))


def _compare_lists(kind: str, old: Any, new: Any, parts: tuple[_Part, ...]) -> Iterator[_Delta]:
    olds: list[Any] = _or(old, [])
    news: list[Any] = _or(new, [])
    if _is_set(parts, olds + news):
        if old is MISSING or new is MISSING:
            yield _leaf(parts, old, new)
        else:
            yield from _compare_sets(parts, olds, news)
        return
    shape = _Delta(parts, Op.CHANGED, None, None).shape
    key = _key_function(kind, shape, olds + news)
    if key is None:
        yield from _compare_sequence(kind, parts, olds, news)
    else:
        yield from _compare_keyed(kind, parts, _keyed(olds, key), _keyed(news, key), (kind, shape) in _ORDERED)


def _is_set(parts: tuple[_Part, ...], items: list[Any]) -> bool:
    field = parts[-1] if parts else None
    return field in _SET_FIELDS and all(not isinstance(i, (dict, list)) for i in items)


def _compare_sets(parts: tuple[_Part, ...], old: list[Any], new: list[Any]) -> Iterator[_Delta]:
    before = {_canon(x): x for x in old}
    after = {_canon(x): x for x in new}
    for k in sorted(before.keys() - after.keys()):
        yield _leaf(parts, before[k], MISSING, element=True)
    for k in sorted(after.keys() - before.keys()):
        yield _leaf(parts, MISSING, after[k], element=True)


_KeyFunction: TypeAlias = Callable[[Any], str]


def _pair_key(item: Any) -> str:
    if isinstance(item, dict):
        if "route" in item and "provider" not in item:
            return f"route:{item['route']}"
        return f"{item.get('provider')}/{item.get('model')}"
    return _canon(item)


def _edge_key(item: Any) -> str:
    return f"{item.get('from')}->{item.get('to')}" if isinstance(item, dict) else _canon(item)


def _field_key(field: str) -> _KeyFunction:
    return lambda item: str(item[field])


_SPECIAL_KEYS: Final[Mapping[tuple[str, str], _KeyFunction]] = {
    ("Route", "spec.candidates"): _pair_key,
    ("Route", "spec.fallback"): _pair_key,
    ("Route", "spec.shadow"): _pair_key,
    ("Pipeline", "spec.edges"): _edge_key,
}


def _key_function(kind: str, shape: str, items: list[Any]) -> _KeyFunction | None:
    special = _SPECIAL_KEYS.get((kind, shape))
    if special is not None:
        return special
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for field in ("name", "id"):
        if all(isinstance(i.get(field), (str, int)) and not isinstance(i.get(field), bool) for i in items):
            return _field_key(field)
    return None


def _keyed(items: list[Any], key: _KeyFunction) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        k = base = key(item)
        n = 1
        while k in out:
            n += 1
            k = f"{base}#{n}"
        out[k] = item
    return out


def _compare_keyed(
    kind: str, parts: tuple[_Part, ...], old: dict[str, Any], new: dict[str, Any], ordered: bool
) -> Iterator[_Delta]:
    for k, item in old.items():
        if k not in new:
            yield _leaf((*parts, _Key(k)), item, MISSING)
    for k, item in new.items():
        if k in old:
            yield from _compare(kind, old[k], item, (*parts, _Key(k)))
        else:
            yield _leaf((*parts, _Key(k)), MISSING, item)
    if ordered:
        old_order = [k for k in old if k in new]
        new_order = [k for k in new if k in old]
        if old_order != new_order:
            yield _Delta(parts, Op.MOVED, old_order, new_order)


def _compare_sequence(kind: str, parts: tuple[_Part, ...], old: list[Any], new: list[Any]) -> Iterator[_Delta]:
    """Lists without keys: the same items in another order are one move; otherwise a positional diff."""
    a, b = [_canon(x) for x in old], [_canon(x) for x in new]
    if sorted(a) == sorted(b):
        yield _Delta(parts, Op.MOVED, old, new)
        return
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        common = min(i2 - i1, j2 - j1)
        for offset in range(common):
            yield from _compare(kind, old[i1 + offset], new[j1 + offset], (*parts, _Key(str(j1 + offset))))
        for i in range(i1 + common, i2):
            yield _leaf((*parts, _Key(str(i))), old[i], MISSING)
        for j in range(j1 + common, j2):
            yield _leaf((*parts, _Key(str(j))), MISSING, new[j])


def _canon(value: Any) -> str:
    return json.dumps(_normal(value), sort_keys=True, ensure_ascii=False, default=repr)


def _normal(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _same(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    return _canon(a) == _canon(b)


# --- risk -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ctx:
    sides: _Sides
    old: _Doc
    new: _Doc


@dataclass(frozen=True, slots=True)
class _Verdict:
    risk: Risk
    reason: str


_Handler: TypeAlias = Callable[[_Delta, _Ctx], _Verdict]


def _change(ctx: _Ctx, delta: _Delta) -> Change:
    verdict = _classify(ctx, delta)
    return Change(
        ctx.new.kind,
        ctx.new.name,
        delta.path,
        delta.op,
        _shown(delta.parts, delta.old),
        _shown(delta.parts, delta.new),
        verdict.risk,
        verdict.reason,
        ctx.new.file,
    )


def _classify(ctx: _Ctx, delta: _Delta) -> _Verdict:
    shape = delta.shape
    for pattern, handler in (*_RULES.get(ctx.new.kind, ()), *_COMMON):
        if _pattern(pattern).fullmatch(shape):
            return handler(delta, ctx)
    if delta.op is Op.MOVED:
        return _Verdict(MEDIUM, "order changed")
    return _Verdict(MEDIUM, "behaviour setting changed")


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\*", ".*"))


def _words(d: _Delta, ctx: _Ctx) -> dict[str, str]:
    keys = [p.value for p in d.parts if isinstance(p, _Key)]
    fields = [p for p in d.parts if isinstance(p, str)]
    value = d.new if d.op is Op.ADDED else d.old
    return {
        "key": keys[-1] if keys else ctx.new.name,
        "leaf": fields[-1] if fields else "",
        "parent": str(fields[-2]) if len(fields) > 1 else "",
        "name": ctx.new.name,
        "op": d.op.value,
        "old": _brief(d.old),
        "new": _brief(d.new),
        "e": _brief(value),
    }


def _brief(value: Any) -> str:
    if value is MISSING or value is None:
        return "nothing"
    if isinstance(value, list):
        return ", ".join(_brief(v) for v in value) or "nothing"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 40 else f"'{value[:39]}…'"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = _canon(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _fixed(risk: Risk, template: str) -> _Handler:
    return lambda d, ctx: _Verdict(risk, template.format(**_words(d, ctx)))


def _item(removed: tuple[Risk, str], added: tuple[Risk, str]) -> _Handler:
    """A whole list item added or removed."""

    def handler(d: _Delta, ctx: _Ctx) -> _Verdict:
        risk, template = removed if d.op is Op.REMOVED else added
        return _Verdict(risk, template.format(**_words(d, ctx)))

    return handler


_WRITTEN_DEFAULT: Final = _Verdict(LOW, "now written out as its default value (or no longer); no behaviour change")


def _effective(value: Any, default: Any) -> Any:
    return default if value is MISSING else value


_DURATION = re.compile(r"^([0-9]+)(ms|s|m|h|d)$")
_SECONDS: Final = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _magnitude(value: Any) -> float | None:
    """A number, or a duration in seconds; None for anything else."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    return int(match.group(1)) * _SECONDS[match.group(2)] if match else None


def _rises(what: str, risk: Risk, *, default: Any = MISSING, missing_loose: bool = True) -> _Handler:
    """A limit: raising it (or removing it, when that means no limit) loosens."""
    return _bound(what, risk, default=default, missing_loose=missing_loose, up_loosens=True)


def _falls(what: str, risk: Risk, *, default: Any = MISSING, missing_loose: bool = True) -> _Handler:
    """A floor such as an approval count or a threshold: lowering it (or removing it) loosens."""
    return _bound(what, risk, default=default, missing_loose=missing_loose, up_loosens=False)


def _bound(what: str, risk: Risk, *, default: Any, missing_loose: bool, up_loosens: bool) -> _Handler:
    def handler(d: _Delta, ctx: _Ctx) -> _Verdict:
        label = what.format(**_words(d, ctx))
        old, new = _effective(d.old, default), _effective(d.new, default)
        if _same(old, new):
            return _WRITTEN_DEFAULT
        if new is MISSING:
            return _Verdict(risk if missing_loose else MEDIUM, f"{label} removed (was {_brief(old)})")
        if old is MISSING:
            return _Verdict(MEDIUM, f"{label} set to {_brief(new)}")
        before, after = _magnitude(old), _magnitude(new)
        if before is None or after is None:
            return _Verdict(MEDIUM, f"{label} changed from {_brief(old)} to {_brief(new)}")
        raised = after > before
        verb = "raised" if raised else "lowered"
        if raised == up_loosens:
            return _Verdict(risk, f"{label} {verb} from {_brief(old)} to {_brief(new)}")
        return _Verdict(MEDIUM, f"{label} {verb} from {_brief(old)} to {_brief(new)} (tighter)")

    return handler


def _flag(loose_when: bool, default: bool, loose: str, tight: str) -> _Handler:
    """A switch: turning it to ``loose_when`` loosens; an absent switch has its ``default``."""

    def handler(d: _Delta, ctx: _Ctx) -> _Verdict:
        words = _words(d, ctx)
        old, new = _effective(d.old, default), _effective(d.new, default)
        if _same(old, new):
            return _WRITTEN_DEFAULT
        if not isinstance(new, bool):
            return _Verdict(MEDIUM, f"{words['leaf']} changed from {words['old']} to {words['new']}")
        return _Verdict(HIGH, loose.format(**words)) if new is loose_when else _Verdict(MEDIUM, tight.format(**words))

    return handler


def _ranked(order: tuple[str, ...], what: str, *, default: Any = MISSING, why: str = "") -> _Handler:
    """An enum ordered from loosest to strictest: a move towards the start loosens."""

    def handler(d: _Delta, ctx: _Ctx) -> _Verdict:
        label = what.format(**_words(d, ctx))
        old, new = _effective(d.old, default), _effective(d.new, default)
        if _same(old, new):
            return _WRITTEN_DEFAULT
        change = f"from {_brief(old)} to {_brief(new)}"
        if old in order and new in order:
            if order.index(new) < order.index(old):
                return _Verdict(HIGH, f"{label} weakened {change}{why}")
            return _Verdict(MEDIUM, f"{label} strengthened {change} (tighter)")
        return _Verdict(MEDIUM, f"{label} changed {change}")

    return handler


def _set_rule(loose_on: Op, loose: str, tight: str, *, absent_means_any: str = "") -> _Handler:
    """A set of scalars; ``loose_on`` (adding or removing members) loosens.

    With ``absent_means_any`` (the text to say), a missing list means "no restriction", so removing the
    whole list loosens and adding one tightens, whatever ``loose_on`` says.
    """

    def handler(d: _Delta, ctx: _Ctx) -> _Verdict:
        words = _words(d, ctx)
        if absent_means_any and not d.element:
            if d.op is Op.REMOVED:
                return _Verdict(HIGH, absent_means_any.format(**words))
            return _Verdict(MEDIUM, f"{words['leaf']} now restricted to {words['e']} (tighter)")
        if d.op is loose_on:
            return _Verdict(HIGH, loose.format(**words))
        return _Verdict(MEDIUM, tight.format(**words))

    return handler


# --- rules that look at other documents ----------------------------------------------------------------


def _jurisdiction(side: _Index, provider: Any) -> str | None:
    doc = side.get(("Provider", provider)) if isinstance(provider, str) else None
    where = doc.spec.get("jurisdiction") if doc else None
    return where if isinstance(where, str) else None


def _route_targets(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for field in ("candidates", "fallback", "shadow"):
        items = spec.get(field)
        yield from (i for i in items if isinstance(i, dict)) if isinstance(items, list) else ()
    pins = spec.get("pins")
    for pin in pins if isinstance(pins, list) else ():
        if isinstance(pin, dict) and isinstance(pin.get("target"), dict):
            yield pin["target"]


def _reach(side: _Index, target: Mapping[str, Any], seen: frozenset[str]) -> set[str]:
    """The jurisdictions a route target (a provider/model pair, or another route) can send data to."""
    if "route" in target and "provider" not in target:
        return _reachable(side, target["route"], seen)
    where = _jurisdiction(side, target.get("provider"))
    return {where} if where else set()


def _reachable(side: _Index, route: Any, seen: frozenset[str] = frozenset()) -> set[str]:
    doc = side.get(("Route", route)) if isinstance(route, str) and route not in seen else None
    if doc is None:
        return set()
    out: set[str] = set()
    for target in _route_targets(doc.spec):
        out |= _reach(side, target, seen | {doc.name})
    return out


def _route_target(what: str, removed: tuple[Risk, str]) -> _Handler:
    """A candidate, fallback, shadow or pin added to a route (high when it reaches a new jurisdiction)."""

    def handler(d: _Delta, ctx: _Ctx) -> _Verdict:
        words = _words(d, ctx)
        swap = _swapped(ctx, d)
        if d.op is Op.REMOVED:
            if swap:
                return _Verdict(MEDIUM, f"model changed: {what} '{words['key']}' replaced by '{swap}'")
            return _Verdict(removed[0], removed[1].format(**words))
        item = d.new if isinstance(d.new, dict) else {}
        pinned = item.get("target")
        target = pinned if isinstance(pinned, dict) else item
        fresh = _fresh_jurisdictions(ctx, target)
        if fresh:
            return _Verdict(
                HIGH, f"{what} '{words['key']}' added: it sends data to {fresh}, which this route did not reach before"
            )
        if swap:
            return _Verdict(MEDIUM, f"model changed: {what} '{swap}' replaced by '{words['key']}'")
        return _Verdict(MEDIUM, f"{what} '{words['key']}' added: a new model receives traffic")

    return handler


def _swapped(ctx: _Ctx, d: _Delta) -> str | None:
    """When one model of a provider replaced another in a route's list: the key of the other one."""
    field = d.parts[1] if len(d.parts) == 3 else None
    item = d.old if d.op is Op.REMOVED else d.new
    if field not in ("candidates", "fallback", "shadow") or not isinstance(item, dict) or "provider" not in item:
        return None
    before, after = (_keyed(_dicts(doc.spec.get(str(field))), _pair_key) for doc in (ctx.old, ctx.new))
    gone = [k for k, v in before.items() if k not in after and v.get("provider") == item["provider"]]
    came = [k for k, v in after.items() if k not in before and v.get("provider") == item["provider"]]
    if len(gone) != 1 or len(came) != 1:
        return None
    return came[0] if d.op is Op.REMOVED else gone[0]


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _fresh_jurisdictions(ctx: _Ctx, target: Mapping[str, Any]) -> str:
    before = _reachable(ctx.sides.old, ctx.old.name)
    fresh = sorted(_reach(ctx.sides.new, target, frozenset({ctx.new.name})) - before)
    return ", ".join(f"'{j}'" for j in fresh)


def _pin_provider(d: _Delta, ctx: _Ctx) -> _Verdict:
    key = _words(d, ctx)["key"]
    fresh = _fresh_jurisdictions(ctx, {"provider": d.new}) if d.new is not MISSING else ""
    if fresh:
        return _Verdict(HIGH, f"pin '{key}' now sends data to {fresh}, which this route did not reach before")
    return _Verdict(MEDIUM, f"model changed: pin '{key}' now targets provider {_brief(d.new)}")


_LEVEL_DIGITS = re.compile(r"([0-9]+)$")


def _level(ctx: _Ctx, name: Any) -> int | None:
    """The level number of an AutonomyLevel: from the new side, else the old, else its name's digits."""
    if not isinstance(name, str):
        return None
    for side in (ctx.sides.new, ctx.sides.old):
        doc = side.get(("AutonomyLevel", name))
        level = doc.spec.get("level") if doc else None
        if isinstance(level, int) and not isinstance(level, bool):
            return level
    match = _LEVEL_DIGITS.search(name)
    return int(match.group(1)) if match else None


def _autonomy_ref(d: _Delta, ctx: _Ctx) -> _Verdict:
    old, new = _level(ctx, d.old), _level(ctx, d.new)
    change = f"from {_brief(d.old)} to {_brief(d.new)}"
    if old is None or new is None:
        return _Verdict(MEDIUM, f"autonomy level changed {change}")
    if new > old:
        return _Verdict(HIGH, f"autonomy level raised {change} (level {old} to {new})")
    if new < old:
        return _Verdict(MEDIUM, f"autonomy level lowered {change} (level {old} to {new}; tighter)")
    return _Verdict(MEDIUM, f"autonomy level changed {change} (both level {new})")


def _permitted(spec: Mapping[str, Any]) -> set[Any]:
    out: set[Any] = set()
    for field in ("allowedWithoutApproval", "requiresApproval"):
        values = spec.get(field)
        if isinstance(values, list):
            out.update(v for v in values if not isinstance(v, (dict, list)))
    return out


def _requires_approval(d: _Delta, ctx: _Ctx) -> _Verdict:
    words = _words(d, ctx)
    if d.op is Op.REMOVED:
        return _Verdict(HIGH, f"requiresApproval shrank: {words['e']} no longer gated by an approval at this level")
    added = d.new if isinstance(d.new, list) else [d.new]
    before = _permitted(ctx.old.spec)
    newly = [a for a in added if a not in before]
    if newly:
        return _Verdict(HIGH, f"{_brief(newly)} newly permitted at this level (with approval)")
    return _Verdict(MEDIUM, f"{words['e']} now needs an approval at this level (tighter)")


def _kill_routes(d: _Delta, ctx: _Ctx) -> _Verdict:
    words = _words(d, ctx)
    switch = ctx.new.spec.get("killSwitch")
    engaged = isinstance(switch, dict) and switch.get("engaged") is True
    if d.op is Op.REMOVED:
        risk = HIGH if engaged else MEDIUM
        return _Verdict(risk, f"{words['e']} no longer covered by the kill switch (engaged: {_brief(engaged)})")
    return _Verdict(MEDIUM, f"{words['e']} now covered by the kill switch")


def _pipeline_step(d: _Delta, ctx: _Ctx) -> _Verdict:
    key = _words(d, ctx)["key"]
    if d.op is Op.REMOVED:
        if isinstance(d.old, dict) and d.old.get("type") == "approval":
            return _Verdict(HIGH, f"approval step '{key}' removed: the pipeline no longer waits for a person")
        return _Verdict(MEDIUM, f"step '{key}' removed")
    return _Verdict(MEDIUM, f"step '{key}' added")


def _step_type(d: _Delta, ctx: _Ctx) -> _Verdict:
    words = _words(d, ctx)
    if d.old == "approval":
        return _Verdict(HIGH, f"step '{words['key']}' is no longer an approval step: nobody has to approve it")
    return _Verdict(MEDIUM, f"type of step '{words['key']}' changed from {words['old']} to {words['new']}")


def _rollout_step(d: _Delta, ctx: _Ctx) -> _Verdict:
    if d.op is Op.REMOVED and isinstance(d.old, dict):
        if "analysis" in d.old:
            return _Verdict(
                HIGH, f"analysis step {_brief(d.old['analysis'])} removed: promotion no longer waits on its checks"
            )
        if d.old.get("pause") == "manual":
            return _Verdict(HIGH, "manual pause removed: promotion no longer waits for a person")
    return _Verdict(MEDIUM, f"rollout step {d.op.value}: {_brief(d.new if d.op is Op.ADDED else d.old)}")


def _pause(d: _Delta, ctx: _Ctx) -> _Verdict:
    if d.old == "manual" and d.new != "manual":
        return _Verdict(HIGH, "manual pause replaced: promotion no longer waits for a person")
    return _Verdict(MEDIUM, f"rollout pause changed from {_brief(d.old)} to {_brief(d.new)}")


def _eval_gate(d: _Delta, ctx: _Ctx) -> _Verdict:
    if d.op is Op.REMOVED:
        return _Verdict(HIGH, f"rollout no longer gated by eval suite {_brief(d.old)}")
    if d.op is Op.ADDED:
        return _Verdict(MEDIUM, f"rollout now gated by eval suite {_brief(d.new)} (tighter)")
    return _Verdict(MEDIUM, f"rollout gate changed from eval suite {_brief(d.old)} to {_brief(d.new)}")


def _unknown_tags(d: _Delta, ctx: _Ctx) -> _Verdict:
    if _effective(d.new, "deny") != "deny":
        return _Verdict(HIGH, f"unknown tags are no longer denied ({_brief(d.new)}): the policy fails open")
    return _WRITTEN_DEFAULT if _effective(d.old, "deny") == "deny" else _Verdict(MEDIUM, "unknown tags now denied")


# --- the rule table: (kind, path shape) -> handler; first match wins -------------------------------------

_ACTIONS: Final = ("read", "suggest", "low-risk-write", "write", "external-call", "spend", "deploy", "irreversible")
_PROMPT: Final = _fixed(MEDIUM, "prompt text changed")
_MODEL_ROUTE: Final = "model changed: now uses route {new} instead of {old}"

_RULES: Final[Mapping[str, tuple[tuple[str, _Handler], ...]]] = {
    "AutonomyLevel": (
        ("spec.level", _rises("autonomy level", HIGH, missing_loose=False)),
        (
            "spec.allowedWithoutApproval",
            _set_rule(Op.ADDED, "{e} may now run without approval", "{e} no longer runs without approval (tighter)"),
        ),
        ("spec.requiresApproval", _requires_approval),
        ("spec.approvals.required", _falls("required approvals", HIGH)),
        (
            "spec.approvals.distinctApprovers",
            _flag(
                False,
                True,
                "distinct approvers turned off: one person may give every approval",
                "distinct approvers turned on (tighter)",
            ),
        ),
        ("spec.approvals.roles", _fixed(MEDIUM, "approver roles changed: {e} {op}")),
        ("spec.approvals.expiresAfter", _rises("approval lifetime", MEDIUM)),
        ("spec.promotion.minEvalPassRate", _falls("eval pass rate needed for promotion", HIGH)),
        ("spec.promotion.minRunsAtLowerLevel", _falls("runs needed at the lower level", HIGH)),
        ("spec.promotion.maxIncidents", _rises("incidents tolerated for promotion", HIGH)),
    ),
    "Agent": (
        ("spec.autonomyLevel", _autonomy_ref),
        ("spec.route", _fixed(MEDIUM, _MODEL_ROUTE)),
        ("spec.prompt.system", _PROMPT),
        ("spec.prompt.file", _fixed(MEDIUM, "prompt file changed from {old} to {new}")),
        (
            "spec.tools[]",
            _item(
                removed=(MEDIUM, "tool '{key}' removed: the agent can no longer use it"),
                added=(MEDIUM, "tool '{key}' added: the agent can now use it"),
            ),
        ),
        (
            "spec.tools[].action",
            _ranked(_ACTIONS, "action class of tool '{key}'", why=": a lower class may skip approvals"),
        ),
        (
            "spec.tools[].description",
            _fixed(MEDIUM, "description of tool '{key}' changed: the model reads it as part of its prompt"),
        ),
        ("spec.tools[].inputSchema*", _fixed(MEDIUM, "input schema of tool '{key}' changed")),
        ("spec.limits.*", _rises("agent limit {leaf}", MEDIUM)),
    ),
    "Pipeline": (
        ("spec.autonomyLevel", _autonomy_ref),
        ("spec.steps[]", _pipeline_step),
        ("spec.steps[].type", _step_type),
        ("spec.steps[].approval.approvers", _falls("approvers required at step '{key}'", HIGH)),
        ("spec.steps[].approval.roles", _fixed(MEDIUM, "approver roles of step '{key}' changed: {e} {op}")),
        ("spec.steps[].prompt", _fixed(MEDIUM, "prompt text of step '{key}' changed")),
        ("spec.steps[].route", _fixed(MEDIUM, "model changed: step '{key}' now uses route {new}")),
        ("spec.steps[].maxCostUsd", _rises("cost limit of step '{key}'", MEDIUM)),
        (
            "spec.edges[]",
            _item(
                removed=(MEDIUM, "edge {key} removed: the flow changed"),
                added=(MEDIUM, "edge {key} added: the flow changed"),
            ),
        ),
        ("spec.edges[].when", _fixed(MEDIUM, "condition of edge {key} changed")),
        ("spec.edges[].maxIterations", _rises("loop bound of edge {key}", MEDIUM)),
        ("spec.limits.*", _rises("pipeline limit {leaf}", MEDIUM)),
    ),
    "Provider": (
        (
            "spec.jurisdiction",
            _fixed(
                HIGH, "provider jurisdiction changed from {old} to {new}: routes that use it now send data to {new}"
            ),
        ),
        (
            "spec.trainingUse",
            _flag(
                True,
                False,
                "provider now trains on the data it receives",
                "provider no longer trains on data (tighter)",
            ),
        ),
        ("spec.dataRetentionDays", _rises("data retention (days)", HIGH, default=0)),
        ("spec.serve.model", _fixed(MEDIUM, "model changed: the lane now serves {new} instead of {old}")),
        (
            "spec.models[]",
            _item(
                removed=(MEDIUM, "model '{key}' removed: routes that use it will fail over"),
                added=(MEDIUM, "model '{key}' added to the provider"),
            ),
        ),
        ("spec.models[].price.*", _fixed(MEDIUM, "price of model '{key}' changed: {leaf} {old} -> {new}")),
        ("spec.baseUrl", _fixed(MEDIUM, "endpoint changed: requests now go to {new}")),
        ("spec.apiKey*", _fixed(MEDIUM, "credential reference changed")),
    ),
    "Route": (
        (
            "spec.candidates[]",
            _route_target(
                "candidate", (MEDIUM, "candidate '{key}' removed: its traffic moves to the other candidates")
            ),
        ),
        ("spec.candidates[].weight", _fixed(MEDIUM, "weights shifted: '{key}' from {old} to {new}")),
        ("spec.fallback", _fixed(MEDIUM, "fallback order changed: another model is tried first when candidates fail")),
        (
            "spec.fallback[]",
            _route_target(
                "fallback",
                (HIGH, "fallback '{key}' removed: one place fewer to go when candidates fail or are not allowed"),
            ),
        ),
        ("spec.shadow[]", _route_target("shadow", (MEDIUM, "shadow '{key}' removed"))),
        ("spec.shadow[].sampleRate", _fixed(MEDIUM, "shadow sample rate of '{key}' changed from {old} to {new}")),
        ("spec.pins[]", _route_target("pin", (MEDIUM, "pin '{key}' removed: its requests are routed normally"))),
        ("spec.pins[].target.provider", _pin_provider),
        ("spec.pins[].target.model", _fixed(MEDIUM, "model changed: pin '{key}' now targets {new}")),
        ("spec.pins[].when", _fixed(MEDIUM, "condition of pin '{key}' changed")),
        (
            "spec.rules[]",
            _item(
                removed=(HIGH, "route rule '{key}' removed: the requests it guarded are no longer restricted"),
                added=(MEDIUM, "route rule '{key}' added (tighter)"),
            ),
        ),
        (
            "spec.rules[].require.jurisdictions",
            _set_rule(
                Op.ADDED,
                "rule '{key}' now allows jurisdiction {e}",
                "rule '{key}' no longer allows {e} (tighter)",
                absent_means_any="rule '{key}' no longer restricts jurisdictions",
            ),
        ),
        ("spec.rules[].require.maxRetentionDays", _rises("retention allowed by rule '{key}'", HIGH)),
        (
            "spec.rules[].require.trainingUse",
            _flag(
                True,
                True,
                "rule '{key}' no longer keeps data from providers that train on it",
                "rule '{key}' now keeps data from providers that train on it (tighter)",
            ),
        ),
        (
            "spec.rules[].deny",
            _flag(
                False,
                False,
                "rule '{key}' no longer denies its requests",
                "rule '{key}' now denies its requests (tighter)",
            ),
        ),
        (
            "spec.rules[].when",
            _fixed(MEDIUM, "condition of rule '{key}' changed: check it still matches every request it should"),
        ),
        ("spec.limits.maxCostUsd", _rises("cost limit per request", MEDIUM)),
        ("spec.limits.*", _rises("route limit {leaf}", MEDIUM)),
        ("spec.objective*", _fixed(MEDIUM, "objective weights shifted: {leaf} from {old} to {new}")),
        (
            "spec.alias",
            _fixed(
                MEDIUM, "alias changed from {old} to {new}: clients calling the old alias no longer reach this route"
            ),
        ),
    ),
    "Policy": (
        ("spec.unknownTags", _unknown_tags),
        (
            "spec.taxonomy.tags[]",
            _item(
                removed=(
                    MEDIUM,
                    "tag '{key}' removed from the taxonomy: requests carrying it are now denied as unknown",
                ),
                added=(MEDIUM, "tag '{key}' added to the taxonomy"),
            ),
        ),
        (
            "spec.taxonomy.tags[].allow.jurisdictions",
            _set_rule(
                Op.ADDED,
                "tag '{key}' may now go to jurisdiction {e}",
                "tag '{key}' may no longer go to {e} (tighter)",
                absent_means_any="tag '{key}' no longer restricts jurisdictions",
            ),
        ),
        ("spec.taxonomy.tags[].allow.maxRetentionDays", _rises("retention allowed for tag '{key}'", HIGH)),
        (
            "spec.taxonomy.tags[].allow.trainingUse",
            _flag(
                True,
                True,
                "tag '{key}' may now go to providers that train on data",
                "tag '{key}' no longer goes to providers that train on data (tighter)",
            ),
        ),
        (
            "spec.taxonomy.jurisdictions[]",
            _item(
                removed=(MEDIUM, "jurisdiction '{key}' removed from the taxonomy"),
                added=(MEDIUM, "jurisdiction '{key}' added to the taxonomy"),
            ),
        ),
        (
            "spec.rules[]",
            _item(
                removed=(HIGH, "policy rule '{key}' removed: what it guarded is no longer checked"),
                added=(MEDIUM, "policy rule '{key}' added (tighter)"),
            ),
        ),
        ("spec.rules[].effect", _ranked(("warn", "require-approval", "deny"), "effect of policy rule '{key}'")),
        (
            "spec.rules[].when",
            _fixed(MEDIUM, "condition of policy rule '{key}' changed: check it still matches what it should"),
        ),
        (
            "spec.budgets[]",
            _item(
                removed=(HIGH, "budget '{key}' removed: spend under it is no longer capped"),
                added=(MEDIUM, "budget '{key}' added (tighter)"),
            ),
        ),
        ("spec.budgets[].limitUsd", _rises("limit of budget '{key}'", HIGH)),
        (
            "spec.budgets[].onExceed",
            _ranked(("alert", "downgrade", "block"), "what budget '{key}' does when exceeded", default="block"),
        ),
        (
            "spec.budgets[].period",
            _ranked(
                ("month", "week", "day", "hour"), "period of budget '{key}'", why=": the same limit covers more time"
            ),
        ),
        (
            "spec.freezeWindows[]",
            _item(
                removed=(HIGH, "freeze window '{key}' removed: changes are allowed in that period"),
                added=(MEDIUM, "freeze window '{key}' added (tighter)"),
            ),
        ),
        (
            "spec.freezeWindows[].applies",
            _set_rule(
                Op.REMOVED,
                "freeze window '{key}' no longer blocks {e}",
                "freeze window '{key}' now also blocks {e} (tighter)",
            ),
        ),
        ("spec.freezeWindows[].reason", _fixed(LOW, "reason of freeze window '{key}' {op}")),
        ("spec.freezeWindows[].*", _fixed(MEDIUM, "freeze window '{key}' changed: {leaf} from {old} to {new}")),
        (
            "spec.killSwitch.engaged",
            _flag(
                False,
                False,
                "kill switch disengaged: traffic flows again",
                "kill switch engaged: traffic on its routes stops",
            ),
        ),
        ("spec.killSwitch.routes", _kill_routes),
        (
            "spec.dualControl[]",
            _item(
                removed=(HIGH, "dual control '{key}' removed: one person may now do what needed two"),
                added=(MEDIUM, "dual control '{key}' added (tighter)"),
            ),
        ),
        ("spec.dualControl[].approvers", _falls("approvers required by dual control '{key}'", HIGH)),
        (
            "spec.dualControl[].distinctApprovers",
            _flag(
                False,
                True,
                "dual control '{key}' no longer needs distinct approvers",
                "dual control '{key}' now needs distinct approvers (tighter)",
            ),
        ),
        (
            "spec.dualControl[].requesterMayApprove",
            _flag(
                True,
                False,
                "the requester may now approve their own '{key}' request",
                "the requester may no longer approve their own '{key}' request (tighter)",
            ),
        ),
        ("spec.dualControl[].expiresAfter", _rises("approval lifetime of dual control '{key}'", MEDIUM)),
    ),
    "EvalSuite": (
        ("spec.thresholds.passRate", _falls("pass-rate threshold", HIGH)),
        ("spec.thresholds.metrics.*.min", _falls("minimum of metric '{parent}'", HIGH)),
        ("spec.thresholds.metrics.*.max", _rises("maximum of metric '{parent}'", HIGH)),
        (
            "spec.assertions[]",
            _item(
                removed=(HIGH, "assertion '{key}' removed: the suite checks less"),
                added=(MEDIUM, "assertion '{key}' added (tighter)"),
            ),
        ),
        ("spec.assertions[].threshold", _falls("threshold of assertion '{key}'", HIGH)),
        ("spec.assertions[].max", _rises("maximum of assertion '{key}'", HIGH)),
        ("spec.assertions[].weight", _fixed(MEDIUM, "weight of assertion '{key}' changed from {old} to {new}")),
        ("spec.assertions[]*", _fixed(MEDIUM, "assertion '{key}' changed: {leaf} from {old} to {new}")),
        ("spec.baseline.minDelta", _falls("allowed change against the baseline (minDelta)", HIGH)),
        ("spec.repeats", _falls("repeats per case", MEDIUM, default=1)),
        ("spec.dataset*", _fixed(MEDIUM, "eval dataset changed")),
        ("spec.target.prompt.system", _PROMPT),
        ("spec.target.prompt.file", _fixed(MEDIUM, "prompt file changed from {old} to {new}")),
        ("spec.target.prompt.template", _fixed(MEDIUM, "prompt template changed")),
        ("spec.target*", _fixed(MEDIUM, "eval target changed: {leaf} from {old} to {new}")),
    ),
    "Rollout": (
        ("spec.approvals.required", _falls("required approvals", HIGH)),
        ("spec.approvals.roles", _fixed(MEDIUM, "approver roles changed: {e} {op}")),
        ("spec.steps", _fixed(MEDIUM, "rollout step order changed")),
        ("spec.steps[]", _rollout_step),
        ("spec.steps[].setWeight", _fixed(MEDIUM, "rollout step weights changed: {old}% -> {new}%")),
        ("spec.steps[].pause", _pause),
        (
            "spec.rollback.automatic",
            _flag(False, True, "automatic rollback turned off", "automatic rollback turned on (tighter)"),
        ),
        (
            "spec.rollback.when",
            _set_rule(Op.REMOVED, "rollback condition removed: {e}", "rollback condition added: {e} (tighter)"),
        ),
        (
            "spec.analysis[]",
            _item(
                removed=(HIGH, "analysis '{key}' removed: the rollout checks less before promotion"),
                added=(MEDIUM, "analysis '{key}' added (tighter)"),
            ),
        ),
        ("spec.analysis[].failureLimit", _rises("failure limit of analysis '{key}'", HIGH)),
        ("spec.analysis[].*Condition", _fixed(MEDIUM, "{leaf} of analysis '{key}' changed")),
        ("spec.evalSuite", _eval_gate),
        ("spec.target*", _fixed(MEDIUM, "rollout target changed: {leaf} from {old} to {new}")),
    ),
}

_COMMON: Final[tuple[tuple[str, _Handler], ...]] = (
    ("metadata.labels*", _fixed(LOW, "label '{leaf}' {op}")),
    ("metadata.annotations*", _fixed(LOW, "annotation '{leaf}' {op}")),
    ("*description", _fixed(LOW, "description text {op}")),
    ("*.message", _fixed(LOW, "message text {op}")),
)


# --- values shown -----------------------------------------------------------------------------------------

_SECRET_KEYS: Final = frozenset({"apikey", "api_key", "password", "secret", "token", "authorization"})
_SECRET_TEXT = re.compile(
    r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{12,}|\bghp_[A-Za-z0-9]{20,}|\bAKIA[0-9A-Z]{16}\b|\bBearer\s+[A-Za-z0-9._~+/=-]{12,}"
)
REDACTED: Final = "<redacted>"


def _shown(parts: tuple[_Part, ...], value: Any) -> Any:
    """The value as a report may show it: absent is None, and anything that may be a secret is redacted."""
    if value is MISSING:
        return None
    secret = False
    for part in parts:
        if isinstance(part, str):
            secret = part.lower() in _SECRET_KEYS or (secret and part != "env")
    return _redact(value, secret)


def _redact(value: Any, secret: bool) -> Any:
    if isinstance(value, dict):
        return {k: _redact(v, str(k).lower() in _SECRET_KEYS or (secret and k != "env")) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secret) for v in value]
    if isinstance(value, str) and (secret or _SECRET_TEXT.search(value)):
        return REDACTED
    return value


__all__ = ["MISSING", "REDACTED", "Change", "DiffResult", "FileReader", "Op", "Risk", "diff_sources"]
