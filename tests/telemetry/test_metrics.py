"""The gateway's Prometheus metrics: children kept by label values, rendered from the app's own registry."""

from __future__ import annotations

from maestro.telemetry import Metrics


def test_labels_give_the_same_child_each_time_and_count_into_it() -> None:
    m = Metrics()
    first = m.requests.labels("chat-route", "200")
    assert m.requests.labels("chat-route", "200") is first
    assert m.requests.labels(route="chat-route", status="200") is first  # keywords reach the same child
    first.inc()
    m.requests.labels("chat-route", "200").inc(2)
    m.latency.labels("chat-route").observe(0.003)
    m.circuit.labels("alpha/m1").set(2)
    text = m.render()[0].decode()
    assert 'maestro_gateway_requests_total{route="chat-route",status="200"} 3.0' in text
    assert 'maestro_gateway_request_seconds_bucket{le="0.005",route="chat-route"} 1.0' in text
    assert 'maestro_gateway_circuit_state{deployment="alpha/m1"} 2.0' in text


def test_each_app_has_its_own_registry() -> None:
    a, b = Metrics(), Metrics()
    a.requests.labels("r", "200").inc()
    assert 'route="r"' not in b.render()[0].decode()
