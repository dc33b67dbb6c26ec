"""Budgets in the state store: periods, stale reservations, and processes that cannot overspend together."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from maestro import state
from maestro.gateway.budgets import STALE_S, BudgetRefused, Budgets, period_start
from maestro.router import Budget


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("hour", "2026-12-02T14:00:00+00:00"),
        ("day", "2026-12-02T00:00:00+00:00"),
        ("week", "2026-11-30T00:00:00+00:00"),
        ("month", "2026-12-01T00:00:00+00:00"),
    ],
)
def test_period_start(period: str, expected: str) -> None:
    assert period_start(period, 1796221999.0) == expected  # 2026-12-02 (a Wednesday) 14:33:19 UTC


def test_many_writers_on_one_file_never_reserve_past_the_limit(tmp_path: Path) -> None:
    budget = Budget("shared", 1.0, "day", "block", team="t")
    path = tmp_path / "state.db"
    granted: list[int] = []
    refused: list[int] = []

    def worker() -> None:
        conn = state.connect(path)  # one connection per worker, as separate gateway processes have
        store = Budgets(conn, [budget])
        for _ in range(25):
            try:
                store.reserve([budget], ("d",), {"d": 0.03})
                granted.append(1)
            except BudgetRefused:
                refused.append(1)
        conn.close()

    Budgets(state.connect(path), [budget])  # migrate once before the race
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 33  # floor(1.0 / 0.03): not one more, whatever the interleaving
    assert len(refused) == 100 - 33
    assert Budgets(state.connect(path), [budget]).spent(budget) == pytest.approx(33 * 0.03)


def test_a_reservation_never_settled_is_charged_at_its_reserved_amount_once_expired(tmp_path: Path) -> None:
    now = [1_000_000.0]
    budget = Budget("b", 0.05, "month", "block", route="r")
    store = Budgets(state.connect(tmp_path / "s.db"), [budget], clock=lambda: now[0])
    store.reserve([budget], ("d",), {"d": 0.04})  # a process died before settling it
    with pytest.raises(BudgetRefused):
        store.reserve([budget], ("d",), {"d": 0.04})
    now[0] += STALE_S + 1
    with pytest.raises(BudgetRefused):  # expired: charged, not forgotten
        store.reserve([budget], ("d",), {"d": 0.04})
    assert store.spent(budget) == pytest.approx(0.04)
    assert store.conn.execute("SELECT settled, amount_usd FROM budget_spend").fetchall() == [(1, 0.04)]
    assert store.expire() == 0  # settled once


def test_alert_budgets_let_requests_through_and_say_so(tmp_path: Path) -> None:
    budget = Budget("watch", 0.0, "day", "alert", team="t")
    store = Budgets(state.connect(tmp_path / "s.db"), [budget])
    reservation = store.reserve([budget], ("a", "b"), {"a": 0.01, "b": 0.02})
    assert reservation.order == ("a", "b") and reservation.alerts == ("watch",)
    store.settle(reservation, 0.015)
    assert store.spent(budget) == pytest.approx(0.015)
