"""What a run reports: one ``SchoolResult`` per school, a ``RunResult`` for the run, and the
one vocabulary of statuses (``Status``) that results, reports and the CLI share.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from flows.config.models import Notice
from flows.publish.context import Upload
from flows.publish.target import Target


class Status(StrEnum):
    """What happened to one school in a run."""

    PUBLISHED = "published"
    """A new edition went live."""
    PRESENTATION = "presentation"
    """The same words, re-laid out: the latest files were rewritten, no new edition."""
    UNCHANGED = "unchanged"
    """Nothing to write."""
    HELD = "held"
    """A change waiting for a named approver: nothing of it is live."""
    FAILED = "failed"
    """Not published; the result's error says why."""

    @property
    def wrote(self) -> bool:
        """Something of the school was written (its pages may have changed)."""
        return self in (Status.PUBLISHED, Status.PRESENTATION)

    @property
    def live(self) -> bool:
        """The school's current words are live on the target."""
        return self in (Status.PUBLISHED, Status.PRESENTATION, Status.UNCHANGED)


class SchoolState(BaseModel):
    """What a school's objects held when a run last wrote or checked them."""

    model_config = ConfigDict(frozen=True)

    edition: int
    input_hash: str = ""
    """Of everything the draft is rendered from: equal means the same draft, without rendering it."""
    manifest_etag: str
    content_hash: str
    presentation_hash: str
    fingerprint: str
    etags: dict[str, str]

    def matches(self, content_hash: str, presentation_hash: str, fingerprint: str) -> bool:
        """True if a draft with these hashes, in this run's context, needs nothing written."""
        return (self.content_hash, self.presentation_hash, self.fingerprint) == (content_hash, presentation_hash, fingerprint)


@dataclass
class SchoolResult:
    """What happened to one school (``held``: a change waiting for a named approver)."""

    slug: str
    status: Status
    edition: int | None = None
    url: str | None = None
    change_class: str | None = None
    changes: tuple[str, ...] = ()
    error: str | None = None
    uploads: list[str] = field(default_factory=list)
    name: str = ""
    urn: str = ""
    diff: str = ""
    retryable: bool = True
    content_hash: str = ""
    approved_by: str | None = None
    notes: tuple[str, ...] = ()
    """Things the person running it should know (e.g. an edition number skipped)."""
    planned: list[Upload] = field(default_factory=list, repr=False)
    """For a held school: the draft edition's files (bodies included), for a private preview."""
    state: SchoolState | None = field(default=None, repr=False)
    """The school's publish-state entry after this run (None: the next run checks it in full)."""
    log_entries: tuple[str, ...] = field(default=(), repr=False)
    """Every entry the trust's log must hold for this school's manifest (``flows.publish.log_entries``);
    empty when the run did not read the manifest (the publish state vouched: already logged)."""

    def __post_init__(self) -> None:
        self.status = Status(self.status)  # a saved plan or a caller may give the plain word

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `notices publish --json` (and of a saved plan)."""
        data = asdict(dataclasses.replace(self, planned=[], state=None, log_entries=()))
        data.pop("planned")
        data.pop("state")
        data.pop("log_entries")
        data["status"] = self.status.value
        data["changes"] = list(self.changes)
        data["notes"] = list(self.notes)
        data["uploads"] = len(self.uploads)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SchoolResult:
        """The inverse of ``as_dict`` (upload keys are not kept: only their count)."""
        values = dict(data)
        values["changes"] = tuple(values.get("changes", ()))
        values["notes"] = tuple(values.get("notes", ()))
        values["uploads"] = [""] * int(values.get("uploads", 0))
        return cls(**values)

    @classmethod
    def failure(cls, school: Notice | str, error: str, *, retryable: bool = True) -> SchoolResult:
        """A school that failed, and why: the one way every stage reports a failure.

        ``school``: its notice (its name and URN are reported too), or only its slug when no
        notice could be composed (its configuration is invalid)."""
        if isinstance(school, str):
            return cls(school, Status.FAILED, error=error, retryable=retryable)
        return cls(school.slug, Status.FAILED, error=error, name=school.school.name, urn=school.school.urn, retryable=retryable)


INDEX_NOT_UPDATED = "the trust's index page and schools.json were not updated"  # a school's note, when so
LOG_NOT_UPDATED = "the trust's public log was not updated"  # a school's note, when so


@dataclass
class RunResult:
    """A whole run: one result per school plus the requests it cost."""

    target: Target
    schools: list[SchoolResult]
    requests: dict[str, int]
    root_uploads: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[SchoolResult]:
        """The schools that failed (the run fails if any)."""
        return [s for s in self.schools if s.status is Status.FAILED]

    @property
    def index_error(self) -> str | None:
        """Why the trust's index page and ``schools.json``, or its public log, were not updated
        (None: they were, or had no need to be). The schools' notices are live; the run still
        fails, so the IT team sees it, and the next run updates them."""
        return next((n for s in self.schools for n in s.notes if n.startswith((INDEX_NOT_UPDATED, LOG_NOT_UPDATED))), None)

    @property
    def held(self) -> list[SchoolResult]:
        """The schools whose change waits for a named approver."""
        return [s for s in self.schools if s.status is Status.HELD]

    def as_dict(self) -> dict[str, Any]:
        """The JSON document `notices publish --json` prints."""
        return {
            "target": {"bucket": self.target.bucket, "prefix": self.target.prefix, "base_url": self.target.public_base_url},
            "schools": [s.as_dict() for s in self.schools],
            "requests": self.requests,
        }
