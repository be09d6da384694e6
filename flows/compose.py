"""School + trust + dataset → the ``Notice`` a template renders (pure).

This is where a school's values replace the trust's defaults and where the ICO
Article 13 checklist is enforced: a notice missing an item is never rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.errors import ConfigError
from flows.models import Branding, Controller, DatasetEdition, Notice, NoticeSettings, School, TrustFile
from flows.select import decide_recipients

DEFAULT_BRANDING = Branding(colour="#1d4f91")

# Settings the ICO checklist needs, with the words a DPO sees when one is missing.
CHECKLIST: dict[str, str] = {
    "purposes": "purposes of the processing and the lawful basis for each",
    "categories": "categories of pupil information",
    "retention": "retention period, or the criteria used to set it",
    "source": "the source of the information",
    "statutory_requirement": "whether providing the information is a statutory requirement",
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
    missing = [
        ConfigError(
            school.path,
            None,
            name,
            f"ICO checklist item missing: {words}; set '{name}' in this file or under 'defaults' in {trust_path}",
        )
        for name, words in CHECKLIST.items()
        if not getattr(settings, name)
    ]
    if missing:
        raise NoticeIncomplete(missing)
    # The checklist above guarantees these are set; the asserts tell the type checker so.
    assert settings.purposes and settings.categories and settings.retention and settings.source
    assert settings.statutory_requirement and settings.international_transfers and settings.automated_decision_making
    return Notice(
        slug=school.slug,
        school=school.config,
        controller=Controller(
            name=trust.name,
            company_number=trust.company_number,
            registered_address=trust.registered_address,
            ico_registration=trust.ico_registration,
            website=trust.website,
        ),
        dpo=trust.dpo,
        complaints=trust.complaints,
        purposes=settings.purposes,
        categories=settings.categories,
        retention=settings.retention,
        source=settings.source,
        statutory_requirement=settings.statutory_requirement,
        international_transfers=settings.international_transfers,
        automated_decision_making=settings.automated_decision_making,
        local_recipients=settings.local_recipients or (),
        branding=settings.branding or DEFAULT_BRANDING,
        dataset=dataset,
        decisions=decide_recipients(school.config, dataset),
    )


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
