"""In brief is complete (every right, the ICO, consent only where it is relied on) and easy to read.

Measured with flows.notice.readability (textstat 0.7.3, British syllables) on what the notice renders.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import textstat

from flows.notice import readability
from flows.cli import main
from flows.notice.readability_report import BRIEF_MAX_GRADE, OWN_TEXT_MAX_GRADE, brief_text, measure, own_texts
from flows.notice.render import render_notice
from tests.support.pages import text_of


def _brief_html(files: dict[str, bytes]) -> str:
    html = files["index.html"].decode()
    return re.search(r'<section class="summary" aria-labelledby="in-brief">(.*?)</section>', html, re.S).group(1)  # type: ignore[union-attr]


def test_in_brief_of_every_sample_school_is_at_most_grade_8(sample, env, dataset_text) -> None:
    assert len(sample.notices) == 6
    for notice in sample.notices:
        rendered = " ".join(text_of(_brief_html(render_notice(env, notice, dataset_text, pdf=False).files)).split())
        assert readability.grade(rendered.removeprefix("In brief ")) <= BRIEF_MAX_GRADE, (notice.slug, rendered)
        assert readability.figures(brief_text(notice)).grade <= BRIEF_MAX_GRADE, notice.slug


def test_in_brief_names_every_right_the_ico_and_links_complaints(sample, env, dataset_text) -> None:
    for notice in sample.notices:
        html = _brief_html(render_notice(env, notice, dataset_text, pdf=False).files)
        text = " ".join(text_of(html).split())
        for words in (
            "see your child’s information",
            "correct it",
            "delete it",
            "use it less",
            "stop using it",
            "a copy to take",
        ):
            assert words in text, (notice.slug, words)
        assert text.count("In some cases") == 2
        assert "Information Commissioner’s Office (ICO)" in text
        assert 'href="#complaints"' in html


def test_in_brief_mentions_consent_only_where_something_rests_on_consent(sample) -> None:
    by_slug = {n.slug: n for n in sample.notices}
    assert "consent" in brief_text(by_slug["oakfield-primary"])  # its school photographer relies on consent
    brookside = by_slug["brookside-special"]
    assert brookside.voluntary and not brookside.uses_consent()  # optional information is not consent
    assert "consent" not in brief_text(brookside)


def test_the_trusts_own_text_is_at_most_grade_9_per_section(sample) -> None:
    for notice in sample.notices:
        assert own_texts(notice)
        for title, figures in measure(notice).sections.items():
            assert figures.grade <= OWN_TEXT_MAX_GRADE, (notice.slug, title, figures)


@pytest.mark.parametrize(
    ("british", "american"), [("colour", "color"), ("organisation", "organization"), ("behaviour", "behavior")]
)
def test_british_spellings_are_counted_like_american_ones(british: str, american: str) -> None:
    # The British word in our (British) measure scores about as the American word does in an American one.
    sentence = "We talk to your family about the {} of the pupils in each class."
    ours = readability.grade(sentence.format(british))
    textstat.set_lang("en_US")
    try:
        theirs = readability.grade(sentence.format(american))
    finally:
        textstat.set_lang(readability.LANGUAGE)
    assert abs(ours - theirs) <= 1.0


def test_an_email_address_is_one_word_and_does_not_split_sentences() -> None:
    assert readability.sentences("Write to dpo@trust.example.org today. Or call us.") == ["Write to email today.", "Or call us."]


def test_validate_readability_reports_sections_and_hardest_sentences(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parent.parent
    code = main(["validate", "--readability", "--schools", str(root / "schools"), "--shared-data", str(root / "shared_data")])
    out = capsys.readouterr().out
    assert code == 0
    assert "oakfield-primary\n  In brief: grade " in out
    assert "  How long we keep it: grade " in out
    assert out.count("hardest sentences in your text:") == 6
    assert re.search(r"\n    grade \d+\.\d: \S", out)


def test_validate_help_shows_the_readability_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    assert "notices validate --readability" in capsys.readouterr().out
