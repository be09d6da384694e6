"""C2SP signed notes, checkpoints and cosignatures, compatible with Go's golang.org/x/mod/sumdb/note.

- signed-note (https://c2sp.org/signed-note): text, a blank line, then "— <name> <base64(key id || sig)>" lines;
- tlog-checkpoint (https://c2sp.org/tlog-checkpoint): origin, size and base64 root hash as the note text;
- tlog-cosignature (https://c2sp.org/tlog-cosignature): cosignature/v1, Ed25519 keys of type 0x04 whose
  signature is an 8-byte big-endian timestamp then an Ed25519 signature over a timestamped message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from flows.tlog.keys import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    NoteError,
    Signer,
    Verifier,
    b64,
    generate_key,
    generate_witness_key,
    key_id,
    load_any_verifier,
    load_signer,
    load_verifier,
    load_witness_signer,
    load_witness_verifier,
    unb64,
    valid_name,
    vkey_of,
    vkey_text,
)

__all__ = [
    "ALG_COSIGNATURE_V1",
    "ALG_ED25519",
    "Checkpoint",
    "NoteError",
    "OpenedNote",
    "Signature",
    "Signer",
    "Verifier",
    "cosign",
    "format_checkpoint",
    "generate_key",
    "generate_witness_key",
    "key_id",
    "load_any_verifier",
    "load_signer",
    "load_verifier",
    "load_witness_signer",
    "load_witness_verifier",
    "open_note",
    "parse_checkpoint",
    "sign_note",
    "valid_name",
    "verify_cosignature",
    "vkey_of",
    "vkey_text",
]

SIG_PREFIX = "\u2014 "
MAX_SIGNATURES = 100  # Go's sumdb note rejects notes with more signature lines than this


@dataclass(frozen=True)
class Signature:
    """One signature line: the key name, the 4-byte key id and the signature bytes after the id."""

    name: str
    key_id: bytes
    data: bytes

    def line(self) -> str:
        """Return the signature line, "— <name> <base64(key id || data)>\\n"."""
        return f"{SIG_PREFIX}{self.name} {b64(self.key_id + self.data)}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("malformed note: the text must end in a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("malformed note: the text holds a control character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise NoteError("malformed note: the text is not valid UTF-8") from err


def sign_note(text: str, *signers: Signer) -> str:
    """Return `text` signed by each signer in turn: the text, a blank line, one line per signature."""
    _check_text(text)
    msg = text.encode("utf-8")
    lines = [Signature(s.name, s.key_id, s.sign(msg)).line() for s in signers]
    return text + "\n" + "".join(lines)


@dataclass(frozen=True)
class OpenedNote:
    """A parsed note: its text, every distinct signature, and the names whose signatures verified."""

    text: str
    signatures: tuple[Signature, ...]
    verified: tuple[str, ...]


def _parse_signature(line: str) -> Signature:
    if not line.startswith(SIG_PREFIX):
        raise NoteError(f"malformed note: signature line {line[:40]!r} does not start with '— '")
    name, sep, blob64 = line[len(SIG_PREFIX) :].partition(" ")
    if not sep or not valid_name(name):
        raise NoteError(f"malformed note: signature line {line[:40]!r} has no valid key name")
    blob = unb64(blob64, f"the signature by {name}")
    if len(blob) < 5:
        raise NoteError(f"malformed note: the signature by {name} is too short")
    return Signature(name=name, key_id=blob[:4], data=blob[4:])


def _split_note(note: str) -> tuple[str, list[Signature]]:
    """Split a note at its last blank line into the text and the parsed signature lines."""
    _check_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteError("malformed note: no signature lines")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    return text, [_parse_signature(line) for line in lines]


def open_note(note: str, verifiers: Sequence[Verifier]) -> OpenedNote:
    """Parse a signed note and check each signature by a known key (name and key id).

    A known key's signature that does not verify is an error naming the key; signatures by unknown keys are
    returned but not verified. The caller decides whether the `verified` names are enough.
    """
    text, sigs = _split_note(note)
    known: dict[tuple[str, bytes], list[Verifier]] = {}
    for v in verifiers:
        known.setdefault((v.name, v.key_id), []).append(v)
    msg = text.encode("utf-8")
    distinct: list[Signature] = []
    verified: list[str] = []
    for sig in sigs:
        if sig in distinct:
            continue
        distinct.append(sig)
        matches = known.get((sig.name, sig.key_id), [])
        if len({vkey_text(v) for v in matches}) > 1:
            raise NoteError(f"ambiguous key {sig.name}+{sig.key_id.hex()}")
        if not matches:
            continue
        if not matches[0].verify(msg, sig.data):
            raise NoteError(f"invalid signature for key {sig.name}+{sig.key_id.hex()}")
        if sig.name not in verified:
            verified.append(sig.name)
    return OpenedNote(text=text, signatures=tuple(distinct), verified=tuple(verified))


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog-checkpoint body: origin, tree size, root hash, optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def format_checkpoint(cp: Checkpoint) -> str:
    """Return the checkpoint note text: origin, decimal size, base64 root, then any extension lines."""
    if not cp.origin or any(ord(c) < 0x20 for c in cp.origin) or cp.size < 0 or len(cp.root) != 32:
        raise NoteError("malformed checkpoint: bad origin, size or root")
    if any(not ext or any(ord(c) < 0x20 for c in ext) for ext in cp.extensions):
        raise NoteError("malformed checkpoint: an extension line is empty or holds a control character")
    return "".join(f"{line}\n" for line in (cp.origin, str(cp.size), b64(cp.root), *cp.extensions))


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text (without its signatures); NoteError if it is malformed."""
    if not text.endswith("\n"):
        raise NoteError("malformed checkpoint: it must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not lines[0] or any(not line for line in lines[3:]):
        raise NoteError("malformed checkpoint: it needs an origin, a size and a root hash line, no blank lines")
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", lines[1]) or int(lines[1]) >= 2**64:
        raise NoteError(f"malformed checkpoint: size {lines[1][:30]!r} is not a decimal number")
    root = unb64(lines[2], "the checkpoint root hash")
    if len(root) != 32 or b64(root) != lines[2]:
        raise NoteError("malformed checkpoint: the root hash is not 32 bytes of base64")
    return Checkpoint(origin=lines[0], size=int(lines[1]), root=root, extensions=tuple(lines[3:]))


def cosign(checkpoint_text: str, signer: Signer, timestamp: int) -> str:
    """Return the cosignature/v1 signature line of a witness `signer` over `checkpoint_text` at `timestamp`."""
    if signer.alg != ALG_COSIGNATURE_V1:
        raise NoteError(f"key {signer.name} is not a cosignature/v1 witness key")
    _check_text(checkpoint_text)
    blob = signer.sign_at(checkpoint_text.encode("utf-8"), timestamp)
    return Signature(signer.name, signer.key_id, blob).line()


def verify_cosignature(checkpoint_text: str, signature: Signature, verifier: Verifier) -> int:
    """Check a witness's cosignature/v1 over `checkpoint_text` and return its timestamp; NoteError if bad."""
    if verifier.alg != ALG_COSIGNATURE_V1:
        raise NoteError(f"key {verifier.name} is not a cosignature/v1 witness key")
    if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
        raise NoteError(f"the signature is not by witness key {verifier.name}+{verifier.key_id.hex()}")
    if len(signature.data) != 72:
        raise NoteError(f"the cosignature by {verifier.name} is {len(signature.data)} bytes, not 8 + 64")
    timestamp = int.from_bytes(signature.data[:8], "big")
    if timestamp >= 2**63 or not verifier.verify(checkpoint_text.encode("utf-8"), signature.data):
        raise NoteError(f"invalid cosignature for key {verifier.name}+{verifier.key_id.hex()}")
    return timestamp
