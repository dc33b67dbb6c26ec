"""What can go wrong with the lane.

::

    LaneError(MaestroError)      the lane cannot be configured, installed, prepared, started or stopped
    └── LaneStartError           the server exited or never became healthy; carries the last lines of its log

The CLI maps both to exit code 2 with the message, which always says what to do next.
"""

from __future__ import annotations

import re
from pathlib import Path

from maestro.errors import MaestroError


class LaneError(MaestroError):
    """The lane cannot do what was asked; the message says why and what to do."""


class LaneStartError(LaneError):
    """The lane's server exited during start-up or did not answer /health in time."""

    def __init__(self, message: str, log: Path, tail: list[str], cause: str | None = None) -> None:
        shown = "\n".join(f"    {line}" for line in tail) or "    (the log is empty)"
        first = f"\n  first error in the log: {cause}" if cause else ""
        super().__init__(f"{message}{first}\n  last lines of {log}:\n{shown}")
        self.log = log
        self.tail = tail
        self.cause = cause


_ERROR = re.compile(r"[A-Z]\w*(Error|Exception): ")
# vLLM's log prefix on an error line: "(EngineCore pid=12) ERROR 12-02 02:53:23 [file.py:953] "
_PREFIX = re.compile(r"^(\([^)]*\)\s+)?((ERROR|CRITICAL)\s+(\d\d-\d\d\s+[\d:]+\s+)?(\[[^\]]*\]\s+)?)?")
_START = "--- maestro: starting "


def first_error(path: Path) -> str | None:
    """The first ``SomethingError: message`` line of the latest start in a log: usually the root cause.

    vLLM's engine fails in a worker process and the server then prints a long traceback of its own that
    ends in "See root cause above"; the last lines alone would hide why.
    """
    lines = log_tail(path, lines=2000)
    starts = [i for i, line in enumerate(lines) if line.startswith(_START)]
    for line in lines[starts[-1] if starts else 0 :]:
        prefix = _PREFIX.match(line)  # every part optional: it matches every line
        rest = line[prefix.end() if prefix else 0 :]
        if _ERROR.match(rest):
            return rest.strip()
    return None


def log_tail(path: Path, lines: int = 20) -> list[str]:
    """The last ``lines`` lines of a log file (empty when it does not exist)."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line.rstrip() for line in text.splitlines()[-lines:]]
