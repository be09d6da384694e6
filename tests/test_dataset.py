"""The shared DfE dataset: every statement of the source survives, editions, safe Markdown."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from flows.config.loading import load_dataset
from flows.config.models import DatasetEdition
from flows.notice.dataset_text import render_dataset_text
from flows.notice.prepare import load_and_compose

from .conftest import REPO

# The source document, kept beside the dataset it was turned into.
SOURCE = REPO / "shared_data" / "sources" / "dfe-pupil-data-recipients.txt"


def _normalise(text: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\((?:[^)\\]|\\.)*\)", r"\1", text)  # [x](#) → x
    text = re.sub(r"\[([^\]]+)\]\[[^\]]*\]", r"\1", text)  # [x][ref] → x
    text = text.replace("\\(", "(").replace("\\)", ")").replace("**", "")
    text = re.sub(r"^\s*- ", "", text, flags=re.M)
    return " ".join(text.split()).casefold()


def _sentences(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    out: list[str] = []
    for line in lines:
        out.extend(s for s in re.split(r"(?<=[.:])\s+(?=[A-Z\[])", line) if s)
    return out


def _seed() -> DatasetEdition:
    """Edition 2026-1: the source text kept exactly, for history (the sample trust uses 2026-2)."""
    errors: list = []
    _, seed = load_dataset(REPO / "shared_data", "2026-1", errors)
    assert seed is not None and errors == []
    return seed


def _dataset_text(edition: DatasetEdition) -> str:
    parts = [edition.document_title, edition.title, edition.introduction]
    for r in edition.recipients:
        parts += [*r.paragraphs, *r.list_items, *r.paragraphs_after_list, r.opt_out or ""]
    return _normalise("\n".join(parts))


def test_every_sentence_of_the_source_survives() -> None:
    source = SOURCE.read_text(encoding="utf-8")
    haystack = _dataset_text(_seed())
    sentences = _sentences(source)
    assert len(sentences) >= 25  # the source has 26 statements; splitting must not collapse them
    missing = [s for s in sentences if _normalise(s) not in haystack]
    assert missing == []


def test_a_reworded_sentence_is_caught() -> None:
    # The check above must be able to fail: drop one word from the dataset and look again.
    haystack = _dataset_text(_seed()).replace("anonymised ", "")
    sentence = "The Department of Health (DH) uses anonymised information about pupils' height"
    assert _normalise(sentence) not in haystack


def test_five_recipients_with_the_lrs_list_and_opt_out() -> None:
    edition = _seed()
    assert [r.id for r in edition.recipients] == [
        "department-of-health",
        "ofsted",
        "chief-executive-of-skills-funding",
        "learning-records-service",
        "qcda",
    ]
    lrs = edition.recipients[3]
    assert len(lrs.list_items) == 4
    assert lrs.opt_out and "opt-out" in lrs.opt_out
    assert all(r.link is None for r in edition.recipients)  # the source's links are placeholders
    assert "Open Government Licence v3.0" in edition.attribution
    assert "Crown copyright" in edition.attribution


def test_unknown_links_render_as_text_never_hash() -> None:
    text = render_dataset_text(_seed())
    html = "".join(str(p) for r in text.recipients.values() for p in (*r.paragraphs_html, *r.after_html))
    assert 'href="#"' not in html and "<a " not in html
    assert "Department of Health (DH)" in html
    assert "<strong>opt-out</strong>" in str(text.recipients["learning-records-service"].opt_out_html)


def test_markdown_cannot_inject_html_or_script_links() -> None:
    edition = _seed()
    hostile = edition.model_copy(
        update={
            "introduction": "Hi <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> [ok](https://example.org/)",
        }
    )
    html = str(render_dataset_text(hostile).introduction_html)
    assert "<script" not in html and "<img" not in html and "javascript:" not in html
    assert '<a href="https://example.org/">ok</a>' in html


def _write_edition(shared: Path, edition_id: str, effective: str, change: str = "") -> None:
    folder = shared / "dfe-recipients"
    text = (folder / "2026-1.yaml").read_text(encoding="utf-8")
    text = text.replace('id: "2026-1"', f'id: "{edition_id}"').replace(
        "effective_date: 2026-09-01", f"effective_date: {effective}"
    )
    if change:
        text = text.replace("Inspection reports do not identify individual pupils.", change)
    (folder / f"{edition_id}.yaml").write_text(text, encoding="utf-8")


def test_latest_edition_is_used_unless_told(tree: Path) -> None:
    _write_edition(tree / "shared_data", "2027-1", "2027-07-01", "Inspection reports never identify pupils.")
    errors: list = []
    editions, latest = load_dataset(tree / "shared_data", None, errors)
    assert errors == []
    assert [e.id for e in editions] == ["2026-1", "2026-2", "2027-1"]
    assert latest is not None and latest.id == "2027-1"
    _, chosen = load_dataset(tree / "shared_data", "2026-1", errors)
    assert chosen is not None and chosen.id == "2026-1"
    _, none = load_dataset(tree / "shared_data", "1999-9", errors)
    assert none is None
    assert [str(e) for e in errors] == [
        "shared_data/dfe-recipients: dataset_edition: no edition '1999-9'; available: 2026-1, 2026-2, 2027-1"
    ]


def test_broken_dataset_edition_blocks_every_school_and_says_why(tree: Path) -> None:
    path = tree / "shared_data" / "dfe-recipients" / "2026-1.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("[Ofsted][ofsted]", "[Ofsted][ofsted-typo]").replace("      min_age: 5\n", "      min_age: 15\n")
    path.write_text(text, encoding="utf-8")
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    messages = [str(e) for e in prepared.errors]
    assert any(
        re.fullmatch(
            r"shared_data/dfe-recipients/2026-1\.yaml:\d+: recipients\[1\]: link reference \[ofsted-typo\] names no recipient or link; expected one of: .*",
            m,
        )
        for m in messages
    ), messages
    assert any(
        re.fullmatch(
            r"shared_data/dfe-recipients/2026-1\.yaml:\d+: recipients\[4\]\.applies_to\.max_age: must be greater than min_age \(15\)",
            m,
        )
        for m in messages
    ), messages
    assert prepared.notices == ()
    assert len(prepared.broken) == 6


def test_inline_links_in_dataset_prose_are_refused(tree: Path) -> None:
    path = tree / "shared_data" / "dfe-recipients" / "2026-1.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("[Ofsted][ofsted]", "[Ofsted](#)"), encoding="utf-8")
    errors: list = []
    load_dataset(tree / "shared_data", None, errors)
    assert any("write links as [text][recipient-id]" in str(e) for e in errors)
    shutil.rmtree(tree / "shared_data" / "dfe-recipients")
    errors = []
    load_dataset(tree / "shared_data", None, errors)
    assert [str(e) for e in errors] == [
        "shared_data/dfe-recipients: no dataset edition found: expected one or more <edition>.yaml files here"
    ]
