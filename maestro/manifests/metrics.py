"""The names an EvalSuite's ``thresholds.metrics`` may bound: one list for validate, the gate and the docs.

A suite's scorecard reports a metric per assertion, named by the assertion's ``name`` or, without one,
``TYPE-N`` (its type and 1-based position), and these aggregates of every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RUN_METRICS = (
    "pass_rate",
    "score",
    "cost_usd",
    "cost_usd_total",
    "latency_ms_p50",
    "latency_ms_p95",
    "hallucination_rate",
)


def assertion_metric(assertion: Mapping[str, Any], index: int) -> str:
    """The metric name of the assertion at ``index`` (0-based) of a suite's ``spec.assertions``."""
    return str(assertion.get("name", f"{assertion['type']}-{index + 1}"))
