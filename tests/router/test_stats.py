"""Bounded-memory live statistics: quantiles within the promised error, memory that does not grow."""

from __future__ import annotations

import random

import pytest

from maestro.router import Circuit
from maestro.router.stats import LatencySketch, LiveStats


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_quantiles_are_within_two_percent(seed: int) -> None:
    rng = random.Random(seed)
    values = [rng.lognormvariate(5, 1.2) for _ in range(20_000)]
    sketch = LatencySketch(relative_accuracy=0.02)
    for v in values:
        sketch.add(v)
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.95, 0.99):
        exact = ordered[int(q * (len(ordered) - 1))]
        estimate = sketch.quantile(q)
        assert estimate is not None
        assert abs(estimate - exact) / exact <= 0.021, (q, estimate, exact)


def test_memory_is_bounded_whatever_the_traffic() -> None:
    sketch = LatencySketch()
    rng = random.Random(0)
    for _ in range(200_000):
        sketch.add(rng.uniform(0, 4_000_000))
    assert len(sketch.buckets) <= 900
    assert sketch.count == 200_000


def test_decay_lets_the_recent_past_win() -> None:
    stats = LiveStats(decay_every=100)
    for _ in range(1000):
        stats.record("a/m", 100.0, ok=True)
    for _ in range(1000):
        stats.record("a/m", 1000.0, ok=False)
    state = stats.snapshot({"a/m": Circuit.HALF_OPEN}).of("a/m")
    assert state.latency_p50_ms is not None and 950 <= state.latency_p50_ms <= 1050
    assert state.error_rate > 0.99
    assert state.circuit == Circuit.HALF_OPEN


def test_an_empty_sketch_has_no_quantile() -> None:
    assert LatencySketch().quantile(0.95) is None
    assert LiveStats().snapshot().of("x/y").latency_p95_ms is None
