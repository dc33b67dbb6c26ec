"""Freeze windows as written in a Policy or a Rollout: fixed (``start``, ``end``) or recurring (``cron``,
``duration``, ``timeZone``; cron read by ``croniter``, time zones by ``zoneinfo``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from maestro.manifests.durations import seconds


class WindowProblem(ValueError):
    """A window that cannot be read: ``key`` is the field at fault."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    reason: str = ""
    cron: str = ""
    duration_s: float = 0.0
    time_zone: str = "UTC"
    start: float = 0.0  # a fixed window (epoch seconds)
    end: float = 0.0

    def open_until(self, now: float) -> float | None:
        """When the window that holds ``now`` closes (epoch seconds), or None when none holds it."""
        if not self.cron:
            return self.end if self.start <= now < self.end else None
        from croniter import croniter  # here, not at the top: most repositories have no recurring window

        base = datetime.fromtimestamp(now, ZoneInfo(self.time_zone))
        opened = croniter(self.cron, base).get_prev(datetime).timestamp()
        closes = opened + self.duration_s
        return closes if now < closes else None


def parse(window: Mapping[str, Any]) -> Window:
    """The window a schema-valid ``freezeWindows`` entry describes; ``WindowProblem`` when it cannot hold."""
    name, reason = str(window["name"]), str(window.get("reason", ""))
    if "cron" in window:
        from croniter import croniter

        cron, zone = str(window["cron"]), str(window.get("timeZone", "UTC"))
        if not croniter.is_valid(cron) or len(cron.split()) != 5:
            raise WindowProblem("cron", f"'{cron}' is not a five-field cron expression like \"0 18 * * 5\"")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise WindowProblem("timeZone", f"'{zone}' is not an IANA time zone like Europe/Paris or UTC") from None
        return Window(name, reason, cron=cron, duration_s=seconds(str(window["duration"])), time_zone=zone)
    times = []
    for key in ("start", "end"):
        try:
            times.append(datetime.fromisoformat(str(window[key]).replace("Z", "+00:00")).timestamp())
        except ValueError:
            raise WindowProblem(key, f"{key} is not an RFC 3339 time; write it like 2026-12-24T00:00:00Z") from None
    if times[1] <= times[0]:
        raise WindowProblem("end", f"freeze window '{name}' ends before it starts; swap start and end")
    return Window(name, reason, start=times[0], end=times[1])
