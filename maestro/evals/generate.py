"""Calling a route the way the gateway does: the router's decision, then each deployment in its order until one
answers, falling back on a ``ProviderFault``. The answer is collected from the stream with its usage, cost
(the model's list price) and latency."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from maestro import providers, router
from maestro.evals.errors import CaseError, EvalError
from maestro.manifests.kinds.route import Route
from maestro.manifests.loader import ManifestSet


@dataclass(frozen=True, slots=True)
class Generation:
    """One answer of the target: the text, who served it, what it cost and how long it took."""

    output: str
    deployment: str
    cost_usd: float
    latency_ms: float
    input_tokens: int = 0
    output_tokens: int = 0


class Caller:
    """Sends chat requests through routes named in the manifests; one pooled client per provider."""

    def __init__(self, manifests: ManifestSet, pool: providers.Pool, state: router.LiveState | None = None) -> None:
        self.table = router.build(manifests)
        self.pool = pool
        self.state = state or router.LiveState()
        self.aliases = {r.name: r.alias for r in manifests.records(Route)}
        self.requests = 0  # upstream requests sent (answered or not)

    def order(self, route: str, messages: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
        """The deployments the router would try for ``messages`` on ``route``, primary first, less those whose
        key is unset (so a cached answer is not reused once a key is set and another deployment would serve)."""
        order = self._decide(route, messages).order
        return tuple(k for k in order if self.pool.missing_key(self.table.deployments[k].provider.name) is None)

    def close(self) -> None:
        """Release what the caller holds beyond the pool (nothing for a local caller)."""

    def workers(self) -> int:
        """Remote processes that served this caller's generations so far (0: all in this process)."""
        return 0

    def route_version(self, route: str) -> str:
        """The content hashes of a route and every deployment it could use (a judge's grades depend on them)."""
        alias = self.aliases.get(route)
        if alias is None:
            raise EvalError(f"no Route named '{route}'; known routes: {', '.join(sorted(self.aliases)) or 'none'}")
        table = self.table.route(alias)
        providers_used = sorted({d.provider.name for d in table.universe})
        versions = [self.table.versions.get(f"Provider/{p}", "") for p in providers_used]
        return ",".join([table.version, *(d.key for d in table.universe), *versions])

    def _decide(self, route: str, messages: Sequence[Mapping[str, Any]]) -> router.Decision:
        alias = self.aliases.get(route)
        if alias is None:
            known = ", ".join(sorted(self.aliases)) or "none"
            raise EvalError(f"no Route named '{route}'; known routes: {known}")
        request = router.Request(alias=alias, messages=tuple(messages))
        return router.decide(self.table, request, self.state)

    async def chat(
        self,
        route: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> Generation:
        """The first answer from the decision's order; a CaseError when the router denies or all fail."""
        decision = self._decide(route, messages)
        if decision.denied or not decision.order:
            reasons = "; ".join(f"{r.deployment}: {r.reason}" for r in decision.removed[:3])
            raise CaseError(f"route '{route}' serves no deployment for this case: {decision.denied or reasons}")
        body: dict[str, Any] = {"messages": list(messages)}
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        faults: list[str] = []
        for key in decision.order:
            deployment = self.table.deployments[key]
            missing = self.pool.missing_key(deployment.provider.name)
            if missing is not None:  # as the gateway does: no call that can only fail
                faults.append(f"{key}: {missing}")
                continue
            try:
                return await self._one(key, deployment, body)
            except providers.ProviderFault as e:
                faults.append(str(e))
            except providers.CallerFault as e:
                raise CaseError(f"{key} refused the request: {e}") from e
        raise CaseError(f"every deployment of route '{route}' failed: {'; '.join(faults)}")

    async def _one(self, key: str, deployment: router.Deployment, body: Mapping[str, Any]) -> Generation:
        client = self.pool[deployment.provider.name]
        started = time.perf_counter()
        self.requests += 1
        stream = await client.open(body, model=deployment.model)
        parts: list[str] = []
        try:
            async for chunk in stream:
                for choice in chunk.get("choices") or []:
                    content = (choice.get("delta") or {}).get("content")
                    if isinstance(content, str):
                        parts.append(content)
        finally:
            await stream.aclose()
        latency_ms = (time.perf_counter() - started) * 1000
        usage = stream.usage or providers.Usage()
        cost = deployment.cost(usage.input_tokens, usage.output_tokens)
        return Generation("".join(parts), key, cost, latency_ms, usage.input_tokens, usage.output_tokens)
