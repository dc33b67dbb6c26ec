"""Manifest durations: an integer and a unit (``250ms``, ``30s``, ``10m``, ``1h``, ``7d``), as the schemas have them."""

from __future__ import annotations

_MILLISECONDS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def milliseconds(duration: str) -> int:
    """A manifest duration in milliseconds; the schema has checked its shape."""
    for unit in ("ms", "s", "m", "h", "d"):
        if duration.endswith(unit) and duration[: -len(unit)].isdigit():
            return int(duration[: -len(unit)]) * _MILLISECONDS[unit]
    raise ValueError(f"'{duration}' is not a duration like 250ms, 5s, 2m")


def seconds(duration: str) -> float:
    """A manifest duration in seconds."""
    return milliseconds(duration) / 1000
