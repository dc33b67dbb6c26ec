"""Spill decisions from metrics text (a real vLLM 0.32 /metrics page, and hand-made ones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro.lane.config import Saturation
from maestro.lane.spill import DEAD, signal_of

REAL = (Path(__file__).parent / "data" / "vllm-metrics.txt").read_text(encoding="utf-8")
LIMITS = Saturation(max_waiting=16, max_kv_cache_usage=0.9)


def page(waiting: float, kv: float, name: str = "vllm:kv_cache_usage_perc", model: str = "m") -> str:
    return (
        "# TYPE vllm:num_requests_waiting gauge\n"
        f'vllm:num_requests_waiting{{engine="0",model_name="{model}"}} {waiting}\n'
        f"# TYPE {name} gauge\n"
        f'{name}{{engine="0",model_name="{model}"}} {kv}\n'
    )


def test_an_idle_real_lane_is_not_saturated() -> None:
    signal = signal_of(REAL, LIMITS, "smollm2-135m-instruct")
    assert (signal.circuit, signal.saturated, signal.waiting, signal.running, signal.kv_cache_usage) == (
        "closed",
        False,
        0.0,
        0.0,
        0.0,
    )
    assert signal.fields() == {"circuit": "closed", "saturated": False}


@pytest.mark.parametrize(
    ("waiting", "kv", "saturated", "reason"),
    [
        (16, 0.9, False, None),
        (17, 0.1, True, "17 requests waiting > maxWaiting 16"),
        (0, 0.95, True, "KV cache 95% used > maxKvCacheUsage 90%"),
    ],
)
def test_thresholds(waiting: float, kv: float, saturated: bool, reason: str | None) -> None:
    signal = signal_of(page(waiting, kv), LIMITS)
    assert signal.saturated is saturated
    assert signal.reasons == ((reason,) if reason else ())


def test_the_older_gpu_cache_metric() -> None:
    assert signal_of(page(0, 0.99, "vllm:gpu_cache_usage_perc"), LIMITS).saturated


def test_engines_add_up_and_other_models_are_ignored() -> None:
    text = page(10, 0.1) + page(10, 0.1).replace("# TYPE vllm:num_requests_waiting gauge\n", "").replace(
        "# TYPE vllm:kv_cache_usage_perc gauge\n", ""
    ).replace('engine="0"', 'engine="1"')
    assert signal_of(text, LIMITS).waiting == 20
    assert signal_of(text + page(99, 0.99, model="other").replace("# TYPE", "# HELP"), LIMITS, "m").waiting == 20


def test_no_thresholds_never_saturate() -> None:
    assert not signal_of(page(1000, 1.0), Saturation()).saturated


def test_missing_metrics() -> None:
    signal = signal_of("", LIMITS)
    assert (signal.saturated, signal.waiting, signal.kv_cache_usage) == (False, None, None)


def test_malformed_text() -> None:
    with pytest.raises(ValueError):
        signal_of("vllm:num_requests_waiting{ not prometheus", LIMITS)


def test_dead() -> None:
    assert DEAD.fields() == {"circuit": "open", "saturated": False}


def test_combine_replicas() -> None:
    from maestro.lane.spill import combine

    busy, calm = signal_of(page(20, 0.5), LIMITS), signal_of(page(2, 0.95), LIMITS)
    idle = signal_of(page(0, 0.1), LIMITS)
    assert combine([]) is DEAD and combine([DEAD, DEAD]) is DEAD
    assert combine([DEAD, busy]) == busy
    both = combine([busy, calm])
    assert (both.saturated, both.waiting, both.kv_cache_usage) == (True, 22, 0.95) and len(both.reasons) == 2
    one = combine([busy, idle])
    assert (one.saturated, one.circuit, one.reasons) == (False, "closed", ())
