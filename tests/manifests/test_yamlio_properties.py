"""Property tests: whatever bytes arrive, the loader answers with data or a placed YamlProblem."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maestro.manifests import yamlio

TOKENS = [*"ab:- \n\t[]{},&*!<'\"#|>?%@`0.~\xe9", "---\n", "!!python/", "<<: ", "&x ", "*x"]
YAMLISH = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(YAMLISH)
def test_any_text_parses_or_fails_with_a_place(text: str) -> None:
    try:
        docs = yamlio.parse(text, yamlio.Limits())
    except yamlio.YamlProblem as p:
        lines = max(1, text.count("\n") + 1)
        assert p.rule.startswith(("yaml.", "file."))
        assert 1 <= p.line <= lines + 1
        assert p.column >= 1
        return
    for doc in docs:
        assert doc.data is not None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_decode_or_fail_with_a_place(raw: bytes) -> None:
    try:
        text = yamlio.decode(raw, yamlio.Limits())
    except yamlio.YamlProblem as p:
        assert p.rule in {"file.binary", "file.encoding"}
        assert p.line >= 1
        return
    assert isinstance(text, str)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(alphabet="abc xyz-_", max_size=8),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(alphabet="abcdef", min_size=1, max_size=4), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_json_data_round_trips_through_yaml(value: object) -> None:
    import json

    docs = yamlio.parse(json.dumps({"root": value}), yamlio.Limits())
    assert docs[0].data == {"root": value}


def _paths(value: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return [*out, (*prefix, "missing"), (*prefix, 99)]


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.integers() | st.text(alphabet="abc xyz", max_size=6),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(alphabet="abcdef", min_size=1, max_size=3), children, max_size=3)
        ),
        max_leaves=15,
    ),
    st.sampled_from(["block", "flow"]),
)
def test_recorded_positions_agree_with_the_composed_tree(value: object, style: str) -> None:
    import io
    import json

    from ruamel.yaml import YAML

    text = json.dumps({"root": value})
    if style == "block":
        stream = io.StringIO()
        YAML(typ="safe", pure=True).dump({"root": value}, stream)
        text = stream.getvalue()
    (doc,) = yamlio.parse(text, yamlio.Limits())
    (node,) = yamlio.compose(text)
    for path in _paths(doc.data):
        for key in (False, True):
            assert doc.positions.locate(path, key=key) == yamlio.locate(node, path, key=key), path
