"""A throwaway manifest repository whose providers are fake upstreams on 127.0.0.1, and a served gateway."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maestro.chaos.upstream import FakeUpstream, Faults
from maestro.cli.request_files import load_manifests
from maestro.gateway import GatewayConfig, create_app, from_manifests
from maestro.gateway.serve import Background

ROOT = Path(__file__).resolve().parents[2]

PROVIDER = """apiVersion: maestro.dev/v1
kind: Provider
metadata: {{name: {name}}}
spec:
  type: {type}
  baseUrl: {url}
  apiKey: {{env: {env}}}
  jurisdiction: {jurisdiction}
  models:
    - {{name: m1, contextWindow: 100000, price: {{inputPer1M: {price_in}, outputPer1M: {price_out}}}{extra}}}
---
"""
ROUTE = """apiVersion: maestro.dev/v1
kind: Route
metadata: {{name: {name}}}
spec:
  alias: {alias}
  candidates:
{candidates}
  fallback:
{fallback}
  limits: {{firstTokenTimeout: 1s{limits}}}
  retry: {{attempts: {retries}, backoff: 10ms}}
---
"""
KEYS = {"alpha": "sk-alpha-secret-0001", "beta": "sk-beta-secret-0002", "gamma": "sk-gamma-secret-0003"}


@dataclass(frozen=True)
class Up:
    name: str
    jurisdiction: str = "us"
    type: str = "openai"
    price_in: float = 1.0
    price_out: float = 2.0
    max_output_tokens: int | None = None  # the model's maxOutputTokens (none declared by default)


def write_repo(root: Path, urls: Mapping[str, str], ups: list[Up], routes: str) -> Path:
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "policies", root / "policies", dirs_exist_ok=True)
    text = "".join(
        PROVIDER.format(
            name=u.name,
            type=u.type,
            url=urls[u.name] + "/v1",
            env=f"{u.name.upper()}_API_KEY",
            jurisdiction=u.jurisdiction,
            price_in=u.price_in,
            price_out=u.price_out,
            extra="" if u.max_output_tokens is None else f", maxOutputTokens: {u.max_output_tokens}",
        )
        for u in ups
    )
    (root / "manifests" / "providers.yaml").write_text(text + routes, encoding="utf-8")
    return root


def route(name: str, alias: str, candidates: list[str], fallback: list[str], retries: int = 0, limits: str = "") -> str:
    def entries(names: list[str], weight: bool) -> str:
        return (
            "\n".join(f"    - {{provider: {n}, model: m1{', weight: 100' if weight else ''}}}" for n in names)
            or "    []"
        )

    text = ROUTE.format(
        name=name,
        alias=alias,
        candidates=entries(candidates, True),
        fallback=entries(fallback, False),
        retries=retries,
        limits=limits,
    )
    return text.replace("  fallback:\n    []\n", "")


def environ() -> dict[str, str]:
    return {f"{name.upper()}_API_KEY": key for name, key in KEYS.items()} | {"MAESTRO_ADMIN_TOKEN": "admin-token"}


@dataclass
class Rig:
    fakes: dict[str, FakeUpstream]
    urls: dict[str, str]
    repo: Path
    config: GatewayConfig


@contextmanager
def rig(
    tmp: Path, ups: list[Up], routes: str, faults: Mapping[str, Faults] | None = None, **options: Any
) -> Iterator[Rig]:
    """Fake upstreams served, the repository written, the config built (the gateway is not served)."""
    faults = faults or {}
    with ExitStack() as stack:
        fakes = {u.name: FakeUpstream(u.name, faults.get(u.name, Faults())) for u in ups}
        urls = {name: stack.enter_context(Background(f.app())) for name, f in fakes.items()}
        repo = write_repo(tmp, urls, ups, routes)
        options.setdefault("environ", environ())
        config = from_manifests(load_manifests([repo / "manifests", repo / "policies"]), **options)
        yield Rig(fakes, urls, repo, config)


@contextmanager
def served(config: GatewayConfig) -> Iterator[str]:
    with Background(create_app(config)) as url:
        yield url


def two_up(tmp: Path, faults: Mapping[str, Faults] | None = None, retries: int = 0, **options: Any) -> Any:
    """alpha (primary) and beta (fallback) behind the alias ``chat``."""
    ups = [Up("alpha"), Up("beta", price_in=0.5, price_out=1.0)]
    return rig(tmp, ups, route("chat-route", "chat", ["alpha"], ["beta"], retries), faults, **options)


def sse_body(words: tuple[str, ...] = ("Hi", " there"), usage: bool = True) -> bytes:
    """An OpenAI streamed answer, as the bytes an upstream sends."""
    import json

    def event(choices: list[dict[str, Any]], **extra: Any) -> str:
        data = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m1", "choices": choices, **extra}
        return f"data: {json.dumps(data)}\n\n"

    out = event([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
    out += "".join(event([{"index": 0, "delta": {"content": w}, "finish_reason": None}]) for w in words)
    out += event([{"index": 0, "delta": {}, "finish_reason": "stop"}])
    if usage:
        out += event([], usage={"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9})
    return (out + "data: [DONE]\n\n").encode()


def offline_config(
    tmp: Path, transports: Mapping[str, Any], ups: list[Up] | None = None, routes: str | None = None, **options: Any
) -> GatewayConfig:
    """A config whose upstreams are ``httpx.MockTransport``s (in-process tests)."""
    ups = ups or [Up("alpha"), Up("beta", price_in=0.5, price_out=1.0)]
    routes = routes or route("chat-route", "chat", ["alpha"], ["beta"])
    repo = write_repo(tmp, {u.name: f"http://{u.name}.invalid" for u in ups}, ups, routes)
    options.setdefault("environ", environ())
    return from_manifests(load_manifests([repo / "manifests", repo / "policies"]), transports=transports, **options)
