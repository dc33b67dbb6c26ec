"""One chat request through a gateway, and what its answer says about who served it and why.

``ask(url, alias, prompt)`` posts an OpenAI chat request to a running gateway and reads maestro's headers:
the route, the deployment that served, the attempts, the cost and the deployments passed over on the way
(``x-maestro-passed-over``). ``local(config)`` serves a gateway on a free loopback port for the length of a
``with`` block, for a one-off question without a server started by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from maestro.errors import MaestroError
from maestro.gateway.app import create_app
from maestro.gateway.config import GatewayConfig
from maestro.gateway.responses import ATTEMPTS, COST, DECISION_ID, PASSED_OVER, ROUTE, SERVED_BY
from maestro.gateway.serve import Background


class AskError(MaestroError):
    """The gateway could not be reached or did not answer in time."""


@dataclass(frozen=True)
class Answer:
    status: int
    text: str  # the answer, or the gateway's error message
    route: str
    served_by: str
    decision_id: str
    attempts: int
    cost_usd: float
    passed_over: list[tuple[str, str]] = field(default_factory=list)  # (deployment, why), in order
    unavailable: list[tuple[str, str]] = field(default_factory=list)  # a 503's reasons, per deployment

    @property
    def ok(self) -> bool:
        return self.status == 200

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "text": self.text,
            "route": self.route,
            "servedBy": self.served_by,
            "decisionId": self.decision_id,
            "attempts": self.attempts,
            "costUsd": self.cost_usd,
            "passedOver": [{"deployment": d, "reason": r} for d, r in self.passed_over],
            "unavailable": [{"deployment": d, "reason": r} for d, r in self.unavailable],
        }


def ask(
    url: str, alias: str, prompt: str, *, max_tokens: int = 64, timeout_s: float = 300.0, api_key: str | None = None
) -> Answer:
    """Send ``prompt`` to ``alias`` through the gateway at ``url`` (temperature 0) and read the answer."""
    body = {
        "model": alias,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": 0,
    }
    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.post(f"{url.rstrip('/')}/v1/chat/completions", json=body, headers=headers, timeout=timeout_s)
    except httpx.TimeoutException:
        raise AskError(f"the gateway at {url} gave no answer within {timeout_s:g} s") from None
    except httpx.HTTPError as e:
        raise AskError(f"cannot reach the gateway at {url}: {e}; is `maestro gateway` running?") from None
    return _answer(response)


@contextmanager
def local(config: GatewayConfig) -> Iterator[str]:
    """A gateway for ``config`` on 127.0.0.1 at a free port, until the block ends; yields its URL."""
    with Background(create_app(config)) as url:
        yield url


def _answer(response: httpx.Response) -> Answer:
    h = response.headers
    try:
        data = response.json()
    except json.JSONDecodeError:
        data = {}
    if response.status_code == 200:
        choices = data.get("choices") or [{}]
        text = str((choices[0].get("message") or {}).get("content") or "")
        unavailable: list[tuple[str, str]] = []
    else:
        error = data.get("error") if isinstance(data, dict) else None
        error = error if isinstance(error, dict) else {}
        text = str(error.get("message") or response.text[:500])
        unavailable = [(str(u.get("deployment")), str(u.get("reason"))) for u in error.get("unavailable") or []]
    return Answer(
        status=response.status_code,
        text=text,
        route=h.get(ROUTE, "none"),
        served_by=h.get(SERVED_BY, "none"),
        decision_id=h.get(DECISION_ID, "none"),
        attempts=int(h.get(ATTEMPTS, "0") or 0),
        cost_usd=float(h.get(COST, "0") or 0),
        passed_over=_passed_over(h.get(PASSED_OVER, "")),
        unavailable=unavailable,
    )


def _passed_over(header: str) -> list[tuple[str, str]]:
    out = []
    for part in filter(None, header.split("; ")):
        deployment, _, why = part.partition(": ")
        out.append((deployment, why))
    return out
