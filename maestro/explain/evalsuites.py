"""Explaining an EvalSuite: its dataset, assertions and when it passes."""

from __future__ import annotations

from pathlib import Path

from maestro.explain.model import Explanation, Section
from maestro.manifests.kinds.evalsuite import EvalSuite
from maestro.manifests.loader import Document


def explain_eval(doc: Document) -> Explanation:
    suite: EvalSuite = doc.record
    target = ", ".join(f"{k} {v if isinstance(v, str) else v.get('route')}" for k, v in suite.target.items())
    dataset = suite.dataset
    if "inline" in dataset:
        size = f"{len(dataset['inline'])} inline case(s)"
    else:
        size = f"cases from {dataset['file']}{_count(doc, dataset['file'])}"
    assertions = tuple(
        f"{a.get('name', a['type'])}: {a['type']}"
        + (f", threshold {a['threshold']}" if "threshold" in a else "")
        + (f", weight {a['weight']}" if "weight" in a else "")
        for a in suite.assertions
    )
    gate = [f"pass rate at least {suite.pass_rate:.0%}"] if suite.pass_rate is not None else []
    gate += [
        f"{name} {', '.join(f'{k} {v}' for k, v in bound.items())}"
        for name, bound in suite.thresholds.get("metrics", {}).items()
    ]
    return Explanation(
        doc.ref,
        doc.file,
        doc.line,
        f"EvalSuite '{suite.name}' evaluates {target} on {size}, {suite.repeats} time(s) each.",
        (
            Section("Assertions", assertions),
            Section("Passes when", tuple(gate) or ("every assertion passes",)),
            Section(
                "Compared with",
                (f"git revision {suite.baseline_ref}" if suite.baseline_ref is not None else "no baseline",),
            ),
        ),
        {
            "target": suite.target,
            "assertions": [a["type"] for a in suite.assertions],
            "thresholds": suite.thresholds,
        },
    )


def _count(doc: Document, relative: str) -> str:
    path = Path(doc.base_dir) / relative
    try:
        with path.open(encoding="utf-8") as f:
            rows = sum(1 for line in f if line.strip())
    except OSError:
        return " (not readable)"
    if relative.endswith(".csv"):
        rows -= 1
    return f" ({rows} case(s))"
