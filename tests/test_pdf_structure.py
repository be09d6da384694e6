"""The PDF's structure and print layout, read back with pikepdf (structure) and pypdfium2 (text).

PDF/UA basics (tagged, language, title shown, fonts embedded), one /Table per HTML table even
when a page break splits it, absolute links in a published PDF, a running footer on every
page, and label/value pairs that stay side by side when a label wraps.
"""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import pikepdf
import pytest

from flows.pdf.weasy import html_to_pdf
from flows.publish.layout import edition_url
from flows.notice.render import EditionStamp, render_notice

from .support.pdf import _column_lines, _facts_page, _page_texts, _pair_rows

BASE = "https://notices.example.org/"


def _notice_html(env, notice, text, stamp: EditionStamp | None = None) -> str:
    return render_notice(env, notice, text, pdf=False, stamp=stamp).files["index.html"].decode("utf-8")


@pytest.fixture(scope="module")
def published(sample, env, dataset_text) -> tuple[str, bytes]:
    """A school's edition 3, as publishing makes its PDF: links resolved against v3/."""
    notice = sample.notices[0]
    html = _notice_html(env, notice, dataset_text, EditionStamp(3, "2026-09-01T09:00:00Z", "edition"))
    return html, html_to_pdf(html, base_url=edition_url(BASE, "notices", notice.slug, 3))


@pytest.fixture(scope="module")
def long_notice(sample, env, dataset_text) -> tuple[str, bytes]:
    """A notice with 24 local recipients: its sharing table crosses at least one page break."""
    notice = sample.notices[0]
    assert notice.local_recipients, "the first sample school needs local recipients"
    many = tuple(r.model_copy(update={"name": f"{r.name} {i}"}) for i in range(8) for r in notice.local_recipients)
    html = _notice_html(env, notice.model_copy(update={"local_recipients": many}), dataset_text)
    return html, html_to_pdf(html)


def _elements(node: Any) -> list[Any]:
    """Every structure element under ``node``, in document order."""
    found = []
    kids = node.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/OBJR" and "/S" in kid:
            found.append(kid)
            found.extend(_elements(kid))
    return found


def _roles(pdf: pikepdf.Pdf, role: str) -> list[Any]:
    return [e for e in _elements(pdf.Root.StructTreeRoot) if e.S == role]


def test_pdf_is_tagged_in_british_english_and_shows_its_title(published: tuple[str, bytes]) -> None:
    with pikepdf.open(_io(published[1])) as pdf:
        assert "/MarkInfo" in pdf.Root and bool(pdf.Root.MarkInfo.get("/Marked")) is True, "not a tagged PDF"
        assert "/StructTreeRoot" in pdf.Root and _roles(pdf, "/Document")
        assert str(pdf.Root.get("/Lang")) == "en-GB"
        assert "/ViewerPreferences" in pdf.Root and bool(pdf.Root.ViewerPreferences.get("/DisplayDocTitle")) is True
        assert str(pdf.docinfo.get("/Title", "")).startswith("Privacy notice for parents and carers")


def test_every_font_is_embedded(published: tuple[str, bytes]) -> None:
    with pikepdf.open(_io(published[1])) as pdf:
        fonts = [font for page in pdf.pages for font in page.Resources.get("/Font", {}).values()]
        assert fonts
        for font in fonts:
            descriptors = [d.FontDescriptor for d in font.get("/DescendantFonts", [font]) if "/FontDescriptor" in d]
            assert descriptors, f"{font.get('/BaseFont')} has no font descriptor"
            for descriptor in descriptors:
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()), f"{font.BaseFont} not embedded"


