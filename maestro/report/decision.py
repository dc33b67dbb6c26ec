"""A routing decision and a simulation, as text or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from maestro.router.model import Decision
from maestro.router.simulate import Simulation


def decision_dict(d: Decision) -> dict[str, Any]:
    out = asdict(d)
    out["removed"] = [r._asdict() for r in d.removed]
    out["scores"] = [{**s._asdict(), "parts": dict(s.parts)} for s in d.scores]
    out["primary"] = d.primary
    out["denied"] = d.denied  # the refusal in words; ``refusal`` holds it typed (kind, route, rule)
    for key in ("tags", "detected_tags", "allowed"):
        out[key] = sorted(out[key])
    return out


def decision_json(d: Decision) -> str:
    return json.dumps(decision_dict(d), indent=2, default=str) + "\n"


def decision_text(d: Decision) -> str:
    lines = [f"decision {d.decision_id}: route {d.route} (model '{d.alias}')"]
    lines.append(
        f"  tags: {', '.join(sorted(d.tags)) or 'none'}"
        + (f" (detected: {', '.join(sorted(d.detected_tags))})" if d.detected_tags else "")
    )
    if d.denied:
        lines.append(f"  DENIED: {d.denied}")
    if d.pinned_by:
        lines.append(f"  pinned by '{d.pinned_by}'")
    if d.panic:
        lines.append(f"  {d.panic}")
    if d.removed:
        lines.append("\n  removed:")
        lines += [f"    - {r.deployment}: [{r.stage}] {r.reason}" for r in d.removed]
    if d.scores:
        lines.append("\n  scores (higher is better):")
        lines.append(
            f"    {'deployment':<44} {'total':>6} {'qual':>5} {'lat':>5} {'cost':>5} {'rel':>5} {'sov':>5}  est. cost"
        )
        for s in d.scores:
            p = s.parts
            lines.append(
                f"    {s.deployment:<44} {s.total:>6.3f} {p['quality']:>5.2f} {p['latency']:>5.2f} {p['cost']:>5.2f} "
                f"{p['reliability']:>5.2f} {p['sovereignty']:>5.2f}  ${s.cost_usd:.6f}"
            )
    if d.order:
        lines.append("\n  order (primary first, then fallbacks):")
        lines += [f"    {i + 1}. {key}" for i, key in enumerate(d.order)]
    if d.shadow:
        lines.append(f"\n  shadow (recorded, never served): {', '.join(d.shadow)}")
    return "\n".join(lines) + "\n"


def simulation_dict(s: Simulation) -> dict[str, Any]:
    return {
        "outages": list(s.outages),
        "decisions": s.decisions,
        "providers": dict(s.providers),
        "classes": [
            {
                "tags": c.tags,
                "requests": c.requests,
                "served": c.served,
                "always_served": c.always_served,
                "denied": dict(c.denied),
                "primaries": dict(c.primaries),
                "expected_cost_usd": round(c.expected_cost_usd, 8),
            }
            for c in s.classes
        ],
        "unserved_classes": s.unserved_classes,
    }


def simulation_text(s: Simulation) -> str:
    outage = ", ".join(s.outages) or "none"
    lines = [f"{s.decisions} request(s) replayed; outage: {outage}", ""]
    lines.append(f"  {'tags':<40} {'requests':>8} {'served':>7}  {'exp. cost':>10}  chosen")
    for c in s.classes:
        chosen = ", ".join(f"{k} {v}" for k, v in c.primaries.most_common(3)) or "-"
        flag = "" if c.always_served else "  <- NOT ALWAYS SERVED"
        lines.append(f"  {c.tags:<40} {c.requests:>8} {c.served:>7}  ${c.expected_cost_usd:>9.6f}  {chosen}{flag}")
        lines += [f"      denied {n}x: {why}" for why, n in c.denied.items()]
    lines.append("")
    total = sum(s.providers.values()) or 1
    lines.append("  providers: " + ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in sorted(s.providers.items())))
    return "\n".join(lines) + "\n"
