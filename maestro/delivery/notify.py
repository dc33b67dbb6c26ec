"""Notifications: the Policies' webhooks told about rollouts, budgets, the kill switch, freezes, deploys and evals.

    notifier = Notifier(store, hooks, budgets, environ)   # a gateway service, like the rollout controller
    notifier.start()                                       # polls the state store, sends in its own thread
    notifier.notify(Notice("deploy", key, title, data))    # an event a command raises itself
    notifier.flush(timeout_s)                              # wait for what is queued (commands)

What happened is read from the state store, so it does not matter which process did it: each poll takes the
rollout events since the last one, the gateway's switches (kill switch, freeze) and the ad-hoc freezes that
changed, and each budget past 80% and 100% of its period's limit. Every notice is claimed once per webhook in
``notifications`` (``UNIQUE (key, hook)``), so with several gateways exactly one sends it; the row then keeps
the delivery: attempts, ``sent`` or ``failed`` and why (never the URL, which carries the webhook's secret).

A webhook is POSTed a JSON body (``format: json``: the notice's fields) or a Slack-compatible ``{"text": ...}``
(``format: slack``), retried with exponential backoff (``tenacity``) on a transport error or a 429/5xx status.
Sending happens in the notifier's thread, so a failing webhook never holds up a rollout or a request.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from maestro.delivery.freeze import Freezes
from maestro.gateway.budgets import Budgets, period_start
from maestro.gateway.switches import Switches
from maestro.manifests.kinds.policy import Webhook
from maestro.router import Budget
from maestro.state import connect
from maestro.state.store import migrate

log = logging.getLogger(__name__)

COMPONENT = "notifications"
MIGRATIONS = [
    "CREATE TABLE notifications (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, hook TEXT NOT NULL, "
    "kind TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, "
    "error TEXT NOT NULL, created REAL NOT NULL, sent REAL, UNIQUE (key, hook))",
    "CREATE TABLE notify_cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
]
THRESHOLDS = (80, 100)  # percent of a budget's limit


@dataclass(frozen=True, slots=True)
class Notice:
    kind: str  # rollout, budget, killswitch, freeze, deploy, eval
    key: str  # what makes it once-only (rollout-event/42, budget/daily/2026-12-07/80)
    title: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def body(self, fmt: str) -> dict[str, Any]:
        if fmt == "slack":
            return {"text": f"[maestro] {self.title}"}
        return {"source": "maestro", "kind": self.kind, "title": self.title, **self.data}


@dataclass(frozen=True, slots=True)
class Retry:
    attempts: int = 5
    first_wait_s: float = 0.5
    max_wait_s: float = 8.0


class WebhookFailed(Exception):
    """One attempt failed; the message says why, without the URL."""


def post(client: httpx.Client, url: str, body: Mapping[str, Any], retry: Retry) -> tuple[int, str]:
    """POST ``body`` until it is accepted or the attempts run out: (attempts made, '' or why it failed)."""
    made = 0
    try:
        for attempt in Retrying(
            stop=stop_after_attempt(retry.attempts),
            wait=wait_exponential(multiplier=retry.first_wait_s, max=retry.max_wait_s),
            retry=retry_if_exception_type(WebhookFailed),
            reraise=True,
        ):
            with attempt:
                made += 1
                _attempt(client, url, body)
    except WebhookFailed as e:
        return made, str(e)
    return made, ""


def _attempt(client: httpx.Client, url: str, body: Mapping[str, Any]) -> None:
    try:
        response = client.post(url, json=body)
    except httpx.HTTPError as e:
        raise WebhookFailed(f"cannot reach the webhook ({type(e).__name__})") from None
    if response.status_code >= 300:
        raise WebhookFailed(f"the webhook answered {response.status_code}")


class Outbox:
    """The notices claimed for each webhook and how their delivery went."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        migrate(conn, COMPONENT, MIGRATIONS)
        self.conn = conn

    def claim(self, notice: Notice, hook: Webhook, now: float) -> int | None:
        """The row to deliver ``notice`` to ``hook`` through; None when another process (or poll) claimed it."""
        row = self.conn.execute(
            "INSERT INTO notifications (key, hook, kind, title, body, status, attempts, error, created) "
            "VALUES (?, ?, ?, ?, ?, 'pending', 0, '', ?) ON CONFLICT(key, hook) DO NOTHING RETURNING id",
            (notice.key, hook.name, notice.kind, notice.title, json.dumps(notice.body(hook.format)), now),
        ).fetchone()
        return None if row is None else int(row[0])

    def done(self, row: int, attempts: int, error: str, now: float) -> None:
        self.conn.execute(
            "UPDATE notifications SET status = ?, attempts = ?, error = ?, sent = ? WHERE id = ?",
            ("failed" if error else "sent", attempts, error, now, row),
        )

    def all(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT key, hook, kind, title, status, attempts, error FROM notifications ORDER BY id"
        ).fetchall()
        keys = ("key", "hook", "kind", "title", "status", "attempts", "error")
        return [dict(zip(keys, r, strict=True)) for r in rows]


