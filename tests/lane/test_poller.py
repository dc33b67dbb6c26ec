"""The poller, through httpx.MockTransport: signals, and the circuit opening when the lane stops answering."""

from __future__ import annotations

import asyncio

import httpx

from maestro.lane.config import Saturation
from maestro.lane.poller import Poller, fetch_signal
from maestro.lane.spill import DEAD

BUSY = 'vllm:num_requests_waiting{model_name="m"} 40\n'


def transport(answers: list[object]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/metrics"
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(200, text=str(answer)) if isinstance(answer, str) else httpx.Response(int(answer))  # type: ignore[call-overload]

    return httpx.MockTransport(handle)


def test_poll_sequence() -> None:
    answers: list[object] = [BUSY, httpx.ConnectError("refused"), 500, "", httpx.ConnectError("refused")]
    poller = Poller(
        "http://lane/", Saturation(max_waiting=16), "m", client=httpx.AsyncClient(transport=transport(answers))
    )

    async def go() -> list[tuple[str, bool]]:
        out = [(s.circuit, s.saturated) for s in [await poller.poll() for _ in range(5)]]
        await poller.aclose()
        return out

    # one failure keeps the last signal; a second in a row opens the circuit; an answer closes it again
    assert asyncio.run(go()) == [
        ("closed", True),
        ("closed", True),
        ("open", False),
        ("closed", False),
        ("closed", False),
    ]


def test_run_calls_back_until_cancelled() -> None:
    seen = []
    poller = Poller("http://lane", Saturation(), client=httpx.AsyncClient(transport=transport([BUSY] * 100)))

    async def go() -> None:
        task = asyncio.create_task(poller.run(seen.append, interval_s=0.001))
        while len(seen) < 3:
            await asyncio.sleep(0.001)
        task.cancel()
        await poller.aclose()

    asyncio.run(go())
    assert all(s.waiting == 40 for s in seen)


def test_fetch_signal() -> None:
    with httpx.Client(transport=transport([BUSY, "garbage{", httpx.ReadTimeout("slow")])) as client:
        assert fetch_signal(client, "http://lane", Saturation(max_waiting=1)).saturated
        assert fetch_signal(client, "http://lane", Saturation()) is DEAD
        assert fetch_signal(client, "http://lane", Saturation()) is DEAD
