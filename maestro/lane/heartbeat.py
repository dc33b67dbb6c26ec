"""A line every few seconds while a long lane step runs, so a log off a terminal never goes quiet.

``lane install`` (about 3 minutes), ``lane prepare`` and ``lane up --wait`` print nothing of their own
until they finish; in CI that reads as a hang. A ``Heartbeat`` says what the step is doing when it starts
and whenever that changes, then every ``interval_s`` what it is still waiting for and for how long.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

HEARTBEAT_S = 10.0  # the longest a long step stays silent off a terminal


class Heartbeat:
    """Call ``emit`` with "WHAT" now, and "WHAT: still running (N s)" every ``interval_s`` until closed."""

    def __init__(
        self,
        what: str,
        emit: Callable[[str], None],
        *,
        interval_s: float = HEARTBEAT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._what, self._emit, self._interval_s, self._clock = what, emit, interval_s, clock
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._beat, name="maestro-heartbeat", daemon=True)
        self._started = 0.0

    def doing(self, what: str) -> None:
        """Name what the step does now; the change is said at once."""
        with self._lock:
            self._what = what
        self._emit(what)

    def __enter__(self) -> Heartbeat:
        self._started = self._clock()
        self._emit(self._what)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._interval_s):
            with self._lock:
                what = self._what
            self._emit(f"{what}: still running ({self._clock() - self._started:.0f} s)")
