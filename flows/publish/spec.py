"""What a publishing task receives (``RunSpec``): plain, picklable data, so tasks run on any worker.

A task gets a ``RunSpec`` and its schools' ``Notice`` models, never a live client or Jinja
environment; each worker process builds its context and S3 client once per run from the
spec (``context_for``, ``publisher_for``) and reuses them for every batch it is given.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from flows.config.models import DatasetEdition, TrustFile
from flows.publish.base import Publisher
from flows.publish.context import Approval, RunContext, make_context
from flows.publish.s3 import S3Publisher, make_client
from flows.publish.target import Target
from flows.notice.dataset_text import render_dataset_text
from flows.notice.render import build_environment
from flows.config.paths import templates_dir


def started_now() -> str:
    """Now, as a run's ``started_at``: RFC 3339 UTC to the second, as editions are stamped."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class RunSpec:
    """The picklable description of a run that every task receives: plain data, no client or
    templates. A worker builds its ``RunContext`` (``flows.publish.context``) from it with
    ``context_for``, and its S3 publisher with ``publisher_for``."""

    target: Target
    trust: TrustFile
    dataset: DatasetEdition
    templates_dir: str
    """A templates folder, or ``PACKAGE_TEMPLATES`` (""): each worker's own installed package's,
    which on another machine is at another path."""
    credentials: tuple[str, str] | None = None
    """Only for the embedded S3 (generated loopback keys); elsewhere the worker's own chain."""
    dry_run: bool = False
    force: bool = False
    approval: Approval | None = None
    expected: dict[str, str] | None = None
    exclusive: bool = False
    """Set while the run holds the trust lock (``flows.publish.lease``)."""
    move_from: str | None = None
    """The prefix whose schools' histories this run may move here (``--move-from``)."""
    started_at: str = ""
    """When the run started (RFC 3339, UTC): an edition stamped since then is this run's."""
    log_key: str = ""
    """The public key of the trust's log (set by ``run_trust`` from the key it signs with):
    the trust index shows it."""

    def approved(self, approval: Approval, expected: dict[str, str]) -> RunSpec:
        """The same run, publishing under a named approval of exactly these words."""
        return dataclasses.replace(self, approval=approval, expected=dict(expected))

    def key(self) -> str:
        """Identifies the shared parts (templates, target, trust, dataset) for the per-process caches."""
        digest = hashlib.sha256()
        for part in (self.templates_dir, repr(self.target), self.trust.model_dump_json(), self.dataset.model_dump_json()):
            digest.update(part.encode() + b"\0")
        return digest.hexdigest()


PACKAGE_TEMPLATES = ""  # RunSpec.templates_dir: the templates inside the worker's installed package
_lock = threading.Lock()
_contexts: dict[str, RunContext] = {}
_clients: dict[tuple[str | None, str | None, tuple[str, str] | None], object] = {}


def context_for(spec: RunSpec) -> RunContext:
    """The run context for this spec, built once per process (templates, dataset text)."""
    key = spec.key()
    with _lock:
        base = _contexts.get(key)
        if base is None:
            templates = Path(spec.templates_dir) if spec.templates_dir else templates_dir()
            base = make_context(
                build_environment(templates), render_dataset_text(spec.dataset), spec.target, spec.trust, templates
            )
            _contexts[key] = base
    return dataclasses.replace(
        base,
        dry_run=spec.dry_run,
        force=spec.force,
        approval=spec.approval,
        expected=None if spec.expected is None else dict(spec.expected),
        exclusive=spec.exclusive,
        move_from=spec.move_from,
        started_at=spec.started_at,
        log_key=spec.log_key,
    )


def publisher_for(spec: RunSpec) -> Publisher:
    """A publisher with its own request counts, on a client made once per process."""
    target = spec.target
    key = (target.endpoint_url, target.region, spec.credentials)
    with _lock:
        client = _clients.get(key)
        if client is None:
            access, secret = spec.credentials or (None, None)
            client = make_client(
                target.endpoint_url, target.region or ("us-east-1" if spec.credentials else None), access, secret
            )
            _clients[key] = client
    return S3Publisher(client, target.bucket, target.public_base_url, compress=target.compress)
