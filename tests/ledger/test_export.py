"""Export and import: a round trip, refusals for other ledgers, damaged files and non-exports."""

from __future__ import annotations

import pytest
from helpers.ledger import action, key, keyring, ledger

from maestro.ledger import export
from maestro.ledger.errors import ExportFormatError, LedgerError
from maestro.ledger.query import verify_store
from maestro.ledger.store import Ledger


def test_export_verifies_and_imports_into_an_empty_store(tmp_path):
    led = ledger(9, batch=4, path=tmp_path / "a.db")
    out = tmp_path / "ledger.intoto.jsonl"
    assert export.write(led, out) == 9
    assert export.verify_file(out, keyring(), workers=1).ok
    lines = out.read_bytes().splitlines()
    assert len(lines) == 1 + 9 + 3  # head, entries, a checkpoint after each append
    copy = Ledger.open(tmp_path / "b.db")
    assert export.import_file(copy, out, keyring()) == 9
    assert copy.origin == led.origin and copy.lines() == led.lines()
    assert verify_store(copy, keyring(), workers=1).ok


def test_import_catches_up_a_store_that_is_a_prefix(tmp_path):
    led = ledger(4, batch=2, path=tmp_path / "a.db")
    out = tmp_path / "x.intoto.jsonl"
    export.write(led, out)
    copy = Ledger.open(tmp_path / "b.db")
    export.import_file(copy, out, keyring())
    led.append([action(4), action(5)], key())
    export.write(led, out)
    assert export.import_file(copy, out, keyring()) == 2
    assert verify_store(copy, keyring(), workers=1).ok


def test_an_export_of_another_ledger_is_refused(tmp_path):
    mine = ledger(2, path=tmp_path / "a.db")
    theirs = ledger(3, path=tmp_path / "b.db")
    out = tmp_path / "theirs.intoto.jsonl"
    export.write(theirs, out)
    with pytest.raises(ExportFormatError, match=r"export of another ledger .* Import it into an empty store"):
        export.import_file(mine, out, keyring())
    assert mine.size() == 2


def test_a_truncated_line_refuses_the_import_and_names_the_entry(tmp_path):
    led = ledger(3, path=tmp_path / "a.db")
    out = tmp_path / "x.intoto.jsonl"
    export.write(led, out)
    raw = out.read_bytes()
    out.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ExportFormatError, match=r"does not verify \(entry \d: unreadable envelope.*ledger verify"):
        export.import_file(Ledger.open(tmp_path / "b.db"), out, keyring())


@pytest.mark.parametrize("content", [b"", b'{"hello": "world"}\n', b"\x00\x01"])
def test_a_file_that_is_no_export_says_so(tmp_path, content):
    path = tmp_path / "other.jsonl"
    path.write_bytes(content)
    with pytest.raises(ExportFormatError, match="export"):
        export.read(path)


def test_a_missing_file_and_an_empty_ledger_are_clear_errors(tmp_path):
    with pytest.raises(ExportFormatError, match="cannot read"):
        export.read(tmp_path / "nope.jsonl")
    with pytest.raises(LedgerError, match="empty; nothing to export"):
        export.write(Ledger.open(tmp_path / "e.db"), tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()
