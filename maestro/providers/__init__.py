"""Clients for upstream model APIs, normalised to the OpenAI chat format.

Use::

    pool = providers.pool(providers.specs_of(manifests))     # one pooled httpx client per provider
    stream = await pool["openai-us"].open(body, model="gpt-4o-mini")
    async for chunk in stream: ...                             # OpenAI chat.completion.chunk dicts
    cost = spec.prices[model].cost(stream.usage)
    await pool.aclose()

Errors (see ``faults``)::

    ProviderError(MaestroError)
    ├── ProviderFault   5xx, 429, 401/403, timeouts, connection errors, broken or stalled streams
    └── CallerFault     any other 4xx: the request is wrong; return it as it is

Keys come from the environment variables the manifests name and are never written into a message.
"""

from __future__ import annotations

from maestro.providers.client import ChatClient, ChatStream
from maestro.providers.faults import CallerFault, FaultKind, ProviderError, ProviderFault
from maestro.providers.registry import CLIENTS, Pool, pool
from maestro.providers.secrets import Secret, redact, resolve
from maestro.providers.spec import ProviderSpec, Timeouts, specs_of
from maestro.providers.usage import Price, Usage

__all__ = [
    "CLIENTS",
    "CallerFault",
    "ChatClient",
    "ChatStream",
    "FaultKind",
    "Pool",
    "Price",
    "ProviderError",
    "ProviderFault",
    "ProviderSpec",
    "Secret",
    "Timeouts",
    "Usage",
    "pool",
    "redact",
    "resolve",
    "specs_of",
]
