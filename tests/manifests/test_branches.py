"""maestro.manifests.branches: which sets of edge conditions are proven to leave one edge to take."""

from __future__ import annotations

import cel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.manifests.branches import exhaustive, normal

PROVEN = [
    ["true"],
    ["output.approved", "!output.approved"],
    ["!(output.a && output.b)", "output.a && output.b"],
    ["output.intent == 'refund'", "output.intent != 'refund'"],
    ["output.amount > 100", "output.amount <= 100"],
    ["output.amount >= 100", "output.amount < 100"],
    ["100 < output.amount", "output.amount <= 100"],
    ["output.amount >= 10", "output.amount < 50"],
    ["(output.score > 0.5)", "output.score <= 0.5"],
]
NOT_PROVEN = [
    ["output.amount > 100"],
    ["output.amount > 100", "output.amount < 100"],
    ["output.amount > 100", "output.other <= 100"],
    ["output.a", "output.b"],
    ["!output.a == output.b", "output.a == output.b"],  # (!a) == b, not the negation of a == b
    ["output.intent == 'a'", "output.intent != 'b'"],
    ["output.x in ['a']", "!output.x in ['a']"],  # (!x) in [...]
]


@pytest.mark.parametrize("conditions", PROVEN)
def test_proven_conditions_always_leave_an_edge(conditions: list[str]) -> None:
    assert exhaustive(conditions)
    # The proof agrees with CEL on sample values: some condition holds for each.
    for amount in (-1, 0, 10, 49, 50, 100, 101):
        for flag in (True, False):
            output = {"approved": flag, "a": flag, "b": not flag, "intent": "refund" if flag else "x"}
            output |= {"amount": amount, "score": amount / 100}
            assert any(cel.evaluate(c, {"output": output}) is True for c in conditions), (conditions, output)


@pytest.mark.parametrize("conditions", NOT_PROVEN)
def test_other_conditions_are_not_proven(conditions: list[str]) -> None:
    assert not exhaustive(conditions)


def test_whitespace_outside_strings_and_enclosing_parentheses_do_not_matter() -> None:
    assert normal("( output.intent  ==  'a  b' )") == "output.intent=='a  b'"
    assert normal("output.x in  [ 'a' ]") == "output.x in['a']"
    assert normal("(a) && (b)") == "(a)&&(b)"


_OPS = ("==", "!=", "<", "<=", ">", ">=")
_condition = st.builds(
    lambda field, op, const, negate, flip: (
        f"!(output.{field} {op} {const})"
        if negate
        else (f"{const} {op} output.{field}" if flip else f"output.{field} {op} {const}")
    ),
    st.sampled_from(["a", "b"]),
    st.sampled_from(_OPS),
    st.integers(-3, 3),
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_condition, min_size=1, max_size=4), st.integers(-5, 5), st.integers(-5, 5))
def test_what_is_proven_exhaustive_always_leaves_an_edge(conditions: list[str], a: int, b: int) -> None:
    """Soundness: whenever the prover says exhaustive, CEL finds a condition that holds, for any values."""
    if exhaustive(conditions):
        assert any(cel.evaluate(c, {"output": {"a": a, "b": b}}) is True for c in conditions), conditions
