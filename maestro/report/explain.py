"""Explanations as text, JSON or Mermaid."""

from __future__ import annotations

import json
from collections.abc import Sequence

from maestro.explain.model import Explanation

FORMATS = ("text", "json", "mermaid")


def text(explanations: Sequence[Explanation]) -> str:
    out = []
    for e in explanations:
        out.append(f"{e.ref}  ({e.file}:{e.line})")
        out.append(f"  {e.summary}")
        for section in e.sections:
            out.append(f"\n  {section.title}:")
            out.extend(f"    - {line}" for line in section.lines)
        if e.mermaid:
            out.append("\n  Graph (Mermaid, `-o mermaid` prints it alone):")
            out.extend(f"    {line}" for line in e.mermaid.splitlines())
        out.append("")
    return "\n".join(out)


def as_json(explanations: Sequence[Explanation]) -> str:
    payload = [
        {
            "ref": e.ref,
            "file": e.file,
            "line": e.line,
            "summary": e.summary,
            "sections": [{"title": s.title, "lines": list(s.lines)} for s in e.sections],
            "facts": e.facts,
            "mermaid": e.mermaid,
        }
        for e in explanations
    ]
    return json.dumps({"explanations": payload}, indent=2, default=str) + "\n"


def mermaid(explanations: Sequence[Explanation]) -> str:
    graphs = [e.mermaid for e in explanations if e.mermaid]
    return "\n".join(graphs)
