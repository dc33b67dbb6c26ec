"""Who is asking and what they may do.

People log in at ``/login`` with a key's token; the session cookie (Starlette's ``SessionMiddleware``,
signed with itsdangerous, ``SameSite=Strict``, ``HttpOnly``) then holds the key's id, never the token.
Scripts send ``Authorization: Bearer TOKEN`` on every request instead.

Every POST from a session must carry the session's CSRF token (form field ``csrf`` or header
``X-CSRF-Token``), compared in constant time. A Bearer request needs none: a browser never attaches an
``Authorization`` header to a cross-site request by itself, so the token is its own proof of intent.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from maestro.gateway.config import ApiKey
from maestro.ui.config import UiConfig, allows

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class Who:
    key_id: str
    role: str
    via: str  # "session" or "bearer"

    def may(self, needed: str) -> bool:
        return allows(self.role, needed)


class Unauthorized(Exception):
    """No login, or a wrong or expired one (401)."""


class Forbidden(Exception):
    """Logged in, but the role or the CSRF token does not allow this (403)."""


def who(config: UiConfig, request: Request) -> Who | None:
    """The caller, from a Bearer token or the session; None when neither names a current key."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        key = _by_token(config, token.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            raise Unauthorized("the Authorization header holds no valid Bearer token")
        return Who(key.id, key.role, "bearer")
    key_id = request.session.get("key")
    found = config.key_by_id(key_id) if isinstance(key_id, str) else None
    return Who(found.id, found.role, "session") if found is not None else None


class TooManyLogins(Exception):
    """Too many wrong tokens from one address lately (429); ``retry_after`` seconds until it may try again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many wrong tokens from this address; try again in {retry_after} s")
        self.retry_after = retry_after


class LoginThrottle:
    """At most ``failures`` wrong tokens per client address in ``window_s``: guessing a token gets slow."""

    def __init__(self, failures: int = 5, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.failures, self.window_s, self.clock = failures, window_s, clock
        self._lock = threading.Lock()
        self._wrong: dict[str, deque[float]] = {}

    def check(self, client: str) -> None:
        with self._lock:
            recent = self._recent(client)
            if len(recent) >= self.failures:
                raise TooManyLogins(max(1, int(recent[0] + self.window_s - self.clock()) + 1))

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client).append(self.clock())

    def _recent(self, client: str) -> deque[float]:
        recent = self._wrong.setdefault(client, deque())
        while recent and recent[0] <= self.clock() - self.window_s:
            recent.popleft()
        if not recent:
            del self._wrong[client]  # forget quiet addresses: the table stays small
            recent = self._wrong.setdefault(client, deque())
        return recent


def login(config: UiConfig, request: Request, token: str) -> Who:
    key = _by_token(config, token)
    if key is None:
        raise Unauthorized("that token is not one of this UI's keys")
    request.session.clear()
    request.session["key"] = key.id
    request.session[CSRF_FIELD] = secrets.token_urlsafe(32)  # a new token at each login
    return Who(key.id, key.role, "session")


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use, e.g. by the login form)."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


async def check_csrf(request: Request, caller: Who | None) -> None:
    """Refuse a session's POST without the session's CSRF token."""
    if caller is not None and caller.via == "bearer":
        return
    expected = request.session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or sent is None or not hmac.compare_digest(sent, expected):
        raise Forbidden(
            "this request has no valid CSRF token; reload the page and try again (scripts: use a Bearer token)"
        )


def require(caller: Who | None, role: str) -> Who:
    if caller is None:
        raise Unauthorized("log in first")
    if not caller.may(role):
        raise Forbidden(f"this needs the {role} role; key '{caller.key_id}' is a {caller.role}")
    return caller


def _by_token(config: UiConfig, token: str) -> ApiKey | None:
    for candidate, key in config.keys.items():
        if hmac.compare_digest(candidate.encode(), token.encode()):
            return key
    return None
