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

# the assertion types that read only the answer and their own ``value``: what a rollout's online eval runs
ANSWER_ONLY_CHECKS = ("equals", "contains", "regex", "json-schema")


def answer_only(assertion: Mapping[str, Any]) -> bool:
    """Whether a gateway can grade an answer with this assertion alone (no case, judge or code needed)."""
    return assertion["type"] in ANSWER_ONLY_CHECKS and "value" in assertion


def assertion_metric(assertion: Mapping[str, Any], index: int) -> str:
    """The metric name of the assertion at ``index`` (0-based) of a suite's ``spec.assertions``."""
    return str(assertion.get("name", f"{assertion['type']}-{index + 1}"))
