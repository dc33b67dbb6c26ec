"""The clients by wire protocol (an explicit registry), and the pool of one client per provider."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from maestro.providers.anthropic import AnthropicClient
from maestro.providers.client import ChatClient
from maestro.providers.openai import OpenAIClient
from maestro.providers.secrets import Secret, resolve
from maestro.providers.spec import ProviderSpec

Factory = Callable[[ProviderSpec, Secret | None, httpx.AsyncBaseTransport | None], ChatClient]
CLIENTS: dict[str, Factory] = {"openai": OpenAIClient, "anthropic": AnthropicClient}


class Pool:
    """One pooled client per provider; ``aclose`` closes them all."""

    def __init__(self, clients: Mapping[str, ChatClient]) -> None:
        self.clients = dict(clients)

    def __getitem__(self, provider: str) -> ChatClient:
        return self.clients[provider]

    def missing_key(self, provider: str) -> str | None:
        """Why ``provider`` cannot be called: its manifest names a key variable that is unset (else None)."""
        spec, secret = self.clients[provider].spec, self.clients[provider].secret
        if spec.api_key_env and secret is None:
            return f"its API key is not set: ${spec.api_key_env} is empty"
        return None

    def secrets(self) -> list[Secret | None]:
        return [c.secret for c in self.clients.values()]

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()


def pool(
    specs: Mapping[str, ProviderSpec],
    environ: Mapping[str, str] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> Pool:
    """Clients for ``specs``, keys read from ``environ`` (default: the process environment)."""
    transports = transports or {}
    return Pool(
        {
            name: CLIENTS[spec.protocol](spec, resolve(spec.api_key_env, environ), transports.get(name))
            for name, spec in specs.items()
        }
    )
