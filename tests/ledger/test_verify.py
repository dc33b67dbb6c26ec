"""Tampering with an export is caught at the entry where it happened (hypothesis over ledgers and edits)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from helpers.ledger import export_bytes, key, keyring, ledger, verify_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maestro.ledger import checkpoint as cp
from maestro.ledger import export
from maestro.ledger.query import verify_store
from maestro.ledger.store import checkpoint_envelope

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _split(raw: bytes) -> tuple[list[bytes], list[int]]:
    """The lines of an export and the line numbers of its entries."""
    lines = raw.split(b"\n")[:-1]
    entries = [i for i, line in enumerate(lines) if i and not line.startswith(export._CHECKPOINT_START)]
    return lines, entries


def _join(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n"


sizes = st.tuples(st.integers(1, 12), st.integers(1, 4))


@given(sizes)
def test_an_untouched_export_verifies(size):
    report = verify_bytes(export_bytes(*size))
    assert report.ok, report.problems
    assert report.entries == size[0]


@PROPERTY
@given(sizes, st.data())
def test_a_flipped_byte_in_an_entry_breaks_at_that_entry(size, data):
    lines, entries = _split(export_bytes(*size))
    k = data.draw(st.integers(0, len(entries) - 1))
    line = bytearray(lines[entries[k]])
    at = data.draw(st.integers(0, len(line) - 1))
    line[at] ^= data.draw(st.integers(1, 255))
    lines[entries[k]] = bytes(line)
    report = verify_bytes(_join(lines))
    assert not report.ok
    assert report.first_break == k, report.problems


@PROPERTY
@given(sizes, st.data())
def test_a_deleted_entry_breaks_where_it_was(size, data):
    lines, entries = _split(export_bytes(*size))
    k = data.draw(st.integers(0, len(entries) - 1))
    del lines[entries[k]]
    assert verify_bytes(_join(lines)).first_break == k


@PROPERTY
@given(sizes.filter(lambda s: s[0] > 1), st.data())
def test_reordered_entries_break_at_the_first_moved(size, data):
    lines, entries = _split(export_bytes(*size))
    i, j = sorted(data.draw(st.lists(st.integers(0, len(entries) - 1), min_size=2, max_size=2, unique=True)))
    lines[entries[i]], lines[entries[j]] = lines[entries[j]], lines[entries[i]]
    assert verify_bytes(_join(lines)).first_break == i


@PROPERTY
@given(sizes, st.data())
def test_an_inserted_entry_breaks_where_it_went_in(size, data):
    lines, entries = _split(export_bytes(*size))
    at = data.draw(st.integers(1, len(lines)))  # before line `at` (after the head)
    before = sum(1 for e in entries if e < at)
    kind = data.draw(st.sampled_from(["copy", "garbage", "forged"]))
    if kind == "copy":
        j = data.draw(st.integers(0, len(entries) - 1))
        new = lines[entries[j]]
        valid_here = j == before
    elif kind == "garbage":
        new, valid_here = data.draw(st.binary(min_size=1, max_size=40).filter(lambda b: b"\n" not in b)), False
    else:  # a well-formed entry by a key the verifier does not trust
        other = ledger(before + 1, signer="mallory")
        new, valid_here = other.lines()[before], False
    lines.insert(at, new)
    expected = before
    if valid_here and at < len(lines) - 1 and not lines[at + 1].startswith(export._CHECKPOINT_START):
        expected = before + 1  # the copy is right where its original was: the original is now out of place
    assert verify_bytes(_join(lines)).first_break == expected


@PROPERTY
@given(sizes, st.data())
def test_a_truncated_export_breaks_at_the_first_missing_entry(size, data):
    raw = export_bytes(*size)
    lines, entries = _split(raw)
    start = len(lines[0]) + 1
    cut = data.draw(st.integers(start, len(raw) - 2))  # at least one byte of content goes
    offset, complete = 0, 0
    for number, line in enumerate(lines):
        if number in entries and offset + len(line) <= cut:
            complete += 1
        offset += len(line) + 1
    report = verify_bytes(raw[:cut])
    assert report.first_break == complete, report.problems


def test_a_flipped_checkpoint_or_head_is_reported():
    lines, entries = _split(export_bytes(6, 2))
    checkpoint_line = entries[1] + 1
    damaged = list(lines)
    damaged[checkpoint_line] = damaged[checkpoint_line][:-5] + b"AAAA" + damaged[checkpoint_line][-1:]
    report = verify_bytes(_join(damaged))
    assert any("checkpoint after entry 1" in p.message for p in report.problems)
    damaged = list(lines)
    damaged[0] = damaged[0].replace(b'"sig":"', b'"sig":"A', 1)
    report = verify_bytes(_join(damaged))
    assert [p.index for p in report.problems] == [None]
    assert "head checkpoint" in report.problems[0].message


def test_a_checkpoint_signed_over_other_entries_is_caught():
    led = ledger(4, batch=4)
    lines, _ = _split(export_bytes(4, 4))
    forged = cp.Checkpoint(led.origin, 4, bytes(32))
    other_origin_line = checkpoint_envelope(forged.sign(key()), forged, key(), datetime.now(UTC))
    lines[-1] = other_origin_line
    report = verify_bytes(_join(lines))
    assert any("another ledger" in p.message for p in report.problems)


def test_an_untrusted_keyring_fails_every_entry():
    report = verify_bytes(export_bytes(3, 3), keyring("bob"))
    assert report.first_break == 0
    assert "not a trusted key" in report.problems[1].message


def test_the_parallel_path_finds_the_same_break():
    from maestro.ledger.verify import verify

    raw = bytearray(export_bytes(12, 5))
    lines, entries = _split(bytes(raw))
    lines[entries[7]] = lines[entries[7]].replace(b"A", b"B", 1)
    parsed = export.parse(_join(lines), export.Path("x"))
    serial = verify(parsed.entries, parsed.checkpoints, keyring(), head=parsed.head, workers=1)
    parallel = verify(parsed.entries, parsed.checkpoints, keyring(), head=parsed.head, workers=2)
    assert serial.first_break == parallel.first_break == 7
    assert serial.problems == parallel.problems


def _tamper(conn: sqlite3.Connection, sql: str, *args: object) -> None:
    conn.execute("DROP TRIGGER IF EXISTS ledger_entries_no_update")
    conn.execute("DROP TRIGGER IF EXISTS ledger_entries_no_delete")
    conn.execute(sql, args)


@pytest.mark.parametrize(
    ("sql", "args", "expected"),
    [
        ("UPDATE ledger_entries SET envelope = replace(envelope, 'ey', 'eY') WHERE idx = 4", (), 4),
        ("DELETE FROM ledger_entries WHERE idx = 2", (), 2),
        ("DELETE FROM ledger_entries WHERE idx >= 6", (), 6),
        ("UPDATE ledger_entries SET idx = idx + 100 WHERE idx = 0", (), 0),
    ],
)
def test_tampering_with_the_store_is_caught(tmp_path, sql, args, expected):
    led = ledger(8, batch=3, path=tmp_path / "state.db")
    assert verify_store(led, keyring(), workers=1).ok
    _tamper(led._conn, sql, *args)
    report = verify_store(led, keyring(), workers=1)
    assert report.first_break == expected, report.problems


def test_an_entry_appended_outside_maestro_is_not_covered(tmp_path):
    led = ledger(3, batch=3, path=tmp_path / "state.db")
    line = led.lines()[2]
    led._conn.execute(
        "INSERT INTO ledger_entries (idx, envelope, leaf, time, action) VALUES (3, ?, x'00', '', 'route')", (line,)
    )
    report = verify_store(led, keyring(), workers=1)
    assert report.first_break == 3
    assert any("not covered by any signed checkpoint" in p.message for p in report.problems)


def test_a_trusted_checkpoint_from_elsewhere_must_be_a_prefix(tmp_path):
    led = ledger(5, batch=2, path=tmp_path / "state.db")
    old = led.checkpoints()[1].note  # size 4
    assert verify_store(led, keyring(), trusted=[old], workers=1).ok
    other = ledger(5, batch=2)
    report = verify_store(led, keyring(), trusted=[other.checkpoints()[1].note], workers=1)
    assert any("another ledger" in p.message for p in report.problems)


def test_workers_reading_the_store_themselves_find_the_same_breaks(tmp_path):
    led = ledger(30, batch=7, path=tmp_path / "state.db")
    assert verify_store(led, keyring(), workers=2).ok
    _tamper(led._conn, "DELETE FROM ledger_entries WHERE idx = 17")
    serial, parallel = verify_store(led, keyring(), workers=1), verify_store(led, keyring(), workers=2)
    assert serial.first_break == parallel.first_break == 17
    assert serial.problems == parallel.problems
