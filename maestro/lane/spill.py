"""Spill signals: a lane's Prometheus ``/metrics`` text and its thresholds, turned into the router's fields.

Pure: no I/O. ``signal_of(text, thresholds)`` reads the queue length and KV-cache usage vLLM exports
(``vllm:num_requests_waiting``, ``vllm:kv_cache_usage_perc``, or ``vllm:gpu_cache_usage_perc`` before
vLLM 0.10, all 0..1) and says whether the lane is saturated. ``DEAD`` is the signal of a lane that did not
answer; ``combine`` merges replicas' signals. ``Signal.fields()`` gives keyword arguments for
``router.DeploymentState``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from maestro.lane.config import Saturation

WAITING = "vllm:num_requests_waiting"
RUNNING = "vllm:num_requests_running"
KV_USAGE = ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")


@dataclass(frozen=True, slots=True)
class Signal:
    """What a lane's metrics say for routing."""

    circuit: str  # "closed" or "open", values of router.Circuit
    saturated: bool
    waiting: float | None = None
    running: float | None = None
    kv_cache_usage: float | None = None
    reasons: tuple[str, ...] = ()

    def fields(self) -> dict[str, object]:
        """``DeploymentState`` keyword arguments: ``circuit`` (a router.Circuit value) and ``saturated``."""
        return {"circuit": self.circuit, "saturated": self.saturated}


DEAD = Signal(circuit="open", saturated=False, reasons=("the lane did not answer /metrics",))


def samples(text: str, model: str | None = None) -> dict[str, list[float]]:
    """Every sample value by metric name (``_total``-style suffixes kept as the parser gives them).

    With ``model``, samples labelled with another ``model_name`` are left out.
    """
    out: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if model is not None and sample.labels.get("model_name", model) != model:
                continue
            out.setdefault(sample.name, []).append(sample.value)
    return out


def signal_of(text: str, thresholds: Saturation, model: str | None = None) -> Signal:
    """The lane's signal from its metrics text; malformed text raises ``ValueError``."""
    values = samples(text, model)
    waiting = sum(values[WAITING]) if WAITING in values else None
    running = sum(values[RUNNING]) if RUNNING in values else None
    kv = next((max(values[name]) for name in KV_USAGE if name in values), None)
    reasons = []
    if thresholds.max_waiting is not None and waiting is not None and waiting > thresholds.max_waiting:
        reasons.append(f"{waiting:g} requests waiting > maxWaiting {thresholds.max_waiting}")
    if thresholds.max_kv_cache_usage is not None and kv is not None and kv > thresholds.max_kv_cache_usage:
        reasons.append(f"KV cache {kv:.0%} used > maxKvCacheUsage {thresholds.max_kv_cache_usage:.0%}")
    return Signal("closed", bool(reasons), waiting, running, kv, tuple(reasons))


def combine(signals: list[Signal]) -> Signal:
    """One signal for a lane of several replicas: open only when every replica is, saturated only when
    every live one is (traffic still fits on the others); waiting and running add up, KV use is the highest.
    """
    live = [s for s in signals if s.circuit != "open"]
    if not live:
        return DEAD
    if len(live) == 1:
        return live[0]
    kv = [s.kv_cache_usage for s in live if s.kv_cache_usage is not None]
    return Signal(
        circuit="closed",
        saturated=all(s.saturated for s in live),
        waiting=_sum(s.waiting for s in live),
        running=_sum(s.running for s in live),
        kv_cache_usage=max(kv) if kv else None,
        reasons=tuple(r for s in live for r in s.reasons) if all(s.saturated for s in live) else (),
    )


def _sum(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None
