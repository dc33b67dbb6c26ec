"""``maestro autonomy status`` as text: the level, what the next one takes, and how far each criterion is."""

from __future__ import annotations

from maestro.runtime.earned import Criterion, Status


def status_text(s: Status) -> str:
    level = s.target.level
    lines = [f"{s.target.ref}: {level.name} (level {level.level})"]
    if s.demoted_to:
        lines.append(f"  demoted to {s.demoted_to} after an incident: its tools are gated at {s.demoted_to}")
    runs = ", ".join(f"{n} {state}" for state, n in s.runs.items()) or "none"
    lines.append(f"  runs at {level.name}: {runs}")
    rate = s.pass_rate
    if rate is None:
        lines.append("  eval pass rate: no scorecard of its suite yet")
    else:
        lines.append(
            f"  eval pass rate: {rate.value:.3f} ({rate.passes}/{rate.n}), 95% interval [{rate.low:.3f}, "
            f"{rate.high:.3f}], lower bound {rate.lower_bound:.3f} (suite {rate.suite}, scorecard {rate.created})"
        )
    lines.append(f"  incidents: {len(s.incidents)}")
    lines.extend(f"    #{i.index} {i.time} {i.kind}: {i.what}" for i in s.incidents)
    if s.next_level is None:
        lines.append("  no level above: nothing to earn")
        return "\n".join(lines) + "\n"
    nxt = s.next_level
    lines.append(f"  {nxt.name} (level {nxt.level}) takes:")
    lines.extend(f"    {_mark(c)} {_line(c)}" for c in s.criteria)
    if not s.criteria:
        lines.append("    nothing: its promotion block is empty")
    verdict = "earned" if s.earned else "not earned yet"
    tail = f"; open the request with `maestro autonomy promote {s.target.name}`" if s.earned else ""
    lines.append(f"  {nxt.name}: {verdict}{tail}")
    return "\n".join(lines) + "\n"


def _mark(c: Criterion) -> str:
    return {True: "[x]", False: "[ ]", None: "[?]"}[c.met]


def _line(c: Criterion) -> str:
    if c.name == "evidence":
        return f"evidence: {c.needed} ({c.gap})"
    if c.name == "minEvalPassRate":
        actual = "none" if c.actual is None else f"{c.actual:.3f}"
        return f"eval pass rate >= {c.needed} (95% lower bound {actual}): {c.gap}"
    if c.name == "minRunsAtLowerLevel":
        return f"runs at this level >= {c.needed} (now {c.actual}): {c.gap}"
    return f"incidents <= {c.needed} (now {c.actual}): {c.gap}"
