"""Notice → output files (pure, apart from reading templates once).

One Jinja2 environment per run, with autoescape on for every HTML template (including
``*.html.j2`` names) and ``StrictUndefined`` so a typo in a template fails loudly.
The dataset's Markdown is converted once per run (``flows.notice.dataset_text``) and shared by
every school's notice.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from flows.config.models import Notice, RenderedNotice
from flows.notice import wording
from flows.notice.dataset_text import DatasetText
from flows.notice.markdown import escape_markdown, markdown_email, markdown_link
from flows.notice.notice_data import notice_json
from flows.notice.pupil_view import view_pupils
from flows.notice.stamp import EditionStamp, display_time
from flows.notice.view import view_notice
from flows.notice.typography import curl_apostrophes, typeset_html, typeset_markdown

__all__ = [
    "OUTPUT_FILES",
    "PDF_SOURCES",
    "TEMPLATES",
    "EditionStamp",
    "build_environment",
    "css_string",
    "display_time",
    "fragment_id_prefix",
    "notice_context",
    "page_style",
    "print_pdf",
    "print_pdfs",
    "render_notice",
]

# Output file name → template that makes it. ``notice.json`` and the PDFs are made in code.
# The ``for-pupils`` files are the pupils' notice (``flows.notice.pupil_view``): part of every edition.
TEMPLATES: dict[str, str] = {
    "index.html": "notice.html.j2",
    "fragment.html": "fragment.html.j2",
    "notice.md": "notice.md.j2",
    "for-pupils.html": "for-pupils.html.j2",
    "for-pupils-fragment.html": "for-pupils-fragment.html.j2",
    "for-pupils.md": "for-pupils.md.j2",
}
# Each PDF → the page it is printed from.
PDF_SOURCES: dict[str, str] = {"notice.pdf": "index.html", "for-pupils.pdf": "for-pupils.html"}
OUTPUT_FILES: tuple[str, ...] = (
    "index.html",
    "fragment.html",
    "notice.md",
    "notice.json",
    "notice.pdf",
    "for-pupils.html",
    "for-pupils-fragment.html",
    "for-pupils.md",
    "for-pupils.pdf",
)


def _autoescape(name: str | None) -> bool:
    # Escape everything except Markdown/text templates; the default is safe for new names.
    return not (name or "").endswith((".md.j2", ".txt.j2"))


def build_environment(templates_dir: Path) -> Environment:
    """The single Jinja2 environment of a run."""
    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a run; checking each file's mtime per page cost 10 %
    )
    # Read once per run: every page inlines it (with the school's colour) and hashes it for the CSP.
    env.globals["notice_css"] = (templates_dir / "notice.css").read_text(encoding="utf-8")
    env.filters["md"] = escape_markdown
    env.filters["md_link"] = markdown_link
    env.filters["md_email"] = markdown_email
    env.filters["display_time"] = display_time
    env.globals["wording"] = wording
    return env


# --- One school's notice ------------------------------------------------------------------


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string that cannot end the string or the ``<style>`` element."""
    return '"' + "".join(ch if ch.isalnum() or ch in " .,'’()-&" else f"\\{ord(ch):x} " for ch in text) + '"'


def page_style(env: Environment, colour: str, school: str | None = None) -> tuple[str, str]:
    """The inline stylesheet with the school's colour, and the CSP that allows exactly it.

    ``school`` becomes ``--school``: the school's name in the footer of every printed page.
    """
    school_var = f" --school: {css_string(curl_apostrophes(school))};" if school else ""
    style = f":root {{ --brand: {colour};{school_var} }}\n{env.globals['notice_css']}"
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    # No scripts, no remote anything: only our own inline stylesheet, by hash.
    csp = f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self'; base-uri 'none'; form-action 'none'"
    return style, csp


def fragment_id_prefix(notice: Notice) -> str:
    """``tn-<URN>-``: the prefix of every id in a school's fragment, so two schools' fragments
    on one page of a school website never share an id (URNs are unique, and 6 digits)."""
    return f"tn-{notice.school.urn}-"


def notice_context(
    notice: Notice, text: DatasetText, stamp: EditionStamp | None = None, fragment_css: str | None = None
) -> dict[str, Any]:
    """The variables every notice template sees; ``stamp`` None renders a draft (not yet published).

    ``view`` holds the strings computed for the notice (``flows.notice.view``): the
    templates only place values, they decide nothing about wording. ``fragment_css`` is the
    absolute address of the trust's fragment stylesheet, which the fragment links (None when
    rendered locally, with no public address).
    """
    return {
        "stamp": stamp,
        "fragment_id_prefix": fragment_id_prefix(notice),
        # The pupils' fragment may share a page with the parents': its ids differ from theirs.
        "pupil_id_prefix": f"{fragment_id_prefix(notice)}p-",
        "fragment_css": fragment_css,
        "published_uk": display_time(stamp.published_at) if stamp else None,
        "notice": notice,
        "school": notice.school,
        "dataset": notice.dataset,
        "dfe": text,
        "uses_consent": notice.uses_consent(),
        "view": view_notice(notice, text),
        "pupils": view_pupils(notice),
    }


def render_notice(
    env: Environment,
    notice: Notice,
    text: DatasetText,
    *,
    pdf: bool = True,
    stamp: EditionStamp | None = None,
    fragment_css: str | None = None,
    pdf_base_url: str | None = None,
) -> RenderedNotice:
    """Render one school's notice to every output file (``pdf=False`` skips the slow PDFs).

    Every notice has two versions from the same ``Notice``: the parents' (``index.html`` …)
    and the pupils' (``for-pupils.html`` …), published and approved together.

    With a ``stamp`` every form says which edition it is and when it was published; without
    one it is a draft (``notices render``, and the hashes that decide what a run does).
    ``fragment_css``: the fragment stylesheet's public address (publishing only).
    ``pdf_base_url`` is the public URL of the page's folder, for the PDF's links (``print_pdf``).
    """
    context = notice_context(notice, text, stamp, fragment_css)
    style, csp = page_style(env, notice.branding.colour, notice.school.name)
    files: dict[str, bytes] = {}
    for name, template in TEMPLATES.items():
        page = env.get_template(template).render(**context, style=Markup(style), csp=csp)
        # One apostrophe style in what parents read, whatever each source file used.
        files[name] = (typeset_markdown(page) if name.endswith(".md") else typeset_html(page)).encode("utf-8")
    files["notice.json"] = notice_json(notice, text, stamp).encode("utf-8")
    if pdf:
        files.update(print_pdfs(files, pdf_base_url))
    return RenderedNotice(slug=notice.slug, files=files)


def print_pdf(html: str, base_url: str | None = None) -> bytes:
    """A tagged PDF/UA-1 of the page, using its print stylesheet and the bundled fonts.

    ``base_url``, the public URL of the page's folder, makes the PDF's relative links absolute;
    without it they stay relative (see ``flows.pdf.weasy.html_to_pdf``).
    """
    from flows.pdf import weasy as pdf  # WeasyPrint is imported by the PDF worker processes, not here

    return pdf.make_pdf(html, base_url)


def print_pdfs(files: dict[str, bytes], base_url: str | None = None) -> dict[str, bytes]:
    """Every PDF of a notice (``PDF_SOURCES``), each printed from its page in ``files``."""
    return {name: print_pdf(files[page].decode("utf-8"), base_url) for name, page in PDF_SOURCES.items()}
