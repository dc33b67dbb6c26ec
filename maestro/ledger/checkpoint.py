"""Checkpoints in the C2SP tlog-checkpoint text format, as C2SP signed notes with Ed25519.

A checkpoint note::

    maestro.dev/ledger/5f1c9a0e2b7d4c31      ← origin: names this ledger and no other
    1024                                      ← tree size
    Lx5P3...base64 root hash...=              ← RFC 6962 root of the first 1024 entries
                                              ← blank line, then one signature line per signer:
    — alice 0G3x...base64(4-byte key hash || 64-byte Ed25519 signature)...

The signature covers the note text up to and including the root's newline.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from maestro.ledger.keys import Keyring, PublicKey, SigningKey

_DASH = "\u2014 "


class CheckpointError(ValueError):
    """A note is not a well-formed signed checkpoint."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    def sign(self, key: SigningKey) -> str:
        """The signed note."""
        return sign_note(self.text(), key)


def sign_note(text: str, key: SigningKey) -> str:
    """A C2SP signed note of ``text`` (which ends with a newline) with one Ed25519 signature."""
    sig = base64.b64encode(key.public.note_hash + key.sign(text.encode())).decode()
    return f"{text}\n{_DASH}{key.name} {sig}\n"


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str
    signers: tuple[PublicKey, ...]


def parse(note: str) -> tuple[Checkpoint, list[tuple[str, bytes, bytes]]]:
    """The checkpoint and its (name, key hash, signature) lines, unverified."""
    body, sep, sigs = note.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 3 or not lines[0]:
        raise CheckpointError("not a signed checkpoint note (origin, size, root, blank line, signatures)")
    origin, size_text, root_text = lines[:3]
    try:
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise ValueError("bad size")
        root = base64.b64decode(root_text, validate=True)
        if len(root) != 32:
            raise ValueError("bad root")
    except (ValueError, binascii.Error) as e:
        raise CheckpointError("the checkpoint's size or root hash is malformed") from e
    signatures = []
    for line in sigs.split("\n"):
        if not line:
            continue
        name, _, b64 = line.removeprefix(_DASH).rpartition(" ")
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error as e:
            raise CheckpointError("a checkpoint signature line is malformed") from e
        if not line.startswith(_DASH) or not name or len(blob) != 68:
            raise CheckpointError("a checkpoint signature line is malformed")
        signatures.append((name, blob[:4], blob[4:]))
    if not sigs.endswith("\n") or not signatures:
        raise CheckpointError("the checkpoint has no signature")
    return Checkpoint(origin, int(size_text), root), signatures


def verify(note: str, keyring: Keyring) -> SignedCheckpoint:
    """Parse ``note`` and check its signatures; at least one trusted key must have signed it."""
    checkpoint, signatures = parse(note)
    body = note.partition("\n\n")[0].encode() + b"\n"
    signers = []
    for name, note_hash, sig in signatures:
        key = keyring.by_note_hash(name, note_hash)
        if key is not None and key.verify(sig, body) and key not in signers:
            signers.append(key)
    if not signers:
        raise CheckpointError("no trusted key signed this checkpoint")
    return SignedCheckpoint(checkpoint, note, tuple(signers))
