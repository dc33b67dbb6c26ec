"""Small real ledgers for tests: keys, actions, ledgers in memory, exports as lines."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from maestro.ledger import export
from maestro.ledger.keys import Keyring, SigningKey
from maestro.ledger.statement import Action, Subject
from maestro.ledger.store import Ledger
from maestro.ledger.verify import Report


def key(name: str = "alice") -> SigningKey:
    """One key per name for the whole test run."""
    return _key(name)


@cache
def _key(name: str) -> SigningKey:
    return SigningKey.generate(name)


def keyring(*names: str) -> Keyring:
    return Keyring.of(key(n).public for n in (names or ("alice",)))


def action(i: int, name: str = "route", actor: str = "gateway:alice", **extra: object) -> Action:
    """A route entry; its actor must be the signer's holder (``gateway:alice`` for alice's key)."""
    return Action(name, actor, [Subject.of("request", b"request %d" % i)], details={"i": i}, **extra)  # type: ignore[arg-type]


def ledger(n: int, batch: int = 3, path: Path | str = ":memory:", signer: str = "alice") -> Ledger:
    """A ledger of ``n`` route entries appended in batches of ``batch`` (so several checkpoints)."""
    led = Ledger.open(path)
    for start in range(0, n, batch):
        led.append([action(i, actor=f"gateway:{signer}") for i in range(start, min(n, start + batch))], key(signer))
    return led


@cache
def export_bytes(n: int, batch: int = 3) -> bytes:
    led = ledger(n, batch)
    lines = [led.latest_checkpoint().envelope]  # type: ignore[union-attr]
    sizes = {c.size: c.envelope for c in led.checkpoints()}
    for index, line in led.entries():
        lines.append(line)
        if index + 1 in sizes:
            lines.append(sizes[index + 1])
    return b"\n".join(lines) + b"\n"


def verify_bytes(raw: bytes, ring: Keyring | None = None) -> Report:
    parsed = export.parse(raw, Path("test.intoto.jsonl"))
    from maestro.ledger.verify import verify

    return verify(parsed.entries, parsed.checkpoints, ring or keyring(), head=parsed.head, workers=1)
