"""A background writer for hot paths: ``submit`` queues an action, a thread signs and appends in batches.

``submit`` never signs, touches the database or waits: an event loop may call it (the gateway records every
decision from its loop). Past ``max_pending`` waiting actions, a sign the store has stopped taking appends,
it raises ``LedgerError`` at once rather than block the caller; what it has accepted is never dropped.
An action whose actor is not the key's holder is refused there too (``ApprovalError``).
The thread takes up to ``batch_size`` actions, or what arrived within ``max_delay`` seconds, and appends
them in one transaction. ``close()`` appends everything submitted before it and then returns; ``flush()``
waits until everything submitted so far is appended.
A batch that fails (the store busy past its timeout, a full disk) is retried; ``close()`` raises
``LedgerError`` if entries are still unwritten after ``close_timeout``. An action that cannot be encoded
(``details`` that are not JSON) is not retried: it lands in ``rejected`` and ``on_error`` is called.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from maestro.ledger.dualcontrol import unsigned_actor
from maestro.ledger.errors import ApprovalError, LedgerError
from maestro.ledger.keys import SigningKey
from maestro.ledger.statement import Action
from maestro.ledger.store import Ledger

_STOP = object()
_FLUSH = object()  # ends the batch being gathered, so a flush does not wait out max_delay


class Writer:
    """Appends submitted actions to the ledger at ``path`` from one background thread."""

    def __init__(
        self,
        path: Path | str,
        key: SigningKey,
        *,
        batch_size: int = 512,
        max_delay: float = 0.05,
        max_pending: int = 100_000,
        close_timeout: float = 30.0,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._ledger = Ledger.open(path)
        self._key = key
        self._batch_size, self._max_delay, self._close_timeout = batch_size, max_delay, close_timeout
        self._max_pending = max_pending
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()  # unbounded: flush and stop never wait
        self._on_error = on_error
        self._closed = False
        self._lock = threading.Lock()
        self._submitted = 0
        self._written = 0
        self._done = threading.Condition()
        self.last_error: BaseException | None = None
        self.rejected: list[tuple[Action, BaseException]] = []
        self._thread = threading.Thread(target=self._run, name="maestro-ledger-writer", daemon=True)
        self._thread.start()

    def submit(self, action: Action) -> None:
        """Queue ``action``; it is signed and appended shortly after, in order of submission. Never blocks."""
        unsigned = unsigned_actor(action.actor, [self._key.public])
        if unsigned:
            raise ApprovalError(f"not recorded: {unsigned}")
        with self._lock:
            if self._closed:
                raise LedgerError("the ledger writer is closed; create a new Writer")
            waiting = self.pending
            if waiting >= self._max_pending:
                raise LedgerError(
                    f"not recorded: {waiting} ledger entries already wait for {self._ledger.where}, which is not "
                    f"taking appends ({self.last_error or 'still busy'}); free the store, then look at its log"
                )
            self._submitted += 1
            self._queue.put(action)

    @property
    def pending(self) -> int:
        """Actions submitted but not yet appended."""
        with self._done:
            return self._submitted - self._written

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every action submitted so far is appended; False when ``timeout`` ran out first."""
        with self._lock:
            target = self._submitted
        self._queue.put(_FLUSH)
        with self._done:
            return self._done.wait_for(lambda: self._written >= target or not self._thread.is_alive(), timeout) and (
                self._written >= target
            )

    def close(self) -> None:
        """Append everything submitted, stop the thread and close the store."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._queue.put(_STOP)
        self._thread.join(self._close_timeout)
        lost = self.pending
        if not self._thread.is_alive():
            self._ledger.close()
        if lost:
            raise LedgerError(
                f"{lost} ledger entries could not be appended to {self._ledger.where}"
                + (f" ({self.last_error})" if self.last_error else "")
            )

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._take()
            if batch:
                self._append(batch, stopping)

    def _take(self) -> tuple[list[Action], bool]:
        first = self._queue.get()
        if first is _STOP:
            return [], True
        if first is _FLUSH:
            return [], False
        batch = [first]
        deadline = time.monotonic() + self._max_delay
        while len(batch) < self._batch_size:
            try:
                item = self._queue.get_nowait()  # cheap while actions are waiting
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    item = self._queue.get(timeout=left)
                except queue.Empty:
                    break
            if item is _STOP:
                return _actions(batch), True
            if item is _FLUSH:
                break
            batch.append(item)
        return _actions(batch), False

    def _append(self, batch: list[Action], stopping: bool) -> None:
        try:
            self._append_batch(batch, stopping)
        except Exception:  # an action that cannot be encoded: append the others, reject that one
            for action in batch:
                try:
                    self._append_batch([action], stopping)
                except Exception as e:
                    self.rejected.append((action, e))
                    self.last_error = e
                    if self._on_error is not None:
                        self._on_error(e)
                    with self._done:
                        self._written += 1
                        self._done.notify_all()

    def _append_batch(self, batch: list[Action], stopping: bool) -> None:
        delay = 0.05
        deadline = time.monotonic() + self._close_timeout
        while True:
            try:
                self._ledger.append(batch, self._key)
            except ApprovalError:
                raise  # not the store's fault: retrying would not help
            except LedgerError as e:  # retried: a busy or full store must not lose entries
                self.last_error = e
                if self._on_error is not None:
                    self._on_error(e)
                if stopping and time.monotonic() > deadline:
                    return  # close() reports what is left as unwritten
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            with self._done:
                self._written += len(batch)
                self._done.notify_all()
            return


def _actions(items: list[object]) -> list[Action]:
    return [item for item in items if isinstance(item, Action)]
