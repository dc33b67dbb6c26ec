"""The gateway and its vLLM lanes: /metrics polled into spill and circuit, replicas chosen by prompt prefix.

The lanes are fake OpenAI upstreams on 127.0.0.1 that also serve vLLM-style ``/metrics``; the gateway is the
real app on uvicorn, so its lifespan starts the pollers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from helpers.gateway import ROOT, served
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from maestro.chaos.upstream import FakeUpstream
from maestro.cli.request_files import load_manifests
from maestro.gateway import from_manifests
from maestro.gateway.config import BreakerSettings
from maestro.gateway.serve import Background
from maestro.lane import registry

MANIFESTS = """apiVersion: maestro.dev/v1
kind: Provider
metadata: {{name: lane}}
spec:
  type: vllm
  baseUrl: {lane}/v1
  jurisdiction: onprem
  models:
    - {{name: m1, contextWindow: 4096, price: {{inputPer1M: 0, outputPer1M: 0}}}}
  serve:
    servedName: m1
    saturation: {{maxWaiting: 16, maxKvCacheUsage: 0.9}}
---
apiVersion: maestro.dev/v1
kind: Provider
metadata: {{name: cloud}}
spec:
  type: openai
  baseUrl: {cloud}/v1
  apiKey: {{env: CLOUD_API_KEY}}
  jurisdiction: onprem
  models:
    - {{name: m1, contextWindow: 4096, price: {{inputPer1M: 1, outputPer1M: 2}}}}
---
apiVersion: maestro.dev/v1
kind: Route
metadata: {{name: local-first}}
spec:
  alias: chat
  candidates:
    - {{provider: lane, model: m1, weight: 100}}
  fallback:
    - {{provider: cloud, model: m1}}
  limits: {{firstTokenTimeout: 2s}}
