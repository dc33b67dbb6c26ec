"""``POST /v1/chat/completions``: check, decide (the router judges the kill switch and refuses with a typed
reason), reserve the budgets, try the order, answer."""

from __future__ import annotations

import asyncio
import hmac
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio.to_thread
from opentelemetry import trace
from opentelemetry.trace import Span
from starlette.requests import ClientDisconnect
from starlette.requests import Request as HttpRequest
from starlette.responses import Response, StreamingResponse

from maestro.calls import CallerRefused, Exhausted, Opened, Plan, Served, try_order
from maestro.errors import MaestroError
from maestro.gateway.body import ChatCall, parse_chat
from maestro.gateway.budgets import BudgetRefused, Reservation
from maestro.gateway.config import ApiKey
from maestro.gateway.errors import GatewayError, unavailable
from maestro.gateway.lanes import Lanes
from maestro.gateway.relay import Buffered, StreamEnd, buffer, relay
from maestro.gateway.responses import (
    ATTEMPTS,
    COST,
    SERVED_BY,
    decision_headers,
    error_response,
    json_response,
    passed_over,
)
from maestro.gateway.runtime import Runtime
from maestro.gateway.shadow import Shadows
from maestro.gateway.shedding import take_slot
from maestro.providers import Usage
from maestro.router import Decision, Deployment, Refusal, RefusalKind, Stage, decide, estimate_tokens
from maestro.telemetry import attributes as attr
from maestro.telemetry import tracing

_LANE_STAGES = frozenset({Stage.CIRCUIT, Stage.SATURATED})  # removals a lane's /metrics signal can explain
_ANONYMOUS = ApiKey("")


@dataclass
class _Ctx:
    """One request's progress, for the headers and the bookkeeping at its end."""

    call: ChatCall
    key: ApiKey
    span: Span
    started: float
    decision: Decision | None = None
    reservation: Reservation | None = None
    headers: dict[str, str] = field(default_factory=decision_headers)


