"""One look at a rollout's measurements: the failing verdicts that roll it back whatever its step (the hard
guard and the continuous error-rate test), and the verdicts of its current analysis step.

The live controller and the simulator both call ``judge``, with measurements from the state store or from
synthetic traffic, so a simulation runs the same statistics as a rollout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from maestro.delivery import analysis
from maestro.delivery.analysis import Arm, Outcome, Verdict
from maestro.delivery.machine import State
from maestro.delivery.spec import GATEWAY_METRICS, RolloutSpec


@dataclass(frozen=True, slots=True)
class Measured:
    """Each side's error indicators and latencies (by deployment key)."""

    errors: Mapping[str, Arm]
    latency: Mapping[str, Arm]


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
    if watch.outcome is Outcome.FAIL:
        failures.append(watch)
    step = spec.steps[state.step] if state.step < len(spec.steps) else None
    if step is None or step.kind != "analysis":
        return tuple(failures), ()
    verdicts = []
    for metric in spec.analyses.get(step.analysis, ()):
        if metric.source != "gateway" or metric.name not in GATEWAY_METRICS:
            verdicts.append(_unmeasured(metric.name, metric.source, s))
        elif metric.name == "error_rate":
            verdicts.append(watch)
        else:
            canary, stable = m.latency[spec.canary], m.latency[spec.stable]
            verdicts.append(
                analysis.compare(
                    metric.name, canary, stable, analysis.latency_test(stable.mean, s.alpha, s.min_samples)
                )
            )
    return tuple(failures), tuple(verdicts)


def _unmeasured(metric: str, source: str, s: Settings) -> Verdict:
    if s.unmeasured is Outcome.PASS:
        reason = f"'{metric}' ({source}) is not simulated; assumed to pass"
    else:
        reason = (
            f"'{metric}' from {source} is not measured by this version (gateway metrics: "
            f"{', '.join(sorted(GATEWAY_METRICS))}); inconclusive holds: promote by hand once you have judged it"
        )
    return Verdict(metric, s.unmeasured, 0, 0, 0.0, -math.inf, math.inf, s.alpha, reason)
