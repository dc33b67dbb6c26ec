"""One look at a rollout's measurements: the failing verdicts that roll it back whatever its step (the hard
guard, the error-count change detector, a true ``rollback.when``), and the verdicts of its current analysis step
(each metric's sequential test, then its ``failureCondition`` and ``successCondition``). A metric of the analysis
step whose sequential test finds the canary worse (latency) rolls back too; the error rate's two-sided test only
decides when it passes, its rollback side being the change detector's job (one test, one alpha).

The CEL conditions read point estimates: ``metrics.NAME`` is the canary's mean of a gateway metric since its
weight last changed, ``baseline.NAME`` stable's; a Prometheus metric's reading (``Measured.external``) is
``metrics.NAME``, with no baseline. They are read only once both sides have the minimum sample
(no data, no verdict), and they do not carry the sequential test's guarantee: they are the manifest's own
thresholds. A condition that reads a metric nobody measures cannot be true: it never rolls back and never
passes (a success condition then holds the analysis, and says why).

The live controller and the simulator both call ``judge``, with measurements from the state store or from
synthetic traffic, so a simulation runs the same statistics as a rollout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import cel

from maestro.delivery import analysis
from maestro.delivery.analysis import Arm, Outcome, Second, Verdict
from maestro.delivery.machine import State
from maestro.delivery.prometheus import Reading
from maestro.delivery.spec import GATEWAY_METRICS, RolloutSpec


@dataclass(frozen=True, slots=True)
class Measured:
    """Each side's error indicators and latencies (by deployment key) since the canary's weight last changed,
    and the requests and failures of each second since the rollout started (the change detector's)."""

    errors: Mapping[str, Arm]
    latency: Mapping[str, Arm] | None  # None: latency is not measured (the simulator)
    seconds: Sequence[Second] = ()
    external: Mapping[str, Reading] = field(default_factory=dict)  # Prometheus metrics' readings, by metric name
    evals: Mapping[str, Arm] | None = None  # each side's graded answers, 1 for a failed one (None: not graded)


@dataclass(frozen=True, slots=True)
class Settings:
    alpha: float = 0.01
    min_samples: int = 100
    unmeasured: Outcome = Outcome.INCONCLUSIVE  # what a metric nobody measures gives (the simulator: PASS)


def judge(spec: RolloutSpec, state: State, m: Measured, s: Settings) -> tuple[tuple[Verdict, ...], tuple[Verdict, ...]]:
    """(failing verdicts, the current analysis step's verdicts)."""
    errors = analysis.error_rate_test(s.alpha, s.min_samples)
    failures = []
    hard = analysis.guard(m.errors[spec.canary])
    if hard is not None:
        failures.append(hard)
    watch = analysis.compare("error_rate", m.errors[spec.canary], m.errors[spec.stable], errors)
    change = analysis.harm(m.seconds, s.alpha)
    if change.outcome is Outcome.FAIL:
        failures.append(change)
    n = (m.errors[spec.canary].n, m.errors[spec.stable].n)
    ctx = _Ctx(_values(spec, m, s), n, s.unmeasured)
    failures.extend(_conditions(spec.rollback_when, "rollback.when", ctx, want=True))
    step = spec.steps[state.step] if state.step < len(spec.steps) else None
    if step is None or step.kind != "analysis":
        return tuple(failures), ()
    success, failure = spec.conditions.get(step.analysis, ("", ""))
    failures.extend(_conditions((failure,) if failure else (), "failureCondition", ctx, want=True))
    verdicts = []
    for metric in spec.analyses.get(step.analysis, ()):
        measured = metric.name == "error_rate" or (metric.name in GATEWAY_METRICS and m.latency is not None)
        if metric.source == "prometheus" and metric.name in m.external:
            verdicts.append(_read(metric.name, m.external[metric.name], s))
        elif metric.source == "eval" and m.evals is not None:
            verdict = _eval(metric.name, m.evals[spec.canary], m.evals[spec.stable], errors)
            verdicts.append(verdict)
            if verdict.outcome is Outcome.FAIL:
                failures.append(verdict)
        elif metric.source != "gateway" or not measured:
            verdicts.append(_unmeasured(metric.name, metric.source, s))
        elif metric.name == "error_rate":
            verdicts.append(watch)
        else:
            assert m.latency is not None
            canary, stable = m.latency[spec.canary], m.latency[spec.stable]
            verdict = analysis.compare(
                metric.name, canary, stable, analysis.latency_test(stable.mean, s.alpha, s.min_samples)
            )
            verdicts.append(verdict)
            if verdict.outcome is Outcome.FAIL:
                failures.append(verdict)
    if success:
        verdicts.extend(_conditions((success,), "successCondition", ctx, want=False))
    return tuple(failures), tuple(verdicts)


def _eval(metric: str, canary: Arm, stable: Arm, test: analysis.Test) -> Verdict:
    """An online eval metric: the canary's share of failed answers against stable's, by the error rate's test
    (a pass rate is a proportion); it fails, and rolls back, once the canary fails its checks more often."""
    verdict = analysis.compare(metric, canary, stable, test)
    rates = (
        f"{canary.mean:.1%} of {canary.n} sampled canary answers failed the suite's checks, "
        f"{stable.mean:.1%} of {stable.n} stable"
    )
    return replace(verdict, reason=f"{verdict.reason} ({rates})")


def _read(metric: str, reading: Reading, s: Settings) -> Verdict:
    """A Prometheus metric: measured (its value is ``metrics.NAME``; the conditions judge it), or inconclusive."""
    if reading.value is None:
        return Verdict(metric, Outcome.INCONCLUSIVE, 0, 0, 0.0, -math.inf, math.inf, s.alpha, reading.reason)
    v = reading.value
    return Verdict(metric, Outcome.PASS, 1, 0, v, v, v, s.alpha, f"measured: {reading.reason}")


def _unmeasured(metric: str, source: str, s: Settings) -> Verdict:
    if s.unmeasured is Outcome.PASS:
        reason = f"'{metric}' ({source}) is not simulated; assumed to pass"
    else:
        reason = (
            f"'{metric}' from {source} is not measured by this version (gateway metrics: "
            f"{', '.join(sorted(GATEWAY_METRICS))}); inconclusive holds: promote by hand once you have judged it"
        )
    return Verdict(metric, s.unmeasured, 0, 0, 0.0, -math.inf, math.inf, s.alpha, reason)


Values = tuple[dict[str, float], dict[str, float]] | None  # (metrics, baseline), or None: too little data


def _values(spec: RolloutSpec, m: Measured, s: Settings) -> Values:
    sides = (spec.canary, spec.stable)
    if min(m.errors[d].n for d in sides) < s.min_samples:
        return None
    canary, stable = (
        {"error_rate": m.errors[d].mean} | ({"latency_ms": m.latency[d].mean} if m.latency is not None else {})
        for d in sides
    )
    canary |= {name: r.value for name, r in m.external.items() if r.value is not None}
    if m.evals is not None and min(m.evals[d].n for d in sides) >= s.min_samples:
        for name in {mt.name for ms in spec.analyses.values() for mt in ms if mt.source == "eval"}:
            canary[name], stable[name] = (1.0 - m.evals[d].mean for d in sides)  # the pass rate
    return canary, stable


@dataclass(frozen=True, slots=True)
class _Ctx:
    values: Values
    n: tuple[int, int]  # canary, stable
    unmeasured: Outcome


def _conditions(expressions: tuple[str, ...], kind: str, ctx: _Ctx, *, want: bool) -> list[Verdict]:
    """Failing verdicts for the true ones (``want``: a rollback or failure condition), or, for a success
    condition, a pass when it is true and an inconclusive verdict saying why when it is not (yet)."""
    values, n = ctx.values, ctx.n
    out = []
    for i, expression in enumerate(expressions):
        name = f"{kind}[{i}]" if kind == "rollback.when" else kind
        if values is None:
            if not want:
                out.append(_verdict(name, Outcome.INCONCLUSIVE, n, f"'{expression}': too little data; holding"))
            continue
        metrics, baseline = values
        try:
            true = cel.evaluate(expression, {"metrics": metrics, "baseline": baseline}) is True
            why = f"'{expression}' is {str(true).lower()} (metrics {_show(metrics)}; baseline {_show(baseline)})"
        except (KeyError, ValueError, TypeError, RuntimeError) as e:
            true = ctx.unmeasured is Outcome.PASS and not want  # the simulator assumes what it cannot measure passes
            why = f"'{expression}' cannot be read ({e}): it reads a metric not measured here"
            why += "; assumed to pass" if true else ""
        if want and true:
            out.append(_verdict(name, Outcome.FAIL, n, why))
        elif not want:
            out.append(_verdict(name, Outcome.PASS if true else Outcome.INCONCLUSIVE, n, why))
    return out


def _verdict(name: str, outcome: Outcome, n: tuple[int, int], reason: str) -> Verdict:
    return Verdict(name, outcome, n[0], n[1], 0.0, -math.inf, math.inf, 0.0, reason)


def _show(values: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in sorted(values.items()))
