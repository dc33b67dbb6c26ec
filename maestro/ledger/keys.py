"""Ed25519 signing keys and the trusted public keys of a repository.

Keys are made, stored and used for signing with ``cryptography``; signatures are checked with PyNaCl
(libsodium, also from PyCA), whose Ed25519 verification measured 49 µs against OpenSSL's 88 µs on the
benchmark machine: the difference between verifying a million entries within a minute on two cores or not.

Both use the one-line key formats of Go's ``golang.org/x/mod/sumdb/note`` (C2SP signed-note), so the same key
signs DSSE envelopes and checkpoints::

    private:  PRIVATE+KEY+<name>+<key hash, 8 hex>+<base64(0x01 || 32-byte seed)>     (file mode 0600)
    public:   <name>+<key hash, 8 hex>+<base64(0x01 || 32-byte public key)>            (.maestro/keys/NAME.pub)

The key id is SHA-256(name || "\\n" || 0x01 || public key): its first 4 bytes are the note key hash, its hex is
the DSSE ``keyid``. The name is who holds the key. Since the id hashes the name, one key under two names
would have two ids: a keyring refuses that (one public key, one holder), and dual control counts distinct
public keys and distinct names. Private key bytes never appear in a message or an exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nacl.bindings
import nacl.exceptions
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from maestro.ledger.errors import KeyFileError
from maestro.ledger.paths import KEYS_DIR as KEYS_DIR  # noqa: PLC0414 (re-exported: callers import it from here)
from maestro.ledger.paths import key_path as key_path  # noqa: PLC0414 (re-exported: callers import it from here)

ALG_ED25519 = b"\x01"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def key_id(name: str, public: bytes) -> bytes:
    """SHA-256(name || "\\n" || 0x01 || public key): the note key hash is its first 4 bytes."""
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public).digest()


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise KeyFileError(
            f"'{name}' is not a usable key name: use letters, digits, '.', '_', '-' or '@' (at most 64), "
            "starting with a letter or digit"
        )
    return name


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A trusted Ed25519 public key and the name of whoever holds it."""

    name: str
    raw: bytes
    keyid: str = field(init=False)

    def __post_init__(self) -> None:
        Ed25519PublicKey.from_public_bytes(self.raw)  # ValueError unless 32 bytes
        object.__setattr__(self, "keyid", key_id(self.name, self.raw).hex())

    @property
    def note_hash(self) -> bytes:
        return bytes.fromhex(self.keyid)[:4]

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is this key's over ``data`` (libsodium: 1.7x OpenSSL's speed here)."""
        if len(signature) != 64:
            return False
        try:
            nacl.bindings.crypto_sign_open(signature + data, self.raw)
        except nacl.exceptions.BadSignatureError:
            return False
        return True

    def vkey(self) -> str:
        """The one-line public key (a note verifier key)."""
        b64 = base64.b64encode(ALG_ED25519 + self.raw).decode()
        return f"{self.name}+{self.note_hash.hex()}+{b64}"

    @classmethod
    def parse(cls, text: str, where: str) -> PublicKey:
        parts = text.strip().split("+", 2)
        try:
            name, hash_hex, b64 = parts
            blob = base64.b64decode(b64, validate=True)
            if blob[:1] != ALG_ED25519 or len(blob) != 33:
                raise ValueError("not an Ed25519 key")
            key = cls(check_name(name), blob[1:])
        except (ValueError, binascii.Error, KeyFileError) as e:
            raise KeyFileError(
                f"{where}: not a maestro public key (expected NAME+HASH+BASE64 on one line); "
                "replace it with the file `maestro keys init` wrote"
            ) from e
        if key.note_hash.hex() != hash_hex:
            raise KeyFileError(f"{where}: the key hash does not match the key; replace it with the original file")
        return key


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 private key with its holder's name. Its repr shows only the name and key id."""

    name: str
    _key: Ed25519PrivateKey = field(repr=False, compare=False)
    public: PublicKey = field(init=False)

    def __post_init__(self) -> None:
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        object.__setattr__(self, "public", PublicKey(self.name, raw))

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        return cls(check_name(name), Ed25519PrivateKey.generate())

    @property
    def keyid(self) -> str:
        return self.public.keyid

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def _skey(self) -> str:
        seed = self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        b64 = base64.b64encode(ALG_ED25519 + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.public.note_hash.hex()}+{b64}"


