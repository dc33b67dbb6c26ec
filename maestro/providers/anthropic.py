"""A pooled async client for the Anthropic Messages API, spoken to and from the OpenAI chat format."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from maestro.providers import transport
from maestro.providers.faults import FaultKind, ProviderFault
from maestro.providers.secrets import Secret
from maestro.providers.spec import ProviderSpec
from maestro.providers.sse import SseReader
from maestro.providers.translate import FromAnthropic, to_anthropic
from maestro.providers.usage import Usage

API_VERSION = "2023-06-01"


class AnthropicClient:
    def __init__(
        self, spec: ProviderSpec, secret: Secret | None, http_transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.spec = spec
        self.secret = secret
        headers = {"anthropic-version": API_VERSION, **({"x-api-key": secret.value} if secret else {})}
        self.http = transport.Http(spec, headers, http_transport)

    async def open(self, body: Mapping[str, Any], model: str) -> AnthropicStream:
        response = await transport.send(self, "POST", "/messages", to_anthropic(body, model))
        return AnthropicStream(self, response, FromAnthropic(self.spec.name, model))

    async def list_models(self) -> list[str]:
        return await transport.list_models(self)

    async def aclose(self) -> None:
        await self.http.aclose()


class AnthropicStream:
    """OpenAI chunks translated from the Messages stream; the usage chunk comes last, as OpenAI sends it."""

    def __init__(self, client: AnthropicClient, response: httpx.Response, translator: FromAnthropic) -> None:
        self.client = client
        self.response = response
        self.translator = translator
        self.usage: Usage | None = None
        self.model: str | None = None
        self._lines: AsyncIterator[str] = transport.lines(response)
        self._reader = SseReader()
        self._pending: list[dict[str, Any]] = []
        self._ended = False

    def __aiter__(self) -> AnthropicStream:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while not self._pending:
            if self._ended:
                await self.aclose()
                raise StopAsyncIteration
            await self._read()
        return self._pending.pop(0)

    async def _read(self) -> None:
        line = await transport.next_line(self.client, self._lines)
        event = self._reader.feed(line if line is not None else "")
        if event is None:
            if line is None:
                await self.aclose()
                raise ProviderFault(
                    self.client.spec.name, FaultKind.BROKEN_STREAM, "the stream ended before the answer did"
                )
            return
        try:
            data = json.loads(event[1])
        except json.JSONDecodeError as e:
            raise ProviderFault(
                self.client.spec.name, FaultKind.BAD_RESPONSE, f"a stream event is not JSON: {e.msg}"
            ) from None
        t = self.translator
        self._pending.extend(t.feed(event[0], data if isinstance(data, dict) else {}))
        self.model = t.model
        self.usage = t.usage
        if t.done:
            self._pending.append(t.usage_chunk())
            self._ended = True
            await transport.drain(self.client, self._lines)  # read to the end: the connection is reused

    async def aclose(self) -> None:
        await self.response.aclose()
