"""maestro.manifests.yamlio: every malformed input gets its rule and its place; nothing is ever constructed."""

from __future__ import annotations

import gc
import math
from pathlib import Path
from typing import Any

import pytest

from maestro.manifests import yamlio
from maestro.manifests.loader import SourceFile, load
from maestro.manifests.schemas import SchemaSet

LIMITS = yamlio.Limits()


def _alias_bomb() -> str:
    """The classic "billion laughs": nine levels of nine aliases each, 9**9 strings once expanded."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


def problem(text: str, limits: yamlio.Limits = LIMITS) -> yamlio.YamlProblem:
    with pytest.raises(yamlio.YamlProblem) as caught:
        yamlio.parse(text, limits)
    return caught.value


def data(text: str) -> list[Any]:
    return [doc.data for doc in yamlio.parse(text, LIMITS)]


@pytest.mark.parametrize(
    ("text", "rule", "line", "column"),
    [
        pytest.param("a: b: c\n", "yaml.syntax", 1, 5, id="mapping-value-in-scalar"),
        pytest.param("a: 1\nb: [1, 2\n", "yaml.syntax", 3, 1, id="unclosed-flow-sequence"),
        pytest.param("a: 'open\n", "yaml.syntax", 2, 1, id="unclosed-quote"),
        pytest.param("a:\n\tb: 1\n", "yaml.tab", 2, 1, id="tab-indent"),
        pytest.param("spec:\n  x: 1\n  \ty: 2\n", "yaml.tab", 3, 3, id="tab-after-spaces"),
        pytest.param("a: 1\nb: 2\na: 3\n", "yaml.duplicate-key", 3, 1, id="duplicate-key"),
        pytest.param("spec:\n  models:\n    - name: x\n      name: y\n", "yaml.duplicate-key", 4, 7, id="nested-dup"),
        pytest.param("a: {x: 1, x: 2}\n", "yaml.duplicate-key", 1, 11, id="flow-duplicate-key"),
        pytest.param("1: a\n'1': b\n", "yaml.duplicate-key", 2, 1, id="int-and-string-key-collide"),
        pytest.param("a: !foo bar\n", "yaml.tag", 1, 4, id="custom-tag"),
        pytest.param("a: !!binary aGVsbG8=\n", "yaml.tag", 1, 4, id="binary-tag"),
        pytest.param("a: !!set {x, y}\n", "yaml.tag", 1, 4, id="set-tag"),
        pytest.param("a: !!python/object/apply:os.system ['true']\n", "yaml.tag", 1, 4, id="python-apply"),
        pytest.param("? [a, b]\n: 1\n", "yaml.key", 1, 3, id="sequence-key"),
        pytest.param("{a: 1}: 2\n", "yaml.key", 1, 1, id="mapping-key"),
        pytest.param("a: &x {b: 1}\n*x : 2\n", "yaml.key", 1, 4, id="alias-to-mapping-as-key"),
        pytest.param("base: [1]\nd:\n  <<: 3\n", "yaml.syntax", 3, 7, id="merge-of-a-scalar"),
        pytest.param(_alias_bomb(), "yaml.alias-bomb", 1, 15, id="billion-laughs"),
        pytest.param("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "yaml.too-deep", 1, 67, id="flow-100k-deep"),
        pytest.param("a: " + "{a: " * 100_000 + "1" + "}" * 100_000 + "\n", "yaml.too-deep", 1, 256, id="map-100k"),
        pytest.param("- " * 100_000 + "x\n", "yaml.too-deep", 1, 129, id="block-seq-100k-deep"),
        pytest.param(
            "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v\n",
            "yaml.too-deep",
            65,
            129,
            id="block-map-100-deep",
        ),
    ],
)
def test_malformed_yaml_has_a_rule_and_a_place(text: str, rule: str, line: int, column: int) -> None:
    found = problem(text)
    assert (found.rule, found.line, found.column) == (rule, line, column), found.message


@pytest.mark.parametrize(
    ("raw", "rule", "line", "column", "says"),
    [
        pytest.param(b"a: 1\nb: caf\xe9\n", "file.encoding", 2, 7, "byte 0xe9", id="latin-1-byte"),
        pytest.param("a: 1\nb: ééé".encode() + b"\xff\n", "file.encoding", 2, 7, "byte 0xff", id="after-multibyte"),
        pytest.param(b"\xef\xbb\xbfa: 1\nb: \xe9\n", "file.encoding", 2, 4, "byte 0xe9", id="after-a-bom"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "file.binary", 1, 1, "NUL", id="png"),
        pytest.param(b"a: 1\n\x00\n", "file.binary", 1, 1, "NUL", id="nul-byte"),
        pytest.param(b"a: 1\n" * (LIMITS.max_bytes // 5 + 1), "file.too-large", 1, 1, "--max-file-size", id="too-big"),
    ],
)
def test_undecodable_bytes_have_a_rule_and_a_place(raw: bytes, rule: str, line: int, column: int, says: str) -> None:
    with pytest.raises(yamlio.YamlProblem) as caught:
        yamlio.decode(raw, LIMITS)
    assert (caught.value.rule, caught.value.line, caught.value.column) == (rule, line, column)
    assert says in caught.value.message


def test_the_size_limit_is_configurable() -> None:
    raw = b"a: 1\n" * 10
    with pytest.raises(yamlio.YamlProblem, match="over the 20-byte limit"):
        yamlio.decode(raw, yamlio.Limits(max_bytes=20))
    assert yamlio.decode(raw, yamlio.Limits(max_bytes=len(raw))) == raw.decode()


def test_a_byte_order_mark_is_dropped() -> None:
    assert data(yamlio.decode(b"\xef\xbb\xbfa: 1\n", LIMITS)) == [{"a": 1}]


@pytest.mark.parametrize(
    "tag",
    ["!!python/object/apply:builtins.open", "!!python/object/new:builtins.open", "!!python/name:builtins.open"],
)
def test_a_language_tag_never_executes(tmp_path: Path, tag: str) -> None:
    target = tmp_path / "created-by-yaml"
    found = problem(f"spec:\n  payload: {tag} ['{target}', 'w']\n")
    assert (found.rule, found.line, found.column) == ("yaml.tag", 2, 12)
    assert "is not allowed" in found.message
    assert not target.exists()


def test_an_unknown_tag_on_a_key_is_refused() -> None:
    found = problem("!foo a: 1\n")
    assert (found.rule, found.line, found.column) == ("yaml.tag", 1, 1)


def test_the_100k_deep_document_does_not_crash_the_loader() -> None:
    """Once segfaulted the C composer; now it is one diagnostic, and the next file still loads."""
    deep = SourceFile("deep.yaml", ("a: " + "[" * 100_000 + "]" * 100_000 + "\n").encode(), "")
    fine = SourceFile("fine.yaml", b"a: 1\n", "")
    result = load([deep, fine], SchemaSet())
    assert [(d.file, d.rule) for d in result.diagnostics] == [
        ("deep.yaml", "yaml.too-deep"),
        ("fine.yaml", "schema.api-version"),
        ("fine.yaml", "schema.kind"),
    ]


def test_nesting_at_the_limit_is_accepted() -> None:
    depth = LIMITS.max_depth
    parsed = data("[" * depth + "1" + "]" * depth + "\n")[0]
    for _ in range(depth):
        assert isinstance(parsed, list)
        parsed = parsed[0]
    assert parsed == 1


@pytest.mark.parametrize("padding", ["", "# " + "x" * 500 + "\n"], ids=["short-file", "long-line-file"])
def test_one_level_too_deep_is_found_the_same_way_in_any_file(padding: str) -> None:
    """Short files are checked while building, long ones from the parser's events: same limit, same place."""
    depth = LIMITS.max_depth + 1
    found = problem(padding + "[" * depth + "]" * depth + "\n")
    assert (found.rule, found.line, found.column) == ("yaml.too-deep", padding.count("\n") + 1, depth)


