"""Comparing two documents field by field, into deltas with a path.

Maps compare key by key. Lists of named things are matched by a key (a name or id; route targets by
``provider/model``, pipeline edges by ``from->to``) and their order is ignored, except in the lists in
``_ORDERED``. Lists of scalars in the fields of ``_SET_FIELDS`` compare as sets. Any other list is compared
by position, and the same items in another order are one move.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from maestro.manifests.diff.model import Op
from maestro.manifests.diff.values import MISSING, canon, same


@dataclass(frozen=True, slots=True)
class Key:
    """A list item's key inside a path: a name, an id, ``provider/model``, ``from->to`` or a position."""

    value: str


Part: TypeAlias = "str | Key"


@dataclass(frozen=True, slots=True)
class Delta:
    parts: tuple[Part, ...]
    op: Op
    old: Any
    new: Any
    element: bool = False  # one member of a set-like list of scalars

    @property
    def path(self) -> str:
        """The path with list keys: ``spec.candidates[openai/gpt-4o].weight``."""
        return _joined(self.parts, lambda k: f"[{k.value}]")

    @property
    def shape(self) -> str:
        """The path without list keys, as the risk rules name it: ``spec.candidates[].weight``."""
        return _joined(self.parts, lambda k: "[]")

    @property
    def fields(self) -> list[str]:
        return [p for p in self.parts if isinstance(p, str)]

    @property
    def keys(self) -> list[str]:
        return [p.value for p in self.parts if isinstance(p, Key)]


def _joined(parts: tuple[Part, ...], key: Callable[[Key], str]) -> str:
    return "".join(key(p) if isinstance(p, Key) else (f".{p}" if i else p) for i, p in enumerate(parts))


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


def compare(kind: str, old: Any, new: Any, parts: tuple[Part, ...]) -> Iterator[Delta]:
    """The deltas from ``old`` to ``new`` (either may be MISSING) at ``parts`` of a document of ``kind``."""
    if same(old, new):
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


def _leaf(parts: tuple[Part, ...], old: Any, new: Any, *, element: bool = False) -> Delta:
    op = Op.ADDED if old is MISSING else Op.REMOVED if new is MISSING else Op.CHANGED
    return Delta(parts, op, old, new, element)


def _compare_maps(kind: str, old: dict[str, Any], new: dict[str, Any], parts: tuple[Part, ...]) -> Iterator[Delta]:
    keys = list(old) + [k for k in new if k not in old]
    for key in keys:
        yield from compare(kind, old.get(key, MISSING), new.get(key, MISSING), (*parts, key))


def _compare_lists(kind: str, old: Any, new: Any, parts: tuple[Part, ...]) -> Iterator[Delta]:
    olds: list[Any] = _or(old, [])
    news: list[Any] = _or(new, [])
    if _is_set(parts, olds + news):
        if old is MISSING or new is MISSING:
            yield _leaf(parts, old, new)
        else:
            yield from _compare_sets(parts, olds, news)
        return
    shape = Delta(parts, Op.CHANGED, None, None).shape
    key = _key_function(kind, shape, olds + news)
    if key is None:
        yield from _compare_sequence(kind, parts, olds, news)
    else:
        yield from _compare_keyed(kind, parts, keyed(olds, key), keyed(news, key), (kind, shape) in _ORDERED)


def _is_set(parts: tuple[Part, ...], items: list[Any]) -> bool:
    field = parts[-1] if parts else None
    return field in _SET_FIELDS and all(not isinstance(i, (dict, list)) for i in items)


def _compare_sets(parts: tuple[Part, ...], old: list[Any], new: list[Any]) -> Iterator[Delta]:
    before = {canon(x): x for x in old}
    after = {canon(x): x for x in new}
    for k in sorted(before.keys() - after.keys()):
        yield _leaf(parts, before[k], MISSING, element=True)
    for k in sorted(after.keys() - before.keys()):
        yield _leaf(parts, MISSING, after[k], element=True)


# --- keys of list items ----------------------------------------------------------------------------------

KeyFunction: TypeAlias = Callable[[Any], str]


def is_route_ref(target: Mapping[str, Any]) -> bool:
    """Whether a route target names another route rather than a provider and model."""
    return "route" in target and "provider" not in target


def pair_key(item: Any) -> str:
    """The key of a route target: ``provider/model``, or ``route:NAME``."""
    if isinstance(item, dict):
        if is_route_ref(item):
            return f"route:{item['route']}"
        return f"{item.get('provider')}/{item.get('model')}"
    return canon(item)


def _edge_key(item: Any) -> str:
    return f"{item.get('from')}->{item.get('to')}" if isinstance(item, dict) else canon(item)


def _field_key(field: str) -> KeyFunction:
    return lambda item: str(item[field])


_SPECIAL_KEYS: Final[Mapping[tuple[str, str], KeyFunction]] = {
    ("Route", "spec.candidates"): pair_key,
    ("Route", "spec.fallback"): pair_key,
    ("Route", "spec.shadow"): pair_key,
    ("Pipeline", "spec.edges"): _edge_key,
}


def _key_function(kind: str, shape: str, items: list[Any]) -> KeyFunction | None:
    special = _SPECIAL_KEYS.get((kind, shape))
    if special is not None:
        return special
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for field in ("name", "id"):
        if all(isinstance(i.get(field), (str, int)) and not isinstance(i.get(field), bool) for i in items):
            return _field_key(field)
    return None


def keyed(items: list[Any], key: KeyFunction) -> dict[str, Any]:
    """The items by key; a repeated key gets ``#2``, ``#3``… in order."""
    out: dict[str, Any] = {}
    for item in items:
        k = base = key(item)
        n = 1
        while k in out:
            n += 1
            k = f"{base}#{n}"
        out[k] = item
    return out


# --- lists with and without keys ---------------------------------------------------------------------------


def _compare_keyed(
    kind: str, parts: tuple[Part, ...], old: dict[str, Any], new: dict[str, Any], ordered: bool
) -> Iterator[Delta]:
    for k, item in old.items():
        if k not in new:
            yield _leaf((*parts, Key(k)), item, MISSING)
    for k, item in new.items():
        if k in old:
            yield from compare(kind, old[k], item, (*parts, Key(k)))
        else:
            yield _leaf((*parts, Key(k)), MISSING, item)
    if ordered:
        old_order = [k for k in old if k in new]
        new_order = [k for k in new if k in old]
        if old_order != new_order:
            yield Delta(parts, Op.MOVED, old_order, new_order)


def _compare_sequence(kind: str, parts: tuple[Part, ...], old: list[Any], new: list[Any]) -> Iterator[Delta]:
    """Lists without keys: the same items in another order are one move; otherwise a positional diff."""
    a, b = [canon(x) for x in old], [canon(x) for x in new]
    if sorted(a) == sorted(b):
        yield Delta(parts, Op.MOVED, old, new)
        return
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        common = min(i2 - i1, j2 - j1)
        for offset in range(common):
            yield from compare(kind, old[i1 + offset], new[j1 + offset], (*parts, Key(str(j1 + offset))))
        for i in range(i1 + common, i2):
            yield _leaf((*parts, Key(str(i))), old[i], MISSING)
        for j in range(j1 + common, j2):
            yield _leaf((*parts, Key(str(j))), MISSING, new[j])
