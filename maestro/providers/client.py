"""What every provider client offers the gateway: open a chat stream, list models, close."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from maestro.providers.secrets import Secret
from maestro.providers.spec import ProviderSpec
from maestro.providers.usage import Usage


class ChatStream(Protocol):
    """OpenAI ``chat.completion.chunk`` dicts, whatever the upstream speaks.

    Iterating raises ``ProviderFault`` when the stream breaks, stalls (read timeout) or ends without its
    end marker; a stream that ends normally has seen a finish reason. ``usage`` and ``model`` are filled in
    as the upstream reports them.
    """

    usage: Usage | None
    model: str | None

    def __aiter__(self) -> ChatStream: ...

    async def __anext__(self) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


class ChatClient(Protocol):
    spec: ProviderSpec
    secret: Secret | None

    async def open(self, body: Mapping[str, Any], model: str) -> ChatStream:
        """Send a chat request (always streamed upstream); raise ProviderFault or CallerFault on refusal."""
        ...

    async def list_models(self) -> list[str]: ...

    async def aclose(self) -> None: ...
