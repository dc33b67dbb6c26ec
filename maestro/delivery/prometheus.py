"""Analysis metrics read from Prometheus (``prometheus: {url, query}``, or ``source: prometheus`` with ``query``
and the server in ``$MAESTRO_PROMETHEUS_URL``).

``read`` runs an instant query through Prometheus' HTTP API (``GET /api/v1/query``) and gives the first
sample's value. A server that is down, answers an error, or returns no sample (or NaN) gives no value and a
reason instead: the metric is then inconclusive and holds the analysis; it never passes (argo-rollouts #1466,
#4479: measurements that errored reported as a success). ``Readings`` keeps each metric's last reading for
``every_s`` seconds, so the controller, which looks twice a second, asks Prometheus at a calmer pace.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from maestro.delivery.spec import Metric

URL_ENV = "MAESTRO_PROMETHEUS_URL"
TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class Reading:
    value: float | None  # None: no number, ``reason`` says why
    reason: str


def read(url: str, query: str, client: httpx.Client | None = None) -> Reading:
    """The first sample of ``query`` on the Prometheus at ``url``, or why there is none."""
    if not url:
        return Reading(None, f"no Prometheus server: set the metric's prometheus.url or ${URL_ENV}")
    try:
        if client is None:
            with httpx.Client(timeout=TIMEOUT_S) as own:
                answer = own.get(url.rstrip("/") + "/api/v1/query", params={"query": query})
        else:
            answer = client.get(url.rstrip("/") + "/api/v1/query", params={"query": query})
        body = answer.json()
    except httpx.HTTPError as e:
        return Reading(None, f"Prometheus at {url} cannot be reached ({type(e).__name__}); inconclusive")
    except ValueError:
        return Reading(None, f"Prometheus at {url} answered {answer.status_code} without JSON; inconclusive")
    if body.get("status") != "success":
        return Reading(None, f"Prometheus at {url} refused the query: {body.get('error', answer.status_code)}")
    return _first(body.get("data", {}), url)


def _first(data: dict[str, Any], url: str) -> Reading:
    result = data.get("result")
    sample: Any
    if data.get("resultType") == "scalar" and isinstance(result, list):
        sample = result
    elif isinstance(result, list) and result and isinstance(result[0], dict):
        sample = result[0].get("value")
    else:
        return Reading(None, f"the query returned no data from Prometheus at {url}; inconclusive")
    try:
        value = float(sample[1])
    except (TypeError, ValueError, IndexError):
        return Reading(None, f"Prometheus at {url} returned a sample that is not a number; inconclusive")
    if math.isnan(value):
        return Reading(None, f"the query returned NaN from Prometheus at {url} (no data yet); inconclusive")
    return Reading(value, f"{value:g} from Prometheus at {url}")


class Readings:
    """Each Prometheus metric's reading, asked again once ``every_s`` has passed."""

    def __init__(self, every_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self.clock = clock
        self._last: dict[tuple[str, str], tuple[float, Reading]] = {}

    def of(self, metrics: Iterable[Metric]) -> dict[str, Reading]:
        out = {}
        for m in metrics:
            if m.source != "prometheus":
                continue
            url = m.url or os.environ.get(URL_ENV, "")
            key = (url, m.query)
            at, reading = self._last.get(key, (-math.inf, Reading(None, "")))
            if self.clock() - at >= self.every_s:
                reading = read(url, m.query)
                self._last[key] = (self.clock(), reading)
            out[m.name] = reading
        return out
