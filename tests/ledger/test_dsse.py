"""DSSE: the PAE of the spec, byte-for-byte agreement with securesystemslib, canonical lines only."""

from __future__ import annotations

import base64
import json

import pytest
from helpers.ledger import key, keyring
from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.signer import CryptoSigner, SSlibKey

from maestro.ledger import dsse


def test_pae_is_the_one_of_the_dsse_spec():
    assert dsse.pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert dsse.pae("", b"") == b"DSSEv1 0  0 "
    assert dsse.pae("t\u00e9", b"x") == b"DSSEv1 3 t\xc3\xa9 1 x"  # lengths in bytes, not characters


def test_pae_matches_securesystemslib():
    for payload in (b"", b"{}", '\u00fcber {"a": 1}\n'.encode()):
        theirs = SslibEnvelope(payload, dsse.INTOTO_PAYLOAD_TYPE, {})
        assert dsse.pae(dsse.INTOTO_PAYLOAD_TYPE, payload) == theirs.pae()


def _sslib_key(name: str) -> SSlibKey:
    public = key(name).public
    return SSlibKey(public.keyid, "ed25519", "ed25519", {"public": public.raw.hex()})


def test_our_envelopes_verify_with_securesystemslib():
    ours = dsse.sign(b'{"hello":"world"}', [key("alice"), key("bob")])
    theirs = SslibEnvelope.from_dict(json.loads(ours.encode()))
    accepted = theirs.verify([_sslib_key("alice"), _sslib_key("bob")], 2)
    assert set(accepted) == {key("alice").keyid, key("bob").keyid}


def test_securesystemslib_envelopes_verify_here():
    signer = CryptoSigner(key("alice")._key, _sslib_key("alice"))
    theirs = SslibEnvelope(b'{"x":1}', dsse.INTOTO_PAYLOAD_TYPE, {})
    theirs.sign(signer)
    line = json.dumps(theirs.to_dict(), sort_keys=True, separators=(",", ":")).encode()
    assert [k.name for k in dsse.decode(line).valid_signers(keyring("alice"))] == ["alice"]


def test_a_key_signs_once_and_counts_once():
    envelope = dsse.sign(b"x", [key("alice")]).signed_by(key("alice"))
    assert len(envelope.signatures) == 1
    doubled = dsse.Envelope(envelope.payload, envelope.payload_type, envelope.signatures * 2)
    assert [k.name for k in doubled.valid_signers(keyring("alice"))] == ["alice"]


def test_untrusted_and_wrong_signatures_do_not_count():
    envelope = dsse.sign(b"x", [key("mallory")])
    assert envelope.valid_signers(keyring("alice")) == []
    forged = dsse.Envelope(b"y", envelope.payload_type, envelope.signatures)
    assert forged.valid_signers(keyring("mallory")) == []


def _respell(line: bytes, transform) -> bytes:
    return transform(line.decode()).encode()


@pytest.mark.parametrize(
    "transform",
    [
        lambda s: s.replace('","', '", "', 1),  # a space JSON would accept
        lambda s: json.dumps(json.loads(s), indent=1),  # other whitespace
        lambda s: json.dumps(json.loads(s)),  # default separators
        lambda s: s.replace("=", "", 1),  # unpadded base64
        lambda s: s[:20] + "\n" + s[20:],  # a character base64 would skip
        lambda s: s + " ",
    ],
)
def test_only_the_canonical_line_decodes(transform):
    line = dsse.sign(b"payload!", [key()]).encode()
    assert dsse.decode(line).payload == b"payload!"
    with pytest.raises(dsse.EnvelopeFormatError):
        dsse.decode(_respell(line, transform))


def test_non_canonical_base64_padding_bits_are_refused():
    line = dsse.sign(b"ab", [key()]).encode()
    data = json.loads(line)
    assert data["payload"] == base64.b64encode(b"ab").decode() == "YWI="
    data["payload"] = "YWJ="  # decodes to the same bytes with other padding bits
    other = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    assert base64.b64decode("YWJ=") == b"ab"
    with pytest.raises(dsse.EnvelopeFormatError, match="canonical"):
        dsse.decode(other)


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"[]",
        b'{"payload":"","payloadType":"x"}',
        b'{"payload":1,"payloadType":"x","signatures":[]}',
        b'{"payload":"","payloadType":"x","signatures":[{"keyid":1,"sig":""}]}',
        b'{"payload":"","payloadType":"x","signatures":[{"sig":""}]}',
        b"\xff\xfe",
    ],
)
def test_malformed_envelopes_say_why(line):
    with pytest.raises(dsse.EnvelopeFormatError):
        dsse.decode(line)
