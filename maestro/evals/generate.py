"""Calling a route for an eval: the route-calling core (``maestro.calls.RouteCaller``), the same decision and
attempts as the gateway, with the evals' errors (an unknown route is an EvalError, a refusal or a failure a
CaseError) and what the runner's caches need (the order a cache key reads, the route's version)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from maestro.calls import Answer, CallError, RouteCaller
from maestro.evals.errors import CaseError, EvalError

Generation = Answer  # one answer of the target: the text, who served it, what it cost and how long it took


class Caller(RouteCaller):
    """Sends chat requests through routes named in the manifests; one pooled client per provider."""

    def alias(self, route: str) -> str:
        try:
            return super().alias(route)
        except CallError as e:
            raise EvalError(str(e)) from None

    def order(self, route: str, messages: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
        """The deployments the router would try for ``messages`` on ``route``, primary first, less those whose
        key is unset (so a cached answer is not reused once a key is set and another deployment would serve)."""
        order = self.decide(route, messages).order
        return tuple(k for k in order if self.pool.missing_key(self.table.deployments[k].provider.name) is None)

    def close(self) -> None:
        """Release what the caller holds beyond the pool (nothing for a local caller)."""

    def workers(self) -> int:
        """Remote processes that served this caller's generations so far (0: all in this process)."""
        return 0

    def route_version(self, route: str) -> str:
        """The content hashes of a route and every deployment it could use (a judge's grades depend on them)."""
        table = self.table.route(self.alias(route))
        providers_used = sorted({d.provider.name for d in table.universe})
        versions = [self.table.versions.get(f"Provider/{p}", "") for p in providers_used]
        return ",".join([table.version, *(d.key for d in table.universe), *versions])

    async def chat(
        self,
        route: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> Generation:
        """The first answer from the decision's order; a CaseError when the router denies or all fail."""
        try:
            return await super().chat(route, messages, temperature=temperature, max_tokens=max_tokens)
        except CallError as e:
            raise CaseError(str(e)) from e
