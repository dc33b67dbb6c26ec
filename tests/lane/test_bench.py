"""The benchmark's arithmetic, and a run of the lane half against the fake server."""

from __future__ import annotations

import asyncio
import math

import pytest
from helpers.lane import Lane

from maestro.lane import bench, lifecycle
from maestro.lane.errors import LaneError


def test_percentile() -> None:
    assert bench.percentile([3, 1, 2, 4], 0.5) == 2.5
    assert bench.percentile([1.0], 0.95) == 1.0
    assert math.isnan(bench.percentile([], 0.5))


def test_level_and_cost() -> None:
    level = bench.level_of("lane", 8, [1.0, 2.0], 64, 2.0, price=3.6)
    assert (level.tokens_per_s, level.p50_ms) == (32.0, 1500.0)
    assert level.cost_per_request_usd == pytest.approx(0.001)  # 3.6 USD/h = 0.001 USD/s; 2 s over 2 requests
    assert bench.level_of("lane", 1, [1.0], 8, 1.0, price=None).cost_per_request_usd is None


def test_compare_gives_the_ratio_per_level() -> None:
    job = bench.Job("m", (1, 8))
    lane = [bench.level_of("lane", c, [1.0], 100 * c, 1.0, price=None) for c in (1, 8)]
    slow = [bench.level_of("baseline", c, [1.0], 50, 1.0, price=None) for c in (1, 8)]
    assert bench.compare(job, lane, slow).ratios == {1: 2.0, 8: 16.0}
    assert bench.compare(job, lane, []).ratios == {}


def test_requests_at() -> None:
    assert [bench.requests_at(c) for c in (1, 8, 32)] == [4, 8, 32]


def test_lane_half_against_the_fake(lane: Lane) -> None:
    lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, timeout_s=30, env=lane.env, gpu=False)
    levels = asyncio.run(bench.run_lane(lane.config.base, bench.Job("tiny", (1, 8), 16, 1.0)))
    assert [(lv.concurrency, lv.requests, lv.output_tokens) for lv in levels] == [(1, 4, 64), (8, 8, 128)]
    result = bench.measure(lane.config, lane.paths, bench.Job("tiny", (2,), 4), baseline=False)
    assert "lane         2    4     16" in bench.table(result)


def test_measure_needs_a_running_lane(lane: Lane) -> None:
    with pytest.raises(LaneError, match=r"does not answer .*/health; run `maestro lane up --wait`"):
        bench.measure(lane.config, lane.paths, bench.Job("tiny"))
