"""Is what the notice says still true? The dataset checked against the bodies register.

Read once per run (``flows.config.loading``): the register ``shared_data/bodies.yaml`` is
validated, every recipient of the chosen dataset edition must name a body the register
knows, and every place that names a body no longer current on the edition's effective date
becomes a ``StaleFinding`` with its file, line and field.

After composing (``flows.notice.prepare``), ``apply_acknowledgements`` decides per school: a finding
the trust file acknowledges (``dataset_acknowledgements``, with a reason) puts a plain note
in that school's notice; one it does not acknowledge is an error, and every school whose
notice would include that section is not published.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flows.config.bodies import BodyRegister, StaleMention, find_stale_mentions, what_happened
from flows.config.discovery import display_path
from flows.config.documents import load_document, locate_error
from flows.config.errors import ConfigError
from flows.config.models import BodyNote, DatasetEdition, Notice, TrustFile
from flows.config.yaml_source import YamlDocument

REGISTER_FILE = "bodies.yaml"


@dataclass(frozen=True)
class StaleFinding:
    """A section of the chosen edition that names a body which is no longer current."""

    mention: StaleMention
    place: ConfigError
    """Where it is named, with the message ``validate`` prints when nothing acknowledges it."""
    happened: str
    """What became of the body, in the words the notice uses when the trust keeps the section."""


def load_register(shared_dir: Path, errors: list[ConfigError]) -> BodyRegister | None:
    """Read and check ``shared_data/bodies.yaml``; None (with the reasons in ``errors``) when it cannot be used."""
    path = shared_dir / REGISTER_FILE
    if not path.is_file():
        errors.append(
            ConfigError(
                display_path(path), None, "", "the bodies register is missing: every dataset recipient names its body here"
            )
        )
        return None
    loaded = load_document(path, BodyRegister, errors)
    if loaded is None:
        return None
    register, doc = loaded
    problems = _register_problems(register, doc)
    errors.extend(problems)
    return None if problems else register


def _register_problems(register: BodyRegister, doc: YamlDocument) -> list[ConfigError]:
    problems: list[ConfigError] = []
    ids = [b.id for b in register.bodies]
    for index, body in enumerate(register.bodies):
        where: tuple[str | int, ...] = ("bodies", index)
        if ids.index(body.id) != index:
            problems.append(locate_error(doc, (*where, "id"), f"body id {body.id!r} is used twice"))
        if body.successor is not None and body.successor not in ids:
            problems.append(locate_error(doc, (*where, "successor"), f"names no body in this register: {body.successor!r}"))
        if body.status != "active" and body.successor is None and not body.what_changed:
            problems.append(
                locate_error(
                    doc,
                    (*where, "status"),
                    f"a body that is {body.status} needs its successor or what_changed, so a notice can say who does its work",
                )
            )
    return problems


def check_edition_bodies(
    edition: DatasetEdition, doc: YamlDocument, register: BodyRegister
) -> tuple[list[ConfigError], list[StaleFinding]]:
    """Recipients naming no registered body (errors), and every stale mention (findings)."""
    errors = [
        locate_error(doc, ("recipients", i, "body") if r.body else ("recipients", i), _unknown_body(r.body, register))
        for i, r in enumerate(edition.recipients)
        if r.body is None or register.get(r.body) is None
    ]
    findings = []
    for mention in find_stale_mentions(edition, register):
        body = register.get(mention.body_id)
        assert body is not None  # found by the register's own names
        happened = what_happened(register, body)
        message = (
            f"names {mention.name_used!r} (section {mention.recipient_id!r}) as if it were current, but on the edition's "
            f"effective date ({edition.effective_date.isoformat()}) it is not: {happened}"
        )
        findings.append(StaleFinding(mention, locate_error(doc, mention.where, message), happened))
    return errors, findings


def _unknown_body(body: str | None, register: BodyRegister) -> str:
    if body is None:
        return "body: expected the id of the body this section is about, from shared_data/bodies.yaml"
    return f"names no body in shared_data/bodies.yaml: {body!r} (add it there, with its status and a source)"


def check_acknowledgements(trust: TrustFile, doc: YamlDocument | None, register: BodyRegister | None) -> list[ConfigError]:
    """An acknowledgement must name a body the register knows."""
    if register is None:
        return []
    return [
        locate_error(doc, ("dataset_acknowledgements", i, "body"), f"names no body in shared_data/bodies.yaml: {a.body!r}")
        if doc is not None
        else ConfigError(
            "trust file", None, f"dataset_acknowledgements[{i}].body", f"names no body in shared_data/bodies.yaml: {a.body!r}"
        )
        for i, a in enumerate(trust.dataset_acknowledgements)
        if register.get(a.body) is None
    ]


@dataclass(frozen=True)
class Settled:
    """Notices with their notes about kept bodies, the errors, and the schools refused."""

    notices: tuple[Notice, ...]
    errors: tuple[ConfigError, ...]
    refused: tuple[str, ...]


def apply_acknowledgements(
    notices: tuple[Notice, ...], findings: tuple[StaleFinding, ...], trust: TrustFile, trust_path: str
) -> Settled:
    """Note each acknowledged finding in the notices that include it; refuse the rest, once per finding."""
    reasons = {a.body: a.reason for a in trust.dataset_acknowledgements}
    errors: list[ConfigError] = []
    refused: set[str] = set()
    settled = list(notices)
    for finding in findings:
        using = [i for i, n in enumerate(settled) if _includes(n, finding.mention.recipient_id)]
        reason = reasons.get(finding.mention.body_id)
        if reason is None:
            place = finding.place
            schools = ", ".join(settled[i].slug for i in using) or "no school of this run"
            errors.append(
                ConfigError(
                    place.path,
                    place.line,
                    place.field,
                    (
                        f"{place.message} Used by: {schools}. Move the trust to a current dataset edition (dataset_edition in "
                        f"{trust_path}), or keep this section knowingly: add {{body: {finding.mention.body_id}, reason: ...}} under "
                        f"dataset_acknowledgements in {trust_path}."
                    ),
                )
            )
            refused.update(settled[i].slug for i in using)
            continue
        note = BodyNote(
            recipient_id=finding.mention.recipient_id,
            body_id=finding.mention.body_id,
            text=f"{finding.happened} We still include this section because {_sentence(reason)}",
        )
        for i in using:
            if note not in settled[i].body_notes:
                settled[i] = settled[i].model_copy(update={"body_notes": (*settled[i].body_notes, note)})
    kept = tuple(n for n in settled if n.slug not in refused)
    return Settled(kept, tuple(errors), tuple(sorted(refused)))


def _includes(notice: Notice, recipient_id: str) -> bool:
    return any(d.recipient_id == recipient_id and d.applies for d in notice.decisions)


def _sentence(reason: str) -> str:
    """The trust's reason as the end of a sentence: first letter lower case, one full stop."""
    text = reason.strip().rstrip(".")
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[0].lower() + text[1:]
    return text + "."