"""


@dataclass
class FakeLane:
    """A fake upstream that also answers ``/metrics`` with ``waiting`` requests queued."""

    upstream: FakeUpstream
    waiting: float = 0.0
    kv: float = 0.1

    def app(self) -> Starlette:
        app = self.upstream.app()
        app.router.routes.append(Route("/metrics", self._metrics))
        return app

    async def _metrics(self, request: Request) -> Response:
        labels = '{engine="0",model_name="m1"}'
        return PlainTextResponse(
            f"# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{labels} {self.waiting}\n"
            f"# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{labels} {self.kv}\n"
        )


def ask(url: str, text: str = "Hi", system: str | None = None) -> httpx.Response:
    messages = [{"role": "system", "content": system}] if system else []
    body = {"model": "chat", "messages": [*messages, {"role": "user", "content": text}]}
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=10)


def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.05)


@contextmanager
def gateway(tmp_path: Path, lane_url: str, cloud_url: str, store: Path | None = None) -> Iterator[str]:
    (tmp_path / "manifests").mkdir(exist_ok=True)
    (tmp_path / "manifests" / "m.yaml").write_text(MANIFESTS.format(lane=lane_url, cloud=cloud_url))
    manifests = load_manifests([tmp_path / "manifests", ROOT / "policies"])
    config = from_manifests(
        manifests,
        environ={"CLOUD_API_KEY": "sk-cloud"},
        lane_poll_s=0.05,
        state_path=store or ":memory:",
        breaker=BreakerSettings(failures=1000),  # only the lane's own signal opens its circuit here
    )
    with served(config) as url:
        yield url


def served_by(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.headers["x-maestro-served-by"]


def test_a_saturated_lane_spills_and_a_dead_one_falls_back_without_an_attempt(tmp_path: Path) -> None:
    lane, cloud = FakeLane(FakeUpstream("lane")), FakeUpstream("cloud")
    with ExitStack() as stack:
        lane_server = Background(lane.app())
        lane_url = stack.enter_context(lane_server)
        url = stack.enter_context(gateway(tmp_path, lane_url, stack.enter_context(Background(cloud.app()))))

        assert served_by(ask(url)) == "lane/m1"

        lane.waiting = 20  # past maxWaiting 16: spill
        eventually(lambda: served_by(ask(url)) == "cloud/m1")
        explained = ask(url)
        assert explained.headers["x-maestro-attempts"] == "1"  # the router removed the lane: no attempt

        lane.waiting = 0
        eventually(lambda: served_by(ask(url)) == "lane/m1")

        lane_server.__exit__(None, None, None)  # the lane dies
        eventually(lambda: served_by(ask(url)) == "cloud/m1" and ask(url).headers["x-maestro-attempts"] == "1")
        for _ in range(5):
            response = ask(url)
            assert served_by(response) == "cloud/m1" and response.headers["x-maestro-attempts"] == "1"


def test_requests_sharing_a_prefix_stay_on_one_replica(tmp_path: Path) -> None:
    replicas = [FakeLane(FakeUpstream(f"replica-{i}")) for i in range(3)]
    cloud = FakeUpstream("cloud")
    store = tmp_path / "state.db"
    with ExitStack() as stack:
        servers = [Background(r.app()) for r in replicas]
        urls = [stack.enter_context(s) for s in servers]
        conn = registry.connect(store)
        conn.execute(
            "INSERT INTO lane_deployments (name, deployment, base_url, status, circuit, updated_at) "
            "VALUES ('lane', 'lane/m1', ?, 'ready', 'closed', 0)",
            (f"{urls[0]}/v1",),
        )
        registry.record_replicas(conn, "lane", urls)
        conn.close()
        url = stack.enter_context(gateway(tmp_path, urls[0], stack.enter_context(Background(cloud.app())), store))

        def counts() -> list[int]:
            return [len(r.upstream.calls) for r in replicas]

        # a long shared system prompt (past the 512 characters the affinity key reads), different questions
        prompts = [f"You are support agent {i}. " + "Follow the refund policy to the letter. " * 16 for i in range(12)]

        def replica_for(prompt: str, question: str) -> int:
            before = counts()
            assert served_by(ask(url, question, system=prompt)) == "lane/m1"
            return next(i for i, n in enumerate(counts()) if n > before[i])

        chosen = {p: replica_for(p, "Where is my parcel?") for p in prompts}
        for prompt in prompts:
            for question in ("Can I return shoes?", "How long does a refund take?"):
                assert replica_for(prompt, question) == chosen[prompt]  # the same prefix, the same replica
        assert len(set(chosen.values())) >= 2  # different prefixes spread over the replicas

        dead = chosen[prompts[0]]
        servers[dead].__exit__(None, None, None)
        time.sleep(0.6)  # a dozen polls: the replica reads as dead
        moved = replica_for(prompts[0], "Where is my parcel?")
        assert moved != dead  # its keys go to a live replica; the lane as a whole stays up
        for prompt in (p for p in prompts if chosen[p] != dead):
            assert replica_for(prompt, "Where is my parcel?") == chosen[prompt]  # the others' keys stay put


def test_a_lane_that_is_not_running_is_skipped_without_an_attempt(tmp_path: Path) -> None:
    cloud = FakeUpstream("cloud")
    with ExitStack() as stack:
        stopped = Background(FakeLane(FakeUpstream("lane")).app())
        lane_url = stopped.url
        stopped.sock.close()  # a port nobody listens on
        url = stack.enter_context(gateway(tmp_path, lane_url, stack.enter_context(Background(cloud.app()))))
        response = ask(url)
        assert served_by(response) == "cloud/m1"
        assert response.headers["x-maestro-attempts"] == "1"


def test_the_passed_over_header_says_why_the_primary_did_not_serve(tmp_path: Path) -> None:
    lane, cloud = FakeLane(FakeUpstream("lane")), FakeUpstream("cloud")
    with ExitStack() as stack:
        lane_url = stack.enter_context(Background(lane.app()))
        cloud_url = stack.enter_context(Background(cloud.app()))
        text = (
            MANIFESTS.format(lane=lane_url, cloud=cloud_url)
            .replace("- {provider: lane, model: m1, weight: 100}", "- {provider: cloud, model: m1, weight: 100}")
            .replace(
                "  fallback:\n    - {provider: cloud, model: m1}", "  fallback:\n    - {provider: lane, model: m1}"
            )
        )
        (tmp_path / "manifests").mkdir()
        (tmp_path / "manifests" / "m.yaml").write_text(text)
        config = from_manifests(load_manifests([tmp_path / "manifests", ROOT / "policies"]), environ={})
        url = stack.enter_context(served(config))
        response = ask(url)
        assert served_by(response) == "lane/m1"
        assert response.headers["x-maestro-passed-over"] == "cloud/m1: its API key is not set: $CLOUD_API_KEY is empty"
        assert "sk-" not in str(response.headers)
