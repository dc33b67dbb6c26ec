// The run graph: drawn with cytoscape from the Pipeline record the server embeds (#graph-data), at the positions
// the server laid out (maestro/ui/layout.py), each step coloured by its state; the state is refreshed from the
// fragment htmx swaps in over SSE.
(function () {
  "use strict";

  function states() {
    const el = document.querySelector("#run-state .node-states");
    return el ? JSON.parse(el.textContent) : [];
  }

  function colour(cy) {
    for (const node of states()) {
      const n = cy.getElementById(node.id);
      if (n.nonempty()) {
        n.data("state", node.state);
      }
    }
  }

  function draw() {
    const source = document.getElementById("graph-data");
    const container = document.getElementById("graph");
    if (!source || !container || typeof cytoscape === "undefined") {
      return;
    }
    const graph = JSON.parse(source.textContent);
    const elements = graph.nodes.map((n) => ({
      data: { id: n.id, label: n.id + "\n" + n.type, state: n.state }, position: n.position }));
    graph.edges.forEach((e, i) => {
      elements.push({ data: { id: "e" + i, source: e.source, target: e.target, label: e.when || "" } });
    });
    const large = elements.length > 200; // straight edges draw much faster; bezier keeps a loop's two edges apart
    const cy = cytoscape({
      container: container,
      elements: elements,
      layout: { name: "preset", fit: true, padding: 20 },
      userZoomingEnabled: true,
      pixelRatio: 1, // a large graph draws and pans faster; text stays readable
      hideEdgesOnViewport: elements.length > 400,
      textureOnViewport: elements.length > 400,
      style: [
        { selector: "node", style: {
          "label": "data(label)", "text-wrap": "wrap", "text-valign": "center", "font-size": 11,
          "min-zoomed-font-size": 5,
          "shape": "round-rectangle", "width": 110, "height": 44, "background-color": "#e6e6e6",
          "border-width": 1, "border-color": "#888" } },
        { selector: "node[state = 'succeeded']", style: { "background-color": "#bfe5bf" } },
        { selector: "node[state = 'failed'], node[state = 'refused']", style: { "background-color": "#f3b7b7" } },
        { selector: "node[state = 'waiting']", style: { "background-color": "#ffe08a", "border-width": 3 } },
        { selector: "node[state = 'not reached']", style: { "color": "#777" } },
        { selector: "edge", style: {
          "curve-style": large ? "straight" : "bezier", "target-arrow-shape": "triangle", "width": 1.5, "label": "data(label)",
          "font-size": 9, "text-rotation": "autorotate", "color": "#555", "min-zoomed-font-size": 7,
          "text-background-color": "#fff", "text-background-opacity": 0.85 } },
      ],
    });
    colour(cy);
    window.maestroGraph = cy;
    cy.one("render", () => {
      window.maestroDrawnAt = performance.now(); // laid out and first drawn: what benchmarks/ui_bench.py reads
    });
    document.body.addEventListener("htmx:afterSettle", () => colour(cy));
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
