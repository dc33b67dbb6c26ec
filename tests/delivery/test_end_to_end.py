"""Two real `maestro gateway` processes sharing one SQLite state store, fake upstreams on 127.0.0.1: a canary
that fails half its requests is rolled back, and neither process sends it traffic afterwards."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from helpers.cli import run_cli
from helpers.delivery import CANARY, gateway_process
from helpers.gateway import Up, environ, rig
from helpers.timing import within

from maestro import state
from maestro.chaos.upstream import Faults
from maestro.delivery.machine import Phase
from maestro.delivery.store import RolloutStore
from maestro.state.weights import LiveWeights

ROUTES = """apiVersion: maestro.dev/v1
kind: Route
metadata: {name: chat-route}
spec:
  alias: chat
  candidates:
    - {provider: alpha, model: m1, weight: 100}
    - {provider: beta, model: m1, weight: 0}
  fallback:
    - {provider: alpha, model: m1}
  limits: {firstTokenTimeout: 2s}
---
apiVersion: maestro.dev/v1
kind: Rollout
metadata: {name: chat-beta}
spec:
  target: {kind: Route, name: chat-route}
  change: {from: alpha/m1, to: beta/m1}
  steps:
    - setWeight: 50
    - analysis: health
    - setWeight: 100
  analysis:
    - name: health
      metrics: [{name: error_rate, source: gateway}]
"""


def _ask(client: httpx.Client, url: str) -> str:
    r = client.post(
        url + "/v1/chat/completions", json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]}
    )
    return r.headers.get("x-maestro-served-by", "")


def test_a_failing_canary_is_rolled_back_in_both_processes(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    ups = [Up("alpha"), Up("beta")]
    with rig(tmp_path, ups, ROUTES, {"beta": Faults(error_rate=0.5)}) as r:
        manifests = ["-m", str(r.repo / "manifests"), "-m", str(r.repo / "policies")]
        env = environ()
        with gateway_process(r.repo, db, env) as one, gateway_process(r.repo, db, env) as two, httpx.Client() as c:
            started = run_cli("rollout", "start", "chat-beta", *manifests, "--state", str(db), "--no-ledger")
            assert started.exit_code == 0, started.output
            conn = state.connect(db)
            store = RolloutStore(conn)
            # traffic until the controller (ticking in the gateways) decides; bounded by time, not by a count of
            # requests: a fast machine sends thousands before the controller's first ticks (a hang guard only)
            deadline = time.monotonic() + within(60)
            while (s := store.get("chat-beta")) is not None and s.state.phase is Phase.PROGRESSING:
                if time.monotonic() > deadline:
                    break
                _ask(c, one)
                _ask(c, two)
            assert s is not None and s.state.phase is Phase.ROLLED_BACK, s
            assert LiveWeights(conn).current()["chat-route"][CANARY] == 0.0
            calls = len(r.fakes["beta"].calls)
            assert calls > 0  # the canary did get traffic before
            served = {_ask(c, url) for url in (one, two) for _ in range(25)}
            assert served == {"alpha/m1"} and len(r.fakes["beta"].calls) == calls
            events = [e["event"] for e in store.events("chat-beta")]
            assert events == ["start", "setWeight", "rollback"]
            failed = [v for v in store.verdicts("chat-beta") if v["outcome"] == "fail"]
            assert failed and failed[0]["metric"] in {"error_rate", "error_rate_change"}, store.verdicts("chat-beta")
            assert "hard guard" in str(failed[0]["reason"]) or "canary errors rose" in str(failed[0]["reason"])
            conn.close()
