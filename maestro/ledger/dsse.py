"""DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1) signed with Ed25519.

The encoding is a small, tested function here rather than ``securesystemslib.dsse``: that module builds a
``Signature`` object and loads the public key again for every signature it checks, which alone costs more
than the 60 µs per entry that verifying a million entries in a minute leaves. The tests check that both
agree byte for byte (``tests/ledger/test_dsse.py``, with securesystemslib as a test dependency).

An envelope is stored and exported as one canonical JSON line (keys sorted, no spaces, standard base64
with padding); ``decode`` refuses any other spelling, so a byte changed anywhere in a line is caught even
where JSON or base64 would have tolerated it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from maestro.ledger.keys import Keyring, PublicKey, SigningKey

INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: ``DSSEv1 SP LEN(type) SP type SP LEN(body) SP body``."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True, slots=True)
class Signature:
    keyid: str
    sig: bytes


@dataclass(frozen=True, slots=True)
class Envelope:
    payload: bytes
    payload_type: str
    signatures: tuple[Signature, ...]

    def signed_by(self, key: SigningKey) -> Envelope:
        """This envelope with ``key``'s signature added (a key already present is not added twice)."""
        if any(s.keyid == key.keyid for s in self.signatures):
            return self
        sig = Signature(key.keyid, key.sign(pae(self.payload_type, self.payload)))
        return Envelope(self.payload, self.payload_type, (*self.signatures, sig))

    def encode(self) -> bytes:
        """The canonical JSON line, without the newline."""
        return json.dumps(
            {
                "payload": base64.b64encode(self.payload).decode(),
                "payloadType": self.payload_type,
                "signatures": [{"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode()} for s in self.signatures],
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    def valid_signers(self, keyring: Keyring) -> list[PublicKey]:
        """The trusted keys whose signature verifies, each once, in signature order."""
        message = pae(self.payload_type, self.payload)
        out: list[PublicKey] = []
        for s in self.signatures:
            key = keyring.get(s.keyid)
            if key is not None and key not in out and key.verify(s.sig, message):
                out.append(key)
        return out


def sign(payload: bytes, keys: Iterable[SigningKey], payload_type: str = INTOTO_PAYLOAD_TYPE) -> Envelope:
    envelope = Envelope(payload, payload_type, ())
    for key in keys:
        envelope = envelope.signed_by(key)
    return envelope


class EnvelopeFormatError(ValueError):
    """The bytes are not one canonical maestro DSSE envelope line."""


_B64 = rb"[A-Za-z0-9+/]*={0,2}"
_FAST = re.compile(rb'\{"payload":"(' + _B64 + rb')","payloadType":"([A-Za-z0-9+/.:_-]*)","signatures":\[(.*)\]\}')
_FAST_SIG = re.compile(rb'\{"keyid":"([0-9a-f]+)","sig":"(' + _B64 + rb')"\}')


def decode(line: bytes) -> Envelope:
    """Parse one canonical envelope line; anything else raises ``EnvelopeFormatError`` saying why."""
    envelope = _decode_plain(line)
    return envelope if envelope is not None else _decode_json(line)


def _decode_plain(line: bytes) -> Envelope | None:
    """The common case without a JSON parser: a line that matches these patterns is canonical JSON by
    construction (no string in it can hold an escape); None sends anything else to the full parser."""
    match = _FAST.fullmatch(line)
    if match is None:
        return None
    sigs = match[3].split(b"},{")
    parts = [_FAST_SIG.fullmatch(sig if len(sigs) == 1 else _rebrace(sig, i, len(sigs))) for i, sig in enumerate(sigs)]
    if not match[3] or any(p is None for p in parts):
        return None
    try:
        payload = _strict_b64(match[1])
        signatures = tuple(Signature(p[1].decode(), _strict_b64(p[2])) for p in parts if p is not None)
    except (binascii.Error, ValueError):
        return None
    return Envelope(payload, match[2].decode(), signatures)


def _rebrace(piece: bytes, i: int, n: int) -> bytes:
    return (b"" if i == 0 else b"{") + piece + (b"" if i == n - 1 else b"}")


def _strict_b64(text: bytes) -> bytes:
    """Decode base64 that is exactly what ``b64encode`` writes (no stray padding bits)."""
    data = base64.b64decode(text, validate=True)
    pad = len(text) - len(text.rstrip(b"="))
    if pad and _B64_VALUE[text[-pad - 1]] & (0b1111 if pad == 2 else 0b11):
        raise ValueError("not canonical base64: padding bits are set")
    return data


_B64_VALUE = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def _decode_json(line: bytes) -> Envelope:
    try:
        data = json.loads(line)
    except (ValueError, UnicodeDecodeError) as e:
        raise EnvelopeFormatError("not a JSON object") from e
    if not isinstance(data, dict) or set(data) != {"payload", "payloadType", "signatures"}:
        raise EnvelopeFormatError("not a DSSE envelope (payload, payloadType, signatures)")
    sigs, payload_b64, payload_type = data["signatures"], data["payload"], data["payloadType"]
    if not isinstance(payload_b64, str) or not isinstance(payload_type, str) or not isinstance(sigs, list):
        raise EnvelopeFormatError("a DSSE field has the wrong type")
    try:
        texts = [(s["keyid"], s["sig"]) for s in sigs]
        payload = base64.b64decode(payload_b64, validate=True)
        signatures = tuple(Signature(keyid, base64.b64decode(sig, validate=True)) for keyid, sig in texts)
    except (binascii.Error, KeyError, TypeError, ValueError) as e:
        raise EnvelopeFormatError("a payload or signature is not valid base64") from e
    if any(not isinstance(keyid, str) for keyid, _ in texts):
        raise EnvelopeFormatError("a signature's keyid is not a string")
    envelope = Envelope(payload, payload_type, signatures)
    if _canonical(payload_b64, payload_type, texts, len(sigs[0]) if sigs else 0) != line:
        raise EnvelopeFormatError("not in canonical form (the line was altered)")
    if base64.b64encode(payload).decode() != payload_b64 or any(
        base64.b64encode(s.sig).decode() != text for s, (_, text) in zip(signatures, texts, strict=True)
    ):
        raise EnvelopeFormatError("not in canonical form (the line was altered)")
    return envelope


_PLAIN = re.compile(r"[A-Za-z0-9+/=._:-]*")


def _canonical(payload: str, payload_type: str, sigs: list[tuple[str, str]], fields: int) -> bytes:
    """The canonical line for these fields, by formatting when no field needs JSON escaping."""
    strings = [payload_type, *(x for pair in sigs for x in pair)]
    if fields == 2 and all(_PLAIN.fullmatch(x) for x in strings):
        inner = ",".join(f'{{"keyid":"{k}","sig":"{v}"}}' for k, v in sigs)
        return f'{{"payload":"{payload}","payloadType":"{payload_type}","signatures":[{inner}]}}'.encode()
    canon = {"payload": payload, "payloadType": payload_type, "signatures": [{"keyid": k, "sig": v} for k, v in sigs]}
    return json.dumps(canon, sort_keys=True, separators=(",", ":")).encode()