def test_too_many_nodes_without_aliases_is_not_called_an_alias_bomb() -> None:
    found = problem("[" + "1, " * LIMITS.max_nodes + "1]\n")
    assert found.rule == "yaml.too-deep"
    assert "alias" not in found.message


def test_aliases_below_the_limit_are_expanded() -> None:
    assert data("a: &x [1, 2]\nb: *x\n") == [{"a": [1, 2], "b": [1, 2]}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  z: 3\n", {"x": 1, "y": 2, "z": 3}, id="merge"),
        pytest.param("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 9\n", {"x": 1, "y": 9}, id="explicit-after"),
        pytest.param("base: &b {x: 1, y: 2}\nd:\n  y: 9\n  <<: *b\n", {"x": 1, "y": 9}, id="explicit-before"),
        pytest.param("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nd:\n  <<: [*a, *b]\n", {"x": 1, "y": 2}, id="first-wins"),
    ],
)
def test_merge_keys_merge_and_explicit_keys_win(text: str, expected: dict[str, int]) -> None:
    assert data(text)[0]["d"] == expected


@pytest.mark.parametrize(
    ("scalar", "expected"),
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("true", True),
        ("False", False),
        ("0o17", 15),
        ("017", 17),
        ("0x1f", 31),
        ("1_000", 1000),
        ("-42", -42),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        (".inf", math.inf),
        ("-.inf", -math.inf),
        ("~", None),
        ("null", None),
        ("2026-12-24T00:00:00Z", "2026-12-24T00:00:00Z"),
        ("2026-12-24", "2026-12-24"),
        ("'0o17'", "0o17"),
    ],
)
def test_scalars_follow_yaml_1_2(scalar: str, expected: object) -> None:
    value = data(f"v: {scalar}\n")[0]["v"]
    assert value == expected
    assert type(value) is type(expected)


