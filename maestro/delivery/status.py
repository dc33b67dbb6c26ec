"""What ``maestro rollout status`` and ``history`` show, as JSON (``status``) and as text for people (``render``);
the text is made from the JSON, so both say the same."""

from __future__ import annotations

from typing import Any

from maestro.delivery.store import RolloutStore, Stored


def status(store: RolloutStore, stored: Stored) -> dict[str, Any]:
    spec, state = stored.spec, stored.state
    step = spec.steps[state.step].describe() if state.step < len(spec.steps) else "done"
    return {
        "name": spec.name,
        "phase": str(state.phase),
        "step": state.step,
        "stepDescription": step,
        "steps": len(spec.steps),
        "canaryWeight": state.canary_weight,
        "waiting": state.waiting,
        "route": spec.route,
        "stable": spec.stable,
        "canary": spec.canary,
        "digest": spec.digest,
        "run": stored.run,
        "startedAt": stored.started_at,
        "startedBy": stored.started_by,
        "verdicts": store.verdicts(spec.name, stored.run),
        "events": store.events(spec.name, stored.run),
    }


def render(s: dict[str, Any]) -> str:
    lines = [
        f"rollout {s['name']} (run {s['run']}): {s['phase']}, step {s['step'] + 1}/{s['steps']} "
        f"({s['stepDescription']}), canary {s['canary']} at {s['canaryWeight']}% of route {s['route']}",
    ]
    if s["waiting"]:
        lines.append(f"  waiting: {s['waiting']}")
    for v in s["verdicts"][-5:]:
        low, high = v["interval"]
        lines.append(
            f"  verdict {v['metric']}: {v['outcome']} (n canary {v['n']['canary']}, stable {v['n']['stable']}; "
            f"difference {v['estimate']:+.4f}, interval [{_num(low)}, {_num(high)}], alpha {v['alpha']:g}) "
            f"{v['reason']}"
        )
    for e in s["events"][-5:]:
        lines.append(
            f"  {e['event']}: {e['from']} -> {e['to']}, canary {e['canaryWeight']}% by {e['actor']}: {e['reason']}"
        )
    return "\n".join(lines) + "\n"


def _num(x: float) -> str:
    return "-inf" if x <= -1e300 else "inf" if x >= 1e300 else f"{x:+.4f}"
