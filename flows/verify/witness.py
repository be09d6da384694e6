"""``witness``: a third party that remembers the log it saw and cosigns only what extends it.

Its state folder holds its own cosignature/v1 key (made on first use, the private file mode
0600), what it last cosigned of each log (``logs/<origin>.json``) and, under ``public/``, the
cosigned checkpoint of each log for any static web server to serve. Because it refuses to
cosign a checkpoint that does not extend the last one, a trust cannot show it one tree and
parents another without the difference showing in ``notices verify``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from flows.tlog.note import (
    NoteError,
    Signer,
    cosign,
    generate_witness_key,
    load_verifier,
    load_witness_signer,
    open_note,
    vkey_of,
)
from flows.verify.discover import find_site
from flows.verify.fetch import Fetcher
from flows.verify.log import LogView, check_extends, choose_key, open_checkpoint
from flows.verify.problems import Problem, VerifyError
from flows.verify.state import Seen, load_seen, origin_file_name, save_seen, write_atomic

DEFAULT_NAME = "witness.example.org"
KEY_FILE = "witness.key"


@dataclass
class WitnessOutcome:
    """What the witness did: the file it wrote and its vkey, or the problems that stopped it cosigning."""

    url: str
    name: str = ""
    vkey: str = ""
    origin: str = ""
    size: int = 0
    path: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    requests: int = 0
    received: int = 0


def witness_key(state_dir: Path, name: str = DEFAULT_NAME) -> Signer:
    """The witness's signing key, made on first use (``name`` only matters then)."""
    path = state_dir / KEY_FILE
    if not path.exists():
        skey, _ = generate_witness_key(name)
        write_atomic(path, (skey + "\n").encode("ascii"), mode=0o600)
    try:
        return load_witness_signer(path.read_text(encoding="ascii").strip())
    except (OSError, UnicodeDecodeError, NoteError) as exc:
        raise VerifyError(f"{path}: cannot read the witness key ({exc})") from None


def public_path(state_dir: Path, origin: str) -> Path:
    """Where the cosigned checkpoint of ``origin`` is written: ``public/<origin, / as _>/checkpoint``."""
    return state_dir / "public" / origin_file_name(origin) / "checkpoint"


def witness(url: str, state_dir: Path, name: str = DEFAULT_NAME, fetcher: Fetcher | None = None) -> WitnessOutcome:
    """Check the log at ``url`` extends what this witness cosigned before; if so, cosign and publish it."""
    fetcher = fetcher or Fetcher()
    signer = witness_key(state_dir, name)
    outcome = WitnessOutcome(url, name=signer.name, vkey=vkey_of(signer))
    try:
        view = _checked(url, state_dir, fetcher, outcome)
        if view is not None:
            outcome.path = _cosign(view, signer, state_dir)
            save_seen(state_dir / "logs", Seen(view.origin, view.key, view.size, view.root, view.note))
    finally:
        outcome.requests, outcome.received = fetcher.requests, fetcher.received
    return outcome


def _checked(url: str, state_dir: Path, fetcher: Fetcher, outcome: WitnessOutcome) -> LogView | None:
    """The log's checkpoint if it is signed by the remembered key and extends what was cosigned."""
    site = find_site(url, fetcher)
    try:
        note = fetcher.need(site.checkpoint_url, fresh=True).decode("utf-8")
    except UnicodeDecodeError:
        raise VerifyError(f"{site.checkpoint_url}: not UTF-8 text") from None
    outcome.origin = note.split("\n", 1)[0]
    seen = load_seen(state_dir / "logs", outcome.origin)
    fetched = "" if seen else fetcher.need(site.key_url).decode("utf-8", "replace")
    vkey, why = choose_key(fetched, None, seen)
    view, problems = open_checkpoint(site.log, note, vkey, why, fetcher)
    if view is not None:
        outcome.size = view.size
        problems += check_extends(view, seen, "cosigned before")
    outcome.problems += problems
    return view if not problems else None


def _cosign(view: LogView, signer: Signer, state_dir: Path) -> Path:
    """Write the checkpoint text, the trust's signature line and this witness's cosignature line."""
    trusted = load_verifier(view.key)
    opened = open_note(view.note, [trusted])
    trust = [s for s in opened.signatures if (s.name, s.key_id) == (trusted.name, trusted.key_id)]
    if not trust:
        raise VerifyError(f"{view.where}checkpoint: no signature line by {view.origin}")
    text = opened.text + "\n" + trust[0].line() + cosign(opened.text, signer, int(time.time()))
    path = public_path(state_dir, view.origin)
    write_atomic(path, text.encode("utf-8"))
    return path
