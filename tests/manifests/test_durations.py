"""Manifest durations: one parser for the router, the providers, the gateway and the diff."""

from __future__ import annotations

import pytest

from maestro.manifests.durations import milliseconds, seconds


@pytest.mark.parametrize(
    ("text", "ms"),
    [("250ms", 250), ("3ms", 3), ("30s", 30_000), ("10m", 600_000), ("1h", 3_600_000), ("7d", 604_800_000)],
)
def test_units(text: str, ms: int) -> None:
    assert milliseconds(text) == ms
    assert seconds(text) == ms / 1000


def test_milliseconds_are_exact() -> None:
    # 3 * 0.001 * 1000 is 3.0000000000000004; the router's latency limits compare against these
    assert milliseconds("3ms") == 3 and isinstance(milliseconds("3ms"), int)


@pytest.mark.parametrize("text", ["", "ms", "5", "5 s", "1.5s", "-1s", "5w", "s5"])
def test_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        milliseconds(text)