def test_nan_is_a_float() -> None:
    assert math.isnan(data("v: .nan\n")[0]["v"])


def test_empty_documents_are_skipped_but_keep_their_index() -> None:
    docs = yamlio.parse("# only a comment\n---\n---\na: 1\n---\n~\n---\nb: 2\n", LIMITS)
    assert [(d.index, d.data, d.line) for d in docs] == [(1, {"a": 1}, 4), (3, {"b": 2}, 8)]


def test_an_empty_file_has_no_documents() -> None:
    assert yamlio.parse("", LIMITS) == []


LOCATE_TEXT = """\
spec:
  candidates:
    - {provider: a, model: m}
    - provider: b
      model: n
  base: &b {region: eu}
  merged:
    <<: *b
    zone: 1
"""


@pytest.mark.parametrize(
    ("path", "key", "expected"),
    [
        pytest.param(("spec", "candidates"), True, (2, 3), id="key"),
        pytest.param(("spec", "candidates"), False, (3, 5), id="value"),
        pytest.param(("spec", "candidates", 0, "model"), True, (3, 21), id="flow-key"),
        pytest.param(("spec", "candidates", 0, "model"), False, (3, 28), id="flow-value"),
        pytest.param(("spec", "candidates", 1), False, (4, 7), id="list-item"),
        pytest.param(("spec", "candidates", 1, "model"), False, (5, 14), id="block-value"),
        pytest.param(("spec", "candidates", 7, "model"), False, (3, 5), id="missing-index-gives-the-list"),
        pytest.param(("spec", "nothing", "here"), True, (2, 3), id="missing-key-gives-the-mapping"),
        pytest.param(("spec", "merged", "region"), False, (6, 21), id="merged-value-at-its-source"),
        pytest.param(("spec", "merged", "zone"), True, (9, 5), id="explicit-key"),
    ],
)
def test_locate_finds_keys_and_values(path: tuple[str | int, ...], key: bool, expected: tuple[int, int]) -> None:
    (node,) = yamlio.compose(LOCATE_TEXT)
    assert yamlio.locate(node, path, key=key) == expected
    (doc,) = yamlio.parse(LOCATE_TEXT, LIMITS)
    assert doc.positions.locate(path, key=key) == expected  # recorded while parsing: no second parse


