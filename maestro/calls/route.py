"""A whole call through a route by its name, for callers without HTTP in front (the evals, the pipeline
runtime, a rollout's analysis): the router's decision, the attempts (``try_order``), the answer read to its
end, and the evidence of what happened (``Answer``).

Errors::

    MaestroError
     └── CallError        the route is unknown, refused the request, or no deployment answered
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from maestro import providers, router
from maestro.calls.attempts import Attempt, CallerRefused, Exhausted, Opened, Plan, Tally, next_chunk, try_order
from maestro.calls.breaker import Breakers, Never
from maestro.calls.line import Counts, Line
from maestro.errors import MaestroError
from maestro.manifests.kinds.route import Route
from maestro.manifests.loader import ManifestSet


class CallError(MaestroError):
    """A route could not answer: it is unknown, it refused the request, or every deployment failed."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer through a route: the text, who served it, what it cost and how long it took, and the
    decision and attempts behind it."""

    output: str
    deployment: str
    cost_usd: float
    latency_ms: float
    input_tokens: int = 0
    output_tokens: int = 0
    decision_id: str = ""
    attempts: tuple[Attempt, ...] = ()
    tool_calls: tuple[Mapping[str, Any], ...] = ()  # the tool calls the model asked for (OpenAI format)


def aliases(manifests: ManifestSet) -> dict[str, str]:
    """Each Route's alias by its name."""
    return {r.name: r.alias for r in manifests.records(Route)}


def known(names: Mapping[str, str]) -> str:
    """The routes of ``names`` in words, for an error: "alias (name), ..." or "none"."""
    return ", ".join(f"{a} ({n})" for n, a in sorted(names.items())) or "none"


class _Sent:
    """Counts the upstream requests sent (answered or not)."""

    def __init__(self) -> None:
        self.requests = 0

    def attempt(self, key: str, outcome: str) -> None:
        if outcome != "hedge":
            self.requests += 1

    def panic_attempt(self, key: str) -> None:
        return None


class RouteCaller:
    """Calls routes named in ``manifests``; one pooled client per provider, one decision per call."""

    def __init__(self, manifests: ManifestSet, pool: providers.Pool, state: router.LiveState | None = None) -> None:
        self.table = router.build(manifests)
        self.pool = pool
        self.state = state or router.LiveState()
        self.aliases = aliases(manifests)
        self._sent = _Sent()
        counts: Counts = self._sent
        specs = providers.specs_of(manifests)
        self.line = Line(self.table.deployments, pool, specs, Breakers(Never()), counts=counts, patient=True)

    @property
    def requests(self) -> int:
        """Upstream requests sent so far (answered or not)."""
        return self._sent.requests

    @requests.setter
    def requests(self, value: int) -> None:
        self._sent.requests = value

    def alias(self, route: str) -> str:
        alias = self.aliases.get(route)
        if alias is None:
            raise CallError(f"no Route named '{route}'; known routes: {', '.join(sorted(self.aliases)) or 'none'}")
        return alias

    def decide(self, route: str, messages: Sequence[Mapping[str, Any]]) -> router.Decision:
        request = router.Request(alias=self.alias(route), messages=tuple(messages))
        return router.decide(self.table, request, self.state)

    def estimates(
        self, order: Sequence[str], messages: Sequence[Mapping[str, Any]], max_tokens: int | None
    ) -> dict[str, float]:
        """What a call could cost on each deployment of ``order``, at list price: the messages' estimated
        input tokens and ``max_tokens`` (else the router's default) of output."""
        tokens_in = router.estimate_tokens(messages)
        tokens_out = max_tokens or router.Request(alias="").max_output_tokens
        return {key: self.table.deployments[key].cost(tokens_in, tokens_out) for key in order}

    async def chat(
        self,
        route: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> Answer:
        """The first answer from the decision's order; a CallError when the router refuses or all fail."""
        return await self.complete(route, messages, temperature=temperature, max_tokens=max_tokens)

    async def complete(
        self,
        route: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        decision: router.Decision | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> Answer:
        """As ``chat``; with ``tools`` (OpenAI function tools) the answer carries the tool calls the model asked
        for, and with ``decision`` (one of ``decide``'s, its order cut by a cost cap) that order is tried.
        ``response_format`` (OpenAI's, e.g. ``{"type": "json_schema", "json_schema": {...}}``) goes to the
        upstream as is: OpenAI-compatible providers honour it, vLLM as a grammar on the decoding."""
        decision = decision or self.decide(route, messages)
        if decision.refusal is not None:
            raise CallError(f"route '{route}' serves no deployment for this request: {decision.refusal.reason}")
        body: dict[str, Any] = {"messages": list(messages)}
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if tools:
            body["tools"] = list(tools)
        if response_format is not None:
            body["response_format"] = dict(response_format)
        settings = self.table.route(decision.alias).settings
        plan = Plan(decision.order, body, settings, panic=decision.panic is not None)
        started = time.perf_counter()
        try:
            served = await try_order(self.line, plan, self._read)
        except Exhausted as e:
            raise CallError(f"every deployment of route '{route}' failed: {_faults(e.tally)}") from None
        except CallerRefused as e:
            raise CallError(f"{e.deployment} refused the request: {e.fault}") from e.fault
        message, usage = served.value
        text, d = message.get("content") or "", served.deployment
        return Answer(
            text,
            d.key,
            self.line.cost(d, usage),
            (time.perf_counter() - started) * 1000,
            usage.input_tokens,
            usage.output_tokens,
            decision.decision_id,
            tuple(served.tally.attempts),
            tuple(message.get("tool_calls") or ()),
        )

    async def _read(self, opened: Opened) -> tuple[dict[str, Any], providers.Usage]:
        """The whole answer of an opened stream: its first choice's message and the usage."""
        message: dict[str, Any] = {"role": "assistant", "content": None}
        for head in opened.head:
            _merge(message, head)
        while (chunk := await next_chunk(self.line, opened)) is not None:
            _merge(message, chunk)
        await opened.stream.aclose()
        return message, opened.stream.usage or providers.Usage()


def _merge(message: dict[str, Any], chunk: Mapping[str, Any]) -> None:
    for choice in chunk.get("choices") or []:
        if int(choice.get("index", 0)) == 0:
            merge_delta(message, choice.get("delta") or {})


def merge_delta(message: dict[str, Any], delta: Mapping[str, Any]) -> None:
    """Add one streamed delta to ``message``: its content, refusal, and tool-call pieces by index."""
    if delta.get("content"):
        message["content"] = (message["content"] or "") + delta["content"]
    if delta.get("refusal"):
        message["refusal"] = (message.get("refusal") or "") + delta["refusal"]
    for call in delta.get("tool_calls") or ():
        calls = message.setdefault("tool_calls", [])
        index = int(call.get("index", len(calls)))
        while len(calls) <= index:
            calls.append({"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
        target = calls[index]
        target["id"] = call.get("id") or target["id"]
        function = call.get("function") or {}
        target["function"]["name"] += function.get("name") or ""
        target["function"]["arguments"] += function.get("arguments") or ""


def _faults(tally: Tally) -> str:
    """Why each deployment did not answer: its provider fault, or why it was not tried (a key unset)."""
    reasons = [tally.faults.get(key) or f"{key}: {why}" for key, why in tally.reasons.items()]
    return "; ".join(reasons) or "no deployment could be tried"