class Chat:
    def __init__(self, rt: Runtime, shadows: Shadows) -> None:
        self.rt = rt
        self.shadows = shadows
        # decisions run off the event loop, one at a time: they are CPU work under the GIL, so a second
        # thread would add no throughput, only make the event loop wait longer for its turn
        self._deciding = anyio.CapacityLimiter(1)

    async def __call__(self, request: HttpRequest) -> Response:
        started = time.perf_counter()
        config = self.rt.config
        try:
            key = authenticate(config.api_keys, request.headers)  # on the headers, before any body is read
            raw = await read_body(request, config.max_body_bytes, config.body_timeout_s)
            call = parse_chat(
                raw,
                request.headers,
                request.headers.get("x-request-id") or uuid.uuid4().hex,
                config.table,
                key=key if config.api_keys else None,
                default_max_tokens=config.default_max_tokens,
            )
            take_slot(request.scope)  # in flight from here on, not while a slow body trickles in
        except GatewayError as e:
            self.rt.metrics.requests.labels("none", str(e.status)).inc()
            return error_response(e)
        except ClientDisconnect:  # the caller went away before its body arrived: nobody to answer
            self.rt.metrics.requests.labels("none", "499").inc()
            return error_response(GatewayError(499, "the client closed the connection", "client_closed"))
        ctx = _Ctx(call, key, self.rt.tracer.start_request(call.request.alias), started)
        streaming = False
        try:
            with trace.use_span(ctx.span, end_on_exit=False):
                response = await self._serve(ctx)
            streaming = isinstance(response, StreamingResponse)
            return response
        except GatewayError as e:
            tracing.fail(ctx.span, e.code, e.message)
            await self._done(ctx, None, 0.0, e.status)
            return error_response(e, ctx.headers)
        finally:
            if not streaming:
                ctx.span.end()

    async def _serve(self, ctx: _Ctx) -> Response:
        rt, call = self.rt, ctx.call
        # content detection and the token estimate read the whole body: off the event loop
        snapshot = rt.live.snapshot()
        decision = await anyio.to_thread.run_sync(
            decide, rt.config.table, call.request, snapshot, limiter=self._deciding
        )
        ctx.decision = decision
        ctx.headers = decision_headers(decision.route, None, decision.decision_id)
        ctx.span.set_attribute(attr.ROUTE, decision.route)
        ctx.span.set_attribute(attr.DECISION_ID, decision.decision_id)
        if decision.refusal is not None:
            raise _refused(decision, decision.refusal, rt.lanes)
        ctx.reservation = await self._reserve(ctx, decision)
        settings, order = rt.config.route(decision.route), ctx.reservation.order
        estimates = self._estimates(ctx, order) if settings.hedge_after_s is not None else {}
        limits = {k: call.output_tokens(rt.config.table.deployments[k]) for k in order}
        plan = Plan(
            order,
            dict(call.upstream),
            settings,
            estimates,
            limits,
            call.limit_field,
            route=decision.route,
            panic=decision.panic is not None,
        )
        if decision.panic:
            rt.metrics.panics.labels(decision.route).inc()
        if decision.shadow:
            self.shadows.launch(decision, partial(_body_for, call))
        try:
            if call.stream:
                opened = await try_order(rt.line, plan, _opened)
                return self._stream(ctx, opened)
            served = await try_order(rt.line, plan, partial(buffer, rt))
        except Exhausted as e:
            ctx.headers[ATTEMPTS] = str(len(e.tally.attempts))
            raise unavailable(
                "every deployment allowed for this request is unavailable",
                "no_deployment_available",
                _reasons(decision, e.tally.reasons, rt.lanes),
            ) from None
        except CallerRefused as e:
            ctx.headers.update({SERVED_BY: e.deployment, ATTEMPTS: str(len(e.tally.attempts))})
            tracing.fail(ctx.span, f"http.{e.fault.status}", str(e.fault))
            status = e.fault.status or 400
            await self._done(ctx, None, 0.0, status)
            return json_response(dict(e.fault.body), status, ctx.headers)
        return await self._answer(ctx, served)

    async def _answer(self, ctx: _Ctx, served: Served[Buffered]) -> Response:
        d, value = served.deployment, served.value
        usage = value.usage or _estimate(ctx.call, _content_chars(value.completion))
        cost = self.rt.line.cost(d, usage)
        ctx.headers.update({SERVED_BY: d.key, COST: f"{cost:.8f}", ATTEMPTS: str(len(served.tally.attempts))})
        ctx.headers.update(passed_over(served.tally.reasons, d.key))
        tracing.usage(ctx.span, value.model, usage.input_tokens, usage.output_tokens, cost)
        await self._done(ctx, d, cost, 200, usage)
        self.rt.observations.sample(ctx.headers["x-maestro-route"], d.key, _content(value.completion))
        return json_response(value.completion, 200, ctx.headers)

    def _stream(self, ctx: _Ctx, served: Served[Opened]) -> Response:
        d = served.deployment
        estimate = d.cost(estimate_tokens(ctx.call.request.messages), ctx.call.output_tokens(d))
        ctx.headers.update(
            {
                SERVED_BY: d.key,
                COST: f"{estimate:.8f}",
                "x-maestro-cost-kind": "estimate",
                ATTEMPTS: str(len(served.tally.attempts)),
                **passed_over(served.tally.reasons, d.key),
            }
        )
        self.rt.metrics.latency.labels(ctx.headers["x-maestro-route"]).observe(
            time.perf_counter() - ctx.started, _exemplar(ctx)
        )

        async def finish(end: StreamEnd) -> float:
            usage = end.usage or _estimate(ctx.call, end.output_chars)
            cost = self.rt.line.cost(d, usage)
            tracing.usage(ctx.span, served.value.stream.model, usage.input_tokens, usage.output_tokens, cost)
            if end.error is not None:
                tracing.fail(ctx.span, end.error.kind.value, str(end.error))
            await self._done(ctx, d, cost, 200, usage, observe=False)
            ctx.span.end()
            return cost

        body = relay(self.rt, served.value, ctx.call.include_usage, finish)
        return StreamingResponse(body, 200, ctx.headers, media_type="text/event-stream")

    def _estimates(self, ctx: _Ctx, order: tuple[str, ...]) -> dict[str, float]:
        """Each deployment's estimated cost for this request: the messages' tokens and the output limit sent to
        it (``max_tokens`` capped by its ``maxOutputTokens``) at list price. Never the caller's own counts."""
        call, table = ctx.call, self.rt.config.table
        tokens = estimate_tokens(call.request.messages)
        return {k: table.deployments[k].cost(tokens, call.output_tokens(table.deployments[k])) for k in order}

    async def _reserve(self, ctx: _Ctx, decision: Decision) -> Reservation:
        budgets = self.rt.budgets
        applicable = budgets.applicable(decision.route, ctx.call.request.team, ctx.key.id)
        if not applicable:
            return Reservation((), decision.order, ())
        estimates = self._estimates(ctx, decision.order)
        try:
            reservation = await self.rt.store.write(partial(budgets.reserve, applicable, decision.order, estimates))
        except BudgetRefused as e:
            self.rt.metrics.budget_refusals.labels(e.budget.name).inc()
            raise GatewayError(429, str(e), "budget_exceeded", "insufficient_quota") from None
        for name in reservation.alerts:
            self.rt.metrics.budget_refusals.labels(name).inc()
        return reservation

    async def _done(
        self,
        ctx: _Ctx,
        d: Deployment | None,
        cost: float,
        status: int,
        usage: Usage | None = None,
        *,
        observe: bool = True,
    ) -> None:
        m, route = self.rt.metrics, ctx.headers["x-maestro-route"]
        m.requests.labels(route, str(status)).inc()
        if observe:
            m.latency.labels(route).observe(time.perf_counter() - ctx.started, _exemplar(ctx))
        if ctx.reservation is not None and ctx.reservation.ids:
            try:
                await self.rt.store.write(partial(self.rt.budgets.settle, ctx.reservation, cost))
            except GatewayError as e:  # the store stayed locked: the reservation expires, charged as reserved
                ctx.span.add_event("settle-failed", {"message": e.message})
        if d is not None:
            m.cost.labels(route, d.key).inc(cost, _exemplar(ctx))
            ctx.span.set_attribute(attr.SERVED_BY, d.key)
            if usage is not None:
                self.rt.limits.used(d.provider.name, usage.input_tokens + usage.output_tokens)
                m.tokens.labels(d.key, "input").inc(usage.input_tokens)
                m.tokens.labels(d.key, "output").inc(usage.output_tokens)
        if self.rt.config.record is not None and ctx.decision is not None:
            try:
                self.rt.config.record(ctx.decision, d.key if d else None, cost)
            except MaestroError as e:  # a sink that refuses must not take the answer down with it
                ctx.span.add_event("record-failed", {"message": str(e)})


