"""What every school of a run shares: ``RunContext``, built once per run (templates, dataset
text, target, clock, approval), and the ``Upload`` of one object.

What a run reports per school is ``flows.publish.results``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment

from flows import __version__
from flows.editions.records import code_version, template_version
from flows.config.models import DEFAULT_COLOUR, ApprovalPolicy, TrustFile
from flows.publish import layout
from flows.publish.target import Target
from flows.notice.dataset_text import DatasetText


@dataclass(frozen=True)
class Approval:
    """A named person's approval of this run's material changes, with an optional note."""

    approver: str
    note: str | None = None


@dataclass
class RunContext:
    """What every school of a run shares, live in one process: templates, dataset text,
    versions, clock, options. Built on the worker from the task's ``RunSpec``
    (``flows.publish.spec.context_for``), never sent between processes.

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
    trust_colour: str = DEFAULT_COLOUR
    trust_id: str = ""
    log_key: str = ""
    """The public key of the trust's log, shown on the trust index (empty: a dry run)."""
    witnesses: tuple[str, ...] = ()
    """The names of the parties that co-sign the trust's log (trust.yaml ``log.witnesses``)."""
    """The trust's company number: who the entries of its public log are by (``flows.publish.log_entries``)."""
    started_at: str = ""
    """When the run started (RFC 3339, UTC; empty: unknown): an edition stamped since then is its own."""
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))

    def timestamp(self) -> str:
        """Now, as an RFC 3339 UTC time to the second."""
        return self.now().astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def current_template_version(templates_dir: Path) -> str:
    """Of the templates and the code that word a notice: an edition records it."""
    # The code words notices too (flows.notice.wording, notice_view): a change to it is a change of wording source.
    return template_version(templates_dir, f"{__version__}+{code_version()[:12]}")


def make_context(
    env: Environment, text: DatasetText, target: Target, trust: TrustFile, templates_dir: Path, **options: Any
) -> RunContext:
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
        trust_colour=trust.defaults.branding.colour if trust.defaults.branding else DEFAULT_COLOUR,
        trust_id=trust.company_number,
        witnesses=tuple(w.name for w in trust.log.witnesses),
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
