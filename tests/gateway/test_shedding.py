"""Slow clients cannot starve others: half-sent bodies hold no in-flight slot, and their body has a deadline.

The attack: open connections, send the headers and part of a body, then nothing. Each test speaks raw HTTP
over a socket so that the body really is half-sent, against the real gateway on 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import openai
from helpers.gateway import two_up

from maestro.gateway import create_app
from maestro.gateway.config import ApiKey
from maestro.gateway.serve import Background

TOKEN = "sk-caller-0001"
KEYS = {TOKEN: ApiKey("caller", "eng")}
BODY = json.dumps({"model": "chat", "messages": [{"role": "user", "content": "hello"}]}).encode()


@contextmanager
def half_sent(url: str, token: str | None) -> Iterator[socket.socket]:
    """A connection that has sent its headers and half its body, and then waits."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        head = (
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{auth}"
            f"Content-Length: {len(BODY)}\r\n\r\n"
        )
        sock.sendall(head.encode() + BODY[: len(BODY) // 2])
        yield sock


def status_of(sock: socket.socket) -> int:
    """The status of the answer the gateway sends on ``sock`` (waiting for it)."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


def test_four_half_sent_bodies_do_not_starve_an_authenticated_caller(tmp_path: Path) -> None:
    with (
        two_up(tmp_path, api_keys=KEYS, max_in_flight=4, body_timeout_s=30.0) as rig,
        Background(create_app(rig.config)) as url,
        ExitStack() as stack,
    ):
        for _ in range(4):
            stack.enter_context(half_sent(url, TOKEN))
        client = openai.OpenAI(base_url=url + "/v1", api_key=TOKEN, max_retries=0)
        answer = client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
        metrics = httpx.get(url + "/metrics").text
    assert answer.choices[0].message.content == "Hello from the upstream."
    assert 'maestro_gateway_requests_total{route="none",status="503"}' not in metrics  # nobody was shed


def test_a_half_sent_body_without_a_key_is_refused_on_its_headers(tmp_path: Path) -> None:
    with (
        two_up(tmp_path, api_keys=KEYS, body_timeout_s=30.0) as rig,
        Background(create_app(rig.config)) as url,
        half_sent(url, None) as anonymous,
        half_sent(url, "sk-wrong") as wrong,
    ):
        statuses = [status_of(anonymous), status_of(wrong)]  # answered though the body never finished
    assert statuses == [401, 401]


def test_a_body_that_never_finishes_gets_a_408(tmp_path: Path) -> None:
    with (
        two_up(tmp_path, api_keys=KEYS, body_timeout_s=0.5) as rig,
        Background(create_app(rig.config)) as url,
        half_sent(url, TOKEN) as slow,
    ):
        status = status_of(slow)
        metrics = httpx.get(url + "/metrics").text
    assert status == 408
    assert 'maestro_gateway_requests_total{route="none",status="408"} 1.0' in metrics
    assert rig.fakes["alpha"].bodies == []
