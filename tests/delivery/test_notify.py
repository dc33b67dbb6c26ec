from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.delivery import Clock, Hook, spec

from maestro import state
from maestro.delivery.controller import Controller
from maestro.delivery.notify import Notice, Notifier, Retry, Watch
from maestro.gateway.budgets import Budgets
from maestro.gateway.serve import Background
from maestro.gateway.switches import Switches
from maestro.manifests.kinds.policy import Webhook
from maestro.router import Budget

FAST = Retry(attempts=3, first_wait_s=0.01, max_wait_s=0.02)


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str]]:
    h = Hook(fail=1)
    with Background(h.app()) as url:
        yield h, url + "/hook"


def _notifier(path: Path, url: str, fmt: str = "json", events: tuple[str, ...] = ()) -> Notifier:
    hooks = [Webhook("oncall", "ONCALL_HOOK_URL", fmt, events)]
    return Notifier(path, hooks, environ={"ONCALL_HOOK_URL": url}, retry=FAST, clock=Clock())


def test_a_rollout_event_reaches_a_webhook_that_fails_first_and_the_delivery_is_kept(
    tmp_path: Path, hook: tuple[Hook, str]
) -> None:
    receiver, url = hook
    path, clock = tmp_path / "state.db", Clock()
    n = _notifier(path, url)
    watch = Watch(n.conn, (), clock)
    n.poll(watch)  # the first poll takes note of where things stand and reports nothing
    c = Controller(path, actor="test", clock=clock)
    c.begin(spec(), "alice")
    c.tick()
    n.poll(watch)
    n.flush()
    assert [s["event"] for s in receiver.seen] == ["start", "setWeight"]
    assert receiver.seen[1]["source"] == "maestro" and receiver.seen[1]["canaryWeight"] == 10
    assert receiver.calls == 3  # the first attempt got a 503 and was retried
    rows = n.outbox.all()
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 2), ("sent", 1)]
    n.poll(watch)
    n.flush()
    assert receiver.calls == 3  # nothing new: nothing sent twice
    c.close()
    n.stop()


def test_kill_switch_and_freeze_changes_go_to_a_slack_webhook(tmp_path: Path, hook: tuple[Hook, str]) -> None:
    receiver, url = hook
    receiver.fail = 0
    path = tmp_path / "state.db"
    n = _notifier(path, url, fmt="slack", events=("killswitch", "freeze"))
    watch = Watch(n.conn, (), Clock())
    n.poll(watch)
    switches = Switches(state.connect(path))  # another connection, as another process would be
    switches.set_kill(None, True)
    switches.set_freeze(True)
    watch.freezes.add("holidays", 0.0, 10.0, "end of year", "alice")
    n.poll(watch)
    switches.set_kill(None, False)
    n.poll(watch)
    n.flush()
    assert receiver.seen == [
        {"text": "[maestro] kill switch engaged for every route"},
        {"text": "[maestro] the gateway's freeze is engaged"},
        {"text": "[maestro] freeze 'holidays' added"},
        {"text": "[maestro] kill switch released on every route"},
    ]
    n.stop()


def test_budgets_notify_once_at_80_and_once_at_100_percent(tmp_path: Path, hook: tuple[Hook, str]) -> None:
    receiver, url = hook
    receiver.fail = 0
    clock = Clock()
    n = _notifier(tmp_path / "state.db", url, events=("budget",))
    budget = Budget("daily", 10.0, "day", "block", route="chat-route")
    watch = Watch(n.conn, (budget,), clock)
    budgets = Budgets(n.conn, (budget,), clock)

    def spend(usd: float) -> None:  # a request estimated at a cent that cost ``usd``
        budgets.settle(budgets.reserve((budget,), ("alpha/m1",), {"alpha/m1": 0.01}), usd)

    spend(7.0)
    n.poll(watch)
    spend(1.5)
    n.poll(watch)
    n.poll(watch)
    spend(2.0)
    n.poll(watch)
    n.flush()
    assert [(s["threshold"], s["spentUsd"]) for s in receiver.seen] == [(80, 8.5), (100, 10.5)]
    assert receiver.seen[0]["title"] == "budget 'daily' has spent $8.50 of $10 this day (85%)"
    n.stop()


def test_a_webhook_that_keeps_failing_is_recorded_and_never_raises(tmp_path: Path, hook: tuple[Hook, str]) -> None:
    receiver, url = hook
    receiver.fail = 100
    n = _notifier(tmp_path / "state.db", url)
    assert n.notify(Notice("deploy", "deploy/1", "deployed HEAD")) == 1
    assert n.notify(Notice("deploy", "deploy/1", "deployed HEAD")) == 0  # claimed once
    unset = Notifier(tmp_path / "state.db", [Webhook("other", "UNSET_HOOK", "json", ())], environ={}, retry=FAST)
    unset.notify(Notice("deploy", "deploy/1", "deployed HEAD"))
    n.flush()
    unset.flush()
    rows = {r["hook"]: r for r in n.outbox.all()}
    assert (rows["oncall"]["status"], rows["oncall"]["attempts"]) == ("failed", 3)
    assert rows["oncall"]["error"] == "the webhook answered 503" and url not in str(rows)
    assert rows["other"]["error"] == "$UNSET_HOOK is not set; set it to the webhook's URL"
    n.stop()
    unset.stop()


def _until(done: Callable[[], bool]) -> None:
    for _ in range(1000):
        if done():
            return
        time.sleep(0.01)


def test_the_notifier_thread_polls_and_sends_by_itself(tmp_path: Path, hook: tuple[Hook, str]) -> None:
    receiver, url = hook
    receiver.fail = 0
    hooks = [Webhook("oncall", "URL", "json", ("killswitch",))]
    n = Notifier(tmp_path / "state.db", hooks, environ={"URL": url}, interval_s=0.02, retry=FAST)
    n.start()
    _until(lambda: n.conn.execute("SELECT COUNT(*) FROM notify_cursors WHERE name = 'switches'").fetchone()[0] > 0)
    Switches(state.connect(tmp_path / "state.db")).set_kill("chat-route", True)
    _until(lambda: bool(receiver.seen))
    n.stop()
    assert receiver.seen[0]["title"] == "kill switch engaged for chat-route"


@pytest.mark.parametrize(
    ("hook", "message"),
    [
        ("{name: h, url: 'https://hooks.example/T0/B0/secret'}", "spec.notifications[0].url"),
        ("{name: h, url: {env: HOOK}, events: [rollouts]}", "spec.notifications[0].events[0]"),
    ],
)
def test_a_webhook_written_wrong_is_a_validation_error(tmp_path: Path, hook: str, message: str) -> None:
    from helpers.gateway import ROOT

    from maestro.manifests.validate import validate

    text = (ROOT / "policies" / "default.yaml").read_text(encoding="utf-8")
    policy = tmp_path / "policies" / "default.yaml"
    policy.parent.mkdir()
    policy.write_text(text.replace("  dualControl:\n", f"  notifications:\n    - {hook}\n  dualControl:\n", 1))
    errors = [d for d in validate([policy.parent]).diagnostics if d.severity == "error"]
    assert errors and message in f"{errors[0].path} {errors[0].message}", errors
