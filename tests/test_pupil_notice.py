"""The pupils' version of every notice: plain enough, complete, linked, and approved with the rest."""

from __future__ import annotations

from tests.support.web import read_object

import json
import re
from pathlib import Path

import yaml

from flows.notice.pupil_view import pupil_text, view_pupils
from flows.notice.readability import grade
from flows.notice.render import render_notice
from flows.notice.prepare import load_and_compose
from flows.notice.words import words_hash

from .conftest import SAMPLE_SLUGS
from tests.support.publishing import _by_slug, _client, _only, _publish

MAX_GRADE = 6.0
PUPIL_FORMS = ("for-pupils.html", "for-pupils-fragment.html", "for-pupils.md", "for-pupils.pdf")


def test_every_sample_schools_pupil_notice_is_at_most_grade_6(sample) -> None:
    grades = {n.slug: grade(pupil_text(view_pupils(n))) for n in sample.notices}
    assert set(grades) == set(SAMPLE_SLUGS)
    assert all(g <= MAX_GRADE for g in grades.values()), grades


def test_pupil_notice_says_who_what_why_sharing_rights_contacts_and_links_back(sample, env, dataset_text) -> None:
    for notice in sample.notices:
        page = render_notice(env, notice, dataset_text, pdf=False).files["for-pupils.html"].decode()
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).replace("’", "'")
        assert f"We are {notice.school.name}" in text and notice.controller.name in text
        assert "attendance" in text and "(such as" not in text  # short category names
        assert all(p.purpose in text for p in notice.purposes)
        assert all(r.name in text for r in notice.local_recipients if "Department for Education" not in r.name)
        assert all(r.name in text for r in notice.applicable_recipients())
        applying = notice.applicable_recipients()
        # Several sections can share a body's name (the DfE has three): only names no applying section has.
        skipped = [r.name for r in notice.dataset.recipients if r not in applying and r.name not in {a.name for a in applying}]
        assert not any(name in text for name in skipped), notice.slug
        assert "12 or older, you can usually ask for these things yourself" in text
        assert notice.school.email in text and notice.dpo.email in text and "Information Commissioner" in text
        assert 'href="index.html"' in page and 'href="https://ico.org.uk/make-a-complaint/"' in page


def test_the_parents_page_links_to_the_pupils_version_near_the_top(sample, env, dataset_text) -> None:
    page = render_notice(env, sample.notices[0], dataset_text, pdf=False).files["index.html"].decode()
    link = page.index('<a href="for-pupils.html">A version for pupils</a>')
    assert link < page.index('id="in-brief"')


def test_dataset_for_pupils_replaces_the_generic_line(sample, env, dataset_text) -> None:
    def with_ofsted_saying(notice, said):
        dataset = notice.dataset.model_copy(
            update={
                "recipients": tuple(
                    r.model_copy(update={"for_pupils": said}) if r.id == "ofsted" else r for r in notice.dataset.recipients
                )
            }
        )
        return notice.model_copy(update={"dataset": dataset})

    notice = with_ofsted_saying(sample.notices[0], None)
    assert "Ofsted, for school inspection" in pupil_text(view_pupils(notice))
    said = "Ofsted checks how well schools teach."
    changed = with_ofsted_saying(notice, said)
    assert f"Ofsted: {said}" in pupil_text(view_pupils(changed))
    before, after = (render_notice(env, n, dataset_text, pdf=False).files for n in (notice, changed))
    assert words_hash(before) != words_hash(after)  # the pupils' words are part of what is approved
    assert {n for n in before if before[n] != after[n]} == {
        "for-pupils.html",
        "for-pupils-fragment.html",
        "for-pupils.md",
        "notice.json",
    }


def test_pupil_fragment_ids_differ_from_the_parents_and_it_has_no_relative_links(sample, env, dataset_text) -> None:
    files = render_notice(env, sample.notices[0], dataset_text, pdf=False).files
    ids = {f: set(re.findall(r'id="([^"]+)"', files[f].decode())) for f in ("fragment.html", "for-pupils-fragment.html")}
    assert ids["for-pupils-fragment.html"] and not ids["fragment.html"] & ids["for-pupils-fragment.html"]
    hrefs = re.findall(r'href="([^"]+)"', files["for-pupils-fragment.html"].decode())
    assert all(h.startswith(("https://", "mailto:", "#")) for h in hrefs), hrefs


def test_a_change_to_pupil_words_alone_is_held_for_approval_and_published_in_every_form(seaweed, tree: Path, prefix: str) -> None:
    one = lambda: _only(load_and_compose(tree / "schools", tree / "shared_data"), "oakfield-primary")  # noqa: E731
    first = _publish(seaweed, one(), prefix, approval=None)  # onboarding: first editions need no approver
    assert _by_slug(first)["oakfield-primary"].status == "published"
    folder = f"{prefix}/oakfield-primary/privacy-notice"
    latest = json.loads(read_object(_client(seaweed), Bucket=seaweed.bucket, Key=f"{folder}/latest.json"))
    assert latest["for_pupils"]["page"].endswith(f"{folder}/for-pupils.html") and latest["for_pupils"]["pdf"].endswith(
        "for-pupils.pdf"
    )
    path = tree / "shared_data" / "dfe-recipients" / "2026-2.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(r for r in data["recipients"] if r["id"] == "ofsted")["for_pupils"] = "Ofsted visits schools to see how well they teach."
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    held = _by_slug(_publish(seaweed, one(), prefix, approval=None))["oakfield-primary"]
    assert (held.status, held.edition) == ("held", 2)
    assert "DfE section reworded in the pupils' notice: Ofsted" in held.changes and "for-pupils.md" in (held.diff or "")
    approved = _by_slug(_publish(seaweed, one(), prefix))["oakfield-primary"]
    assert (approved.status, approved.edition) == ("published", 2)
    client = _client(seaweed)
    for name in PUPIL_FORMS:
        assert client.head_object(Bucket=seaweed.bucket, Key=f"{folder}/v2/{name}")["CacheControl"].endswith("immutable")
    pdf = read_object(client, Bucket=seaweed.bucket, Key=f"{folder}/v2/for-pupils.pdf")
    assert pdf.startswith(b"%PDF") and pdf == read_object(client, Bucket=seaweed.bucket, Key=f"{folder}/for-pupils.pdf")
    assert b"Ofsted visits schools to see how well they teach." in read_object(
        client, Bucket=seaweed.bucket, Key=f"{folder}/v2/for-pupils.md"
    )
    rerun = _publish(seaweed, one(), prefix)
    assert rerun.requests["put"] == 0
