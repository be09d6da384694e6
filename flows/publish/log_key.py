"""The trust's log key: made once, kept out of the bucket and out of logs, loaded for each run.

The private key signs each checkpoint of the trust's log (``flows.publish.log``); its public
half is published as ``_log/key.txt``. It is read, in order, from ``$NOTICES_LOG_KEY`` (the
key itself: a CI secret), ``$NOTICES_LOG_KEY_FILE``, or the default file
``<state folder>/log-key`` that ``notices log keygen`` writes (mode 0600). Without one,
nothing is published: a notice whose history no one can check is the old promise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flows.publish.base import PublishError
from flows.settings import Settings, read_settings
from flows.tlog.note import NoteError, Signer, Verifier, generate_key, load_signer, load_verifier, vkey_of

KEY_FILE = "log-key"
KEYGEN = "notices log keygen"


class LogKeyError(PublishError):
    """The log key is missing or unreadable; the message says where it was looked for and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


def default_key_path(settings: Settings | None = None) -> Path:
    """``<state folder>/log-key``: where ``notices log keygen`` writes the key by default."""
    return (settings or read_settings()).state_base() / KEY_FILE


def default_origin(website: str) -> str:
    """The log's name (its key's name) for a trust: ``<website host>/privacy-notices``."""
    host = urlsplit(website).hostname or "trust.example.org"
    return f"{host}/privacy-notices"


def load_log_signer(settings: Settings | None = None) -> Signer:
    """The trust's signing key, from the environment or the default file; ``LogKeyError`` if none."""
    settings = settings or read_settings()
    if settings.log_key is not None:
        return _parse(settings.log_key.get_secret_value(), "$NOTICES_LOG_KEY")
    path = Path(settings.log_key_file) if settings.log_key_file else default_key_path(settings)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        where = "$NOTICES_LOG_KEY_FILE" if settings.log_key_file else "the default file"
        raise LogKeyError(
            f"the trust's log key is missing ({where} {path} does not exist): make it once with `{KEYGEN}`, "
            "or set $NOTICES_LOG_KEY_FILE (or $NOTICES_LOG_KEY) to the trust's key; nothing was published"
        ) from None
    except OSError as exc:
        raise LogKeyError(f"{path}: cannot read the trust's log key ({exc.strerror})") from None
    return _parse(text, str(path))


@dataclass(frozen=True)
class LogKeys:
    """The keys a run signs and checks the log with: the trust's, and the one it replaces (if any)."""

    signer: Signer
    previous: Verifier | None = None
    """The replaced key: a checkpoint it signed is the trust's own."""
    cosigner: Signer | None = None
    """The replaced key, when its private half is still there: it co-signs, vouching for the new key."""

    @property
    def signers(self) -> tuple[Signer, ...]:
        """Who signs each new checkpoint."""
        return (self.signer,) if self.cosigner is None else (self.signer, self.cosigner)

    @property
    def verifiers(self) -> tuple[Verifier, ...]:
        """Whose signature makes a stored checkpoint the trust's own."""
        mine = load_verifier(vkey_of(self.signer))
        return (mine,) if self.previous is None else (mine, self.previous)


def load_log_keys(settings: Settings | None = None) -> LogKeys:
    """The trust's key and, during a change of key, the replaced one (``$NOTICES_LOG_PREVIOUS_KEY``)."""
    settings = settings or read_settings()
    signer = load_log_signer(settings)
    if settings.log_previous_key is None:
        return LogKeys(signer)
    text = settings.log_previous_key.get_secret_value().strip()
    try:
        if text.startswith("PRIVATE+KEY+"):
            old = load_signer(text)
            return LogKeys(signer, load_verifier(vkey_of(old)), old)
        return LogKeys(signer, load_verifier(text))
    except NoteError as exc:
        raise LogKeyError(f"$NOTICES_LOG_PREVIOUS_KEY: not a log key, private or public ({exc})") from None


def make_log_key(path: Path, origin: str) -> str:
    """Write a new signing key for the log ``origin`` to ``path`` (0600, never over another key); its public key."""
    skey, vkey = generate_key(origin)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise LogKeyError(
            f"{path} already holds a key: a second key would start a second log; keep it (or move it away)"
        ) from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(skey + "\n")
    return vkey


def public_key(signer: Signer) -> str:
    """The verifier key published as ``_log/key.txt``."""
    return vkey_of(signer)


def _parse(text: str, where: str) -> Signer:
    try:
        return load_signer(text.strip())
    except NoteError as exc:  # never echo the text: it is the secret
        raise LogKeyError(f"{where}: not a log signing key ({exc}); make one with `{KEYGEN}`") from None
