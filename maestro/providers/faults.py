"""Provider errors, split by whose fault they are.

    ProviderError(MaestroError)
    ├── ProviderFault      the upstream failed: 5xx, 429, a timeout, a refused or broken connection, a stall.
    │                      Fall back to the next deployment and count it against the deployment's circuit.
    └── CallerFault        the request itself is wrong (a 4xx other than 401/403/408/429): return it to the
                           caller as it is; it never cools a deployment.

An upstream 401/403 means maestro's own key for the provider is wrong or revoked, so it is a provider fault
(kind ``auth``): the caller did nothing wrong and another deployment may serve them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from maestro.errors import MaestroError


class FaultKind(StrEnum):
    SERVER_ERROR = "server-error"
    RATE_LIMITED = "rate-limited"
    AUTH = "auth"
    CONNECT = "connect-error"
    TIMEOUT = "timeout"
    FIRST_TOKEN = "first-token-timeout"
    STALL = "stream-stall"
    BROKEN_STREAM = "broken-stream"
    BAD_RESPONSE = "bad-response"


class ProviderError(MaestroError):
    """An upstream call did not give an answer."""

    def __init__(self, provider: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.status = status


class ProviderFault(ProviderError):
    """The upstream is at fault; ``retry_after`` is the delay it asked for (seconds), if any."""

    def __init__(
        self,
        provider: str,
        kind: FaultKind,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(provider, message, status)
        self.kind = kind
        self.retry_after = retry_after


class CallerFault(ProviderError):
    """The upstream refused the request as malformed; ``body`` is its error body (OpenAI shape)."""

    def __init__(self, provider: str, status: int, body: Mapping[str, Any]) -> None:
        message = str(body.get("error", {}).get("message", "")) if isinstance(body.get("error"), Mapping) else ""
        super().__init__(provider, f"HTTP {status}: {message or 'the request was refused'}", status)
        self.body = body


_PROVIDER_4XX = {401: FaultKind.AUTH, 403: FaultKind.AUTH, 408: FaultKind.TIMEOUT, 429: FaultKind.RATE_LIMITED}


def classify_status(provider: str, status: int, body: Mapping[str, Any], headers: Mapping[str, str]) -> ProviderError:
    """The error for a non-2xx upstream answer."""
    message = _message(body) or f"HTTP {status}"
    if status >= 500:
        return ProviderFault(provider, FaultKind.SERVER_ERROR, f"HTTP {status}: {message}", status)
    if status in _PROVIDER_4XX:
        kind = _PROVIDER_4XX[status]
        return ProviderFault(provider, kind, f"HTTP {status}: {message}", status, retry_after(headers))
    return CallerFault(provider, status, _openai_shape(body, status))


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a Retry-After header (a number of seconds; HTTP dates are ignored), or retry-after-ms."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _message(body: Mapping[str, Any]) -> str:
    error = body.get("error")
    if isinstance(error, Mapping):
        return str(error.get("message", ""))
    if isinstance(error, str):
        return error
    return str(body.get("message", ""))


def _openai_shape(body: Mapping[str, Any], status: int) -> dict[str, Any]:
    """An OpenAI-style error body, whatever shape the upstream used (Anthropic's included)."""
    error = body.get("error")
    if isinstance(error, Mapping) and "message" in error:
        return {
            "error": {
                "message": str(error["message"]),
                "type": str(error.get("type", "invalid_request_error")),
                "code": None if error.get("code") is None else str(error["code"]),  # OpenAI's is a string
            }
        }
    return {
        "error": {"message": _message(body) or f"upstream HTTP {status}", "type": "invalid_request_error", "code": None}
    }