def _exemplar(ctx: _Ctx) -> dict[str, str] | None:
    """The decision id as an OpenMetrics exemplar (none before a decision)."""
    return None if ctx.decision is None else {"decision_id": ctx.decision.decision_id}


async def _opened(opened: Opened) -> Opened:
    return opened


async def read_body(request: HttpRequest, limit: int, timeout_s: float) -> bytes:
    """The whole body, at most ``limit`` bytes, arrived within ``timeout_s`` (else 413 or 408)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise GatewayError(413, f"the body is over the {limit}-byte limit", "body_too_large")
    raw = bytearray()
    try:
        async with asyncio.timeout(timeout_s):
            async for part in request.stream():
                raw += part
                if len(raw) > limit:
                    raise GatewayError(413, f"the body is over the {limit}-byte limit", "body_too_large")
    except TimeoutError:
        raise GatewayError(
            408, f"the body did not arrive within {timeout_s:g} s; send it at once, then retry", "body_timeout"
        ) from None
    return bytes(raw)


def authenticate(keys: Mapping[str, ApiKey], headers: Mapping[str, str]) -> ApiKey:
    """The caller's gateway key; when no keys are configured every caller is anonymous."""
    if not keys:
        return _ANONYMOUS
    token = headers.get("authorization", "").removeprefix("Bearer ").strip()
    for known, key in keys.items():
        if token and hmac.compare_digest(known.encode(), token.encode()):
            return key
    raise GatewayError(401, "a valid gateway API key is required (Authorization: Bearer ...)", "invalid_api_key")


def _refused(decision: Decision, refusal: Refusal, lanes: Lanes) -> GatewayError:
    """The HTTP answer to the router's typed refusal."""
    kind, message = refusal.kind, refusal.message
    if kind is RefusalKind.KILL_SWITCH:
        return unavailable(message, "kill_switch")
    if kind is RefusalKind.UNKNOWN_TAG:
        return GatewayError(400, message, "unknown_tag")
    if kind in (RefusalKind.ROUTE_RULE, RefusalKind.BUDGET):
        return GatewayError(403, message, "policy_denied", "permission_error")
    reasons = _reasons(decision, {}, lanes)
    if kind is RefusalKind.TOO_LARGE:
        return GatewayError(400, message, "request_too_large", unavailable=reasons)
    if kind is RefusalKind.POLICY:
        return GatewayError(403, message, "policy_denied", "permission_error", unavailable=reasons)
    return unavailable(message, "no_deployment_available", reasons)


def _reasons(decision: Decision, tried: Mapping[str, str], lanes: Lanes) -> list[tuple[str, str]]:
    out = dict(tried)
    for r in decision.removed:
        lane = lanes.reason(r.deployment) if r.stage in _LANE_STAGES else None  # what the lane's signal removed
        out.setdefault(r.deployment, f"{r.stage.value}: {lane or r.reason}")
    return list(out.items())


def _estimate(call: ChatCall, output_chars: int) -> Usage:
    return Usage(estimate_tokens(call.request.messages), output_chars // 4)


def _body_for(call: ChatCall, d: Deployment) -> dict[str, Any]:
    return {**call.upstream, call.limit_field: call.output_tokens(d)}


def _content_chars(completion: Mapping[str, Any]) -> int:
    return sum(len((c.get("message") or {}).get("content") or "") for c in completion.get("choices", []))


def _content(completion: Mapping[str, Any]) -> str:
    """The first choice's text (what a rollout's online eval grades)."""
    choices = completion.get("choices") or [{}]
    return str((choices[0].get("message") or {}).get("content") or "")
