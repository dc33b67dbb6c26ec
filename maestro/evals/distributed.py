"""``--executor ray``: the model calls of a run spread over a Ray cluster.

The driver keeps everything that must be in one place (the router's decisions for cache keys, the caches in
the state store, grading, the scorecard); each uncached generation, and each judge call, goes to one of a
pool of Ray actors. Every actor validates the manifests once from their bytes (shipped with the actor, so
workers need no checkout) and keeps its own pooled provider clients; the provider keys the manifests name
are passed from the driver's environment. Ray is the optional extra ``maestro-ai[ray]``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Mapping, Sequence
from typing import Any

from maestro import providers
from maestro.errors import MaestroError
from maestro.evals.errors import CaseError, EvalError
from maestro.evals.generate import Caller, Generation
from maestro.manifests.loader import ManifestSet, SourceFile


class _Worker:
    """A Ray actor: one Caller over the shipped manifests."""

    def __init__(self, sources: list[SourceFile], environ: dict[str, str]) -> None:
        from maestro.manifests.validate import validate_sources

        manifests = validate_sources(sources).manifests
        self.caller = Caller(manifests, providers.pool(providers.specs_of(manifests), environ))

    async def chat(
        self, route: str, messages: list[dict[str, Any]], temperature: float | None, max_tokens: int | None = None
    ) -> tuple[Generation, int]:
        return await self.caller.chat(route, messages, temperature=temperature, max_tokens=max_tokens), os.getpid()


def _ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise EvalError("--executor ray needs Ray: pip install 'maestro-ai[ray]'") from e
    return ray


class RayCaller(Caller):
    """A Caller whose ``chat`` runs on Ray actors; decisions for cache keys stay local."""

    def __init__(
        self,
        manifests: ManifestSet,
        pool: providers.Pool,
        sources: Sequence[SourceFile],
        *,
        workers: int,
        address: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(manifests, pool)
        ray = _ray()
        if not ray.is_initialized():
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise EvalError(f"cannot reach the Ray cluster at {address or 'a new local one'}: {e}") from e
        env = os.environ if environ is None else environ
        keys = {spec.api_key_env for spec in providers.specs_of(manifests).values() if spec.api_key_env}
        shipped = {k: env[k] for k in keys if k in env}
        actor = ray.remote(_Worker)
        self.actors = [actor.remote(list(sources), shipped) for _ in range(max(1, workers))]
        self._next = itertools.cycle(self.actors)
        self.pids: set[int] = set()

    async def chat(
        self,
        route: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> Generation:
        self.requests += 1
        ray = _ray()
        ref = next(self._next).chat.remote(route, [dict(m) for m in messages], temperature, max_tokens)
        try:
            generation, pid = await asyncio.wrap_future(ref.future())
        except ray.exceptions.RayTaskError as e:
            cause = e.cause
            if isinstance(cause, CaseError):
                raise CaseError(str(cause)) from None
            if isinstance(cause, MaestroError):
                raise EvalError(str(cause)) from None
            raise CaseError(f"a Ray worker failed on this case: {type(cause).__name__}: {cause}") from None
        except ray.exceptions.RayError as e:
            raise CaseError(f"a Ray worker was lost on this case: {str(e).splitlines()[0]}") from None
        self.pids.add(pid)
        return generation  # type: ignore[no-any-return]

    def workers(self) -> int:
        return len(self.pids)

    def close(self) -> None:
        ray = _ray()
        for actor in self.actors:
            ray.kill(actor)