def test_one_table_element_per_html_table_with_its_header_once(long_notice: tuple[str, bytes]) -> None:
    html, data = long_notice
    with pikepdf.open(_io(data)) as pdf:
        assert len(pdf.pages) > 3
        tables = _roles(pdf, "/Table")
        assert len(tables) == html.count("<table"), "a table split by a page break must stay one /Table"
        columns = [
            len(re.findall(r"<th[\s>]", table.split("</thead>", 1)[0])) for table in re.findall(r"<table.*?</table>", html, re.S)
        ]
        for table in tables:
            headers = [e for e in _elements(table) if e.S == "/TH"]
            pages = {e.Pg.objgen for e in _elements(table) if e.S == "/TR"}
            assert len(headers) == columns.pop(0), "the header row repeated on a continuation page must not be tagged again"
            ids = {str(h.ID) for h in headers}
            for cell in (e for e in _elements(table) if e.S == "/TD"):
                assert {str(h) for h in cell.A.Headers} <= ids
        assert len(pages) > 1  # the last table really crosses a page break
        _assert_content_is_tagged_or_artifact(pdf)
    assert html_to_pdf(html) == data  # the merge keeps the PDF reproducible


def _assert_content_is_tagged_or_artifact(pdf: pikepdf.Pdf) -> None:
    """Each marked-content id on a page has a structure element in the parent tree, and each
    structure element's ids are drawn on its page (none dropped, none left dangling)."""
    nums = pdf.Root.StructTreeRoot.ParentTree.Nums
    parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    for index, page in enumerate(pdf.pages):
        drawn = [
            int(operands[1].MCID)
            for operands, operator in pikepdf.parse_content_stream(page)
            if operator == pikepdf.Operator("BDC") and isinstance(operands[1], pikepdf.Dictionary) and "/MCID" in operands[1]
        ]
        mapped = parents[index]
        assert all(m < len(mapped) and isinstance(mapped[m], pikepdf.Dictionary) for m in drawn), f"page {index + 1}"
        tagged = {
            int(k)
            for e in _elements(pdf.Root.StructTreeRoot)
            if e.get("/Pg") is not None and e.Pg.objgen == page.objgen
            for k in (e.K if isinstance(e.K, pikepdf.Array) else [e.K])
            if isinstance(k, int)
        }
        assert tagged <= set(drawn), f"page {index + 1}: the tag tree names content that is not drawn"


def test_published_pdf_has_only_absolute_links(published: tuple[str, bytes], sample) -> None:
    uris = []
    with pikepdf.open(_io(published[1])) as pdf:
        for page in pdf.pages:
            for annot in page.get("/Annots", []):
                if "/A" in annot and "/URI" in annot.A:
                    uris.append(str(annot.A.URI))
    relative = [u for u in uris if not re.match(r"^[a-z][a-z0-9+.-]*:", u)]
    assert uris and not relative, relative
    folder = f"{BASE}notices/{sample.notices[0].slug}/privacy-notice/"
    assert f"{folder}v3/notice.json" in uris and f"{folder}history.html" in uris


def _uris(data: bytes) -> list[str]:
    with pikepdf.open(_io(data)) as pdf:
        return [str(a.A.URI) for page in pdf.pages for a in page.get("/Annots", []) if "/A" in a and "/URI" in a.A]


def test_published_pdfs_link_to_published_objects(seaweed, sample, prefix: str) -> None:
    """Publishing itself: every link of the latest and the edition PDF is absolute, and each one
    into the bucket names an object that was published (so it works from a downloaded copy)."""
    from tests.support.publishing import _objects, _only, _publish

    run = _publish(seaweed, _only(sample, "oakfield-primary"), prefix)
    objects = _objects(seaweed, prefix)
    base = run.target.public_base_url
    pdfs = {k: v for k, v in objects.items() if k.endswith(("/notice.pdf", "/for-pupils.pdf"))}  # the pupils' PDF too
    assert {tuple(k.rsplit("/", 2)[-2:]) for k in pdfs} == {
        (f, n) for f in ("privacy-notice", "v1") for n in ("notice.pdf", "for-pupils.pdf")
    }
    for key, data in pdfs.items():
        uris = _uris(data)
        assert uris and all(re.match(r"^[a-z][a-z0-9+.-]*:", u) for u in uris), (key, uris)
        ours = [u[len(base) :] for u in uris if u.startswith(base)]
        assert ours, f"{key} links to nothing published"
        missing = [u for u in ours if u not in objects]
        assert not missing, f"{key} links to objects that do not exist: {missing}"


