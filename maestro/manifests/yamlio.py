"""The only module that touches the YAML library.

Files are composed (not constructed) with ruamel.yaml's C parser, and plain data is built from the node
tree here, so that nothing language-specific is ever constructed and every problem has a line and column:
duplicate keys, unknown tags, alias bombs and over-deep nesting are found while building. While building,
the place of every key and value is written into compact integer arrays (``Positions``), one per mapping
or list, so a diagnostic finds its line and column without composing the file again.

``dump`` and ``dump_all`` write plain data back as YAML for people (``-o yaml``): safe, block style, keys in
the order given, text with line breaks as literal blocks; ``parse`` reads it back to the same data.
"""

from __future__ import annotations

import io
import marshal
import math
import re
import threading
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from ruamel.yaml import YAML
from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # the C extension, clib or clibz
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.resolver import VersionedResolver

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ, _TIMESTAMP, _MERGE = (_TAG + t for t in ("map", "seq", "timestamp", "merge"))
_ALLOWED_TAGS = frozenset({_STR, _INT, _FLOAT, _BOOL, _NULL, _MAP, _SEQ, _TIMESTAMP, _MERGE})
_SAFE_DEPTH_BOUND = 400  # the C composer recurses; below this bound on nesting it cannot overflow
_MEMO_VALUE_LENGTH, _MEMO_ENTRIES = 64, 50_000  # the resolver's memo: bounded in what it keeps


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 1 << 20
    max_depth: int = 64
    max_nodes: int = 100_000