class Watch:
    """What changed in the state store since the last poll, each change taken by exactly one poller."""

    def __init__(self, conn: sqlite3.Connection, budgets: Sequence[Budget], clock: Callable[[], float]) -> None:
        migrate(conn, COMPONENT, MIGRATIONS)
        self.conn = conn
        self.switches = Switches(conn)
        self.freezes = Freezes(conn)
        self.budgets = Budgets(conn, budgets, clock)
        self.clock = clock

    def poll(self) -> list[Notice]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            found = [*self._rollouts(), *self._switches(), *self._freezes()]
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return found + self._budgets()

    def _advance(self, name: str, value: str) -> str | None:
        """Store cursor ``name``'s new value; its old one (None on the first poll, which reports nothing)."""
        row = self.conn.execute("SELECT value FROM notify_cursors WHERE name = ?", (name,)).fetchone()
        self.conn.execute(
            "INSERT INTO notify_cursors (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
        return None if row is None else str(row[0])

    def _rollouts(self) -> list[Notice]:
        try:
            top = int(self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM rollout_events").fetchone()[0])
        except sqlite3.OperationalError:  # no rollout has ever started in this store: every event to come is new
            self._advance("rollout_events", "0")
            return []
        since = self._advance("rollout_events", str(top))
        if since is None:
            return []
        rows = self.conn.execute(
            "SELECT id, name, event, before, after, step, canary_weight, reason FROM rollout_events "
            "WHERE id > ? AND id <= ? ORDER BY id",
            (int(since), top),
        ).fetchall()
        out = []
        for i, name, event, before, after, step, weight, reason in rows:
            title = f"rollout {name}: {event}, {before} -> {after} at step {step}, canary {weight}%"
            data = {"rollout": name, "event": event, "from": before, "to": after, "step": step, "canaryWeight": weight}
            out.append(Notice("rollout", f"rollout-event/{i}", title + (f" ({reason})" if reason else ""), data))
        return out

    def _switches(self) -> list[Notice]:
        now = self.switches.engaged()
        before = self._advance("switches", json.dumps(now, sort_keys=True))
        if before is None or before == json.dumps(now, sort_keys=True):
            return []
        old, out = json.loads(before), []
        at = int(self._advance("switch_changes", "") or 0) + 1  # numbers each change: the notices' keys
        self._advance("switch_changes", str(at))
        routes = [str(r) for r in now["killRoutes"]]  # type: ignore[attr-defined]
        if (old["killAll"], old["killRoutes"]) != (now["killAll"], routes):
            engaged = "every route" if now["killAll"] else ", ".join(routes)
            title = f"kill switch engaged for {engaged}" if engaged else "kill switch released on every route"
            out.append(Notice("killswitch", f"switches/{at}/kill", title, {"switches": now}))
        if old["frozen"] != now["frozen"]:
            what = "engaged" if now["frozen"] else "lifted"
            out.append(Notice("freeze", f"switches/{at}/freeze", f"the gateway's freeze is {what}", {"switches": now}))
        return out

    def _freezes(self) -> list[Notice]:
        windows = {w.name: w for w in self.freezes.all()}
        before = self._advance("freezes", json.dumps(sorted(windows)))
        if before is None:
            return []
        old = set(json.loads(before))
        at = int(self._advance("freeze_changes", "") or 0) + 1
        self._advance("freeze_changes", str(at))
        out = [
            Notice("freeze", f"freeze/{name}/added/{at}", f"freeze '{name}' added", windows[name].as_json())
            for name in sorted(set(windows) - old)
        ]
        out += [
            Notice("freeze", f"freeze/{name}/removed/{at}", f"freeze '{name}' removed", {"name": name})
            for name in sorted(old - set(windows))
        ]
        return out

    def _budgets(self) -> list[Notice]:
        out = []
        for b in self.budgets.budgets:
            spent = self.budgets.spent(b)
            used = 100 * spent / b.limit_usd if b.limit_usd > 0 else 0.0
            for mark in THRESHOLDS:
                if used >= mark:
                    period = period_start(b.period, self.clock())
                    title = (
                        f"budget '{b.name}' has spent ${spent:.2f} of ${b.limit_usd:g} this {b.period} ({used:.0f}%)"
                    )
                    data = {"budget": b.name, "spentUsd": round(spent, 6), "limitUsd": b.limit_usd, "threshold": mark}
                    out.append(Notice("budget", f"budget/{b.name}/{period}/{mark}", title, data))
        return out


class Notifier:
    """Polls the store and sends to the webhooks in one background thread; ``notify`` queues a notice at once."""

    def __init__(
        self,
        path: Path | str,
        hooks: Sequence[Webhook],
        budgets: Sequence[Budget] = (),
        environ: Mapping[str, str] | None = None,
        *,
        interval_s: float = 1.0,
        retry: Retry | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path, self.hooks, self.budgets = path, tuple(hooks), tuple(budgets)
        self.environ = os.environ if environ is None else environ
        self.interval_s, self.retry, self.transport, self.clock = interval_s, retry or Retry(), transport, clock
        self._queue: queue.Queue[tuple[int, Notice, Webhook]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.conn = connect(path)
        self.outbox = Outbox(self.conn)

    def notify(self, notice: Notice) -> int:
        """Claim ``notice`` for every webhook that hears its kind and queue it; how many were claimed."""
        claimed = 0
        with self._lock:
            for hook in self.hooks:
                if hook.hears(notice.kind):
                    row = self.outbox.claim(notice, hook, self.clock())
                    if row is not None:
                        self._queue.put((row, notice, hook))
                        claimed += 1
        return claimed

    def poll(self, watch: Watch) -> None:
        for notice in watch.poll():
            self.notify(notice)

    def deliver_queued(self) -> None:
        """Send what is queued, in this thread (the background thread's loop; commands through ``flush``)."""
        with httpx.Client(timeout=10.0, transport=self.transport) as client:
            while True:
                try:
                    row, notice, hook = self._queue.get_nowait()
                except queue.Empty:
                    return
                url = self.environ.get(hook.url_env, "")
                if not url:
                    attempts, error = 0, f"${hook.url_env} is not set; set it to the webhook's URL"
                else:
                    attempts, error = post(client, url, notice.body(hook.format), self.retry)
                if error:
                    log.warning("notification '%s' to webhook %s failed: %s", notice.title, hook.name, error)
                with self._lock:
                    self.outbox.done(row, attempts, error, self.clock())

    def flush(self) -> None:
        self.deliver_queued()

    def start(self) -> None:
        if self._thread is None and self.hooks:
            self._thread = threading.Thread(target=self._run, name="maestro-notify", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        self.conn.close()

    def _run(self) -> None:
        conn = connect(self.path)
        watch = Watch(conn, self.budgets, self.clock)
        try:
            while not self._stop.is_set():
                try:
                    self.poll(watch)
                    self.deliver_queued()
                except sqlite3.Error as e:  # a busy store: try again on the next poll
                    log.warning("notifications: %s", e)
                self._stop.wait(self.interval_s)
        finally:
            conn.close()
