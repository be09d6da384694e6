"""What every school of a run shares, and what a run reports per school.

``RunContext`` is built once per run (templates, dataset text, target, clock, approval);
``SchoolResult`` and ``RunResult`` are what the CLI prints and the flow reports.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jinja2 import Environment

from flows import __version__
from flows.editions import code_version, template_version
from flows.models import ApprovalPolicy, TrustFile
from flows.publish import layout
from flows.publish.target import Target
from flows.dataset_text import DatasetText

if TYPE_CHECKING:
    from flows.publish.state import SchoolState

Status = Literal["published", "unchanged", "presentation", "held", "failed"]


@dataclass(frozen=True)
class Approval:
    """A named person's approval of this run's material changes, with an optional note."""

    approver: str
    note: str | None = None


@dataclass
class RunContext:
    """What every school of a run shares: templates, dataset text, versions, clock, options.

    ``expected`` maps a slug to the content hash a person approved (None: the words as this run
    renders them, an inline approval; empty: no words, only a named move): a school whose words
    changed again since then is held, not published under an approval given for other words.
    """

    env: Environment
    text: DatasetText
    target: Target
    trust_name: str
    trust_website: str
    template_version: str
    renderer: str
    policy: ApprovalPolicy = field(default_factory=ApprovalPolicy)
    approval: Approval | None = None
    expected: dict[str, str] | None = None
    dry_run: bool = False
    force: bool = False
    exclusive: bool = False
    """The run holds the trust lock: an edition slot it finds filled was left by a dead run."""
    move_from: str | None = None
    """The prefix this run moves schools' histories from (named by the person running it)."""
    trust_colour: str = "#1d4f91"
    started_at: str = ""
    """When the run started (RFC 3339, UTC; empty: unknown): an edition stamped since then is its own."""
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))

    def timestamp(self) -> str:
        """Now, as an RFC 3339 UTC time to the second."""
        return self.now().astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def current_template_version(templates_dir: Path) -> str:
    """Of the templates and the code that word a notice: an edition records it."""
    # The code words notices too (flows.wording, notice_view): a change to it is a change of wording source.
    return template_version(templates_dir, f"{__version__}+{code_version()[:12]}")


def make_context(env: Environment, text: DatasetText, target: Target, trust: TrustFile, templates_dir: Path, **options: Any) -> RunContext:
    """Build the run context once per run."""
    from importlib.metadata import version

    # The installed version, without importing WeasyPrint (0.7 s, ~40 MB): the PDF workers do that.
    return RunContext(
        env=env,
        text=text,
        target=target,
        trust_name=trust.name,
        trust_website=str(trust.website),
        template_version=current_template_version(templates_dir),
        renderer=f"weasyprint {version('weasyprint')}",
        policy=trust.approval,
        trust_colour=trust.defaults.branding.colour if trust.defaults.branding else "#1d4f91",
        **options,
    )


@dataclass(frozen=True)
class Upload:
    """One object to write."""

    key: str
    body: bytes
    cache_control: str

    @property
    def content_type(self) -> str:
        return layout.content_type(self.key)


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

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `notices publish --json` (and of a saved plan)."""
        data = asdict(dataclasses.replace(self, planned=[], state=None))
        data.pop("planned")
        data.pop("state")
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


INDEX_NOT_UPDATED = "the trust's index page and schools.json were not updated"  # a school's note, when so


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
        return [s for s in self.schools if s.status == "failed"]

    @property
    def index_error(self) -> str | None:
        """Why the trust's index page and ``schools.json`` were not updated (None: they were,
        or had no need to be). The schools' notices are live; the run still fails, so the IT
        team sees it, and the next run updates the index."""
        return next((n for s in self.schools for n in s.notes if n.startswith(INDEX_NOT_UPDATED)), None)

    @property
    def held(self) -> list[SchoolResult]:
        """The schools whose change waits for a named approver."""
        return [s for s in self.schools if s.status == "held"]

    def as_dict(self) -> dict[str, Any]:
        """The JSON document `notices publish --json` prints."""
        return {
            "target": {"bucket": self.target.bucket, "prefix": self.target.prefix, "base_url": self.target.public_base_url},
            "schools": [s.as_dict() for s in self.schools],
            "requests": self.requests,
        }
