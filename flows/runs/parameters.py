"""What a run of the flow is asked to do: the parameters the Prefect UI shows as a form, and
the form a DPO fills in to resume a run that waits for approval."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator
from prefect.input import RunInput

from flows.editions.approval import check_approver
from flows.runs.runners import check_task_runner


class ApprovalOptions(BaseModel):
    """How this run's changes that need approval are approved."""

    model_config = ConfigDict(extra="forbid")

    approved_by: str | None = Field(
        default=None,
        title="Approved by (inline)",
        description="For urgent fixes: the full name of the person approving this run's material changes now. "
        "Recorded in each new edition; the run then does not wait.",
    )
    approval_note: str | None = Field(default=None, title="Approval note", description="Why, recorded with the approval.")
    wait: bool = Field(
        default=True,
        title="Wait for approval",
        description="When a change needs approval and nobody is named above, wait for a person's answer (the run is "
        "suspended, holding nothing). Off: those schools are held, reported and not published.",
    )
    content_hashes: dict[str, str] | None = Field(
        default=None,
        title="Approved words (content hashes)",
        description="School slug → content hash of the words the approver saw (`notices publish` fills this in). "
        "A school not listed, or whose words no longer hash so, stays held. Not set: the words this run renders "
        "(an inline approval); {} (none): no words, only a named move (Move from prefix).",
    )
    timeout_minutes: int | None = Field(
        default=None, ge=1, le=10080, title="Approval timeout (minutes)", description="Empty: the trust file's setting."
    )

    @field_validator("approved_by")
    @classmethod
    def _a_person(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else check_approver(value)


class TargetOverrides(BaseModel):
    """Where to publish instead of the trust file's ``publishing`` section (``notices publish`` flags).

    Checked with the trust file's rules when the run connects, each error naming its flag
    (``--prefix: …``); empty fields leave the trust file's (or $NOTICES_*) value.
    """

    model_config = ConfigDict(extra="forbid")

    endpoint_url: str | None = Field(
        default=None, title="S3 endpoint", description="Overrides the trust file's endpoint_url (--endpoint-url)."
    )
    bucket: str | None = Field(default=None, title="Bucket", description="Overrides the trust file's bucket (--bucket).")
    region: str | None = Field(default=None, title="Region", description="Overrides the trust file's region (--region).")
    prefix: str | None = Field(default=None, title="Key prefix", description="Overrides the trust file's prefix (--prefix).")
    public_base_url: str | None = Field(
        default=None,
        title="Public base URL",
        description="Overrides the trust file's public_base_url (--public-base-url).",
    )

    def as_flags(self) -> dict[str, str | None]:
        """The overrides as ``flows.publish.connect.connect`` takes flags: by setting name."""
        return self.model_dump()


class PublishParameters(BaseModel):
    """What to publish. Every field has a description: the Prefect UI shows them as a form."""

    model_config = ConfigDict(extra="forbid")

    schools: list[str] = Field(
        default_factory=list,
        title="Schools",
        description="School slugs (e.g. oakfield-primary) or 6-digit URNs to publish. Empty: every school.",
    )
    dry_run: bool = Field(default=False, title="Dry run", description="Render and compare only; upload nothing.")
    move_from: str | None = Field(
        default=None,
        title="Move from prefix",
        description="Move the schools' histories here from this key prefix of the bucket (with a named approver). "
        "Empty: a school whose history lives under another prefix is refused.",
    )
    force: bool = Field(default=False, title="Force", description="Re-upload the latest files even where they match.")
    dataset_edition: str | None = Field(
        default=None, title="DfE dataset edition", description="Use this dataset edition instead of the latest (e.g. 2026-1)."
    )
    approval: ApprovalOptions = Field(
        default_factory=ApprovalOptions,
        title="Approval",
        description="Who approves material changes, or whether the run waits for a person's answer.",
    )
    target: TargetOverrides = Field(
        default_factory=TargetOverrides,
        title="Publishing target",
        description="Where to publish instead of the trust file's publishing section. Empty: the trust file's.",
    )
    schools_dir: str | None = Field(
        default=None,
        title="Schools folder",
        description="Folder with _trust.yaml and the school files, on the worker. Empty: schools/ in the worker's "
        "working folder, else $NOTICES_SCHOOLS.",
    )
    task_runner: str | None = Field(
        default=None,
        title="Task runner",
        description="Where publishing tasks run. Empty: threads in the run's process. Or dask (a local Dask cluster, "
        "one worker process per core), or the address of an existing Dask scheduler (tcp://host:8786).",
    )
    shared_data_dir: str | None = Field(
        default=None,
        title="Shared data folder",
        description="Folder with the DfE dataset, on the worker. Empty: shared_data/ in the worker's working folder, "
        "else $NOTICES_SHARED_DATA.",
    )

    @field_validator("task_runner")
    @classmethod
    def _a_runner(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else check_task_runner(value.strip())


APPROVER_HELP = "Your full name (a person's full name, not a system account), recorded with each new edition."


class ApprovalInput(RunInput):
    """The form a DPO fills in to resume a run that waits for approval.

    No validator checks the name here: a refused name is answered by the flow (which asks
    again), never by an error inside Prefect's resume.
    """

    approved: bool = Field(description="Publish the changes shown in the approval request?")
    approver: str = Field(description=APPROVER_HELP)
    note: str = Field(default="", description="Optional note, recorded with the approval.")


def approver_help(policy: Any) -> str:
    """The approver field's help: who may approve, when the trust lists its approvers."""
    listed = tuple(getattr(policy, "approvers", ()) or ())
    if not listed:
        return APPROVER_HELP
    names = "; ".join(f"{a.name} ({a.role})" if getattr(a, "role", None) else str(a.name) for a in listed)
    return f"Your full name, exactly as the trust lists it (one of: {names}); recorded with each new edition."


def approval_form(policy: Any) -> type[ApprovalInput]:
    """The Resume form for this trust: ``ApprovalInput``, its approver field saying who may approve.

    Same name and fields on every run of the same trust file, so a run restarted after a
    suspension reads its answer with the form it asked with.
    """
    help_text = approver_help(policy)
    if help_text == APPROVER_HELP:
        return ApprovalInput
    form: type[ApprovalInput] = create_model(
        "ApprovalInput", __base__=ApprovalInput, __doc__=ApprovalInput.__doc__, approver=(str, Field(description=help_text))
    )
    return form
