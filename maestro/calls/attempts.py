"""Trying the decision's order: fallback on provider faults, retries with backoff, deadlines, the breakers.

One pass walks the order, primary first; a provider fault moves on to the next deployment at once (a down
primary is not retried while a fallback may answer). When every deployment of a pass failed, the pass is
retried after the route's backoff, doubled each time, or after the largest Retry-After asked for when that is
longer (no retry when it is over ``max_retry_after_s``). A caller fault ends the loop and is returned as it is.

Each attempt must show its first token (a chunk with content, a tool call or a finish reason) within the
first-token deadline; a buffered (non-streaming) answer must then keep arriving, each chunk within the stall
deadline. A streaming answer is handed over after its first token (the gateway's ``relay``). A deployment that has left
an attempt waiting past half its first-token deadline is tried after the rest of the order (see ``watch``).
A route with ``hedge`` sends a copy of a slow first attempt to the next deployment that fits the hedge's cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from maestro.calls.line import Line
from maestro.providers import CallerFault, ChatStream, FaultKind, ProviderFault
from maestro.router import Circuit, Deployment, RouteSettings
from maestro.telemetry import tracing

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Attempt:
    deployment: str
    outcome: str  # "ok", a FaultKind value, or "caller-fault"
    ms: float


@dataclass(slots=True)
class Opened:
    """An upstream stream that has shown its first token; ``head`` holds the chunks read so far."""

    deployment: Deployment
    stream: ChatStream
    head: list[dict[str, Any]]
    first_token_ms: float


@dataclass
class Tally:
    attempts: list[Attempt] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    retry_after: dict[str, float] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)  # each deployment's last provider fault, in its words


@dataclass
class Served(Generic[T]):
    deployment: Deployment
    value: T
    tally: Tally


class Exhausted(Exception):
    """No deployment answered; ``tally.reasons`` says why for each deployment of the order."""

    def __init__(self, tally: Tally) -> None:
        super().__init__("no deployment answered")
        self.tally = tally


class CallerRefused(Exception):
    def __init__(self, fault: CallerFault, deployment: str, tally: Tally) -> None:
        super().__init__(str(fault))
        self.fault = fault
        self.deployment = deployment
        self.tally = tally


Runner = Callable[[Opened], Awaitable[T]]


@dataclass(frozen=True, slots=True)
class Plan:
    order: tuple[str, ...]
    body: dict[str, Any]
    settings: RouteSettings
    estimates: Mapping[str, float] = field(default_factory=dict)  # estimated cost by deployment (for hedging)
    limits: Mapping[str, int] = field(default_factory=dict)  # the output limit sent to each deployment
    limit_field: str = "max_tokens"
    route: str = ""  # the route's name, for the rollout observations

    def body_for(self, d: Deployment) -> dict[str, Any]:
        """The body sent to ``d``: ``body`` with its output limit."""
        limit = self.limits.get(d.key)
        return self.body if limit is None else {**self.body, self.limit_field: limit}

    panic: bool = False  # the decision ignored open circuits (the route's panic threshold): so do the breakers


async def try_order(line: Line, plan: Plan, run: Runner[T]) -> Served[T]:
    tally = Tally()
    for round_ in range(1 + plan.settings.retries):
        if round_:
            delay = _delay(line, plan.settings, round_, tally)
            if delay is None:
                break
            await asyncio.sleep(delay)
        tried = False
        remaining = _pass_order(line, plan.order)
        while remaining:
            deployment = _admit(line, remaining.pop(0), tally, panic=plan.panic)
            if deployment is None:
                continue
            hedging = plan.settings.hedge_after_s is not None and round_ == 0 and not tried
            tried = True
            if hedging:
                done, value, deployment = await _hedged(line, plan, deployment, run, tally, remaining=remaining)
            else:
                done, value = await _attempt(line, plan, deployment, run, tally)
            if done:
                return Served(deployment, value, tally)  # type: ignore[arg-type]
        if not tried:
            break
    raise Exhausted(tally)


def _admit(line: Line, key: str, tally: Tally, *, panic: bool = False) -> Deployment | None:
    """The deployment ``key`` when a request may go to it now; else None, with the reason in the tally.

    In panic an open circuit does not keep a request out (the decision put the deployment in the order
    knowing its circuit was open); a missing key or a rate limit still does."""
    deployment = line.deployments[key]
    missing = line.pool.missing_key(deployment.provider.name)
    if missing is not None:
        tally.reasons.setdefault(key, missing)
        return None
    limited = line.limits.reason(deployment.provider.name)
    if limited is not None:
        tally.reasons[key] = limited
        return None
    if panic and line.breakers.circuit(key) == Circuit.OPEN:
        line.counts.panic_attempt(key)
    elif not line.breakers.admit(key):
        tally.reasons.setdefault(key, "its circuit is open after recent failures")
        return None
    return deployment


async def _hedged(
    line: Line, plan: Plan, first: Deployment, run: Runner[T], tally: Tally, *, remaining: list[str]
) -> tuple[bool, T | None, Deployment]:
    """Try ``first``; if it has shown no first token (nor failed) after the route's hedge delay, send a copy to
    the next deployment whose estimated cost fits the hedge's budget (taken out of ``remaining``). The first
    to finish its attempt serves; the other is cancelled (an attempt, not a failure: no circuit cools)."""
    started = time.perf_counter()
    token = asyncio.Event()
    tasks = {asyncio.create_task(_attempt(line, plan, first, run, tally, first_token=token)): first}
    try:
        shown = asyncio.create_task(token.wait())
        early, _ = await asyncio.wait(
            [*tasks, shown], timeout=plan.settings.hedge_after_s, return_when=asyncio.FIRST_COMPLETED
        )
        shown.cancel()
        if not early:
            partner = _hedge_partner(line, plan, remaining, tally)
            if partner is not None:
                tasks[asyncio.create_task(_attempt(line, plan, partner, run, tally))] = partner
                line.counts.attempt(partner.key, "hedge")
        pending: set[asyncio.Task[tuple[bool, T | None]]] = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                ok, value = task.result()
                if ok:
                    for other in done - {task}:  # both answered at once: keep one
                        await _discard(other.result()[1])
                    return True, value, tasks[task]
        return False, None, first
    finally:
        for task, d in tasks.items():
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                tally.attempts.append(Attempt(d.key, "cancelled", (time.perf_counter() - started) * 1000))


def _hedge_partner(line: Line, plan: Plan, remaining: list[str], tally: Tally) -> Deployment | None:
    """The next deployment of ``remaining`` a copy may go to (taken out of it); too dear ones stay."""
    i = 0
    while i < len(remaining):
        if plan.estimates.get(remaining[i], 0.0) > plan.settings.hedge_max_cost_usd:
            i += 1  # too dear for a copy; it stays in the order for a plain fallback
            continue
        deployment = _admit(line, remaining.pop(i), tally, panic=plan.panic)
        if deployment is not None:
            return deployment
    return None


async def _discard(value: object) -> None:
    if isinstance(value, Opened):
        await value.stream.aclose()


def _pass_order(line: Line, order: tuple[str, ...]) -> list[str]:
    """The order, with silent deployments (an attempt waiting long for its first token) moved to the end."""
    silent = [k for k in order if line.watch.silent(k)]
    return [k for k in order if k not in silent] + silent if silent else list(order)


def _delay(line: Line, settings: RouteSettings, round_: int, tally: Tally) -> float | None:
    backoff = settings.backoff_s * 2 ** (round_ - 1)
    asked = list(tally.retry_after.values())
    if asked and max(asked) > line.max_retry_after_s:
        return None
    tally.retry_after.clear()
    return float(max([backoff, *asked]))


async def _attempt(
    line: Line, plan: Plan, d: Deployment, run: Runner[T], tally: Tally, *, first_token: asyncio.Event | None = None
) -> tuple[bool, T | None]:
    started = time.perf_counter()
    with line.tracer.attempt(d.provider.name, d.model, d.key, len(tally.attempts) + 1) as span:
        opened: Opened | None = None
        try:
            opened = await _open(line, plan, d, started)
            if first_token is not None:
                first_token.set()
            value = await run(opened)
        except ProviderFault as fault:
            ms = (time.perf_counter() - started) * 1000
            _count(line, d, tally, fault.kind.value, ms, ok=False, route=plan.route)
            tracing.fail(span, fault.kind.value, str(fault))
            tally.reasons[d.key] = f"{fault.kind.value}: {fault}"
            tally.faults[d.key] = str(fault)
            if fault.retry_after is not None:
                tally.retry_after[d.key] = fault.retry_after
            if opened is not None:
                await opened.stream.aclose()
            return False, None
        except CallerFault as fault:
            line.breakers.release(d.key)
            tally.attempts.append(Attempt(d.key, "caller-fault", (time.perf_counter() - started) * 1000))
            line.counts.attempt(d.key, "caller-fault")
            tracing.fail(span, f"http.{fault.status}", str(fault))
            raise CallerRefused(fault, d.key, tally) from None
        except BaseException:
            line.breakers.release(d.key)
            if opened is not None:
                await opened.stream.aclose()
            raise
        _count(line, d, tally, "ok", opened.first_token_ms, ok=True, route=plan.route)
        if span.is_recording():  # a buffered answer is whole here; a relayed stream has its usage only at its end
            got = opened.stream.usage
            if got is None:
                tracing.usage(span, opened.stream.model, None, None, None)
            else:
                tracing.usage(span, opened.stream.model, got.input_tokens, got.output_tokens, line.cost(d, got))
        return True, value


def _count(line: Line, d: Deployment, tally: Tally, outcome: str, ms: float, *, ok: bool, route: str) -> None:
    if ok:
        line.breakers.success(d.key)
    else:
        line.breakers.failure(d.key)
    line.record(route, d.key, ms, ok)
    tally.attempts.append(Attempt(d.key, outcome, ms))
    line.counts.attempt(d.key, outcome)


async def _open(line: Line, plan: Plan, d: Deployment, started: float) -> Opened:
    deadline = line.first_token_s(d, plan.settings.first_token_s)
    head: list[dict[str, Any]] = []
    stream: ChatStream | None = None
    token = line.watch.begin(d.key, deadline)
    line.limits.sent(d.provider.name)
    try:
        async with asyncio.timeout(deadline):
            client = line.client(d, plan.body.get("messages"))
            stream = await client.open(plan.body_for(d), d.model)
            async for chunk in stream:
                head.append(chunk)
                if has_token(chunk):
                    break
    except TimeoutError:
        if stream is not None:
            await stream.aclose()
        raise ProviderFault(d.provider.name, FaultKind.FIRST_TOKEN, f"no first token within {deadline:g} s") from None
    except BaseException:
        if stream is not None:
            await stream.aclose()
        raise
    finally:
        line.watch.end(d.key, token)
    return Opened(d, stream, head, (time.perf_counter() - started) * 1000)


def has_token(chunk: dict[str, Any]) -> bool:
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") or {}
        if delta.get("content") or delta.get("tool_calls") or choice.get("finish_reason"):
            return True
    return False


async def next_chunk(line: Line, opened: Opened) -> dict[str, Any] | None:
    """The next chunk within the stall deadline; None at the end of the stream."""
    try:
        async with asyncio.timeout(stall_s := line.stall_of(opened.deployment)):
            chunk: dict[str, Any] = await opened.stream.__anext__()
            return chunk
    except StopAsyncIteration:
        return None
    except TimeoutError:
        raise ProviderFault(opened.deployment.provider.name, FaultKind.STALL, f"no chunk for {stall_s:g} s") from None
