"""The lane's record in the state store (component ``lane``): which lanes run, where, and how loaded.

``maestro lane up`` writes a row when it starts a lane and when it becomes healthy; ``down`` marks it
stopped; the metrics poller writes the spill signals. Other processes (the gateway) read the rows with
``read`` or ``deployment_fields`` and never need to know a lane's pid or port.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from maestro import state
from maestro.lane.config import LaneConfig
from maestro.lane.spill import Signal

COMPONENT = "lane"
MIGRATIONS = [
    """
    CREATE TABLE lane_deployments (
        name TEXT PRIMARY KEY,
        deployment TEXT NOT NULL,
        base_url TEXT NOT NULL,
        pid INTEGER,
        status TEXT NOT NULL,
        circuit TEXT NOT NULL DEFAULT 'open',
        saturated INTEGER NOT NULL DEFAULT 0,
        waiting REAL,
        kv_cache_usage REAL,
        log TEXT NOT NULL DEFAULT '',
        started_at REAL,
        updated_at REAL NOT NULL
    );
    """,
    "ALTER TABLE lane_deployments ADD COLUMN replicas TEXT NOT NULL DEFAULT '[]';",
]


@dataclass(frozen=True, slots=True)
class LaneRecord:
    name: str
    deployment: str
    base_url: str
    pid: int | None
    status: str  # starting, ready, stopped, failed
    circuit: str  # closed, open (router.Circuit values)
    saturated: bool
    waiting: float | None
    kv_cache_usage: float | None
    log: str
    started_at: float | None
    updated_at: float
    replicas: tuple[str, ...] = ()  # the replicas' URLs of a lane on Ray (base_url is the first)


def connect(path: Path | str) -> sqlite3.Connection:
    conn = state.connect(path)
    state.migrate(conn, COMPONENT, MIGRATIONS)
    return conn


def record_start(conn: sqlite3.Connection, config: LaneConfig, pid: int, log: Path) -> None:
    now = time.time()
    conn.execute(
        "INSERT INTO lane_deployments (name, deployment, base_url, pid, status, circuit, saturated, log, "
        "started_at, updated_at) VALUES (?, ?, ?, ?, 'starting', 'open', 0, ?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET deployment=excluded.deployment, base_url=excluded.base_url, "
        "pid=excluded.pid, status='starting', circuit='open', saturated=0, waiting=NULL, kv_cache_usage=NULL, "
        "replicas='[]', "
        "log=excluded.log, started_at=excluded.started_at, updated_at=excluded.updated_at",
        (config.name, config.deployment, f"{config.base}/v1", pid, str(log), now, now),
    )


def record_status(conn: sqlite3.Connection, name: str, status: str) -> None:
    circuit = "closed" if status == "ready" else "open"
    conn.execute(
        "UPDATE lane_deployments SET status=?, circuit=?, updated_at=? WHERE name=?",
        (status, circuit, time.time(), name),
    )


def record_replicas(conn: sqlite3.Connection, name: str, urls: list[str]) -> None:
    """The replicas of a lane on Ray: their OpenAI base URLs (``.../v1``); the first is the base_url."""
    bases = [f"{u}/v1" for u in urls]
    conn.execute(
        "UPDATE lane_deployments SET replicas=?, base_url=?, updated_at=? WHERE name=?",
        (json.dumps(bases), bases[0] if bases else "", time.time(), name),
    )


def record_signal(conn: sqlite3.Connection, name: str, signal: Signal) -> None:
    """Store what the poller saw; a dead lane opens the circuit, a live one closes it."""
    conn.execute(
        "UPDATE lane_deployments SET circuit=?, saturated=?, waiting=?, kv_cache_usage=?, updated_at=? WHERE name=?",
        (signal.circuit, int(signal.saturated), signal.waiting, signal.kv_cache_usage, time.time(), name),
    )


def read(conn: sqlite3.Connection) -> list[LaneRecord]:
    rows = conn.execute(
        "SELECT name, deployment, base_url, pid, status, circuit, saturated, waiting, kv_cache_usage, log, "
        "started_at, updated_at, replicas FROM lane_deployments ORDER BY name"
    ).fetchall()
    return [
        LaneRecord(
            name=r[0],
            deployment=r[1],
            base_url=r[2],
            pid=r[3],
            status=r[4],
            circuit=r[5],
            saturated=bool(r[6]),
            waiting=r[7],
            kv_cache_usage=r[8],
            log=r[9],
            started_at=r[10],
            updated_at=r[11],
            replicas=tuple(json.loads(r[12])),
        )
        for r in rows
    ]


def deployment_fields(conn: sqlite3.Connection) -> dict[str, dict[str, object]]:
    """``{"provider/model": {"circuit": "open"|"closed", "saturated": bool}}`` for every recorded lane."""
    return {r.deployment: {"circuit": r.circuit, "saturated": r.saturated} for r in read(conn)}
