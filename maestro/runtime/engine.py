"""DBOS, configured for one repository: where run state lives, launching it in a process, and a client.

DBOS is configured per process. ``launched(root)`` constructs, launches and finally destroys it, so a test
or a command gets a clean engine and leaves none behind. Launching recovers every run this executor left
unfinished (a killed ``maestro run`` or ``maestro worker``). Only with ``queue=True`` (``maestro worker``) does it
take queued runs: DBOS keeps its queues in the run state and a process listens to all of them unless told
otherwise, so ``maestro run`` and ``runs resume`` listen to none and run only their own run.

State lives in ``.maestro/runs.sqlite`` of the repository (SQLite, no server), or in the database that
``--state-url`` / ``$MAESTRO_RUNS_URL`` names (``postgresql://...``), where several workers share the work.
Read-only commands (``runs list``, ``runs show``, ``runs approve``) use a ``DBOSClient``, which runs no
workflow code and recovers nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dbos import DBOS, DBOSClient, DBOSConfig

from maestro.runtime.errors import RunError

URL_ENV = "MAESTRO_RUNS_URL"
APP_NAME = "maestro"
# DBOS recovers, resumes and dequeues only the runs of its own application version: a run started by another
# version stays as it is (docs/runtime.md, "Runs from an older maestro"). Bump this when the workflow's steps
# change so that old checkpoints would replay wrongly. 2: the agent tool loop, map branches in child workflows
# waiting on their own mailbox keys, sub-pipeline child runs, schema-held model answers.
APP_VERSION = "maestro-runtime-2"
POLL_S = 0.2  # how often a worker looks for queued runs, and for runs to recover or resume


def state_url(root: Path, url: str | None = None) -> str:
    chosen = url or os.environ.get(URL_ENV)
    if chosen:
        return chosen
    folder = root / ".maestro"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'runs.sqlite'}"


def _config(url: str) -> DBOSConfig:
    config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": url,
        "application_version": APP_VERSION,
        "log_level": "WARNING",
        "notification_listener_polling_interval_sec": 0.05,
    }
    if url.startswith("sqlite:"):
        config["system_database_engine"] = _sqlite_engine(url)
    return config


def _sqlite_engine(url: str) -> Any:
    """DBOS's SQLite engine (IMMEDIATE transactions, a 30 s busy timeout, foreign keys), in WAL mode with
    ``synchronous=NORMAL``: a commit is one append to the log, not three fsyncs. Measured here, a DBOS step
    went from 38 ms to 10 ms. A committed step survives the process being killed (the tests SIGKILL workers);
    only an operating-system crash or power loss can lose the last commits (then the step runs again, with
    the same idempotency key). On PostgreSQL nothing changes."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, pool_size=20, max_overflow=0, pool_timeout=30, pool_pre_ping=True)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = "IMMEDIATE"
        dbapi_conn.execute("PRAGMA busy_timeout=30000")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    return engine


@contextmanager
def launched(root: Path, url: str | None = None, *, queue: bool = False) -> Iterator[None]:
    """DBOS launched for ``root`` in this process, destroyed on exit; with ``queue``, it takes queued runs,
    without, it takes none (other invocations' queued runs stay for a worker)."""
    from maestro.runtime.workflow import QUEUE  # registers the workflow before launch

    _log_to_current_stderr()
    _recover_promptly(DBOS(config=_config(state_url(root, url))))
    DBOS.listen_queues([QUEUE] if queue else [])
    try:
        DBOS.launch()
        logging.getLogger("dbos").setLevel(logging.WARNING)
        if queue:
            DBOS.register_queue(QUEUE, polling_interval_sec=POLL_S)
        yield
    finally:
        DBOS.destroy()
        from maestro.runtime.services import SERVICES

        SERVICES.close()


def _recover_promptly(dbos: DBOS) -> None:
    """DBOS restarts a recovered run (after a crash) or a resumed one through its internal queue, polled once a
    second by default: a restarted worker did nothing for 1-2 s. Poll it as often as the run queue (its own
    construction, before launch; DBOS has no public setting for it)."""
    from dbos._utils import INTERNAL_QUEUE_NAME

    dbos._registry._register_internal_queue(INTERNAL_QUEUE_NAME, polling_interval_sec=POLL_S)


def _log_to_current_stderr() -> None:
    """DBOS's console handler keeps the stderr of its first launch: a process that launches DBOS again later (the
    UI, a test session) may have replaced that stream since, and DBOS flushes every handler when it starts."""
    for handler in logging.getLogger("dbos").handlers:
        if type(handler) is logging.StreamHandler and getattr(handler.stream, "closed", False):
            with handler.lock or contextlib.nullcontext():
                handler.stream = sys.stderr  # not setStream: it flushes the closed stream first


def ensure(root: Path, url: str | None = None) -> None:
    """Create the run state database if it does not exist yet (a client never migrates it)."""
    target = state_url(root, url)
    if target.startswith("sqlite:///") and not Path(target.removeprefix("sqlite:///")).exists():
        with launched(root, url):
            pass


@contextmanager
def client(root: Path, url: str | None = None) -> Iterator[DBOSClient]:
    """A client of the run state; a RunError when there is none yet."""
    target = state_url(root, url)
    if target.startswith("sqlite:///") and not Path(target.removeprefix("sqlite:///")).exists():
        raise RunError(f"no runs here yet ({target.removeprefix('sqlite:///')}); start one with `maestro run PIPELINE`")
    c = DBOSClient(system_database_url=target)
    try:
        yield c
    finally:
        c.destroy()
