"""How many cases (and repeats) a suite's thresholds need before the gate can decide them.

A rate bound is decidable when, with the failures one can tolerate, the exact 95% bound can land on the
right side of it: proving ``passRate >= p`` with none failing needs ``ceil(ln 0.05 / ln p)`` runs, and proving
a hallucination rate ``<= m`` with none seen needs ``ceil(ln 0.05 / ln(1 - m))`` (299 for 1%). Detecting a
regression of ``minDelta`` (or 5 points) against the baseline uses McNemar's paired test; its size depends
on how many cases flip between two runs (assumed 10% unless told).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from maestro.evals import stats
from maestro.evals.suite import Suite

DEFAULT_CHANGE = 0.05
DEFAULT_DISCORDANT = 0.10


@dataclass(frozen=True, slots=True)
class Need:
    """One threshold's requirement: how many runs it needs and what the suite has."""

    metric: str
    requirement: str
    runs_needed: int
    cases: int
    repeats: int
    note: str = ""

    @property
    def runs(self) -> int:
        return self.cases * self.repeats

    @property
    def decidable(self) -> bool:
        return self.runs >= self.runs_needed

    @property
    def repeats_needed(self) -> int:
        """Repeats of the present cases that reach the runs needed (repeats are not independent: prefer cases)."""
        return max(1, math.ceil(self.runs_needed / self.cases)) if self.cases else self.runs_needed


@dataclass(frozen=True, slots=True)
class Plan:
    suite: str
    cases: int
    repeats: int
    needs: tuple[Need, ...]

    @property
    def warnings(self) -> list[str]:
        return [
            f"{self.suite}: {n.metric} {n.requirement} needs >= {n.runs_needed} runs and the suite has "
            f"{n.runs} ({n.cases} cases x {n.repeats}); add {max(0, n.runs_needed - n.runs)} cases"
            + (f" or run {n.repeats_needed} repeats" if n.cases else "")
            for n in self.needs
            if not n.decidable
        ]


def runs_to_prove_at_least(rate: float, failures: int = 0) -> int:
    """Fewest runs with ``failures`` failures whose exact 95% lower bound on the pass rate is >= ``rate``."""
    if rate >= 1:
        return 1  # a bound of 1.0 is read literally: one run decides it
    n = stats.cases_to_bound_rate(1 - rate) if failures == 0 else failures + 1
    while stats.lower_bound(n - failures, n) < rate:
        n += max(1, n // 50)
    while n > failures + 1 and stats.lower_bound(n - 1 - failures, n - 1) >= rate:
        n -= 1
    return n


def plan(suite: Suite, cases: int, *, repeats: int | None = None, discordant: float = DEFAULT_DISCORDANT) -> Plan:
    r = repeats or suite.repeats
    needs: list[Need] = []
    if suite.pass_rate is not None:
        needs.append(
            Need(
                "pass_rate",
                f">= {suite.pass_rate:g}",
                runs_to_prove_at_least(suite.pass_rate),
                cases,
                r,
                "with no failure; each failure needs more",
            )
        )
    for name, bound in suite.metrics.items():
        if name == "hallucination_rate" and bound.max is not None and bound.max > 0:
            needs.append(
                Need(
                    name,
                    f"<= {bound.max:g}",
                    stats.cases_to_bound_rate(bound.max),
                    cases,
                    r,
                    "with none seen (exact binomial; rule of three)",
                )
            )
        elif name == "pass_rate" and bound.min is not None:
            needs.append(Need(name, f">= {bound.min:g}", runs_to_prove_at_least(bound.min), cases, r))
    if suite.baseline_ref is not None:
        change = suite.min_delta if suite.min_delta < 0 else -DEFAULT_CHANGE
        n = stats.cases_for_paired_change(0.8, abs(change), max(discordant, abs(change)))
        needs.append(
            Need(
                "regression",
                f"detect {change:+g} vs {suite.baseline_ref}",
                n,
                cases,
                1,
                f"paired McNemar, 80% power, {discordant:.0%} of cases flipping",
            )
        )
    return Plan(suite.name, cases, r, tuple(needs))
