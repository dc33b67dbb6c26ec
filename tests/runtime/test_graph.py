"""Which edge a finished node takes: CEL over output, state and steps; loops bounded by maxIterations."""

from __future__ import annotations

import pytest

from maestro.runtime.errors import NodeError
from maestro.runtime.graph import Edge, Graph, Node, next_node


def graph(*edges: Edge) -> Graph:
    nodes = {n: Node(n, "model", route="r") for n in ("a", "b", "c")}
    return Graph("g", "a", nodes, edges, None, None)


def take(g: Graph, output: dict, state: dict | None = None, taken: dict | None = None):  # type: ignore[no-untyped-def]
    return next_node(g, "a", output, state=state or {}, steps={"a": output}, taken=taken or {})


def test_the_first_edge_whose_condition_holds_is_taken():
    g = graph(Edge("a", "b", "output.amount > 100"), Edge("a", "c", "output.amount <= 100"))
    assert take(g, {"amount": 249})[1].target == "b"
    assert take(g, {"amount": 40})[1].target == "c"


def test_a_node_without_edges_ends_the_run():
    assert take(graph(Edge("b", "c")), {"x": 1}) is None


def test_a_missing_output_field_is_a_clear_error_on_the_node():
    g = graph(Edge("a", "b", "output.amount > 100"))
    with pytest.raises(NodeError, match=r"the edge a -> b cannot read the output: `output.amount > 100` failed"):
        take(g, {"text": "not JSON"})


def test_a_state_field_no_node_set_reads_as_null_and_a_spent_loop_ends_the_run():
    g = graph(Edge("a", "a", "state.again", max_iterations=2))
    assert take(g, {}) is None  # state.again is null: not taken, and only a loop edge leaves
    assert take(g, {}, {"again": True})[1].target == "a"
    assert take(g, {}, {"again": True}, {0: 2}) is None  # taken twice already


def test_no_matching_edge_names_the_conditions():
    g = graph(Edge("a", "b", "output.ok"))
    with pytest.raises(NodeError, match=r"no edge from 'a' matches its output \{'ok': False\} \(b: `output.ok`\)"):
        take(g, {"ok": False})


def test_without_edges_the_steps_run_in_the_order_listed():
    from maestro.manifests.kinds.pipeline import pipeline
    from maestro.manifests.loader import Source
    from maestro.runtime.graph import graph_of

    steps = [{"id": i, "type": "model", "route": "r"} for i in ("x", "y", "z")]
    g = graph_of(pipeline("p", {"steps": steps}, Source("f", 0, 1, 1, "")))
    assert [(e.source, e.target) for e in g.edges] == [("x", "y"), ("y", "z")]
    assert g.start == "x"
