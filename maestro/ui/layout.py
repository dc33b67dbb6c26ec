"""Where each step of a Pipeline's graph is drawn: a layered (Sugiyama) layout, left to right, computed on the
server with grandalf and handed to cytoscape as preset positions.

Laying out in the browser (dagre) was most of a large run page's time (a 300-step graph: about 1.3 s of 2.4 s in
headless Chromium on the shared machine); here a 300-step graph takes about 0.13 s on a quiet core, once: the
result is kept per graph (its steps and edges), so the next page of a Pipeline drawn before costs nothing.
Loops (an edge back to an earlier step) are laid out as if reversed, the way Sugiyama layouts make a graph
acyclic; a step that nothing reaches and separate parts are stacked below the start's part.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from grandalf.graphs import Edge, Graph, Vertex
from grandalf.layouts import SugiyamaLayout

NODE_W, NODE_H = 110.0, 44.0  # the drawn box of a step (ui.js draws the same size)
LAYER_GAP = 60.0  # between two layers (left to right)
NODE_GAP = 24.0  # between two steps of one layer (top to bottom)
PART_GAP = 60.0  # between two separate parts of a graph
ORDERING_ROUNDS = 3  # grandalf's crossing-reduction sweeps: more rounds, fewer crossings, slower


class _Box:
    """grandalf's vertex view: a step's size (rotated: grandalf lays layers out top to bottom) and position."""

    def __init__(self) -> None:
        self.w, self.h = NODE_H, NODE_W
        self.xy: tuple[float, float] = (0.0, 0.0)


def positions(nodes: Sequence[str], edges: Sequence[tuple[str, str]], start: str | None) -> dict[str, dict[str, float]]:
    """``{step: {"x": X, "y": Y}}`` (the box's centre) for every step in ``nodes``; ``edges`` between them."""
    return {n: {"x": x, "y": y} for n, (x, y) in _layout(tuple(nodes), tuple(edges), start).items()}


@lru_cache(maxsize=64)
def _layout(
    nodes: tuple[str, ...], edges: tuple[tuple[str, str], ...], start: str | None
) -> dict[str, tuple[float, float]]:
    vertices = {n: Vertex(n) for n in nodes}
    for v in vertices.values():
        v.view = _Box()
    pairs = dict.fromkeys((a, b) for a, b in edges if a != b and a in vertices and b in vertices)
    graph = Graph(list(vertices.values()), [Edge(vertices[a], vertices[b]) for a, b in pairs])
    parts = sorted(graph.C, key=lambda part: start not in {v.data for v in part.sV})  # the start's part first
    placed: dict[str, tuple[float, float]] = {}
    top = 0.0
    for part in parts:
        layout = SugiyamaLayout(part)
        layout.xspace, layout.yspace = NODE_GAP, LAYER_GAP
        layout.init_all(roots=_roots(part, start))
        layout.draw(ORDERING_ROUNDS)
        # grandalf's layers run top to bottom: its y is our x (layer), its x our y (place in the layer)
        found = {v.data: (v.view.xy[1], v.view.xy[0]) for v in part.sV}
        left = min(x for x, _ in found.values())
        high = min(y for _, y in found.values())
        for name, (x, y) in found.items():
            placed[name] = (round(x - left + NODE_W / 2, 1), round(y - high + top + NODE_H / 2, 1))
        top = max(y for _, y in placed.values()) + NODE_H / 2 + PART_GAP
    return placed


def _roots(part: Graph, start: str | None) -> list[Vertex]:
    """The first layer: the start step and the steps nothing leads to, else any one step (a loop)."""
    roots = [v for v in part.sV if v.data == start or not v.e_in()]
    return roots or [next(iter(part.sV))]
