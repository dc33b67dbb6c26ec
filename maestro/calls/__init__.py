"""Calling a route: the one core every caller of a model goes through.

What a model call through a route means, without HTTP: the router's decision (``maestro.router``), then the
order tried (``attempts.try_order``): retries of the whole order with backoff and Retry-After, fallback on
provider faults only, the breakers (``breaker``), the first-token and stall deadlines, the watch that moves a
silent deployment back (``watch``), hedging, and usage and cost at list price (``line.Line.cost``). The
budgets' downgrade is the router's governance (``maestro.router.governance.fit_budgets``).

Use::

    caller = calls.RouteCaller(manifests, providers.pool(providers.specs_of(manifests)))
    answer = await caller.chat("support-route", [{"role": "user", "content": "hi"}])
    answer.output, answer.deployment, answer.cost_usd, answer.decision_id, answer.attempts

The gateway builds its own ``Line`` (its breakers, metrics, tracer and lanes) and streams on top of
``try_order``; the evals and the pipeline runtime use ``RouteCaller``.
"""

from __future__ import annotations

from maestro.calls.attempts import (
    Attempt,
    CallerRefused,
    Exhausted,
    Opened,
    Plan,
    Served,
    Tally,
    has_token,
    next_chunk,
    try_order,
)
from maestro.calls.breaker import Breakers, BreakerSettings, Never
from maestro.calls.line import Counts, Limits, Line
from maestro.calls.route import Answer, CallError, RouteCaller, aliases, known, merge_delta
from maestro.calls.watch import FirstTokenWatch

__all__ = [
    "Answer",
    "Attempt",
    "BreakerSettings",
    "Breakers",
    "CallError",
    "CallerRefused",
    "Counts",
    "Exhausted",
    "FirstTokenWatch",
    "Limits",
    "Line",
    "Never",
    "Opened",
    "Plan",
    "RouteCaller",
    "Served",
    "Tally",
    "aliases",
    "has_token",
    "known",
    "merge_delta",
    "next_chunk",
    "try_order",
]
