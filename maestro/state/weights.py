"""Live weights: a route's candidate weights changed at run time in the state store (component ``weights``).

A change is a full set of weights for one route, by deployment key (``provider/model``); deployments it does
not name keep the weight the manifest gives them. Every gateway process reads the overrides on each decision
(cached until the store changes: SQLite's ``PRAGMA data_version``, the WAL position on PostgreSQL), so a change
applies everywhere without a reload.

During a freeze a change may only take traffic away: no weight may rise (a rollback, an abort or a kill sets a
canary to 0 and is allowed; shifting more traffic to it is not). ``clear`` returns a route to its manifest.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from maestro.errors import MaestroError
from maestro.state.store import migrate

COMPONENT = "weights"
MIGRATIONS = [
    "CREATE TABLE live_weights (route TEXT PRIMARY KEY, weights TEXT NOT NULL, actor TEXT NOT NULL, "
    "reason TEXT NOT NULL DEFAULT '', changed_at REAL NOT NULL)",
]
_NONE: Mapping[str, Mapping[str, float]] = MappingProxyType({})


class WeightError(MaestroError):
    """A weight change that cannot be made: an unknown deployment, a bad value, or more traffic in a freeze."""


@dataclass(frozen=True, slots=True)
class Change:
    """One applied change, for the ledger: who, which route, from what to what."""

    route: str
    before: Mapping[str, float]
    after: Mapping[str, float]
    actor: str
    reason: str
    changed_at: float

    @property
    def adds_traffic(self) -> bool:
        return any(w > self.before.get(k, 0.0) for k, w in self.after.items())


class LiveWeights:
    """The overrides in the state store: read on ``conn``, written on ``writes`` (default: ``conn``). The gateway
    reads them on every decision from its event loop, on a connection that only reads and so never waits for a
    lock; its changes go through the connection its worker threads write on."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        clock: Callable[[], float] = time.time,
        *,
        writes: sqlite3.Connection | None = None,
    ) -> None:
        self.writes = writes or conn
        migrate(self.writes, COMPONENT, MIGRATIONS)
        self.conn = conn
        self.clock = clock
        self._cached: Mapping[str, Mapping[str, float]] | None = None
        self._version: object = None

    def current(self) -> Mapping[str, Mapping[str, float]]:
        """Route name -> deployment key -> weight, for the routes that have overrides."""
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if self._cached is None or version != self._version:
            rows = self.conn.execute("SELECT route, weights FROM live_weights").fetchall()
            self._cached = MappingProxyType({r: MappingProxyType(json.loads(w)) for r, w in rows}) if rows else _NONE
            self._version = version
        return self._cached

    def set(
        self,
        route: str,
        weights: Mapping[str, float],
        manifest: Mapping[str, float],
        *,
        actor: str,
        frozen: bool,
        reason: str = "",
    ) -> Change:
        """Set ``route``'s weights (``manifest``: its candidates as written); refuse more traffic in a freeze."""
        unknown = sorted(set(weights) - set(manifest))
        if unknown:
            raise WeightError(
                f"route '{route}' has no candidate {', '.join(unknown)}; its candidates: {', '.join(sorted(manifest))}"
            )
        bad = sorted(k for k, w in weights.items() if not (isinstance(w, int | float) and 0 <= w <= 1_000_000))
        if bad:
            raise WeightError(f"weights must be numbers from 0 to 1000000: {', '.join(bad)}")
        self._cached = None
        self.writes.execute("BEGIN IMMEDIATE")
        try:
            before = {**manifest, **self._read(route)}
            after = {**before, **{k: float(w) for k, w in weights.items()}}
            if not any(after.values()):
                raise WeightError(f"route '{route}': at least one candidate needs a weight above 0")
            change = Change(route, before, after, actor, reason, self.clock())
            if frozen and change.adds_traffic:
                raised = sorted(k for k, w in after.items() if w > before.get(k, 0.0))
                raise WeightError(
                    f"a freeze is engaged: a change may only take traffic away, and this raises {', '.join(raised)}; "
                    "lift the freeze first, or lower weights instead"
                )
            self.writes.execute(
                "INSERT INTO live_weights (route, weights, actor, reason, changed_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(route) DO UPDATE SET weights = excluded.weights, actor = excluded.actor, "
                "reason = excluded.reason, changed_at = excluded.changed_at",
                (route, json.dumps(after, sort_keys=True), actor, reason, change.changed_at),
            )
            self.writes.execute("COMMIT")
        except BaseException:
            self.writes.execute("ROLLBACK")
            raise
        return change

    def clear(self, route: str, manifest: Mapping[str, float], *, actor: str, frozen: bool) -> Change:
        """Back to the manifest's weights; in a freeze only when that raises no weight."""
        before = {**manifest, **self._read(route)}
        change = Change(route, before, dict(manifest), actor, "cleared", self.clock())
        if frozen and change.adds_traffic:
            raise WeightError(
                f"a freeze is engaged and the manifest's weights would give route '{route}' traffic back; "
                "lift the freeze first"
            )
        self._cached = None
        self.writes.execute("DELETE FROM live_weights WHERE route = ?", (route,))
        return change

    def _read(self, route: str) -> dict[str, float]:
        row = self.writes.execute("SELECT weights FROM live_weights WHERE route = ?", (route,)).fetchone()
        return dict(json.loads(row[0])) if row else {}
