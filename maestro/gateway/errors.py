"""The gateway's refusals, each an HTTP status and an OpenAI-style error body."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from maestro.errors import MaestroError


class GatewayError(MaestroError):
    """A request the gateway answers with an error: ``{"error": {"message", "type", "code"}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        type_: str = "invalid_request_error",
        *,
        unavailable: Sequence[tuple[str, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.type = type_
        self.unavailable = tuple(unavailable)
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.unavailable:
            error["unavailable"] = [{"deployment": d, "reason": r} for d, r in self.unavailable]
        return {"error": error}


def bad_request(message: str, code: str) -> GatewayError:
    return GatewayError(400, message, code)


def unavailable(message: str, code: str, reasons: Sequence[tuple[str, str]] = ()) -> GatewayError:
    return GatewayError(503, message, code, "service_unavailable", unavailable=reasons)
