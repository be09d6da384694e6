"""``notice.json``: the structured notice, for school websites and for an edition's content hash (pure)."""

from __future__ import annotations

import json
from typing import Any

from flows.config.models import LAWFUL_BASIS_TEXT, Notice
from flows.notice import wording
from flows.notice.dataset_text import DatasetText, RecipientText
from flows.notice.stamp import EditionStamp

JSON_FORMAT = "trust-notices/notice/1"


def _recipient_text(text: RecipientText) -> dict[str, Any]:
    return {
        "paragraphs": list(text.paragraphs_md),
        "list_items": list(text.list_items_md),
        "paragraphs_after_list": list(text.after_md),
        "opt_out": text.opt_out_md,
    }


def notice_as_data(notice: Notice, text: DatasetText, stamp: EditionStamp | None = None) -> dict[str, Any]:
    """The structured notice that ``notice.json`` holds.

    It carries the DfE section's own words (Markdown) for each recipient that applies, so a
    school website can show them, and so an edition's content hash covers them. ``edition``
    is null in a draft.
    """
    # The key order is the file's: each part is built in turn, in the order parents read them.
    return {
        "format": JSON_FORMAT,
        "edition": stamp.as_data() if stamp else None,
        "school": _school_data(notice),
        "controller": notice.controller.model_dump(mode="json"),
        "dpo": notice.dpo.model_dump(mode="json"),
        "complaints": notice.complaints.model_dump(mode="json"),
        "categories": list(notice.categories),
        "special_categories": [c.model_dump(mode="json") for c in notice.special_categories],
        "voluntary": list(notice.voluntary),
        "purposes": [
            {**p.model_dump(mode="json"), "lawful_basis_text": LAWFUL_BASIS_TEXT[p.lawful_basis]} for p in notice.purposes
        ],
        "local_recipients": [
            {**r.model_dump(mode="json"), "lawful_basis_text": LAWFUL_BASIS_TEXT[r.lawful_basis]} for r in notice.local_recipients
        ],
        "dfe_recipients": _dfe_recipients_data(notice, text),
        "dfe_section": {"title": notice.dataset.title, "introduction": text.introduction_md},
        "retention": notice.retention.model_dump(mode="json"),
        "source": notice.source,
        "statutory_requirement": notice.statutory_requirement,
        "if_not_given": notice.if_not_given,
        "international_transfers": notice.international_transfers,
        "automated_decision_making": notice.automated_decision_making,
        "rights": [{"right": name, "meaning": meaning} for name, meaning in wording.RIGHTS],
        "consent_can_be_withdrawn": notice.uses_consent(),
        "complain_to": {"name": wording.ICO_NAME, "url": wording.ICO_URL, "phone": wording.ICO_PHONE},
        "dataset": _dataset_data(notice),
    }


def _school_data(notice: Notice) -> dict[str, Any]:
    school = notice.school
    return {
        "slug": notice.slug,
        "name": school.name,
        "urn": school.urn,
        "phase": school.phase,
        "statutory_low_age": school.statutory_low_age,
        "statutory_high_age": school.statutory_high_age,
        "address": school.address.model_dump(mode="json"),
        "email": school.email,
        "phone": school.phone,
        "website": school.website,
        "headteacher": school.headteacher,
    }


def _dfe_recipients_data(notice: Notice, text: DatasetText) -> list[dict[str, Any]]:
    # Every recipient of the dataset, with whether it applies: a school website can show why not.
    decisions = {d.recipient_id: d for d in notice.decisions}
    return [
        {
            "id": r.id,
            "name": r.name,
            "abbreviation": r.abbreviation,
            "topic": r.topic,
            "link": r.link,
            "applies": decisions[r.id].applies,
            "reason": decisions[r.id].reason,
            "decided_by": decisions[r.id].decided_by,
            "text": _recipient_text(text.recipients[r.id]) if decisions[r.id].applies else None,
            "notes": [n.text for n in notice.body_notes if n.recipient_id == r.id] if decisions[r.id].applies else [],
            # What the pupils' notice says of it (null: a plain generic line, flows.notice.pupil_view).
            "for_pupils": r.for_pupils if decisions[r.id].applies else None,
        }
        for r in notice.dataset.recipients
    ]


def _dataset_data(notice: Notice) -> dict[str, Any]:
    dataset = notice.dataset
    return {
        "edition": dataset.id,
        "effective_date": dataset.effective_date.isoformat(),
        "title": dataset.title,
        "source": dataset.source.model_dump(mode="json"),
        "licence": dataset.licence.model_dump(mode="json"),
        "attribution": dataset.attribution,
    }


def notice_json(notice: Notice, text: DatasetText, stamp: EditionStamp | None = None) -> str:
    """``notice.json``: stable key order and formatting, so unchanged input gives identical bytes."""
    return json.dumps(notice_as_data(notice, text, stamp), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
