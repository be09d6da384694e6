"""The nouns of the pipeline, as frozen pydantic models: the public face of their modules.

Three groups:

* what people write: the DfE dataset edition (``DatasetEdition``, in ``dataset_models``), the
  trust file (``TrustFile``, in ``trust_models``, with the content defaults of
  ``content_models`` and the ``approval_models``) and one file per school (``SchoolFile``,
  in ``school_models``);
* what the pipeline derives: a ``School`` (a school file with its slug), the
  applicability ``Decision`` for each recipient, and the ``Notice`` that templates render
  (``notice_models``);
* what leaves the pipeline: ``RenderedNotice`` (the bytes of each output file).

Input models forbid unknown fields (``model_base.Frozen``), so a typo such as ``postocde``
is an error, not a silently ignored line. Import the names from here: the modules behind
are how the nouns are filed, not a contract.
"""

from __future__ import annotations

from flows.config.approval_models import ApprovalPolicy, Approver
from flows.config.content_models import (
    DEFAULT_COLOUR,
    LAWFUL_BASIS_TEXT,
    Address,
    Branding,
    Complaints,
    Dpo,
    LawfulBasis,
    LocalRecipient,
    NoticeSettings,
    Purpose,
    Retention,
)
from flows.config.dataset_models import Applicability, Check, DatasetEdition, Licence, Recipient, Source
from flows.config.model_base import (
    MAX_ADDRESS_LINES,
    MAX_APPROVERS,
    MAX_CATEGORIES,
    MAX_LOCAL_RECIPIENTS,
    MAX_OVERRIDES,
    MAX_PARAGRAPHS,
    MAX_PURPOSES,
    MAX_RECIPIENTS,
    MAX_VOLUNTARY,
    Frozen,
)
from flows.config.notice_models import BodyNote, Controller, Decision, Notice, RenderedNotice
from flows.config.school_models import Override, School, SchoolFile
from flows.config.trust_models import Acknowledgement, PublishingTarget, TrustFile

__all__ = [
    "DEFAULT_COLOUR",
    "LAWFUL_BASIS_TEXT",
    "MAX_ADDRESS_LINES",
    "MAX_APPROVERS",
    "MAX_CATEGORIES",
    "MAX_LOCAL_RECIPIENTS",
    "MAX_OVERRIDES",
    "MAX_PARAGRAPHS",
    "MAX_PURPOSES",
    "MAX_RECIPIENTS",
    "MAX_VOLUNTARY",
    "Acknowledgement",
    "Address",
    "Applicability",
    "ApprovalPolicy",
    "Approver",
    "BodyNote",
    "Branding",
    "Check",
    "Complaints",
    "Controller",
    "DatasetEdition",
    "Decision",
    "Dpo",
    "Frozen",
    "LawfulBasis",
    "Licence",
    "LocalRecipient",
    "Notice",
    "NoticeSettings",
    "Override",
    "PublishingTarget",
    "Purpose",
    "Recipient",
    "RenderedNotice",
    "Retention",
    "School",
    "SchoolFile",
    "Source",
    "TrustFile",
]
