"""Long steps are never silent: a spinner with the elapsed time on a terminal, a heartbeat line off one."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer

from maestro.errors import UsageError
from maestro.lane.heartbeat import HEARTBEAT_S, Heartbeat

INTERVAL_ENV = "MAESTRO_HEARTBEAT_S"  # seconds between heartbeat lines off a terminal (default 10)


@contextmanager
def long_step(what: str) -> Iterator[Callable[[str], None]]:
    """Show ``what`` while the block runs; yield a function that names what the step does now."""
    if sys.stderr.isatty() and not os.environ.get("CI"):
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(what, total=None)
            yield lambda now: bar.update(task, description=now)
        return
    with Heartbeat(what, lambda line: typer.echo(line, err=True), interval_s=_interval()) as beat:
        yield beat.doing


def _interval() -> float:
    raw = os.environ.get(INTERVAL_ENV)
    if raw is None:
        return HEARTBEAT_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise UsageError(f"${INTERVAL_ENV} is '{raw}'; give the seconds between progress lines, e.g. 10")
    return seconds
