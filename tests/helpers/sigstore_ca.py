"""A real Sigstore bundle made offline: a local Fulcio-like CA, CT log and Rekor log, and their trusted root.

Everything sigstore-python's ``Verifier`` checks is made here for real, with ``cryptography``: a CA
certificate; a short-lived signing certificate for an identity (URI SAN, OIDC issuer extension, code-signing
EKU) carrying an embedded SCT the CT log key signed over the precertificate (RFC 6962); a ``hashedrekord``
0.0.1 log entry with a signed entry timestamp, a one-leaf inclusion proof and a checkpoint the Rekor key
signed; and a trusted root naming the three keys. Only the services are missing: nothing is fetched.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

OIDC_ISSUER_OID = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
SCT_LIST_OID = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


@dataclass(frozen=True)
class Made:
    bundle: Path
    trusted_root: Path


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


class LocalSigstore:
    """A CA, a CT log and a Rekor log of one's own, valid from a minute ago for a day."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        self.ca_key, self.ct_key, self.rekor_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "maestro-test"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "local fulcio")])  # fmt: skip
        self.ca = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - timedelta(days=1))
            .not_valid_after(self.now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()), critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )

    def trusted_root(self, path: Path) -> Path:
        start = {"start": (self.now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}

        def log(url: str, key: ec.EllipticCurvePrivateKey) -> dict[str, object]:
            return {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {"rawBytes": _b64(_spki(key)), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": start},
                "logId": {"keyId": _b64(hashlib.sha256(_spki(key)).digest())},
            }

        root = {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log("https://rekor.invalid", self.rekor_key)],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "maestro-test", "commonName": "local fulcio"},
                    "uri": "https://fulcio.invalid",
                    "certChain": {
                        "certificates": [{"rawBytes": _b64(self.ca.public_bytes(serialization.Encoding.DER))}]
                    },
                    "validFor": start,
                }
            ],
            "ctlogs": [log("https://ct.invalid", self.ct_key)],
            "timestampAuthorities": [],
        }
        path.write_text(json.dumps(root, indent=2), encoding="utf-8")
        return path

    def certificate(self, identity: str, issuer: str, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
        """A signing certificate for ``identity`` with an SCT embedded (signed over its precertificate)."""
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now)
            .not_valid_after(self.now + timedelta(minutes=10))
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False)
            .add_extension(x509.UnrecognizedExtension(OIDC_ISSUER_OID, issuer.encode()), critical=False)
        )
        tbs = builder.sign(self.ca_key, hashes.SHA256()).tbs_certificate_bytes  # the precertificate's TBS
        millis = int(self.now.timestamp() * 1000)
        issuer_key_hash = hashlib.sha256(_spki(self.ca_key)).digest()
        signed = struct.pack("!BBQH", 0, 0, millis, 1) + issuer_key_hash + len(tbs).to_bytes(3, "big") + tbs + b"\0\0"
        signature = _sign(self.ct_key, signed)
        log_id = hashlib.sha256(_spki(self.ct_key)).digest()
        sct = b"\0" + log_id + struct.pack("!QH", millis, 0) + b"\x04\x03" + struct.pack("!H", len(signature))
        sct += signature
        scts = struct.pack("!HH", len(sct) + 2, len(sct)) + sct
        value = b"\x04" + _der_length(len(scts)) + scts  # extnValue: an OCTET STRING holding the TLS list
        return builder.add_extension(x509.UnrecognizedExtension(SCT_LIST_OID, value), critical=False).sign(
            self.ca_key, hashes.SHA256()
        )

    def bundle(self, artifact: bytes, identity: str, issuer: str, path: Path) -> Path:
        """Sign ``artifact`` as ``identity`` and log it: a Sigstore bundle v0.3 at ``path``."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self.certificate(identity, issuer, key)
        signature = _sign(key, artifact)
        digest = hashlib.sha256(artifact).digest()
        pem = cert.public_bytes(serialization.Encoding.PEM)
        body = json.dumps(
            {
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                    "signature": {"content": _b64(signature), "publicKey": {"content": _b64(pem)}},
                },
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        log_id = hashlib.sha256(_spki(self.rekor_key)).digest()
        integrated = int(self.now.timestamp()) + 30
        promise = {"body": _b64(body), "integratedTime": integrated, "logID": log_id.hex(), "logIndex": 0}
        entry_timestamp = _sign(self.rekor_key, json.dumps(promise, sort_keys=True, separators=(",", ":")).encode())
        root_hash = hashlib.sha256(b"\0" + body).digest()  # a one-leaf log: the root is the leaf hash
        note = f"rekor.invalid - 1\n1\n{_b64(root_hash)}\n"
        checkpoint = f"{note}\n\u2014 rekor.invalid {_b64(log_id[:4] + _sign(self.rekor_key, note.encode()))}\n"
        bundle = {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": _b64(cert.public_bytes(serialization.Encoding.DER))},
                "tlogEntries": [
                    {
                        "logIndex": "0",
                        "logId": {"keyId": _b64(log_id)},
                        "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                        "integratedTime": str(integrated),
                        "inclusionPromise": {"signedEntryTimestamp": _b64(entry_timestamp)},
                        "inclusionProof": {
                            "logIndex": "0",
                            "rootHash": _b64(root_hash),
                            "treeSize": "1",
                            "hashes": [],
                            "checkpoint": {"envelope": checkpoint},
                        },
                        "canonicalizedBody": _b64(body),
                    }
                ],
            },
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": _b64(digest)},
                "signature": _b64(signature),
            },
        }
        path.write_text(json.dumps(bundle, indent=2), encoding="utf-8")
        return path
