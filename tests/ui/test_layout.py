"""The server's layered layout of a Pipeline's graph: every step placed once, layers left to right along the
edges, no two boxes overlapping, loops and separate parts laid out too."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.ui.layout import NODE_H, NODE_W, positions


def overlapping(placed: dict[str, dict[str, float]]) -> list[tuple[str, str]]:
    boxes = sorted(placed.items())
    return [
        (a, b)
        for i, (a, pa) in enumerate(boxes)
        for b, pb in boxes[i + 1 :]
        if abs(pa["x"] - pb["x"]) < NODE_W and abs(pa["y"] - pb["y"]) < NODE_H
    ]


def test_a_chain_with_skips_runs_left_to_right_from_the_start() -> None:
    nodes = [f"s{i}" for i in range(30)]
    edges = [(f"s{i}", f"s{i + 1}") for i in range(29)] + [(f"s{i}", f"s{i + 2}") for i in range(0, 28, 3)]
    placed = positions(nodes, edges, "s0")
    assert sorted(placed) == sorted(nodes)
    assert all(placed[a]["x"] < placed[b]["x"] for a, b in edges)
    assert placed["s0"]["x"] == min(p["x"] for p in placed.values())
    assert overlapping(placed) == []


def test_a_branch_puts_its_two_sides_in_one_layer_one_above_the_other() -> None:
    placed = positions(["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")], "a")
    assert placed["b"]["x"] == placed["c"]["x"]
    assert placed["b"]["y"] != placed["c"]["y"]
    assert placed["a"]["x"] < placed["b"]["x"] < placed["d"]["x"]


def test_loops_self_edges_and_separate_parts_are_laid_out_without_overlap() -> None:
    nodes = ["start", "work", "check", "again", "alone", "x", "y"]
    edges = [("start", "work"), ("work", "check"), ("check", "work"), ("again", "again"), ("x", "y"), ("y", "x")]
    placed = positions(nodes, edges, "start")
    assert sorted(placed) == sorted(nodes)
    assert placed["start"]["x"] < placed["work"]["x"] < placed["check"]["x"]  # the back edge does not reorder
    assert overlapping(placed) == []
    start_part = max(placed[n]["y"] for n in ("start", "work", "check"))
    assert all(placed[n]["y"] > start_part for n in ("again", "alone", "x", "y"))  # stacked below the start's part


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=25).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
        )
    )
)
def test_any_acyclic_graph_has_every_edge_pointing_right_and_no_overlap(
    case: tuple[int, list[tuple[int, int]]],
) -> None:
    size, pairs = case
    nodes = [f"n{i}" for i in range(size)]
    edges = [(f"n{min(a, b)}", f"n{max(a, b)}") for a, b in pairs if a != b]  # lower to higher: no cycle
    placed = positions(nodes, edges, "n0")
    assert sorted(placed) == sorted(nodes)
    assert all(placed[a]["x"] < placed[b]["x"] for a, b in edges)
    assert overlapping(placed) == []
