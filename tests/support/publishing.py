"""Publishing against the test S3 server as a run does, and reading back what was published.

``_publish`` drives the production path: ``flows.publish.trust_run.run_trust``, the function
the flow calls (the trust lock, the URN registry, the publish state, the batches, the trust's
index, the state saved), in this process and with a ``RunSpec`` built as the flow builds it.
"""

from __future__ import annotations

from .web import read_object

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flows.config.models import Notice
from flows.editions.records import Manifest
from flows.notice.prepare import Prepared
from flows.publish import layout
from flows.publish.batches import Batch
from flows.publish.context import Approval, RunContext
from flows.publish.results import RunResult
from flows.publish.s3 import S3Publisher, make_client
from flows.publish.base import Publisher
from flows.publish.spec import RunSpec, context_for, publisher_for, started_now
from flows.publish.target import Target
from flows.publish.trust_run import InProcess, run_batch, run_trust

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
DPO = Approval("Test Example (DPO)")  # every run approves its material changes unless told otherwise


def _client(seaweed: Any) -> Any:
    return make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)


def _publisher(seaweed: Any) -> S3Publisher:
    return S3Publisher(_client(seaweed), seaweed.bucket, f"{seaweed.endpoint_url}/{seaweed.bucket}/")


def _spec(
    seaweed: Any,
    prepared: Prepared,
    prefix: str,
    base_url: str,
    *,
    templates: Path = TEMPLATES,
    approval: Approval | None = DPO,
    dry_run: bool = False,
    force: bool = False,
) -> RunSpec:
    """The spec as ``flows.runs.run_spec.spec_for`` builds it, for the embedded test S3."""
    inputs = prepared.inputs
    target = Target(seaweed.bucket, prefix, base_url, seaweed.endpoint_url, None, True, inputs.trust.publishing.compress)
    return RunSpec(
        target,
        inputs.trust,
        inputs.dataset,
        str(templates),
        (seaweed.access_key, seaweed.secret_key),
        dry_run=dry_run,
        force=force,
        approval=approval,
        started_at=started_now(),
    )


def _steps(publisher: S3Publisher | None, now: Callable[[], dt.datetime] | None) -> InProcess:
    """In-process batches without retry delays (as the old helper); with ``publisher``, each
    step on a new publisher of its class (its own request counts), on its client."""

    def like(spec: RunSpec) -> Publisher:
        assert publisher is not None
        return type(publisher)(publisher.client, spec.target.bucket, spec.target.public_base_url, compress=spec.target.compress)

    def contexts(spec: RunSpec) -> RunContext:
        ctx = context_for(spec)
        return ctx if now is None else dataclasses.replace(ctx, now=now)

    return InProcess(publisher_for if publisher is None else like, contexts, delays=())


def _publish(
    seaweed: Any,
    prepared: Prepared,
    prefix: str,
    *,
    publisher: S3Publisher | None = None,
    now: Callable[[], dt.datetime] | None = None,
    **options: Any,
) -> RunResult:
    """One run over ``prepared``'s schools, as the flow publishes them (``run_trust``).

    ``publisher``: its class and base URL are used for every request of the run (a crashing
    or a moved publisher); ``now``: the run's clock; ``options``: ``_spec``'s.
    """
    base_url = publisher.public_base_url if publisher is not None else f"{seaweed.endpoint_url}/{seaweed.bucket}/"
    spec = _spec(seaweed, prepared, prefix, base_url, **options)
    steps = _steps(publisher, now)
    run = run_trust(
        spec,
        prepared.notices,
        uuid.uuid4().hex,
        run_batches=steps.run_batches,
        publish_index=steps.publish_index,
        publishers=steps.publishers,
    )
    return dataclasses.replace(run, schools=sorted(run.schools, key=lambda r: r.slug))


def _publish_unlocked(seaweed: Any, notices: tuple[Notice, ...], prepared: Prepared, prefix: str, pub: S3Publisher) -> RunResult:
    """One batch published without the trust lock or the publish state: what two runs do if
    one lost its lease to a long pause (only the manifest's conditional writes stand between them)."""
    spec = _spec(seaweed, prepared, prefix, pub.public_base_url)
    results, counts = run_batch(pub, context_for(spec), Batch(list(notices), {}, {}), delays=())
    return RunResult(spec.target, results, counts)


def _by_slug(result: RunResult) -> dict[str, Any]:
    return {r.slug: r for r in result.schools}


def _manifest(seaweed: Any, prefix: str, slug: str) -> Manifest:
    body = read_object(_client(seaweed), Bucket=seaweed.bucket, Key=layout.record_key(prefix, slug, "manifest.json"))
    return Manifest.model_validate_json(body)


def _objects(seaweed: Any, prefix: str) -> dict[str, bytes]:
    client = _client(seaweed)
    keys = [
        o["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=seaweed.bucket, Prefix=prefix + "/")
        for o in page.get("Contents", [])
    ]
    return {k: read_object(client, Bucket=seaweed.bucket, Key=k) for k in keys}


def _only(prepared: Prepared, *slugs: str) -> Prepared:
    return type(prepared)(
        prepared.inputs, tuple(n for n in prepared.notices if n.slug in slugs), prepared.errors, prepared.broken
    )


class _CrashBeforeManifest(S3Publisher):
    """A real S3 publisher whose process 'dies' just before writing the manifest."""

    def put(self, key: str, body: bytes, **kwargs: Any) -> str:
        if key.endswith("manifest.json"):
            raise KeyboardInterrupt("simulated crash")
        return super().put(key, body, **kwargs)
