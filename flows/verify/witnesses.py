"""Witnesses (spec 6): what each one says it saw of this log, from its cosigned checkpoint.

A witness that cosigned this very checkpoint has "seen" it; one that cosigned an older size
that this tree provably extends "last saw size N"; a cosignature over another tree of the same
size, over a tree this one does not extend, or one that does not verify is a problem: the trust
showed that witness something else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flows.tlog.merkle import ProofError, consistency_proof, verify_consistency
from flows.tlog.note import NoteError, load_verifier, load_witness_verifier, open_note, parse_checkpoint, verify_cosignature
from flows.tlog.tiles import TileError
from flows.verify.fetch import Fetcher
from flows.verify.log import LogView
from flows.verify.problems import Problem, VerifyError


@dataclass(frozen=True)
class Witness:
    """A witness to ask: its name, its cosignature/v1 vkey and the URL of its cosigned checkpoint."""

    name: str
    key: str
    url: str


@dataclass(frozen=True)
class WitnessSeen:
    """What a witness saw: ``seen`` (this checkpoint), ``older`` or ``newer`` (size), or ``bad``."""

    name: str
    url: str
    status: str
    size: int

    def summary(self) -> str:
        """A few words for the summary line."""
        if self.status == "seen":
            return f"seen by {self.name}"
        if self.status == "older":
            return f"{self.name} last saw size {self.size}"
        if self.status == "newer":
            return f"{self.name} saw a newer size {self.size}"
        return f"{self.name}: cosignature over another tree"


def parse_witness_flag(text: str) -> Witness:
    """``VKEY=URL`` from ``--witness``."""
    key, sep, url = text.partition("=")
    if not sep or not url:
        raise VerifyError(f"--witness {text!r}: expected VKEY=URL")
    try:
        verifier = load_witness_verifier(key.strip())
    except NoteError as exc:
        raise VerifyError(f"--witness {key.strip()!r}: {exc}") from None
    return Witness(verifier.name, key.strip(), url.strip())


def listed_witnesses(view: LogView, fetcher: Fetcher) -> list[Witness]:
    """The witnesses the log lists in ``witnesses.json`` (none if the file is absent)."""
    url = view.where + "witnesses.json"
    body = fetcher.get(url, fresh=True)
    if body is None:
        return []
    try:
        items = json.loads(body)["witnesses"]
        return [Witness(str(w["name"]), str(w["key"]), str(w["url"])) for w in items]
    except (ValueError, KeyError, TypeError) as exc:
        raise VerifyError(f"{url}: not a list of witnesses ({exc})") from None


def check_witness(view: LogView, witness: Witness, fetcher: Fetcher) -> tuple[WitnessSeen, list[Problem]]:
    """Fetch the witness's cosigned checkpoint and compare it with ``view``."""
    body = fetcher.need(witness.url, fresh=True)
    bad = WitnessSeen(witness.name, witness.url, "bad", 0)
    try:
        cosigner = load_witness_verifier(witness.key)
        opened = open_note(body.decode("utf-8"), [load_verifier(view.key), cosigner])
        checkpoint = parse_checkpoint(opened.text)
        sigs = [s for s in opened.signatures if (s.name, s.key_id) == (cosigner.name, cosigner.key_id)]
        if view.key.split("+")[0] not in opened.verified or not sigs:
            raise NoteError("not signed by both the trust and the witness")
        verify_cosignature(opened.text, sigs[0], cosigner)
    except (NoteError, UnicodeDecodeError) as exc:
        return bad, [_another(witness, f"it does not verify: {exc}")]
    if checkpoint.origin != view.origin:
        return bad, [_another(witness, f"origin {checkpoint.origin}")]
    if checkpoint.size > view.size:
        return WitnessSeen(witness.name, witness.url, "newer", checkpoint.size), []
    if checkpoint.size == view.size:
        if checkpoint.root != view.root:
            return bad, [_another(witness, f"size {checkpoint.size} with another root")]
        return WitnessSeen(witness.name, witness.url, "seen", checkpoint.size), []
    try:
        if checkpoint.size:
            proof = consistency_proof(checkpoint.size, view.size, view.reader.hash)
            verify_consistency(checkpoint.size, view.size, proof, checkpoint.root, view.root)
    except (ProofError, TileError):
        return bad, [_another(witness, f"size {checkpoint.size}, which this tree does not extend")]
    return WitnessSeen(witness.name, witness.url, "older", checkpoint.size), []


def _another(witness: Witness, detail: str) -> Problem:
    return Problem("witness", witness.url, f"{witness.name}'s cosignature over another tree ({detail})")
