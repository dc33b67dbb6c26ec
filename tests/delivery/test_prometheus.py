"""Analysis metrics from a real Prometheus server (Debian's `prometheus`, started here with its own config and
data folder on a free port) scraping a real gateway's /metrics; a server down or without data is inconclusive."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers.delivery import CANARY, STABLE, spec
from helpers.gateway import served, two_up

from maestro.delivery.analysis import Arm, Outcome
from maestro.delivery.judge import Measured, Settings, judge
from maestro.delivery.machine import Phase, State, Tick, apply
from maestro.delivery.prometheus import Readings, read
from maestro.delivery.spec import Metric

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
pytestmark = pytest.mark.skipif(
    not Path(PROMETHEUS).exists(), reason="Debian's prometheus is not installed (.ci/run installs it)"
)
AT_ANALYSIS = State("r1", Phase.PROGRESSING, 1, 10, 0.0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prometheus scraping a gateway that has served 5 requests; its URL once it has scraped them."""
    tmp = tmp_path_factory.mktemp("prometheus")
    with two_up(tmp) as r, served(r.config) as gateway:
        for i in range(5):
            body = {"model": "chat", "messages": [{"role": "user", "content": f"hello {i}"}]}
            assert httpx.post(gateway + "/v1/chat/completions", json=body, timeout=30).status_code == 200
        target = gateway.removeprefix("http://")
        (tmp / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - {{job_name: gateway, metrics_path: /metrics, static_configs: [{{targets: ['{target}']}}]}}\n",
            encoding="utf-8",
        )
        url = f"http://127.0.0.1:{_free_port()}"
        proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={tmp / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp / 'data'}",
                f"--web.listen-address={url.removeprefix('http://')}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60  # a hang guard only: a busy machine starts it slowly
            while read(url, 'sum(maestro_gateway_requests_total{route="chat-route"})').value is None:
                assert proc.poll() is None and time.monotonic() < deadline, "Prometheus did not scrape the gateway"
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_a_query_reads_the_gateways_own_metrics(prometheus: str) -> None:
    reading = read(prometheus, 'sum(maestro_gateway_requests_total{route="chat-route"})')
    assert reading.value == 5.0 and "from Prometheus" in reading.reason
    assert read(prometheus, "scalar(up)").value == 1.0  # a scalar result reads too


def test_no_data_a_bad_query_and_a_server_that_is_down_give_no_value(prometheus: str) -> None:
    empty = read(prometheus, "maestro_no_such_metric")
    assert empty.value is None and "returned no data" in empty.reason
    bad = read(prometheus, "sum(")
    assert bad.value is None and "refused the query" in bad.reason
    down = read(f"http://127.0.0.1:{_free_port()}", "up")
    assert down.value is None and "cannot be reached" in down.reason


def _measured(readings: Readings, metrics: tuple[Metric, ...]) -> Measured:
    errors = {CANARY: Arm(1000, 0.01, 0.0099), STABLE: Arm(20_000, 0.01, 0.0099)}
    return Measured(errors, None, external=readings.of(metrics))


def test_a_prometheus_metric_feeds_the_conditions_and_holds_when_prometheus_is_down(prometheus: str) -> None:
    served_ = Metric("served", "prometheus", 'sum(maestro_gateway_requests_total{route="chat-route"})', prometheus)
    s = dataclasses.replace(
        spec(), analyses={"health": (served_,)}, conditions={"health": ("metrics.served >= 5.0", "")}
    )
    _, verdicts = judge(s, AT_ANALYSIS, _measured(Readings(), (served_,)), Settings())
    assert [(v.metric, v.outcome) for v in verdicts] == [("served", Outcome.PASS), ("successCondition", Outcome.PASS)]
    assert verdicts[0].estimate == 5.0
    after, _ = apply(s, AT_ANALYSIS, Tick(1.0, verdicts=verdicts))
    assert after.step == 2  # the analysis passed

    down = dataclasses.replace(served_, url=f"http://127.0.0.1:{_free_port()}")
    s = dataclasses.replace(s, analyses={"health": (down,)})
    _, verdicts = judge(s, AT_ANALYSIS, _measured(Readings(), (down,)), Settings())
    assert verdicts[0].outcome is Outcome.INCONCLUSIVE and "cannot be reached" in verdicts[0].reason
    assert verdicts[1].outcome is Outcome.INCONCLUSIVE  # the condition cannot read what was not measured
    held, _ = apply(s, AT_ANALYSIS, Tick(1.0, verdicts=verdicts))
    assert held.step == 1 and "inconclusive holds" in held.waiting
