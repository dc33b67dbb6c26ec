"""The one slack factor for the few wall-clock bounds the tests keep.

A test asserts invariants (who served, how many attempts, what the upstream saw) rather than how fast; where a
bound on time is the point (an answer that must not wait for a hang), it is written ``within(seconds)``, the
time on a quiet machine times ``MAESTRO_TEST_SLACK`` (default 3: two busy cores). Targets on speed belong to
``benchmarks/``.
"""

from __future__ import annotations

import os

SLACK = float(os.environ.get("MAESTRO_TEST_SLACK", "3"))


def within(seconds: float) -> float:
    """``seconds`` on a quiet machine, with the shared slack."""
    return seconds * SLACK
