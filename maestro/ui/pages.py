"""A view's result and its two renderings: HTML from a Jinja2 template, and the JSON twin of the same data.

Every view is one function returning a ``Page``; ``/providers`` renders it with ``providers.html`` and
``/providers.json`` (or ``Accept: application/json``) returns ``Page.data`` as JSON, so the page, the CLI
and the tests read the same thing. A missing thing is a ``NotFound`` (a 404 page that lists what exists).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from maestro.errors import MaestroError

log = logging.getLogger("maestro.ui")


class UiError(MaestroError):
    """A view's input is malformed (400); the message says what to send instead."""

    status = 400


class NotFound(UiError):
    """What the URL names does not exist (404); ``known`` lists what does."""

    status = 404

    def __init__(self, message: str, known: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.known = tuple(known)


@dataclass(frozen=True, slots=True)
class Page:
    template: str
    title: str
    data: Mapping[str, Any]  # the JSON twin: everything the template shows
    status: int = 200
    extra: Mapping[str, Any] = field(default_factory=dict)  # template-only helpers (never secrets)


def environment() -> Environment:
    env = Environment(loader=PackageLoader("maestro.ui", "templates"), autoescape=select_autoescape(("html",)))
    env.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=2, sort_keys=True, default=str)
    return env


def wants_json(request: Request) -> bool:
    if request.url.path.endswith(".json"):
        return True
    accept = request.headers.get("accept", "")
    if "text/html" in accept:
        return False
    return "application/json" in accept or bool(request.headers.get("authorization"))  # scripts: JSON by default


def render(env: Environment, request: Request, page: Page, context: Mapping[str, Any]) -> Response:
    if wants_json(request):
        return JSONResponse(json.loads(json.dumps(page.data, default=str)), status_code=page.status)
    html = env.get_template(page.template).render(
        page=page, data=page.data, title=page.title, request=request, **page.extra, **context
    )
    return HTMLResponse(html, status_code=page.status)


def error_page(status: int, title: str, message: str, known: Sequence[str] = (), **extra: Any) -> Page:
    data: dict[str, Any] = {"error": {"status": status, "message": message}}
    if known:
        data["error"]["known"] = list(known)
    return Page("error.html", title, data, status, extra)


def internal_error(exc: BaseException) -> Page:
    """A page with an id to find in the log: the traceback goes to the log, never to the browser."""
    incident = uuid.uuid4().hex[:12]
    log.error("internal error %s", incident, exc_info=exc)
    return error_page(
        500,
        "Internal error",
        f"Something went wrong on the server. Its log has the details under incident {incident}.",
        incident=incident,
    )
