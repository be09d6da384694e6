"""Note keys (C2SP signed-note and tlog-cosignature, Go's golang.org/x/mod/sumdb/note text formats).

A key is "<name>+<8 hex key id>+<base64(alg || key)>"; a signer key has "PRIVATE+KEY+" before it and the
32-byte Ed25519 seed as its key. Alg 0x01 is an Ed25519 note key, alg 0x04 a cosignature/v1 witness key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PrivateFormat, PublicFormat, NoEncryption

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")


class NoteError(ValueError):
    """A malformed key, note or checkpoint, or a signature by a known key that does not verify."""


def valid_name(name: str) -> bool:
    """Whether `name` may name a key: non-empty, no whitespace, no "+" (as Go's isValidName)."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name) and name.isprintable()


def key_id(name: str, alg: int, public: bytes) -> bytes:
    """Return the 4-byte key id SHA-256(name || "\\n" || alg || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public).digest()[:4]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as err:
        raise NoteError(f"{what} is not valid base64") from err


def _raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _cosigned_message(msg: bytes, timestamp: int) -> bytes:
    """The cosignature/v1 signed message: header, time line, then the whole checkpoint note text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + msg


@dataclass(frozen=True)
class Signer:
    """A note signing key: Ed25519 (alg 0x01) for notes, or cosignature/v1 (alg 0x04) for a witness."""

    name: str
    key_id: bytes
    private: Ed25519PrivateKey
    alg: int = ALG_ED25519

    def sign(self, msg: bytes) -> bytes:
        """Sign a note text; a cosignature/v1 key signs it timestamped now (timestamp || signature)."""
        if self.alg == ALG_COSIGNATURE_V1:
            return self.sign_at(msg, int(time.time()))
        return self.private.sign(msg)

    def sign_at(self, msg: bytes, timestamp: int) -> bytes:
        """Return the cosignature/v1 signature blob (8-byte big-endian timestamp || signature) of `msg`."""
        if not 0 <= timestamp < 2**63:
            raise NoteError(f"cosignature timestamp {timestamp} is out of range")
        return timestamp.to_bytes(8, "big") + self.private.sign(_cosigned_message(msg, timestamp))


@dataclass(frozen=True)
class Verifier:
    """A note verifier key: Ed25519 (alg 0x01), or cosignature/v1 (alg 0x04) for a witness."""

    name: str
    key_id: bytes
    public: Ed25519PublicKey
    alg: int = ALG_ED25519

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Whether `sig` (the signature line's blob after the key id) signs the note text `msg`."""
        if self.alg == ALG_COSIGNATURE_V1:
            if len(sig) != 72:
                return False
            msg, sig = _cosigned_message(msg, int.from_bytes(sig[:8], "big")), sig[8:]
        try:
            self.public.verify(sig, msg)
        except InvalidSignature:
            return False
        return True


def _generate(name: str, alg: int) -> tuple[str, str]:
    if not valid_name(name):
        raise NoteError(f"invalid key name {name!r}: it must be non-empty, without spaces or '+'")
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = _raw_public(private.public_key())
    kid = key_id(name, alg, public).hex()
    skey = f"PRIVATE+KEY+{name}+{kid}+{_b64(bytes([alg]) + seed)}"
    return skey, f"{name}+{kid}+{_b64(bytes([alg]) + public)}"


def generate_key(name: str) -> tuple[str, str]:
    """Return a new Ed25519 note key pair (skey, vkey) in Go's sumdb note text format."""
    return _generate(name, ALG_ED25519)


def generate_witness_key(name: str) -> tuple[str, str]:
    """Return a new cosignature/v1 witness key pair (skey, vkey): as a note key but with alg byte 0x04."""
    return _generate(name, ALG_COSIGNATURE_V1)


def _split_key(text: str, what: str) -> tuple[str, bytes, int, bytes]:
    """Split "<name>+<hex id>+<base64(alg || key)>" into (name, id, alg, key material)."""
    parts = text.split("+", 2)  # the base64 key may itself hold "+"
    if len(parts) != 3 or not valid_name(parts[0]) or not _HEX8.fullmatch(parts[1]):
        raise NoteError(f"malformed {what}")
    key = _unb64(parts[2], what)
    if len(key) != 33:
        raise NoteError(f"malformed {what}: an Ed25519 key is 1 + 32 bytes")
    return parts[0], bytes.fromhex(parts[1]), key[0], key[1:]


def _load_signer(skey: str, alg: int) -> Signer:
    prefix = "PRIVATE+KEY+"
    if not skey.startswith(prefix):
        raise NoteError("malformed signer key: it must start with PRIVATE+KEY+")
    name, kid, key_alg, seed = _split_key(skey[len(prefix) :], "signer key")
    if key_alg != alg:
        raise NoteError(f"signer key {name} has algorithm {key_alg:#04x}, not {alg:#04x}")
    private = Ed25519PrivateKey.from_private_bytes(seed)
    if key_id(name, alg, _raw_public(private.public_key())) != kid:
        raise NoteError(f"signer key {name}: the key id does not match the key")
    return Signer(name=name, key_id=kid, private=private, alg=alg)


def _load_verifier(vkey: str, alg: int) -> Verifier:
    name, kid, key_alg, public = _split_key(vkey, "verifier key")
    if key_alg != alg:
        raise NoteError(f"verifier key {name} has algorithm {key_alg:#04x}, not {alg:#04x}")
    if key_id(name, alg, public) != kid:
        raise NoteError(f"verifier key {name}: the key id does not match the key")
    return Verifier(name=name, key_id=kid, public=Ed25519PublicKey.from_public_bytes(public), alg=alg)


def load_signer(skey: str) -> Signer:
    """Parse an Ed25519 note signer key "PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>"."""
    return _load_signer(skey, ALG_ED25519)


def load_verifier(vkey: str) -> Verifier:
    """Parse an Ed25519 note verifier key "<name>+<id>+<base64(0x01 || public key)>"."""
    return _load_verifier(vkey, ALG_ED25519)


def load_witness_signer(skey: str) -> Signer:
    """Parse a cosignature/v1 signer key (as a note signer key, alg byte 0x04)."""
    return _load_signer(skey, ALG_COSIGNATURE_V1)


def load_witness_verifier(vkey: str) -> Verifier:
    """Parse a cosignature/v1 verifier key (as a note verifier key, alg byte 0x04)."""
    return _load_verifier(vkey, ALG_COSIGNATURE_V1)


def load_any_verifier(vkey: str) -> Verifier:
    """Parse a verifier key of either kind, by its algorithm byte."""
    try:
        return load_verifier(vkey)
    except NoteError:
        return load_witness_verifier(vkey)


def vkey_of(signer: Signer) -> str:
    """Return the verifier key text of a signer."""
    public = _raw_public(signer.private.public_key())
    return f"{signer.name}+{signer.key_id.hex()}+{_b64(bytes([signer.alg]) + public)}"


def vkey_text(verifier: Verifier) -> str:
    """Return the verifier key text of a verifier."""
    return f"{verifier.name}+{verifier.key_id.hex()}+{_b64(bytes([verifier.alg]) + _raw_public(verifier.public))}"


def b64(data: bytes) -> str:
    """Standard base64 with padding, as text."""
    return _b64(data)


def unb64(text: str, what: str) -> bytes:
    """Decode standard base64 text; NoteError naming `what` if it is not valid."""
    return _unb64(text, what)