def test_parsed_documents_know_where_they_start() -> None:
    docs = yamlio.parse("a: 1\n---\n  b: 2\n", LIMITS)
    assert [(d.line, d.column) for d in docs] == [(1, 1), (3, 3)]


@pytest.mark.parametrize(
    ("path", "key"),
    [
        (("spec", "candidates", 0, "model"), True),
        (("spec", "candidates", 1), False),
        (("spec", "merged", "region"), False),
    ],
)
def test_positions_survive_packing_for_a_worker_process(path: tuple[str | int, ...], key: bool) -> None:
    raw = LOCATE_TEXT.encode()
    here = yamlio.read(raw, LIMITS)
    there = yamlio.unpack(raw, yamlio.read_packed(raw, LIMITS))
    assert there.text == here.text == LOCATE_TEXT and there.problem is None
    (a,), (b,) = here.documents, there.documents
    assert b.data == a.data and b.data is not a.data
    assert b.positions.locate(path, key=key) == a.positions.locate(path, key=key) != (a.line, a.column)


@pytest.mark.parametrize(
    ("raw", "rule", "text"),
    [(b"a: [1\n", "yaml.syntax", "a: [1\n"), (b"a: \xff\n", "file.encoding", None)],
)
def test_a_problem_survives_packing(raw: bytes, rule: str, text: str | None) -> None:
    there = yamlio.unpack(raw, yamlio.read_packed(raw, LIMITS))
    here = yamlio.read(raw, LIMITS)
    assert there.problem is not None and here.problem is not None
    assert (there.problem.rule, there.problem.line, there.problem.column, str(there.problem)) == (
        here.problem.rule,
        here.problem.line,
        here.problem.column,
        str(here.problem),
    )
    assert there.problem.rule == rule and there.text == text and not there.documents


def test_parsing_leaves_no_reference_cycle() -> None:
    """Each file's composer and node tree are freed as it is built: nothing is left for the cyclic collector
    (a loader per stream used to leave about 90 objects in cycles per file)."""
    text = Path(__file__).resolve().parents[2].joinpath("manifests", "routes.yaml").read_text(encoding="utf-8")
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            assert yamlio.parse(text, LIMITS)
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_aliased_strings_count_towards_the_node_limit() -> None:
    """Plain strings are built on a fast path; an alias to one still counts and still marks the document."""
    text = "a: &a lol\nb: [" + ", ".join(["*a"] * 20) + "]\n"
    found = problem(text, yamlio.Limits(max_nodes=10))
    assert (found.rule, found.line, found.column) == ("yaml.alias-bomb", 1, 4)  # where the anchored value sits
    assert data("a: &a lol\nb: [*a, *a]\n") == [{"a": "lol", "b": ["lol", "lol"]}]


@pytest.mark.parametrize("anchor", ["", "z: &z 1\n"], ids=["no-anchor", "an-anchor"])
def test_string_values_count_towards_the_node_limit_with_or_without_an_anchor(anchor: str) -> None:
    """A text without ``&`` has no alias, and its string values are built without remembering each node:
    they still count, and the same value is named as the one over the limit."""
    text = "".join(f"k{i}: v{i}\n" for i in range(12)) + anchor
    found = problem(text, yamlio.Limits(max_nodes=10))
    assert (found.rule, found.line, found.column) == ("yaml.too-deep", 10, 5)  # the mapping is node 1
    assert "alias" not in found.message
    assert data(text)[0]["k11"] == "v11"
