"""What can go wrong with the lane.

::

    LaneError(MaestroError)      the lane cannot be configured, installed, prepared, started or stopped
    └── LaneStartError           the server exited or never became healthy; carries the last lines of its log

The CLI maps both to exit code 2 with the message, which always says what to do next.
"""

from __future__ import annotations

from pathlib import Path

from maestro.errors import MaestroError


class LaneError(MaestroError):
    """The lane cannot do what was asked; the message says why and what to do."""


class LaneStartError(LaneError):
    """The lane's server exited during start-up or did not answer /health in time."""

    def __init__(self, message: str, log: Path, tail: list[str]) -> None:
        shown = "\n".join(f"    {line}" for line in tail) or "    (the log is empty)"
        super().__init__(f"{message}\n  last lines of {log}:\n{shown}")
        self.log = log
        self.tail = tail


def log_tail(path: Path, lines: int = 20) -> list[str]:
    """The last ``lines`` lines of a log file (empty when it does not exist)."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line.rstrip() for line in text.splitlines()[-lines:]]
