"""Prefix affinity: same prefix, same replica; consistent when replicas come and go."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maestro.lane.affinity import pick, prefix_key, rank

REPLICAS = [f"http://10.0.0.{i}:8000" for i in range(1, 5)]


def test_prefix_key_cuts_the_conversation() -> None:
    system = {"role": "system", "content": "You are a helpful assistant. " * 40}
    a = prefix_key([system, {"role": "user", "content": "one"}])
    b = prefix_key([system, {"role": "user", "content": "two"}])
    assert a == b and len(a) == 512 and a.startswith("system: You are")
    assert prefix_key([{"role": "user", "content": [{"type": "text", "text": "hi"}]}]) == "user: hi\n"
    assert prefix_key([{"role": "user", "content": "hi"}], prefix_chars=4) == "user"


def test_pick_is_stable_and_spreads() -> None:
    keys = [f"tenant-{i} system prompt" for i in range(400)]
    first = [pick(k, REPLICAS) for k in keys]
    assert first == [pick(k, list(reversed(REPLICAS))) for k in keys]
    counts = {r: first.count(r) for r in REPLICAS}
    assert min(counts.values()) > 60, counts


@given(st.lists(st.text(min_size=1), min_size=1, max_size=50))
def test_removing_a_replica_moves_only_its_keys(keys: list[str]) -> None:
    before = {k: pick(k, REPLICAS) for k in keys}
    after = {k: pick(k, REPLICAS[:-1]) for k in keys}
    assert all(after[k] == before[k] for k in keys if before[k] != REPLICAS[-1])


@given(st.text())
def test_rank_starts_with_pick(key: str) -> None:
    order = rank(key, REPLICAS)
    assert order[0] == pick(key, REPLICAS) and sorted(order) == sorted(REPLICAS)


def test_no_replicas() -> None:
    with pytest.raises(ValueError, match="no replicas"):
        pick("k", [])
