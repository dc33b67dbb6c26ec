"""Spending budgets per API key, team and route, in USD, in the state store (component ``budgets``).

A request reserves its estimated cost (the dearest deployment it may be served by) before the upstream call,
in one ``BEGIN IMMEDIATE`` transaction, so processes sharing the store cannot overspend together; the
reservation is settled to the real cost afterwards (0 when nothing was served). A reservation never settled
(its process died) is settled at its reserved amount once it is ``STALE_S`` old: what it may have spent is
charged, never forgotten. A request that is still alive past that (a very long stream) settles to its real
cost when it ends.

``onExceed``: ``block`` refuses the request (429); ``downgrade`` keeps only the deployments whose estimate
still fits, cheapest first, and refuses when none does; ``alert`` lets it through and counts it. That judgment
is the router's governance (``maestro.router.governance.fit_budgets``); this module keeps the spend.

The budgets themselves are the router's (``maestro.router.Budget``, compiled from the Policies' ``budgets``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from maestro import state
from maestro.router import Budget
from maestro.router.governance import fit_budgets

COMPONENT = "budgets"
MIGRATIONS = [
    "CREATE TABLE budget_spend (id INTEGER PRIMARY KEY, budget TEXT NOT NULL, period TEXT NOT NULL, "
    "amount_usd REAL NOT NULL, settled INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);"
    "CREATE INDEX budget_spend_by_period ON budget_spend (budget, period)",
    # the reservations not yet settled, by age: what ``expire`` reads on every reservation
    "CREATE INDEX budget_spend_unsettled ON budget_spend (created) WHERE settled = 0",
]
STALE_S = 900.0  # an unsettled reservation this old is taken as settled at its reserved amount


def period_start(period: str, now: float) -> str:
    t = datetime.fromtimestamp(now, UTC)
    if period == "hour":
        t = t.replace(minute=0, second=0, microsecond=0)
    elif period == "day":
        t = t.replace(hour=0, minute=0, second=0, microsecond=0)
    elif period == "week":
        t = (t - timedelta(days=t.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        t = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return t.isoformat()


@dataclass(frozen=True, slots=True)
class Reservation:
    ids: tuple[int, ...]
    order: tuple[str, ...]
    alerts: tuple[str, ...]  # alert budgets this request goes past


class BudgetRefused(Exception):
    def __init__(self, budget: Budget, remaining: float, needed: float) -> None:
        super().__init__(
            f"budget '{budget.name}' (${budget.limit_usd:g} a {budget.period}) has ${max(remaining, 0):.6f} left; "
            f"this request may cost up to ${needed:.6f}"
        )
        self.budget = budget


class Budgets:
    def __init__(
        self, conn: sqlite3.Connection, budgets: Sequence[Budget], clock: Callable[[], float] = time.time
    ) -> None:
        state.migrate(conn, COMPONENT, MIGRATIONS)
        self.conn = conn
        self.budgets = tuple(budgets)
        self.clock = clock

    def applicable(self, route: str, team: str, api_key: str) -> list[Budget]:
        return [b for b in self.budgets if b.applies(route, team, api_key)]

    def spent(self, budget: Budget) -> float:
        """What ``budget``'s current period has spent: settled costs and reservations (expired ones included)."""
        row = self.conn.execute(
            "SELECT COALESCE(SUM(amount_usd), 0) FROM budget_spend WHERE budget = ? AND period = ?",
            (budget.name, period_start(budget.period, self.clock())),
        ).fetchone()
        return float(row[0])

    def expire(self) -> int:
        """Settle the reservations older than ``STALE_S`` at their reserved amount; return how many."""
        cursor = self.conn.execute(
            "UPDATE budget_spend SET settled = 1 WHERE settled = 0 AND created <= ?", (self.clock() - STALE_S,)
        )
        return cursor.rowcount

    def reserve(self, budgets: Sequence[Budget], order: Sequence[str], estimates: Mapping[str, float]) -> Reservation:
        """Reserve for ``order`` (or a cheaper part of it); raise BudgetRefused when nothing fits."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.expire()
            fit = fit_budgets(budgets, lambda b: b.limit_usd - self.spent(b), order, estimates)
            if fit.refused is not None:
                raise BudgetRefused(fit.refused, fit.remaining, fit.needed)
            kept = fit.order
            amount = max((estimates[k] for k in kept), default=0.0)
            now = self.clock()
            ids = tuple(
                int(
                    self.conn.execute(
                        "INSERT INTO budget_spend (budget, period, amount_usd, created) VALUES (?, ?, ?, ?)",
                        (b.name, period_start(b.period, now), amount, now),
                    ).lastrowid
                    or 0
                )
                for b in budgets
            )
            self.conn.execute("COMMIT")
        except BudgetRefused:
            self.conn.execute("COMMIT")  # nothing reserved; the expired reservations stay settled
            raise
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return Reservation(ids, kept, fit.alerts)

    def settle(self, reservation: Reservation, cost_usd: float) -> None:
        if not reservation.ids:
            return
        marks = ",".join("?" * len(reservation.ids))
        self.conn.execute(
            f"UPDATE budget_spend SET amount_usd = ?, settled = 1 WHERE id IN ({marks})",
            (cost_usd, *reservation.ids),
        )
