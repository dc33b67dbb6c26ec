"""``create_app(config)``: the evidence UI as a Starlette app. Nothing happens at import.

Every page is ``GET /NAME`` (HTML) and ``GET /NAME.json`` (or ``Accept: application/json``): one view
function, two renderings (``maestro.ui.pages``). Every page needs a login (viewer or above); every POST
needs its role and, from a browser session, the CSRF token (``maestro.ui.auth``). ``Handlers.failed`` is
the UI's one error boundary: each failure becomes a page (401 with the login form, 403, 404 listing what
exists, 400, or 500 with an incident id in the log), never a traceback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from jinja2 import Environment
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from maestro.errors import MaestroError
from maestro.ui import actions, auth, evals, ledger, manifests, obs, providers, rollouts, routing, runs
from maestro.ui.config import UiConfig
from maestro.ui.pages import NotFound, Page, UiError, environment, error_page, internal_error, render, wants_json

VIEWS = ("/runs", "/rollouts", "/evals", "/routing", "/manifests", "/providers", "/ledger", "/obs")
SESSION_MAX_AGE_S = 8 * 3600
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)

View = Callable[[Request], Page]
Endpoint = Callable[[Request], Awaitable[Response]]


def create_app(config: UiConfig) -> Starlette:
    h = Handlers(config, environment())
    c = config
    routes: list[BaseRoute] = [
        Route("/", lambda r: RedirectResponse("/providers", 303)),
        Route("/login", h.login_form, methods=["GET"]),
        Route("/login", h.login, methods=["POST"]),
        Route("/logout", h.logout, methods=["POST"]),
        Route("/actions/{switch}", h.action(h.toggle, "operator"), methods=["POST"]),
        *h.twin("/providers", lambda r: providers.view(c, r.query_params.get("probe") == "1")),
        *h.twin("/ledger", lambda r: ledger.view(c, r.query_params)),
        Route("/ledger/{index}", h.page(lambda r: ledger.entry(c, _index(_param(r, "index"))))),
        *h.twin("/manifests", lambda r: manifests.view(c, r.query_params)),
        Route("/manifests/{kind}/{name}", h.page(lambda r: manifests.document(c, _ref(r)))),
        *h.twin("/routing", lambda r: routing.view(c, *_studio(r))),
        *h.twin("/evals", lambda r: evals.view(c)),
        Route("/evals/{suite}", h.page(lambda r: evals.suite(c, _param(r, "suite")))),
        *h.twin("/runs", lambda r: runs.view(c, r.query_params.get("status"))),
        Route("/runs/{run}/events", h.run_events),
        Route("/runs/{run}/decide", h.action(h.decide, "approver"), methods=["POST"]),
        Route(
            "/runs/{run}", h.page(lambda r: runs.run(c, _param(r, "run"), runs.first_event(r.query_params.get("from"))))
        ),
        *h.twin("/rollouts", lambda r: rollouts.view(c)),
        *h.twin("/obs", lambda r: obs.view(c)),
        Route("/rollouts/{name}/events", h.rollout_events),
        Route("/rollouts/{name}/approve", h.action(h.approve_rollout, "approver"), methods=["POST"]),
        Route("/rollouts/{name}/{verb}", h.action(h.rollout_action, "operator"), methods=["POST"]),
        Route("/rollouts/{name}", h.page(lambda r: rollouts.rollout(c, _param(r, "name")))),
        Mount("/static", StaticFiles(packages=[("maestro.ui", "static")]), name="static"),
    ]
    frames = f"; frame-src {obs.grafana_origin(config.grafana_url)}" if config.grafana_url else ""
    middleware = [
        Middleware(_SecurityHeaders, csp=CSP + frames),
        Middleware(
            SessionMiddleware,
            secret_key=config.session_secret,
            session_cookie="maestro_ui",
            max_age=SESSION_MAX_AGE_S,
            same_site="strict",
            https_only=config.secure_cookie,
        ),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: h.http_error, Exception: h.server_error},
    )


class Handlers:
    """The endpoints around the views: login, logout, actions, the event stream, and the error pages."""

    def __init__(self, config: UiConfig, env: Environment) -> None:
        self.config = config
        self.env = env
        self.throttle = auth.LoginThrottle()

    def respond(self, request: Request, page: Page, who: auth.Who | None = None) -> Response:
        context = {"who": who, "csrf": auth.csrf_token(request), "views": VIEWS}
        return render(self.env, request, page, context)

    def failed(self, request: Request, exc: BaseException, who: auth.Who | None) -> Response:
        response = self.respond(request, failure_page(request, exc), who)
        if isinstance(exc, auth.TooManyLogins):
            response.headers["retry-after"] = str(exc.retry_after)
        return response

    def caller(self, request: Request) -> auth.Who | None:
        """Who asks; a wrong Bearer token counts against the address like a wrong login."""
        bearer, client = "authorization" in request.headers, _client(request)
        if bearer:
            self.throttle.check(client)
        try:
            return auth.who(self.config, request)
        except auth.Unauthorized:
            if bearer:
                self.throttle.failed(client)
            raise

    def page(self, view: View, role: str = "viewer") -> Endpoint:
        async def endpoint(request: Request) -> Response:
            who = None
            try:
                who = auth.require(self.caller(request), role)
                result = await run_in_threadpool(view, request)
            except Exception as e:  # the one boundary: a page, never a traceback
                return self.failed(request, e, who)
            return self.respond(request, result, who)

        return endpoint

    def twin(self, path: str, view: View) -> list[BaseRoute]:
        return [Route(path, self.page(view)), Route(path + ".json", self.page(view))]

    def action(self, run: Callable[[Request, auth.Who, dict[str, str]], Any], role: str) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            who = None
            try:
                who = auth.require(self.caller(request), role)
                await auth.check_csrf(request, who)
                form = await request.form()
                result = await run_in_threadpool(run, request, who, {k: str(v) for k, v in form.items()})
            except Exception as e:
                return self.failed(request, e, who)
            if wants_json(request) or who.via == "bearer":
                return JSONResponse(result)
            back = request.headers.get("referer", "")
            return RedirectResponse(back if back.startswith(str(request.base_url)) else "/providers", 303)

        return endpoint

    def toggle(self, request: Request, who: auth.Who, form: dict[str, str]) -> dict[str, Any]:
        engaged = form.get("engaged", "") in ("1", "true", "on", "yes")
        return actions.toggle(self.config, who, str(request.path_params["switch"]), engaged, form.get("route") or None)

    def decide(self, request: Request, who: auth.Who, form: dict[str, str]) -> dict[str, Any]:
        run_id = str(request.path_params["run"])
        interrupt, decision = form.get("interrupt", ""), form.get("decision", "")
        return runs.decide(self.config, who, run_id, interrupt, decision, comment=form.get("comment", ""))

    def rollout_action(self, request: Request, who: auth.Who, form: dict[str, str]) -> dict[str, Any]:
        name, verb = str(request.path_params["name"]), str(request.path_params["verb"])
        full = form.get("full", "") in ("1", "true", "on", "yes")
        return rollouts.act(self.config, who, name, verb, full=full)

    def approve_rollout(self, request: Request, who: auth.Who, form: dict[str, str]) -> dict[str, Any]:
        return rollouts.approve(self.config, who, str(request.path_params["name"]))

    async def login_form(self, request: Request) -> Response:
        return self.respond(request, Page("login.html", "Log in", {}, extra={"next": _next(request.query_params)}))

    async def login(self, request: Request) -> Response:
        client = _client(request)
        try:
            self.throttle.check(client)
            await auth.check_csrf(request, None)
            form = await request.form()
            auth.login(self.config, request, str(form.get("token", "")))
        except auth.TooManyLogins as e:
            return self.failed(request, e, None)
        except (auth.Unauthorized, auth.Forbidden) as e:
            self.throttle.failed(client)
            return self.failed(request, auth.Unauthorized(str(e)), None)
        return RedirectResponse(_next(form), 303)

    async def logout(self, request: Request) -> Response:
        try:
            await auth.check_csrf(request, None)
        except auth.Forbidden as e:
            return self.failed(request, e, None)
        request.session.clear()
        return RedirectResponse("/login", 303)

    async def run_events(self, request: Request) -> Response:
        try:
            auth.require(self.caller(request), "viewer")
            run_id, first = _param(request, "run"), runs.first_event(request.query_params.get("from"))
            await run_in_threadpool(runs.run, self.config, run_id)  # a 404 page before any stream
        except Exception as e:
            return self.failed(request, e, None)
        template = self.env.get_template("run_state.html")
        stream = runs.events(self.config, run_id, lambda data: template.render(data=data), first)
        return StreamingResponse(stream, media_type="text/event-stream", headers={"cache-control": "no-cache"})

    async def rollout_events(self, request: Request) -> Response:
        try:
            auth.require(self.caller(request), "viewer")
            name = _param(request, "name")
            await run_in_threadpool(rollouts.detail, self.config, name)  # a 404 page before any stream
        except Exception as e:
            return self.failed(request, e, None)
        template = self.env.get_template("rollout_state.html")
        stream = rollouts.events(self.config, name, lambda data: template.render(data=data))
        return StreamingResponse(stream, media_type="text/event-stream", headers={"cache-control": "no-cache"})

    async def http_error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        if status == 404:
            return self.respond(request, error_page(404, "Not found", f"no page at {request.url.path}", VIEWS))
        return self.respond(request, error_page(status, "Cannot do this", str(getattr(exc, "detail", exc))))

    async def server_error(self, request: Request, exc: Exception) -> Response:
        return self.respond(request, internal_error(exc))


def failure_page(request: Request, exc: BaseException) -> Page:
    if isinstance(exc, auth.TooManyLogins):
        return error_page(429, "Too many tries", str(exc))
    if isinstance(exc, auth.Unauthorized):
        error = {"error": {"status": 401, "message": str(exc)}}
        return Page("login.html", "Log in", error, 401, {"next": request.url.path})
    if isinstance(exc, auth.Forbidden):
        return error_page(403, "Not allowed", str(exc))
    if isinstance(exc, NotFound):
        return error_page(404, "Not found", str(exc), exc.known)
    if isinstance(exc, UiError):
        return error_page(exc.status, "Cannot show this", str(exc))
    if isinstance(exc, MaestroError):
        return error_page(400, "Cannot show this", str(exc))
    return internal_error(exc)


class _SecurityHeaders:
    """A Content-Security-Policy (scripts only from this server) and no framing by other sites."""

    def __init__(self, app: ASGIApp, csp: str = CSP) -> None:
        self.app = app
        self.csp = csp.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"public, max-age=3600"))  # no revalidation on each page
                headers += [
                    (b"content-security-policy", self.csp),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _param(request: Request, name: str) -> str:
    return str(request.path_params[name]).removesuffix(".json")


def _index(text: str) -> int:
    if not text.isdigit():
        raise UiError(f"'{text}' is not an entry index; use a number such as /ledger/0")
    return int(text)


def _ref(request: Request) -> str:
    return f"{request.path_params['kind']}/{_param(request, 'name')}"


def _studio(request: Request) -> tuple[str, list[str], str]:
    q = request.query_params
    return q.get("request", ""), q.getlist("outage"), q.get("weights", "")


def _next(params: Any) -> str:
    """Where to go after logging in: a path on this server only (never another site)."""
    nxt = str(params.get("next") or "/providers")
    return nxt if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt else "/providers"
