"""The trust file: the data controller, its defaults for schools, where it publishes and who approves."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from flows.config.approval_models import ApprovalPolicy
from flows.config.content_models import Address, Complaints, Dpo, NoticeSettings
from flows.config.fields import CompanyNumber, IcoNumber, Line, Slug, Text, Url, at_most
from flows.config.model_base import MAX_RECIPIENTS, Frozen
from flows.config.publishing_rules import Bucket, EndpointUrl, Prefix, Region


class PublishingTarget(Frozen):
    """Where notices are published (used from the publishing stage on)."""

    endpoint_url: EndpointUrl | None = Field(default=None, description="S3 endpoint; empty means the embedded S3.")
    bucket: Bucket | None = None
    region: Region | None = None
    prefix: Prefix | None = None
    public_base_url: Url | None = None
    compress: bool = Field(
        default=True,
        description="Store pages, Markdown, JSON, the feed and the stylesheet gzip-compressed, served with"
        " Content-Encoding: gzip; false for a CDN that compresses them itself.",
    )


class LogWitness(Frozen):
    """Another party that checks the trust's public log and co-signs its checkpoints (``notices witness``)."""

    name: Line = Field(description="Who the witness is, as readers are told (e.g. the local authority).")
    key: Line = Field(description="The witness's public key, as `notices witness` prints it (NAME+HASH+KEY).")
    url: Url = Field(description="Where the witness publishes its co-signed checkpoint of this trust's log.")


class TransparencyLog(Frozen):
    """The trust's public log of every edition (``notices verify``)."""

    witnesses: Annotated[tuple[LogWitness, ...], at_most(20)] = Field(
        default=(), description="Parties that co-sign the log's checkpoints; none: the log is signed by the trust alone."
    )


class Acknowledgement(Frozen):
    """The trust keeps a section naming a body that is no longer current, and says why."""

    body: Slug = Field(description="The body's id in shared_data/bodies.yaml.")
    reason: Text = Field(description="Why the notice still names it; the notice shows this to parents.")


class TrustFile(Frozen):
    """The trust: the data controller for its academies, plus defaults for schools."""

    name: Line
    company_number: CompanyNumber
    registered_address: Address
    ico_registration: IcoNumber
    website: Url
    dpo: Dpo
    complaints: Complaints
    defaults: NoticeSettings = NoticeSettings()
    publishing: PublishingTarget = PublishingTarget()
    approval: ApprovalPolicy = ApprovalPolicy()
    log: TransparencyLog = TransparencyLog()
    dataset_edition: Line | None = Field(
        default=None, description="The DfE dataset edition every school uses (its id); the latest when not set."
    )
    dataset_acknowledgements: Annotated[tuple[Acknowledgement, ...], at_most(MAX_RECIPIENTS)] = Field(
        default=(), description="Bodies no longer current that the trust knowingly keeps in its notices, each with its reason."
    )