def test_a_draft_pdf_links_to_the_configured_public_folder_or_stays_relative() -> None:
    from flows.config.models import PublishingTarget
    from flows.publish.folder import draft_pdf_base_url

    assert draft_pdf_base_url(None, "oakfield-primary") is None
    assert draft_pdf_base_url(PublishingTarget(bucket="trust-notices"), "oakfield-primary") is None
    configured = PublishingTarget(bucket="trust-notices", prefix="notices/", public_base_url="https://notices.example.org")
    assert draft_pdf_base_url(configured, "oakfield-primary") == f"{BASE}notices/oakfield-primary/privacy-notice/"


def test_every_page_has_the_running_footer(published: tuple[str, bytes], sample) -> None:
    texts = _page_texts(published[1])
    assert len(texts) > 1
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text
        assert text.count(sample.notices[0].school.name) >= 1


@pytest.mark.parametrize("label_size", ["11pt", "15pt"])
def test_each_label_sits_beside_its_own_value(published: tuple[str, bytes], label_size: str) -> None:
    # 15pt labels wrap in the 45 mm column, as they do in fonts wider than the bundled one.
    html = published[0].replace("</style>", f"@media print {{ dl.facts dt {{ font-size: {label_size}; }} }}</style>", 1)
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html.split('class="facts"', 1)[1].split("</dl>", 1)[0])
    labels = [htmllib.unescape(re.sub(r"<[^>]+>", "", dt)) for dt, _ in pairs]
    values = [htmllib.unescape(re.sub(r"<[^>]+>", "", dd)) for _, dd in pairs]
    data = html_to_pdf(html)
    label_lines, value_lines = _column_lines(data, _facts_page(data, labels[0]))
    label_rows, value_rows = _pair_rows(label_lines, labels), _pair_rows(value_lines, values)
    for n, ((label_top, label_bottom), (value_top, value_bottom)) in enumerate(zip(label_rows, value_rows, strict=True)):
        assert abs(label_top - value_top) < 3, f"{labels[n]!r} is not beside its value {values[n]!r}"
        if n + 1 < len(labels):
            assert label_rows[n + 1][0] < min(label_bottom, value_bottom), f"{labels[n + 1]!r} starts beside the pair above"


def _io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


@pytest.fixture(scope="module")
def published_pupils(sample, env, dataset_text) -> bytes:
    """The pupils' PDF of the same edition 3, as publishing makes it."""
    notice = sample.notices[0]
    stamp = EditionStamp(3, "2026-09-01T09:00:00Z", "edition")
    html = render_notice(env, notice, dataset_text, pdf=False, stamp=stamp).files["for-pupils.html"].decode("utf-8")
    return html_to_pdf(html, base_url=edition_url(BASE, "notices", notice.slug, 3))


def test_the_pupils_pdf_is_tagged_like_the_notice(published_pupils: bytes, sample) -> None:
    """Tagged, en-GB, its title shown, every font embedded, the footer on every page."""
    with pikepdf.open(_io(published_pupils)) as pdf:
        assert "/MarkInfo" in pdf.Root and bool(pdf.Root.MarkInfo.get("/Marked")) is True, "not a tagged PDF"
        assert _roles(pdf, "/Document") and _roles(pdf, "/H1") and _roles(pdf, "/L")
        assert str(pdf.Root.get("/Lang")) == "en-GB" and bool(pdf.Root.ViewerPreferences.get("/DisplayDocTitle")) is True
        assert str(pdf.docinfo.get("/Title")).startswith("For pupils: how we look after your information")
        _assert_content_is_tagged_or_artifact(pdf)
    test_every_font_is_embedded(("", published_pupils))
    for number, text in enumerate(texts := _page_texts(published_pupils), start=1):
        assert f"Page {number} of {len(texts)}" in text and sample.notices[0].school.name in text
