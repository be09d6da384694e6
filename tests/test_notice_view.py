"""The strings computed once per notice (flows.notice.view) that every form places."""

from __future__ import annotations

from markupsafe import Markup

from flows.config.models import Address, LocalRecipient, Purpose
from flows.notice.view import (
    NO_CONDITION,
    basis_with_law,
    law_or_condition,
    notice_sections,
    one_line_address,
    recipient_label,
    view_notice,
)
from flows.publish.pages import render_changes_page


def test_law_or_condition_joins_what_there_is() -> None:
    assert law_or_condition("Education Act 1996", "Article 9(2)(g) UK GDPR") == "Education Act 1996; Article 9(2)(g) UK GDPR"
    assert law_or_condition("Education Act 1996", None) == "Education Act 1996"
    assert law_or_condition(None, "Article 9(2)(g) UK GDPR") == "Article 9(2)(g) UK GDPR"
    assert law_or_condition(None, None) == NO_CONDITION == "None beyond the lawful basis"


def test_local_recipient_basis_cell() -> None:
    with_law = LocalRecipient(name="LA", purpose="admissions", lawful_basis="legal_obligation", legislation="Education Act 1996")
    without = LocalRecipient(name="Caterer", purpose="lunches", lawful_basis="contract")
    assert (
        basis_with_law(with_law.lawful_basis, with_law.legislation)
        == "Article 6(1)(c) UK GDPR: legal obligation; Education Act 1996"
    )
    assert basis_with_law(without.lawful_basis, without.legislation) == "Article 6(1)(b) UK GDPR: contract"


def test_one_line_address() -> None:
    address = Address(lines=("1 High Street", "Exampleton"), town="Exampletown", postcode="ex1 2ab")
    assert one_line_address(address) == "1 High Street, Exampleton, Exampletown EX1 2AB"
    assert one_line_address(Address(lines=("Unit 4",), town="Town", postcode="EX1 2AB")) == "Unit 4, Town EX1 2AB"


def test_recipient_label_drops_an_abbreviation_equal_to_the_name() -> None:
    assert recipient_label("Ofsted", "Ofsted") == "Ofsted"
    assert recipient_label("Department of Health", "DH") == "Department of Health (DH)"


def test_sections_in_order_with_the_dataset_title(sample) -> None:
    dataset = sample.notices[0].dataset
    sections = notice_sections(dataset.model_copy(update={"title": "What the DfE shares"}))
    assert [sid for sid, _ in sections] == [
        "who-we-are",
        "dpo",
        "information",
        "why",
        "source",
        "statutory",
        "sharing",
        "dfe",
        "transfers",
        "retention",
        "automated",
        "rights",
        "complaints",
        "about",
    ]
    assert dict(sections)["dfe"] == "What the DfE shares"
    assert dict(sections)["who-we-are"] == "Who we are"


def test_view_of_a_sample_notice(sample, dataset_text) -> None:
    notice = next(n for n in sample.notices if n.slug == "brookside-special")
    view = view_notice(notice, dataset_text)
    assert view.title("dfe") == notice.dataset.title
    assert view.controller_address == one_line_address(notice.controller.registered_address)
    assert [r.id for r in view.dfe_recipients] == [r.id for r in notice.applicable_recipients()]
    overridden = {d.recipient_id for d in notice.decisions if d.decided_by == "override" and d.applies}
    assert {r.id for r in view.dfe_recipients if r.override_reason} == overridden
    purposes = notice.purposes + (Purpose(purpose="x", lawful_basis="consent"),)  # public task would need its law
    assert (
        view_notice(notice.model_copy(update={"purposes": purposes}), dataset_text).purposes[-1].law_or_condition == NO_CONDITION
    )


def test_one_changes_page_for_an_edition_and_for_diff(env) -> None:
    page = render_changes_page(
        env,
        trust_name="Trust",
        colour="#1d4f91",
        school_name="A & B School",
        redline=Markup("<p><ins>x</ins></p>"),
        changes=("Purpose added: x",),
        change_class="material",
        from_label="v1",
        to_label="draft",
    ).decode()
    assert "<h1>Privacy notice: changes from v1 to draft</h1>" in page
    assert "<title>Changes from v1 to draft – A &amp; B School</title>" in page
    assert "<li>Purpose added: x</li>" in page and "<p><ins>x</ins></p>" in page and "All editions" not in page