def write_signing_key(key: SigningKey, path: Path, *, force: bool = False) -> None:
    """Write the private key to ``path`` with mode 0600 (created that way, never widened)."""
    if path.exists() and not force:
        raise KeyFileError(f"{path} already exists; pass --force to replace it, or --key to write another file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(key._skey() + "\n")
    except OSError as e:
        raise KeyFileError(f"cannot write the private key {path}: {e.strerror or e}") from e


def read_signing_key(path: Path) -> SigningKey:
    """The private key at ``path``; refused when group or others may read it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as e:
        raise KeyFileError(f"no signing key at {path}; run `maestro keys init` to create one") from e
    except OSError as e:
        raise KeyFileError(f"cannot read the signing key {path}: {e.strerror or e}") from e
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"the signing key {path} is open to other users (mode {stat.S_IMODE(mode):04o}); run `chmod 600 {path}`"
        )
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as e:
        raise KeyFileError(f"cannot read the signing key {path}: {getattr(e, 'strerror', None) or 'not text'}") from e
    return _parse_skey(text, path)


def _parse_skey(text: str, path: Path) -> SigningKey:
    parts = text.strip().split("+", 4)
    problem = f"{path}: not a maestro signing key (expected PRIVATE+KEY+NAME+HASH+KEY); run `maestro keys init --force`"
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise KeyFileError(problem)
    try:
        blob = base64.b64decode(parts[4], validate=True)
        if blob[:1] != ALG_ED25519 or len(blob) != 33:
            raise ValueError("not an Ed25519 seed")
        key = SigningKey(check_name(parts[2]), Ed25519PrivateKey.from_private_bytes(blob[1:]))
    except (ValueError, binascii.Error, KeyFileError):
        raise KeyFileError(problem) from None  # no cause: it could quote key bytes
    if key.public.note_hash.hex() != parts[3]:
        raise KeyFileError(f"{path}: the key hash does not match the key; the file is damaged")
    return key


@dataclass(frozen=True)
class Keyring:
    """The public keys a verifier trusts, by key id."""

    keys: Mapping[str, PublicKey]

    @classmethod
    def of(cls, keys: Iterable[PublicKey], where: Iterable[str] | None = None) -> Keyring:
        """A keyring of ``keys`` (``where`` each came from, for messages); one public key under two names is
        refused: it would let one holder count as two approvers."""
        keys = list(keys)
        places = list(where) if where is not None else [f"the key of '{k.name}'" for k in keys]
        seen: dict[bytes, tuple[str, str]] = {}
        for key, place in zip(keys, places, strict=True):
            name, first = seen.setdefault(key.raw, (key.name, place))
            if name != key.name:
                raise KeyFileError(
                    f"{first} and {place} hold the same public key under two names ('{name}', '{key.name}'); "
                    "a key is trusted under one name only, its holder's: remove one of the two"
                )
        return cls({k.keyid: k for k in keys})

    def get(self, keyid: str) -> PublicKey | None:
        return self.keys.get(keyid)

    def by_note_hash(self, name: str, note_hash: bytes) -> PublicKey | None:
        for key in self.keys.values():
            if key.name == name and key.note_hash == note_hash:
                return key
        return None

    def __iter__(self) -> Iterator[PublicKey]:
        return iter(self.keys.values())

    def __len__(self) -> int:
        return len(self.keys)


def public_key_path(root: Path, name: str) -> Path:
    return root / KEYS_DIR / f"{check_name(name)}.pub"


def write_public_key(key: PublicKey, root: Path, *, force: bool = False) -> Path:
    path = public_key_path(root, key.name)
    if path.exists() and not force and path.read_text(encoding="ascii").strip() != key.vkey():
        raise KeyFileError(f"{path} already holds another key; pass --force to replace it, or choose --name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key.vkey() + "\n", encoding="ascii")
    except OSError as e:
        raise KeyFileError(f"cannot write the public key {path}: {e.strerror or e}") from e
    return path


def load_keyring(folder: Path) -> Keyring:
    """Every ``*.pub`` in ``folder`` (a repository's ``.maestro/keys``); empty when the folder is absent.

    One public key in two files (under two names) is refused, naming both files.
    """
    keys, places = [], []
    for path in sorted(folder.glob("*.pub")) if folder.is_dir() else []:
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as e:
            raise KeyFileError(
                f"cannot read the public key {path}: {getattr(e, 'strerror', None) or 'not text'}"
            ) from e
        keys.append(PublicKey.parse(text, str(path)))
        places.append(str(path))
    return Keyring.of(keys, places)
