"""A stand-in for the GitHub REST API on 127.0.0.1: issue comments and check runs, enough for PyGithub, with
every request it received kept for assertions.

``login`` is who the token belongs to (``GET /user``); ``None`` answers 403 there, as Actions' installation
token does, and comments the token writes are then by ``github-actions[bot]``. ``forbid`` names the writes
answered 403 (``comment``, ``check``), as GitHub does for a fork's read-only token. ``add_comment`` puts a
comment by anyone on an issue.
Like GitHub it pages lists (``per_page``, default 30, and ``page``; a ``Link`` header with ``next``/``last``),
and refuses more than 50 annotations in one check-run request (422)."""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PER_PAGE = 30  # GitHub's default page size
MAX_ANNOTATIONS = 50  # GitHub's limit per check-run request


@dataclass
class Received:
    method: str
    path: str
    body: Any
    authorization: str


@dataclass
class FakeGitHub:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> comment
    checks: dict[int, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 1000
    login: str | None = "maestro-bot"
    forbid: set[str] = field(default_factory=set)

    def writer(self) -> str:
        return self.login or "github-actions[bot]"

    def forbidden(self, path: str) -> bool:
        return ("comment" in self.forbid and "/comments" in path) or ("check" in self.forbid and "/check-runs" in path)

    def add_comment(self, issue: int, body: str, user: str = "someone") -> int:
        c = {"id": self.new_id(), "issue": issue, "body": body, "user": user}
        self.comments[c["id"]] = c
        return int(c["id"])

    def writes(self) -> list[Received]:
        return [r for r in self.requests if r.method != "GET"]

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def comment_json(self, repo: str, c: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.url}/repos/{repo}/issues/comments/{c['id']}"
        return {"id": c["id"], "body": c["body"], "url": url, "html_url": url, "user": {"login": c["user"]}}

    def annotation_batches(self) -> list[int]:
        """How many annotations each check-run request carried, in order."""
        return [
            len(((r.body or {}).get("output") or {}).get("annotations") or [])
            for r in self.requests
            if "/check-runs" in r.path and r.method in ("POST", "PATCH")
        ]

    def page(self, path: str, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        """One page of ``items`` as ``path``'s query asks, and its Link header."""
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        per = int(query.get("per_page", [str(PER_PAGE)])[0])
        number = int(query.get("page", ["1"])[0])
        last = max(1, math.ceil(len(items) / per))
        base = f"{self.url}{parts.path}?per_page={per}&page="
        links = []
        if number < last:
            links += [f'<{base}{number + 1}>; rel="next"', f'<{base}{last}>; rel="last"']
        if number > 1:
            links += [f'<{base}{number - 1}>; rel="prev"', f'<{base}1>; rel="first"']
        return items[(number - 1) * per : number * per], ({"link": ", ".join(links)} if links else {})

    def check_json(self, repo: str, c: dict[str, Any]) -> dict[str, Any]:
        return {**c, "url": f"{self.url}/repos/{repo}/check-runs/{c['id']}"}

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if path == "/user" and method == "GET":
            if self.login is None:
                return 403, {"message": "Resource not accessible by integration"}, {}
            return 200, {"login": self.login, "id": 1, "type": "User"}, {}
        if method in ("POST", "PATCH") and self.forbidden(path):
            return 403, {"message": "Resource not accessible by integration"}, {}
        if method in ("POST", "PATCH") and "/check-runs" in path:
            count = len(((body or {}).get("output") or {}).get("annotations") or [])
            if count > MAX_ANNOTATIONS:
                return 422, {"message": f"Only {MAX_ANNOTATIONS} annotations are allowed per request"}, {}
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments", path.split("?", maxsplit=1)[0])
        if m and method == "GET":
            repo, number = m.group(1), int(m.group(2))
            every = [self.comment_json(repo, c) for c in self.comments.values() if c["issue"] == number]
            return (200, *self.page(path, every))
        status, answer = self._write(method, path, body)
        return status, answer, {}

    def _write(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments", path.split("?", maxsplit=1)[0])
        if m and method == "POST":
            c = {"id": self.new_id(), "issue": int(m.group(2)), "body": body["body"], "user": self.writer()}
            self.comments[c["id"]] = c
            return 201, self.comment_json(m.group(1), c)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)", path)
        if m and method == "PATCH":
            c = self.comments[int(m.group(2))]
            c["body"] = body["body"]
            return 200, self.comment_json(m.group(1), c)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/check-runs", path)
        if m and method == "POST":
            c = {"id": self.new_id(), **body}
            self.checks[c["id"]] = c
            return 201, self.check_json(m.group(1), c)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/check-runs/(\d+)", path)
        if m and method == "PATCH":
            c = self.checks[int(m.group(2))]
            c.setdefault("more_annotations", []).extend(body.get("output", {}).get("annotations", []))
            return 200, self.check_json(m.group(1), c)
        return 404, {"message": "Not Found"}


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            """Quiet."""

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            with fake.lock:
                fake.requests.append(Received(self.command, self.path, body, self.headers.get("authorization", "")))
                outcome = fake.handle(self.command, self.path, body)
            status, answer = outcome[0], outcome[1]
            headers: dict[str, str] = outcome[2] if len(outcome) > 2 else {}  # a test's own handle may give two
            data = json.dumps(answer).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _serve

    return Handler


@contextmanager
def serve() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
