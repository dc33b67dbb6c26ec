"""The embedded state store: one SQLite file (``.maestro/state.db``) in WAL mode, shared by processes.

Use::

    conn = state.connect(state.default_path(root))            # WAL, busy timeout, foreign keys
    state.migrate(conn, "ledger", ["CREATE TABLE ...", ...])  # each component owns its migrations

Each component (ledger, budgets, eval history, ...) opens its own connection and registers its own
ordered list of migrations under its name; ``migrate`` applies the ones not yet applied, each in one
transaction, and records the component's version in ``maestro_schema``. Nothing else of maestro is
imported here.

    StateError(MaestroError)   the file cannot be opened or is not a maestro state store
"""

from __future__ import annotations

from maestro.state.store import StateError, connect, default_path, migrate, schema_version

__all__ = ["StateError", "connect", "default_path", "migrate", "schema_version"]