class YamlProblem(Exception):
    """A problem in one file's YAML, with its place (1-based)."""

    def __init__(self, rule: str, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.line = line
        self.column = column


class Positions:
    """Where each key and value of one document's data sits (1-based), recorded while it was built.

    ``table`` maps ``id()`` of each mapping or list in ``root`` to a flat array: for a mapping, key line,
    key column, value line, value column for each key in the mapping's order; for a list, line and column
    of each item. The data holds every container alive, so the ids stay valid as long as ``root`` does.
    """

    __slots__ = ("column", "line", "root", "table")

    def __init__(self, root: Any, line: int, column: int, table: dict[int, array[int]]) -> None:
        self.root = root
        self.line = line
        self.column = column
        self.table = table

    def packed(self) -> list[bytes]:
        """The places as bytes, one entry per container of ``root`` in ``_containers`` order (ids do not survive
        a trip to another process; the order does)."""
        table = self.table
        return [table[id(c)].tobytes() if id(c) in table else b"" for c in _containers(self.root)]

    @classmethod
    def unpacked(cls, root: Any, line: int, column: int, packed: list[bytes]) -> Positions:
        """The positions of ``root`` from what ``packed`` gave for an equal copy of it."""
        table: dict[int, array[int]] = {}
        for container, raw in zip(_containers(root), packed, strict=True):
            if raw:
                places = array("I")
                places.frombytes(raw)
                table[id(container)] = places
        return cls(root, line, column, table)

    def locate(self, path: tuple[str | int, ...], *, key: bool = False) -> tuple[int, int]:
        """As ``locate`` on the composed tree: the deepest place along ``path`` (its key with ``key=True``)."""
        here, place, key_place = self.root, (self.line, self.column), None
        for part in path:
            places = self.table.get(id(here))
            if places is None:
                return place
            if isinstance(here, dict):
                if not isinstance(part, str) or part not in here:
                    return place
                i = 4 * list(here).index(part)
                key_place, place = (places[i], places[i + 1]), (places[i + 2], places[i + 3])
                here = here[part]
            elif isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
                key_place, place = None, (places[2 * part], places[2 * part + 1])
                here = here[part]
            else:
                return place
        return key_place if key and key_place is not None else place


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """One YAML document as plain JSON-like data, with where it starts, its composed tree (None when it was
    parsed in a worker process: see ``read``) and its positions."""

    index: int
    data: Any
    line: int
    column: int
    node: Node | None
    positions: Positions


def _containers(root: Any) -> Iterator[Any]:
    """Every mapping and list in ``root``, itself first, in an order that depends only on the data."""
    stack = [root]
    while stack:
        here = stack.pop()
        if isinstance(here, dict):
            yield here
            stack.extend(v for v in here.values() if isinstance(v, (dict, list)))
        elif isinstance(here, list):
            yield here
            stack.extend(v for v in here if isinstance(v, (dict, list)))


@dataclass(frozen=True, slots=True)
class ReadFile:
    """What ``read`` made of one file's bytes: its text (None when it did not decode) and its documents, or
    the problem that stopped it."""

    text: str | None
    documents: list[ParsedDocument]
    problem: YamlProblem | None = None


def read(raw: bytes, limits: Limits) -> ReadFile:
    """Decode and parse one file's bytes, the problem kept rather than raised (``node`` is left out)."""
    try:
        text = decode(raw, limits)
    except YamlProblem as p:
        return ReadFile(None, [], p)
    try:
        docs = parse(text, limits)
    except YamlProblem as p:
        return ReadFile(text, [], p)
    return ReadFile(text, [ParsedDocument(d.index, d.data, d.line, d.column, None, d.positions) for d in docs])


def read_packed(raw: bytes, limits: Limits) -> bytes:
    """``read`` in a worker process: the result packed with ``marshal`` (plain data only, several times faster
    to write and read than pickle), without the text, which the caller decodes again from ``raw``."""
    found = read(raw, limits)
    p = found.problem
    problem = None if p is None else (p.rule, p.message, p.line, p.column)
    docs = [(d.index, d.data, d.line, d.column, d.positions.packed()) for d in found.documents]
    return marshal.dumps((found.text is not None, problem, docs))


def unpack(raw: bytes, packed: bytes) -> ReadFile:
    """The ``ReadFile`` that ``read_packed(raw, ...)`` packed."""
    decoded, problem, docs = marshal.loads(packed)
    text = raw.decode("utf-8-sig") if decoded else None
    documents = [
        ParsedDocument(index, data, line, column, None, Positions.unpacked(data, line, column, places))
        for index, data, line, column, places in docs
    ]
    return ReadFile(text, documents, None if problem is None else YamlProblem(*problem))


class _CachedResolver(VersionedResolver):
    """ruamel's resolver, with its rule table looked up once and its answers for short scalars remembered.

    ruamel makes a new resolver for every stream and looks the rule table up once per scalar; profiling
    showed that cost half of composing. The table depends only on the YAML version, so this resolver is used
    only for texts without a ``%YAML`` directive (see ``_parser``), and the table and the answers are kept
    on the class, shared by every stream. The memo is bounded: short values only, cleared when full.
    """

    _table: Any = None
    _memo: ClassVar[dict[str, Any]] = {}  # plain scalar -> tag: without path resolvers nothing else matters

    @property
    def versioned_resolver(self) -> Any:
        table = type(self)._table
        if table is None:
            table = type(self)._table = VersionedResolver.versioned_resolver.fget(self)  # type: ignore[attr-defined]
        return table

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        if kind is not ScalarNode:  # what the library answers for a collection without path resolvers
            return self.DEFAULT_MAPPING_TAG if kind is MappingNode else self.DEFAULT_SEQUENCE_TAG
        if not implicit[0]:  # quoted or block: a string, as the library would answer
            return self.DEFAULT_SCALAR_TAG
        if len(value) > _MEMO_VALUE_LENGTH:
            return super().resolve(kind, value, implicit)
        memo = type(self)._memo
        tag = memo.get(value)
        if tag is None:
            if len(memo) >= _MEMO_ENTRIES:
                memo.clear()
            tag = memo[value] = super().resolve(kind, value, implicit)
        return tag

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        if self.yaml_path_resolvers:  # never set by maestro: skip the call per node
            super().descend_resolver(current_node, current_index)

    def ascend_resolver(self) -> None:
        if self.yaml_path_resolvers:
            super().ascend_resolver()


class _Parsers(threading.local):
    """One parser per thread for texts without a ``%YAML`` directive: ``YAML()`` globs the file system
    for plug-ins on each construction, which cost more than composing a small file."""

    cached: YAML | None = None


_PARSERS = _Parsers()


class _Composer(CParser, _CachedResolver):  # type: ignore[misc]
    """The C reader, scanner, parser and composer of one text, resolving tags with ``_CachedResolver``.

    ``YAML().compose_all`` defines a new loader class for every stream and ties the loader to itself, so each
    file left a reference cycle (about 90 objects) that only the cyclic collector could free, and the
    collector's passes over them and over the data already built took a third of validate's CPU on 2,000
    files. This composer refers to nothing that refers back to it: it and its node tree are freed as soon as
    a file is built. Texts with a ``%YAML`` directive still take the library's own path (see ``_parser``).
    """

    def __init__(self, text: str) -> None:
        CParser.__init__(self, text)
        self.loadumper = None  # no loader around it: the resolver falls back to YAML 1.2, the table's version
        self._loader_version = None
        self.resolver_exact_paths: list[Any] = []
        self.resolver_prefix_paths: list[Any] = []
        self._version_implicit_resolver: dict[Any, Any] = {}


def _compose_all(text: str) -> Iterator[Node | None]:
    """The composed tree of each document of ``text``, as ``YAML(typ="safe").compose_all`` gives them."""
    if "%YAML" in text:
        yield from _parser(text).compose_all(text)
        return
    composer = _Composer(text)
    try:
        while composer.check_node():
            yield composer.get_node()
    finally:
        composer.dispose()


def _parser(text: str = "") -> YAML:
    if "%YAML" in text:
        return YAML(typ="safe", pure=False)
    yaml = _PARSERS.cached
    if yaml is None:
        yaml = _PARSERS.cached = YAML(typ="safe", pure=False)
        yaml.Resolver = _CachedResolver
    yaml.doc_infos[:] = yaml.doc_infos[-1:]  # it appends one per stream; keep a reused parser bounded
    return yaml


def _tag_of(node: Node) -> str | None:
    """``node.tag``, without ruamel re-decoding the tag's URI character by character on every read.

    For the plain-data tags (no handle, no escapes) the suffix is the tag itself; anything else takes
    the library's own path.
    """
    ctag = getattr(node, "ctag", None)
    if ctag is not None and ctag.handle is None and ctag.suffix in _ALLOWED_TAGS:
        return str(ctag.suffix)
    return node.tag


def decode(raw: bytes, limits: Limits) -> str:
    """Check size, binary content and encoding, and return the text."""
    if len(raw) > limits.max_bytes:
        raise YamlProblem(
            "file.too-large",
            f"file is {len(raw):,} bytes, over the {limits.max_bytes:,}-byte limit; split it into smaller "
            "files or raise --max-file-size",
        )
    if b"\x00" in raw[:8192]:
        raise YamlProblem("file.binary", "file holds NUL bytes: it is binary, not YAML; remove it or rename it")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        body = bytes(e.object)  # the bytes after any byte order mark: e.start counts from there
        line = body.count(b"\n", 0, e.start) + 1
        line_start = body.rfind(b"\n", 0, e.start) + 1
        # the column counts characters, as YAML marks do; the line's bytes before the bad one are valid UTF-8
        column = len(body[line_start : e.start].decode("utf-8")) + 1
        raise YamlProblem(
            "file.encoding",
            f"byte 0x{body[e.start]:02x} is not valid UTF-8; save the file as UTF-8",
            line,
            column,
        ) from e


def parse(text: str, limits: Limits) -> list[ParsedDocument]:
    """Parse every document of ``text`` into plain data; raise YamlProblem on the first problem."""
    _check_depth(text, limits)
    try:
        nodes = list(_compose_all(text))
    except MarkedYAMLError as e:
        raise _syntax_problem(e, text) from e
    except YAMLError as e:
        raise YamlProblem("yaml.syntax", f"invalid YAML: {e}") from e
    docs = []
    for index, node in enumerate(nodes):
        if node is None:
            continue
        builder = _Builder(limits, anchors="&" in text)
        data = builder.build(node, 0)
        if data is None:
            continue
        line, column = _pos(node)
        positions = Positions(data, line, column, builder.places)
        docs.append(ParsedDocument(index, data, line, column, node, positions))
    return docs


def compose(text: str) -> list[Node]:
    """The composed trees of ``text`` (already known to parse), for ``locate``."""
    return [n for n in _compose_all(text) if n is not None]


def _check_depth(text: str, limits: Limits) -> None:
    longest = max(map(len, text.splitlines()), default=0)
    if text.count("[") + text.count("{") + longest < _SAFE_DEPTH_BOUND:
        return
    depth = 0
    try:
        for event in _parser().parse(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > limits.max_depth:
                    mark = event.start_mark
                    raise YamlProblem(
                        "yaml.too-deep",
                        f"nesting is deeper than {limits.max_depth} levels; flatten the structure",
                        mark.line + 1,
                        mark.column + 1,
                    )
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except MarkedYAMLError as e:
        raise _syntax_problem(e, text) from e


def _syntax_problem(e: MarkedYAMLError, text: str) -> YamlProblem:
    mark = e.problem_mark or e.context_mark
    line = (mark.line + 1) if mark is not None else 1
    column = (mark.column + 1) if mark is not None else 1
    lines = text.splitlines()
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    indent = source_line[: len(source_line) - len(source_line.lstrip(" \t"))]
    if "\t" in indent:
        return YamlProblem(
            "yaml.tab",
            "tab used for indentation; YAML allows only spaces: replace the tab with spaces",
            line,
            indent.index("\t") + 1,
        )
    problem = e.problem or "invalid YAML"
    context = f" {e.context}" if e.context else ""
    started = e.context_mark
    if e.context and started is not None and (started.line + 1, started.column + 1) != (line, column):
        context += f" (it starts at line {started.line + 1}, column {started.column + 1})"
    return YamlProblem("yaml.syntax", f"{problem}{context}; fix the YAML at this place", line, column)


class _Builder:
    """Turns a composed node tree into JSON-like data, refusing what a manifest may not hold.

    Most values of a manifest are strings: a scalar child whose tag is plainly ``str`` is taken in the loop
    over its parent (``_text``) rather than through ``build``, which saved a call and two look-ups of its
    tag for most nodes. Every node still counts towards ``max_nodes`` and the alias check.
    """

    def __init__(self, limits: Limits, anchors: bool = True) -> None:
        self.limits = limits
        self.nodes = 0
        self.aliased = False
        # the nodes met, to tell an alias (a node met twice); without an anchor in the text there is none
        self.seen: set[int] | None = set() if anchors else None
        self.places: dict[int, array[int]] = {}

    def _count(self, node: Node) -> None:
        self.nodes += 1
        seen = self.seen
        if seen is not None:
            if id(node) in seen:
                self.aliased = True
            seen.add(id(node))
        if self.nodes > self.limits.max_nodes:
            self._too_many(node)

    def _too_many(self, node: Node) -> None:
        rule = "yaml.alias-bomb" if self.aliased else "yaml.too-deep"
        what = "anchors and aliases expand to" if self.aliased else "the document holds"
        fix = "remove the aliases" if self.aliased else "split it into smaller documents"
        raise YamlProblem(rule, f"{what} over {self.limits.max_nodes:,} nodes; {fix}", *_pos(node))

    def _text(self, node: Node) -> bool:
        """Whether ``node`` is a scalar tagged plainly as a string and not seen before: then it is counted here
        and its value is the data (the caller takes ``node.value``); ``build`` handles every other node."""
        if type(node) is ScalarNode:
            ctag = node.ctag
            if ctag.handle is None and ctag.suffix == _STR:
                seen = self.seen
                if seen is not None:
                    if id(node) in seen:
                        return False
                    seen.add(id(node))
                self.nodes += 1
                if self.nodes > self.limits.max_nodes:
                    self._too_many(node)
                return True
        return False

    def build(self, node: Node, depth: int) -> Any:
        self._count(node)
        if depth >= self.limits.max_depth and isinstance(node, (SequenceNode, MappingNode)):
            # levels count collections, the top one being 1, as _check_depth counts them
            raise YamlProblem(
                "yaml.too-deep",
                f"nesting is deeper than {self.limits.max_depth} levels; flatten it",
                *_pos(node),
            )
        tag = _tag_of(node)
        _check_tag(node, tag)
        if isinstance(node, ScalarNode):
            return _scalar(node, tag)
        if isinstance(node, SequenceNode):
            text = self._text
            items = []
            places = array("I")
            for item in node.value:
                items.append(item.value if text(item) else self.build(item, depth + 1))
                mark = item.start_mark
                places.append(mark.line + 1)
                places.append(mark.column + 1)
            self.places[id(items)] = places
            return items
        if isinstance(node, MappingNode):
            return self._mapping(node, depth)
        raise YamlProblem("yaml.syntax", "unexpected YAML node", *_pos(node))

    def _mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        places = array("I")
        merged: dict[str, tuple[Any, tuple[int, int, int, int]]] = {}
        text = self._text
        plain = self.seen is None  # no alias possible: a string value is taken here, counted, and not looked up
        most = self.limits.max_nodes
        for key_node, value_node in node.value:
            ctag = key_node.ctag
            if type(key_node) is ScalarNode and ctag.handle is None and ctag.suffix == _STR:
                key = key_node.value  # the common case, taken without looking the tag up again
            elif self._merge(key_node, value_node, depth, merged):
                continue
            else:
                key = _key(key_node)
            if key in out:  # merged keys join ``out`` only after the loop: these are the explicit ones
                raise YamlProblem(
                    "yaml.duplicate-key",
                    f"key '{key}' appears twice in this mapping; YAML would keep only one: remove one of them",
                    *_pos(key_node),
                )
            vtag = value_node.ctag
            if plain and type(value_node) is ScalarNode and vtag.handle is None and vtag.suffix == _STR:
                self.nodes += 1
                if self.nodes > most:
                    self._too_many(value_node)
                out[key] = value_node.value
            else:
                out[key] = value_node.value if text(value_node) else self.build(value_node, depth + 1)
            km, vm = key_node.start_mark, value_node.start_mark
            places.extend((km.line + 1, km.column + 1, vm.line + 1, vm.column + 1))
        for k, (v, where) in merged.items():
            if k not in out:
                out[k] = v
                places.extend(where)
        self.places[id(out)] = places
        return out

    def _merge(self, key_node: Node, value_node: Node, depth: int, merged: dict[str, Any]) -> bool:
        """Whether ``key_node`` is a merge key ``<<``: then the keys of the mappings it names join ``merged``."""
        if _tag_of(key_node) != _MERGE:
            return False
        for source in _merge_sources(value_node):
            built = self._mapping(source, depth + 1)
            source_places = self.places.pop(id(built))  # the merged copy is dropped: so is its entry
            for i, (k, v) in enumerate(built.items()):
                at = source_places[4 * i : 4 * i + 4]
                merged.setdefault(k, (v, (at[0], at[1], at[2], at[3])))
        return True


def _key(node: Node) -> str:
    """A mapping key other than a plain string, as text; a problem when it is not a plain scalar."""
    tag = _tag_of(node)
    _check_tag(node, tag)
    if not isinstance(node, ScalarNode) or tag not in (_STR, _INT, _FLOAT, _BOOL, _NULL):
        raise YamlProblem("yaml.key", "a mapping key must be a plain scalar such as a name", *_pos(node))
    return str(node.value)


def _check_tag(node: Node, tag: str | None) -> None:
    if tag not in _ALLOWED_TAGS:
        raise YamlProblem(
            "yaml.tag",
            f"tag {_short_tag(str(tag))} is not allowed: manifests hold plain data only; remove the tag",
            *_pos(node),
        )


def _merge_sources(node: Node) -> list[MappingNode]:
    if isinstance(node, MappingNode):
        return [node]
    if isinstance(node, SequenceNode) and all(isinstance(n, MappingNode) for n in node.value):
        return list(node.value)
    raise YamlProblem("yaml.syntax", "a merge key '<<' must name a mapping or a list of mappings", *_pos(node))


_INT_RE = re.compile(r"[-+]?(0|[1-9][0-9_]*)$")


def _scalar(node: ScalarNode, tag: str | None) -> Any:
    value: str = node.value
    if tag in (_STR, _TIMESTAMP):
        return value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return value.lower() == "true"
    if tag == _INT:
        return _int(value, node)
    if tag == _FLOAT:
        return _float(value, node)
    return value


def _int(value: str, node: ScalarNode) -> int:
    text = value.replace("_", "")
    try:
        if text.lower().startswith(("0o", "+0o", "-0o")):
            return int(text.replace("0o", "").replace("0O", ""), 8)
        return int(text, 0) if text.lower().startswith(("0x", "+0x", "-0x")) else int(text)
    except ValueError as e:
        raise YamlProblem("yaml.syntax", f"'{value}' is not a valid integer", *_pos(node)) from e


def _float(value: str, node: ScalarNode) -> float:
    text = value.replace("_", "").lower()
    if text in (".inf", "+.inf"):
        return math.inf
    if text == "-.inf":
        return -math.inf
    if text == ".nan":
        return math.nan
    try:
        return float(text)
    except ValueError as e:
        raise YamlProblem("yaml.syntax", f"'{value}' is not a valid number", *_pos(node)) from e


def _pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def locate(node: Node, path: tuple[str | int, ...], *, key: bool = False) -> tuple[int, int]:
    """The 1-based line and column of the node at ``path`` (or of its key, with ``key=True``).

    Walks as far as the path exists and returns the deepest place found, so a diagnostic about a missing
    key points at the mapping that should hold it.
    """
    here = node
    found_key: Node | None = None
    for part in path:
        child, child_key = _child(here, part)
        if child is None:
            return _pos(here)
        here, found_key = child, child_key
    if key and found_key is not None:
        return _pos(found_key)
    return _pos(here)


def _child(node: Node, part: str | int) -> tuple[Node | None, Node | None]:
    if isinstance(node, SequenceNode) and isinstance(part, int):
        return (node.value[part], None) if 0 <= part < len(node.value) else (None, None)
    if isinstance(node, MappingNode):
        for key_node, value_node in _items(node):
            if isinstance(key_node, ScalarNode) and str(key_node.value) == str(part):
                return value_node, key_node
    return None, None


def _items(node: MappingNode) -> Iterator[tuple[Node, Node]]:
    """Explicit keys first, then merged ones, so an explicit key wins as it does in the data."""
    merges = []
    for key_node, value_node in node.value:
        if _tag_of(key_node) == _MERGE:
            merges.append(value_node)
        else:
            yield key_node, value_node
    for value_node in merges:
        for source in _merge_sources(value_node):
            yield from _items(source)


# Plain words that YAML 1.1 readers (PyYAML, kubectl) take for booleans; YAML 1.2 leaves them strings.
_YAML11_BOOLS = frozenset({"y", "n", "yes", "no", "on", "off"})


class _PlainRepresenter(SafeRepresenter):
    """ruamel's safe representer, keeping each mapping's key order and writing text for people."""

    def represent_str(self, data: str) -> Any:
        if "\n" in data:
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="|")  # the emitter falls back if it must
        if data.lower() in _YAML11_BOOLS:
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="'")
        return super().represent_str(data)


_PlainRepresenter.add_representer(str, _PlainRepresenter.represent_str)


def dump(data: Any) -> str:
    """``data`` (JSON-like: dicts, lists, strings, numbers, booleans, None) as one YAML document."""
    return dump_all([data])


def dump_all(documents: Iterable[Any]) -> str:
    """Each of ``documents`` as a YAML document, separated by ``---``; empty text when there are none."""
    yaml = YAML(typ="safe", pure=False)
    yaml.Representer = _PlainRepresenter
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 4096  # long lines stay whole rather than folded
    out = io.StringIO()
    yaml.dump_all(list(documents), out)
    return out.getvalue()
