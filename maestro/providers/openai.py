"""A pooled async client for OpenAI-compatible chat APIs: OpenAI, vLLM, NVIDIA NIM, Mistral."""

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
from maestro.providers.usage import Usage


class OpenAIClient:
    """Speaks ``POST {baseUrl}/chat/completions`` with ``stream: true`` and usage in the last chunk."""

    def __init__(
        self, spec: ProviderSpec, secret: Secret | None, http_transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.spec = spec
        self.secret = secret
        headers = {"authorization": f"Bearer {secret.value}"} if secret else {}
        self.http = transport.Http(spec, headers, http_transport)

    async def open(self, body: Mapping[str, Any], model: str) -> OpenAIStream:
        payload = {**body, "model": model, "stream": True, "stream_options": {"include_usage": True}}
        response = await transport.send(self, "POST", "/chat/completions", payload)
        return OpenAIStream(self, response)

    async def list_models(self) -> list[str]:
        return await transport.list_models(self)

    async def aclose(self) -> None:
        await self.http.aclose()


class OpenAIStream:
    """The upstream's chunks as they arrive; see ``ChatStream``."""

    def __init__(self, client: OpenAIClient, response: httpx.Response) -> None:
        self.client = client
        self.response = response
        self.usage: Usage | None = None
        self.model: str | None = None
        self._lines: AsyncIterator[str] = transport.lines(response)
        self._reader = SseReader()
        self._finished = False
        self._done = False

    def __aiter__(self) -> OpenAIStream:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while not self._done:
            line = await transport.next_line(self.client, self._lines)
            event = self._reader.feed(line) if line is not None else self._reader.feed("")
            if line is None and event is None:
                return await self._ended()
            if event is None:
                continue
            if event[1].strip() == "[DONE]":
                self._done = True
                await transport.drain(self.client, self._lines)  # read to the end: the connection is reused
                break
            return self._chunk(event[1])
        await self.aclose()
        raise StopAsyncIteration

    def _chunk(self, data: str) -> dict[str, Any]:
        name = self.client.spec.name
        try:
            chunk = json.loads(data)
        except json.JSONDecodeError as e:
            raise ProviderFault(name, FaultKind.BAD_RESPONSE, f"a stream event is not JSON: {e.msg}") from e
        if not isinstance(chunk, dict):
            raise ProviderFault(name, FaultKind.BAD_RESPONSE, "a stream event is not a JSON object")
        if "error" in chunk:
            raise ProviderFault(
                name,
                FaultKind.BROKEN_STREAM,
                f"the upstream reported an error mid-stream: {transport.clean(self.client, str(chunk['error']))}",
            )
        self.model = chunk.get("model") or self.model
        self.usage = Usage.of_openai(chunk.get("usage")) or self.usage
        if any(c.get("finish_reason") for c in chunk.get("choices") or [] if isinstance(c, dict)):
            self._finished = True
        return chunk

    async def _ended(self) -> dict[str, Any]:
        await self.aclose()
        if self._finished:
            self._done = True
            raise StopAsyncIteration
        raise ProviderFault(self.client.spec.name, FaultKind.BROKEN_STREAM, "the stream ended before the answer did")

    async def aclose(self) -> None:
        await self.response.aclose()
