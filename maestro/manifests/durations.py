"""Manifest durations: an integer and a unit (``250ms``, ``30s``, ``10m``, ``1h``, ``7d``), as the schemas have them."""

from __future__ import annotations

_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def seconds(duration: str) -> float:
    """A manifest duration in seconds; the schema has checked its shape."""
    for unit in ("ms", "s", "m", "h", "d"):
        if duration.endswith(unit) and duration[: -len(unit)].isdigit():
            return int(duration[: -len(unit)]) * _SECONDS[unit]
    raise ValueError(f"'{duration}' is not a duration like 250ms, 5s, 2m")
