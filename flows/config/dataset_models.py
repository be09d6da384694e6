"""The shared DfE recipient dataset: one ``DatasetEdition`` per file in ``shared_data/``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from flows.config.fields import PHASES, Age, Line, Phase, Slug, Text, Url, at_most
from flows.config.model_base import MAX_PARAGRAPHS, MAX_RECIPIENTS, Frozen


class Licence(Frozen):
    name: Line
    url: Url


class Applicability(Frozen):
    """Which pupils a recipient concerns, as a half-open age range like GIAS's.

    A school with statutory ages 4-11 has pupils aged 4 to 10 at the start of the school
    year; a recipient with ``min_age: 14, max_age: 25`` concerns pupils aged 14 and over.
    """

    description: Text = Field(description="Who the recipient concerns, in words a parent understands.")
    min_age: Age
    max_age: Age
    phases: Annotated[tuple[Phase, ...] | None, at_most(len(PHASES))] = Field(
        default=None,
        description="GIAS phases this recipient can apply to; empty means every phase.",
    )


class Recipient(Frozen):
    """One organisation the DfE passes pupil data to, with the source's own words."""

    id: Slug
    name: Line
    abbreviation: Line
    topic: Line = Field(description="What the sharing is about, shown under the heading.")
    link: Url | None = Field(default=None, description="Web site; null when unknown.")
    paragraphs: Annotated[tuple[Text, ...], at_most(MAX_PARAGRAPHS), Field(min_length=1)]
    list_items: Annotated[tuple[Text, ...], at_most(MAX_PARAGRAPHS)] = ()
    paragraphs_after_list: Annotated[tuple[Text, ...], at_most(MAX_PARAGRAPHS)] = ()
    opt_out: Text | None = None
    applies_to: Applicability
    body: Slug | None = Field(
        default=None, description="The body this section is about: an id in shared_data/bodies.yaml (status, successor, source)."
    )
    for_pupils: Text | None = Field(
        default=None, description="The same in one or two short sentences addressed to a pupil (the pupils' notice)."
    )


class Source(Frozen):
    """Where an edition's text comes from: what a DPO needs to check it against."""

    title: Text = Field(description="The source document or page, by its own title.")
    url: Url | None = Field(default=None, description="Its public address; null when it has none.")
    retrieved: dt.date | None = Field(default=None, description="When the text was taken from it; null when not recorded.")
    kept_at: Line | None = Field(default=None, description="Where a copy is kept in this repository, if anywhere.")
    note: Text | None = Field(default=None, description="How the edition's text relates to the source.")


class Check(Frozen):
    """A fact the edition's authors could not confirm: what to check, and where."""

    what: Text
    where: Url


class DatasetEdition(Frozen):
    """One edition of the DfE recipient dataset (one file in ``shared_data/``)."""

    id: Line
    effective_date: dt.date
    title: Line
    document_title: Line
    source: Source
    licence: Licence
    attribution: Text
    introduction: Text
    links: Annotated[dict[Slug, Url], at_most(MAX_RECIPIENTS)] = Field(
        default_factory=dict, description="Further links the prose names as [text][link-id]."
    )
    checks: Annotated[tuple[Check, ...], at_most(MAX_PARAGRAPHS)] = ()
    recipients: Annotated[tuple[Recipient, ...], at_most(MAX_RECIPIENTS), Field(min_length=1)]
