"""A Pipeline's graph as the browser draws it (cytoscape in ``static/ui.js``, at the positions of
``maestro.ui.layout``): exactly the steps and edges of ``maestro.runtime.graph``'s record, each step with a state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maestro.manifests.loader import Document
from maestro.runtime.graph import graph_of
from maestro.ui.layout import positions


def pipeline_graph(pipeline: Document, states: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``{start, nodes: [{id, type, state, position: {x, y}}], edges: [{source, target, when}]}``; a step not in
    ``states`` is ``not reached``."""
    graph = graph_of(pipeline)
    states = states or {}
    placed = positions(list(graph.nodes), [(e.source, e.target) for e in graph.edges], graph.start)
    return {
        "start": graph.start,
        "nodes": [
            {"id": n.id, "type": n.type, "state": states.get(n.id, "not reached"), "position": placed[n.id]}
            for n in graph.nodes.values()
        ],
        "edges": [{"source": e.source, "target": e.target, "when": e.when} for e in graph.edges],
    }
