"""School + trust + dataset → the ``Notice`` a template renders (pure).

This is where a school's values replace the trust's defaults and where the ICO
Article 13 checklist is enforced: a notice missing an item is never rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.config.categories import SpecialCategory, category_text
from flows.config.errors import ConfigError
from flows.config.models import DEFAULT_COLOUR, Branding, Controller, DatasetEdition, Notice, NoticeSettings, School, TrustFile
from flows.notice.recipients import decide_recipients

DEFAULT_BRANDING = Branding(colour=DEFAULT_COLOUR)

# Settings the ICO checklist needs, with the words a DPO sees when one is missing.
CHECKLIST: dict[str, str] = {
    "purposes": "purposes of the processing and the lawful basis for each",
    "categories": "categories of pupil information",
    "retention": "retention period, or the criteria used to set it",
    "source": "the source of the information",
    "statutory_requirement": "whether providing the information is a statutory requirement",
    "if_not_given": "what happens if the information is not given (what the law requires, and what is optional)",
    "international_transfers": "international transfers (say so if there are none)",
    "automated_decision_making": "automated decision-making (say so if there is none)",
}


class NoticeIncomplete(Exception):
    """The merged configuration leaves ICO checklist items out."""

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__("\n".join(map(str, errors)))
        self.errors = errors


@dataclass(frozen=True)
class Composed:
    """The notices that could be built, and the errors of those that could not."""

    notices: tuple[Notice, ...]
    errors: tuple[ConfigError, ...]
    broken: tuple[str, ...]


def merged_settings(trust: TrustFile, school: School) -> NoticeSettings:
    """Each setting from the school file when it sets it, else the trust default."""
    return NoticeSettings.model_construct(
        **{
            name: getattr(school.config, name) if getattr(school.config, name) is not None else getattr(trust.defaults, name)
            for name in NoticeSettings.model_fields
        }
    )


def build_notice(school: School, trust: TrustFile, trust_path: str, dataset: DatasetEdition) -> Notice:
    """Compose one school's notice, or raise ``NoticeIncomplete`` naming each missing item."""
    settings = merged_settings(trust, school)
    missing = _checklist_missing(school, settings, trust_path) + _voluntary_unlisted(school, settings)
    if missing:
        raise NoticeIncomplete(missing)
    # The checklist above guarantees these are set; the asserts tell the type checker so.
    assert settings.purposes and settings.categories and settings.retention and settings.source
    assert settings.statutory_requirement and settings.if_not_given
    assert settings.international_transfers and settings.automated_decision_making
    return Notice(
        slug=school.slug,
        school=school.config,
        controller=controller_of(trust),
        dpo=trust.dpo,
        complaints=trust.complaints,
        purposes=settings.purposes,
        categories=tuple(category_text(c) for c in settings.categories),
        special_categories=tuple(c for c in settings.categories if isinstance(c, SpecialCategory)),
        voluntary=settings.voluntary or (),
        retention=settings.retention,
        source=settings.source,
        statutory_requirement=settings.statutory_requirement,
        if_not_given=settings.if_not_given,
        international_transfers=settings.international_transfers,
        automated_decision_making=settings.automated_decision_making,
        local_recipients=settings.local_recipients or (),
        branding=settings.branding or DEFAULT_BRANDING,
        dataset=dataset,
        decisions=decide_recipients(school.config, dataset),
    )


def controller_of(trust: TrustFile) -> Controller:
    """The data controller a notice names: the trust."""
    return Controller(
        name=trust.name,
        company_number=trust.company_number,
        registered_address=trust.registered_address,
        ico_registration=trust.ico_registration,
        website=trust.website,
    )


def _checklist_missing(school: School, settings: NoticeSettings, trust_path: str) -> list[ConfigError]:
    """An error for each ICO checklist item that neither the school nor the trust sets."""
    return [
        ConfigError(
            school.path,
            None,
            name,
            f"ICO checklist item missing: {words}; set '{name}' in this file or under 'defaults' in {trust_path}",
        )
        for name, words in CHECKLIST.items()
        if not getattr(settings, name)
    ]


# Words by which a statement says some information is optional.
_VOLUNTARY_WORDS = ("voluntar", "optional", "you have a choice", "do not have to")


def _voluntary_unlisted(school: School, settings: NoticeSettings) -> list[ConfigError]:
    """An error when the notice says information is requested voluntarily but does not say which.

    Listing it (``voluntary``) is what puts the consent withdrawal statement beside it.
    """
    statement = (settings.statutory_requirement or "").lower()
    if settings.voluntary or not any(word in statement for word in _VOLUNTARY_WORDS):
        return []
    return [
        ConfigError(
            school.path,
            None,
            "voluntary",
            "the statutory requirement statement says some information is requested voluntarily; list what "
            "parents may choose not to give under 'voluntary' (in this file or under 'defaults' in the trust file), "
            "so the notice names it and says consent can be withdrawn",
        )
    ]


def compose_notices(schools: tuple[School, ...], trust: TrustFile, trust_path: str, dataset: DatasetEdition) -> Composed:
    """Build every school's notice; a school with missing items is reported, not fatal."""
    notices, errors, broken = [], [], []
    for school in schools:
        try:
            notices.append(build_notice(school, trust, trust_path, dataset))
        except NoticeIncomplete as incomplete:
            errors.extend(incomplete.errors)
            broken.append(school.slug)
    return Composed(tuple(notices), tuple(errors), tuple(broken))
