"""The HTTP part every client shares: one pooled httpx transport per provider, and errors turned into faults.

Requests go straight to an ``httpx.AsyncHTTPTransport`` (httpx's public transport API) rather than through
``httpx.AsyncClient``: a provider call needs no cookies, redirects, auth flows or URL merging, and skipping
them saves about 0.3 ms of CPU per call (of about 1 ms). Timeouts travel as the request's ``timeout``
extension, as the client would send them.
"""

from __future__ import annotations

import asyncio
import codecs
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import httpx

from maestro.providers.faults import FaultKind, ProviderFault, classify_status
from maestro.providers.secrets import Secret, redact
from maestro.providers.spec import ProviderSpec

MAX_CONNECTIONS = 200
MAX_KEEPALIVE = 50
# below the 5 s after which uvicorn-served upstreams (vLLM) close idle connections, so we never send on one
# they are closing
KEEPALIVE_EXPIRY_S = 3.0
_MAX_ERROR_BODY = 64 * 1024


class Http:
    """One provider's connection pool: requests to ``{baseUrl}/PATH`` with its headers and timeouts."""

    def __init__(
        self, spec: ProviderSpec, headers: Mapping[str, str], http_transport: httpx.AsyncBaseTransport | None
    ) -> None:
        self.base = spec.base_url + "/"
        self.headers = {"accept": "application/json, text/event-stream", **headers}
        self._plain = httpx.Headers(self.headers)  # built once: httpx.Request copies them
        self._json = httpx.Headers({**self.headers, "content-type": "application/json"})
        self._urls: dict[str, httpx.URL] = {}  # by path: parsing a URL costs more than the rest of a request
        self.timeout = httpx.Timeout(spec.timeouts.total_s, connect=spec.timeouts.connect_s).as_dict()
        limits = httpx.Limits(
            max_connections=MAX_CONNECTIONS,
            max_keepalive_connections=MAX_KEEPALIVE,
            keepalive_expiry=KEEPALIVE_EXPIRY_S,
        )
        self.transport = http_transport or httpx.AsyncHTTPTransport(limits=limits, trust_env=False)

    async def send(self, method: str, path: str, payload: Mapping[str, Any] | None) -> httpx.Response:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = httpx.URL(self.base + path.lstrip("/"))
        content = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        headers = self._plain if payload is None else self._json
        request = httpx.Request(method, url, headers=headers, content=content, extensions={"timeout": self.timeout})
        response = await self.transport.handle_async_request(request)
        response.request = request
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()


class _Client(Protocol):
    spec: ProviderSpec
    secret: Secret | None
    http: Http


def clean(client: _Client, text: str) -> str:
    return redact(text, [client.secret])


async def send(client: _Client, method: str, path: str, payload: Mapping[str, Any] | None) -> httpx.Response:
    """The upstream's response with its headers read; non-2xx answers raise the fault they mean."""
    name = client.spec.name
    try:
        response = await client.http.send(method, path, payload)
    except httpx.TimeoutException as e:
        raise ProviderFault(name, FaultKind.TIMEOUT, f"timed out: {type(e).__name__}") from None
    except httpx.TransportError as e:
        raise ProviderFault(
            name, FaultKind.CONNECT, f"cannot reach {client.spec.base_url}: {clean(client, str(e))}"
        ) from None
    if response.status_code >= 400:
        body = await _error_body(client, response)
        raise classify_status(name, response.status_code, body, response.headers)
    return response


async def list_models(client: _Client) -> list[str]:
    """The model ids ``GET {baseUrl}/models`` lists (OpenAI and Anthropic answer in the same shape)."""
    data = await read_json(client, await send(client, "GET", "/models", None))
    return [str(m.get("id")) for m in data.get("data", []) if isinstance(m, Mapping)]


async def read_json(client: _Client, response: httpx.Response) -> dict[str, Any]:
    try:
        raw = await response.aread()
    except httpx.HTTPError as e:
        raise ProviderFault(client.spec.name, FaultKind.BROKEN_STREAM, f"reading the answer failed: {e}") from None
    finally:
        await response.aclose()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise ProviderFault(client.spec.name, FaultKind.BAD_RESPONSE, "the answer is not JSON") from None
    if not isinstance(data, dict):
        raise ProviderFault(client.spec.name, FaultKind.BAD_RESPONSE, "the answer is not a JSON object")
    return data


async def lines(response: httpx.Response) -> AsyncIterator[str]:
    """The lines of a streamed body, split where server-sent events split them: at ``\\n``, ``\\r\\n`` or
    ``\\r``. (httpx's ``aiter_lines`` also splits at the other Unicode line breaks, such as U+2028, which an
    event's JSON may hold unescaped; and it costs more per chunk.) Errors from reading are httpx's own."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    rest = ""
    async for chunk in response.aiter_bytes():
        found, rest = _split(rest + decoder.decode(chunk))
        for line in found:
            yield line
    found, rest = _split(rest + decoder.decode(b"", final=True))
    for line in found:
        yield line
    if rest:  # the last line: ended by a \r, or by the end of the body
        yield rest.removesuffix("\r")


def _split(text: str) -> tuple[list[str], str]:
    """The complete lines in ``text`` and what follows them; a last ``\\r`` is kept, as a ``\\n`` may follow."""
    held = text.endswith("\r")
    if held:
        text = text[:-1]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    found = text.split("\n")
    rest = found.pop()
    return found, rest + "\r" if held else rest


async def next_line(client: _Client, lines: AsyncIterator[str]) -> str | None:
    """The next line of a streamed body; None at its end. A cut connection or read timeout is a fault."""
    try:
        return await lines.__anext__()
    except StopAsyncIteration:
        return None
    except httpx.TimeoutException:
        raise ProviderFault(client.spec.name, FaultKind.STALL, "the stream stalled (read timeout)") from None
    except httpx.HTTPError as e:
        raise ProviderFault(
            client.spec.name, FaultKind.BROKEN_STREAM, f"the stream broke: {clean(client, str(e))}"
        ) from None


async def drain(client: _Client, lines: AsyncIterator[str], limit: int = 64, within_s: float = 0.5) -> None:
    """Read what is left of a finished stream, so httpx returns the connection to the pool instead of closing
    it. The answer is already complete: a stream that goes on past ``limit`` lines or ``within_s``, or breaks
    now, only costs the connection (the caller closes the response)."""
    try:
        async with asyncio.timeout(within_s):
            for _ in range(limit):
                if await next_line(client, lines) is None:
                    return
    except (TimeoutError, ProviderFault):
        return


async def _error_body(client: _Client, response: httpx.Response) -> dict[str, Any]:
    try:
        raw = b""
        async for part in response.aiter_bytes():
            raw += part
            if len(raw) > _MAX_ERROR_BODY:
                break
    except httpx.HTTPError:
        raw = b""
    finally:
        await response.aclose()
    text = clean(client, raw.decode("utf-8", "replace"))
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {"error": {"message": text[:500] or f"HTTP {response.status_code}"}}
    return data if isinstance(data, dict) else {"error": {"message": text[:500]}}
