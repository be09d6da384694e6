"""Content a DPO expects: Article 9 conditions for special category data, and consent withdrawal
wherever information is asked for voluntarily. Refusals of hostile trust files are in
tests/fixtures/invalid/trust/special-category-*.yaml (run by test_fixtures_invalid.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from flows.notice import wording
from flows.config.categories import SpecialCategory, special_words
from flows.config.models import NoticeSettings
from flows.notice.render import render_notice
from flows.notice.prepare import load_and_compose

from .conftest import REPO, SCHOOLS
from .support.pages import text_of

SPECIAL = re.compile(r"\b(ethnicity|religio|health|medical|biometric|special educational needs)", re.I)


def test_every_sample_category_naming_special_data_carries_its_conditions(sample) -> None:
    for notice in sample.notices:
        special = {c.category for c in notice.special_categories}
        for category in notice.categories:
            assert bool(SPECIAL.search(category)) == (category in special), category
        assert {c.special_data for c in notice.special_categories} >= {"ethnicity", "health"}
        for c in notice.special_categories:
            assert c.article_9.startswith("Article 9(2)(") and c.schedule_1 and "Schedule 1" in c.schedule_1


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("religion and belief", ["religion", "belief"]),
        ("Biometric data (fingerprints)", ["biometric", "fingerprints"]),
        ("attendance (such as sessions attended)", []),
        ("behavioural information", []),
    ],
)
def test_special_words(text: str, named: list[str]) -> None:
    assert special_words(text) == named


def test_a_plain_special_category_is_refused_and_a_condition_needs_schedule_1_where_the_law_says() -> None:
    with pytest.raises(ValidationError, match=r"names special category data \(health\) but gives no Article 9 condition"):
        NoticeSettings.model_validate({"categories": ["child health records"]})
    with pytest.raises(ValidationError, match="needs a DPA 2018 Schedule 1 condition"):
        SpecialCategory.model_validate({"category": "x", "special_data": "health", "article_9": "Article 9(2)(h) UK GDPR"})
    # Explicit consent (9(2)(a)) needs no Schedule 1 condition.
    SpecialCategory.model_validate(
        {"category": "x", "special_data": "biometric", "article_9": "Article 9(2)(a) UK GDPR, explicit consent"}
    )


def _section(html: str, section_id: str) -> str:
    return re.search(rf'<section aria-labelledby="[^"]*{section_id}">(.*?)\n</section>', html, re.S).group(1)  # type: ignore[union-attr]


def test_special_category_table_and_voluntary_items_with_withdrawal_are_rendered(sample, env, dataset_text) -> None:
    notice = next(n for n in sample.notices if n.slug == "brookside-special")
    assert notice.voluntary and not any(p.lawful_basis == "consent" for p in notice.purposes)
    files = render_notice(env, notice, dataset_text, pdf=False).files
    withdrawal = " ".join(wording.CONSENT_WITHDRAWAL.split())
    for name in ("index.html", "fragment.html"):
        html = files[name].decode()
        info = " ".join(text_of(_section(html, "information")).split())
        assert "Special category information" in info
        for c in notice.special_categories:
            assert all(part in info for part in (c.special_data, c.article_9, str(c.schedule_1)))
        statutory = " ".join(text_of(_section(html, "statutory")).split())
        for item in notice.voluntary:
            assert item.replace("'", "’") in statutory
        assert statutory.endswith(withdrawal)  # right after the voluntary items
    md = files["notice.md"].decode()
    statutory_md = md.split("## Do you have to give us this information?", 1)[1].split("\n## ", 1)[0]
    assert withdrawal in " ".join(statutory_md.split())
    assert "| Information | Special category data |" in md


def test_without_voluntary_items_the_section_has_no_withdrawal_statement(sample, env, dataset_text) -> None:
    notice = next(n for n in sample.notices if n.slug == "brookside-special").model_copy(update={"voluntary": ()})
    html = render_notice(env, notice, dataset_text, pdf=False).files["index.html"].decode()
    assert "You do not have to give us" not in html
    assert wording.CONSENT_WITHDRAWAL.split(",")[0] not in text_of(_section(html, "statutory"))


def test_saying_voluntary_without_listing_it_is_refused(tree: Path) -> None:
    trust = tree / "schools" / "_trust.yaml"
    data = yaml.safe_load(trust.read_text(encoding="utf-8"))
    del data["defaults"]["voluntary"]
    trust.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    messages = [str(e) for e in prepared.errors]
    assert len(messages) == 6 and prepared.notices == ()
    assert messages[0].startswith("schools/brookside-special.yaml: voluntary: the statutory requirement statement says")


def test_the_packaged_sample_trust_matches_schools_trust() -> None:
    """flows/data/synthetic-trust.yaml is the sample trust under another name (notices generate-trust)."""
    sample = yaml.safe_load((SCHOOLS / "_trust.yaml").read_text(encoding="utf-8"))
    packaged = yaml.safe_load((REPO / "flows" / "data" / "synthetic-trust.yaml").read_text(encoding="utf-8"))
    assert sample.pop("name") != packaged.pop("name")
    assert packaged == sample
