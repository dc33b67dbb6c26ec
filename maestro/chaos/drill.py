"""Run a chaos scenario: fake upstreams, a gateway in front of them, a paced load, and the report
(``chaos.report`` says what each number means)."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from maestro.chaos import canary, load
from maestro.chaos.canary import RolloutDrill
from maestro.chaos.load import ALIAS
from maestro.chaos.process import UpstreamProcess, UpstreamThread
from maestro.chaos.report import DrillReport, report
from maestro.chaos.scenario import Scenario, UpstreamSpec
from maestro.delivery.controller import Controller
from maestro.delivery.spec import resolve
from maestro.errors import UsageError
from maestro.gateway.app import create_app
from maestro.gateway.config import BreakerSettings, from_manifests
from maestro.gateway.runtime import Runtime
from maestro.gateway.serve import Background
from maestro.manifests.validate import validate


def run(scenario: Scenario, *, isolate: bool = False) -> DrillReport:
    """Run ``scenario``. With ``isolate`` each fake upstream, and the load, run in a process of their own (the
    drill's process then serves only the gateway); without, on threads of this process. On a two-core machine
    with other jobs, the isolated drill did worse (see docs/performance.md): a hop between processes waits for
    the scheduler each time, which the threads of one process mostly do not."""
    if isolate and scenario.rollout is not None:
        raise UsageError(f"scenario '{scenario.name}' runs a rollout: run it without --isolate")
    with ExitStack() as stack:
        kind = UpstreamProcess if isolate else UpstreamThread
        ups = [kind(u.name, u.faults, seed=i) for i, u in enumerate(scenario.upstreams)]
        ups.append(kind("baseline"))
        for up in ups:
            up.start()
            stack.callback(up.stop)
        for up in ups:
            up.ready()
        *fakes, baseline = ups
        urls = {up.name: up.url for up in fakes}
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="maestro-chaos-")))
        manifests = _manifests(scenario, urls, folder)
        state_path = ":memory:" if scenario.rollout is None else str(folder / "state.db")  # shared with the controller
        services = () if scenario.rollout is None else (Controller(state_path, actor=f"{ACTOR}-controller"),)
        config = from_manifests(
            manifests,
            environ={},
            breaker=BreakerSettings(scenario.failures, scenario.cooldown_s),
            stall_s=scenario.stall_s,
            state_path=state_path,
            services=services,
        )
        app = create_app(config)
        runtime: Runtime = app.state.runtime
        url = stack.enter_context(Background(app))
        base = asyncio.run(load.baseline(baseline.url, scenario))
        watch = None if scenario.rollout is None else _begin(scenario.rollout, manifests, state_path, urls)
        if isolate:
            started, outcomes = load.in_process(url, scenario, urls)
        else:
            started = time.monotonic()
            until = None if watch is None else watch.finished.is_set
            outcomes = asyncio.run(load.run(url, scenario.load, scenario.phases, urls, until))
        if watch is not None:
            watch.stop()
        calls = {up.name: up.calls() for up in fakes}
        return report(
            scenario,
            outcomes,
            baseline=base,
            calls=calls,
            runtime=runtime,
            table=config.table,
            started=started,
            rollout=None if watch is None else canary.measures(watch, calls[watch.drill.canary]),
        )


def _begin(drill: RolloutDrill, manifests: Any, state_path: str, urls: Mapping[str, str]) -> canary.Watch:
    """Start the drill's rollout (the gateway's controller then drives it) and the watch that injects the fault."""
    commands = Controller(state_path, actor=ACTOR)
    try:
        commands.begin(resolve(manifests, canary.NAME), ACTOR)
    finally:
        commands.close()
    watch = canary.Watch(state_path, drill, urls[drill.canary])
    watch.start()
    return watch


ACTOR = "chaos-drill"


def _manifests(scenario: Scenario, urls: Mapping[str, str], folder: Path) -> Any:
    docs: list[dict[str, Any]] = [_provider(u, urls[u.name], scenario.first_token) for u in scenario.upstreams]
    docs.append(
        {
            "apiVersion": "maestro.dev/v1",
            "kind": "Route",
            "metadata": {"name": "drill"},
            "spec": {
                "alias": ALIAS,
                "candidates": [
                    {"provider": n, "model": "m1", "weight": 0 if _is_canary(scenario, n) else 100}
                    for n in scenario.candidates
                ],
                **(
                    {"fallback": [{"provider": n, "model": "m1"} for n in scenario.fallback]}
                    if scenario.fallback
                    else {}
                ),
                "limits": {"firstTokenTimeout": scenario.first_token},
                "retry": {"attempts": scenario.retries, "backoff": scenario.backoff},
            },
        }
    )
    if scenario.rollout is not None:
        docs.append(canary.manifest(scenario.rollout, "drill"))
    (folder / "manifests").mkdir()
    # JSON is YAML: each document on its own, in a file the manifest loader reads
    text = "\n---\n".join(json.dumps(d) for d in docs)
    (folder / "manifests" / "drill.yaml").write_text(text + "\n", encoding="utf-8")
    result = validate([folder / "manifests"])
    if result.summary.errors:
        first = next(d for d in result.diagnostics if d.severity == "error")
        raise UsageError(f"scenario '{scenario.name}' makes invalid manifests: {first.message}")
    return result.manifests


def _is_canary(scenario: Scenario, name: str) -> bool:
    return scenario.rollout is not None and scenario.rollout.canary == name


def _provider(u: UpstreamSpec, url: str, first_token: str) -> dict[str, Any]:
    return {
        "apiVersion": "maestro.dev/v1",
        "kind": "Provider",
        "metadata": {"name": u.name},
        "spec": {
            "type": "openai-compatible",
            "baseUrl": url + "/v1",
            "jurisdiction": u.jurisdiction,
            "models": [
                {"name": "m1", "contextWindow": 100000, "price": {"inputPer1M": u.price_in, "outputPer1M": u.price_out}}
            ],
            "timeouts": {"connect": "1s", "firstToken": first_token, "total": "30s"},
        },
    }
