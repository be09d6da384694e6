"""The pages around the notices (pure rendering): history, changes, feed, latest.json, trust index, error page.

Feed and entry ids are ``tag:`` URIs (RFC 4151) minted once from the trust's web domain and
the date of a school's first edition, and kept in its manifest: moving the site, the bucket
or the S3 port never changes them (RFC 4287 §4.2.6).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment
from markupsafe import Markup

from flows.editions.records import Edition, Manifest
from flows.publish import layout
from flows.publish.log_entries import latest_entry_id
from flows.publish.context import RunContext, Upload
from flows.publish.office import FRAGMENT_CSS, OfficeLinks, fragment_css_url, fragment_stylesheet, host_csp, office_links
from flows.notice.render import display_time, page_style
from flows.notice.typography import typeset_html

CHANGE_LABELS = {
    "first": "First edition.",
    "material": "Material change: who receives pupil information, why, or who is responsible changed.",
    "minor": "Wording change.",
    "presentation": "Layout change only.",
}


def mint_feed_id(trust_website: str, slug: str, first_published_at: str) -> str:
    """``tag:trust.example.org,2026-11-28:oakfield-primary/privacy-notice``: minted once per school."""
    host = (urlsplit(trust_website).hostname or "trust-notices.invalid").lower()
    return f"tag:{host},{first_published_at[:10]}:{slug}/{layout.NOTICE_DIR}"


def render_page(ctx: RunContext, template: str, colour: str, footer: str | None = None, **values: Any) -> bytes:
    """Render one of the pages around a notice (history, changes, index, error).

    ``footer`` names the page on every printed page (the school; by default the trust)."""
    return _render(ctx.env, template, colour, ctx.trust_name, footer=footer, **values)


def _render(env: Environment, template: str, colour: str, trust_name: str, footer: str | None = None, **values: Any) -> bytes:
    style, csp = page_style(env, colour, footer or trust_name)
    html = env.get_template(template).render(
        style=Markup(style), csp=csp, trust_name=trust_name, change_label=CHANGE_LABELS, **values
    )
    return typeset_html(html).encode("utf-8")


def render_changes_page(
    env: Environment,
    *,
    trust_name: str,
    colour: str,
    school_name: str,
    redline: Markup | None,
    changes: Sequence[str],
    change_class: str,
    edition: Edition | None = None,
    preview: bool = False,
    from_label: str | None = None,
    to_label: str | None = None,
) -> bytes:
    """The redline page, ``changes.html.j2``, in each of its three uses.

    * an edition's "What changed in edition N" (``edition``; ``v<N>/changes.html``);
    * the private preview of a held edition (``edition`` and ``preview=True``);
    * ``notices diff --redline``: the changes between any two versions (``from_label``, ``to_label``).

    ``redline`` None means a first edition, with nothing earlier to compare with.
    """
    title, heading, lede = _changes_headings(CHANGE_LABELS[change_class], edition, preview, from_label, to_label)
    return _render(
        env,
        "changes.html.j2",
        colour,
        trust_name,
        footer=school_name,
        title=title,
        school_name=school_name,
        heading=heading,
        lede=lede,
        preview=preview,
        changes=tuple(changes),
        redline=redline,
        edition_number=edition.number if edition is not None and not preview else None,
    )


def _changes_headings(
    label: str, edition: Edition | None, preview: bool, from_label: str | None, to_label: str | None
) -> tuple[str, str, str]:
    """The title, heading and lede of a changes page, for each of its three uses."""
    if edition is None:
        if from_label is None or to_label is None:
            raise ValueError("render_changes_page needs an edition, or from_label and to_label")
        title = f"Changes from {from_label} to {to_label}"
        return title, f"Privacy notice: changes from {from_label} to {to_label}", label
    title = f"What changed in edition {edition.number}"
    if preview:
        return title, f"Preview: what would change in edition {edition.number} of the privacy notice", label
    heading = f"What changed in edition {edition.number} of the privacy notice"
    return title, heading, f"Published {display_time(edition.published_at)}. {label}{_approval(edition)}"


def _approval(edition: Edition) -> str:
    """`` Approved by NAME: “note”.`` after an edition's change label, when someone approved it."""
    if not edition.approved_by:
        return ""
    note = f": “{edition.approval_note}”" if edition.approval_note else ""
    return f" Approved by {edition.approved_by}{note}."


def record_uploads(ctx: RunContext, manifest: Manifest, colour: str) -> list[Upload]:
    """``history.html``, ``feed.xml`` and ``latest.json`` for a school's manifest."""
    prefix, slug = ctx.target.prefix, manifest.slug
    if not manifest.editions:
        return []
    base_url = layout.school_url(ctx.target.public_base_url, prefix, slug)
    links = office_links(ctx.target.public_base_url, prefix, slug, manifest.name)
    history = render_page(
        ctx,
        "history.html.j2",
        colour,
        footer=manifest.name,
        manifest=manifest,
        office=links,
        fragment_css=links.stylesheet,
        host_csp=host_csp(ctx.target.public_base_url),
        public_log=public_log(ctx, base_url),
    )
    feed_id = manifest.feed_id or mint_feed_id(ctx.trust_website, slug, manifest.editions[0].published_at)
    feed = ctx.env.get_template("feed.xml.j2").render(
        manifest=manifest, base_url=base_url, feed_id=feed_id, trust_name=ctx.trust_name, change_label=CHANGE_LABELS
    )
    latest = latest_record(manifest, feed_id, base_url, links)
    latest["log"] = {**public_log(ctx, base_url), "entry": latest_entry_id(ctx.trust_id, manifest)}
    return [
        Upload(layout.record_key(prefix, slug, "history.html"), history, layout.LATEST_CACHE),
        Upload(layout.record_key(prefix, slug, "feed.xml"), feed.encode("utf-8"), layout.LATEST_CACHE),
        Upload(
            layout.record_key(prefix, slug, "latest.json"), (json.dumps(latest, indent=2) + "\n").encode(), layout.RECORD_CACHE
        ),
    ]


def public_log(ctx: RunContext, base_url: str, subject: str = "This history is") -> dict[str, str]:
    """Where the trust's log is, and the plain words a history page (or the trust index) says of it."""
    base, prefix = ctx.target.public_base_url, ctx.target.prefix
    names = list(ctx.witnesses)
    by = (
        "the trust alone"
        if not names
        else "the trust, and checked by " + (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0])
    )
    return {
        "checkpoint": layout.root_url(base, prefix, f"{layout.LOG_DIR}/checkpoint"),
        "key": layout.root_url(base, prefix, f"{layout.LOG_DIR}/key.txt"),
        "statement": (
            f"{subject} recorded in a public log that can only grow, so anyone can check that no edition "
            f"has been changed or removed since it was published. The log is signed by {by}."
        ),
        "check": f"notices verify {base_url}",
    }


def latest_record(manifest: Manifest, feed_id: str, base_url: str, links: OfficeLinks) -> dict[str, Any]:
    """``latest.json``: the newest edition and every address of it (``base_url``: the latest folder's)."""
    last = manifest.editions[-1]
    return {
        "slug": manifest.slug,
        "name": manifest.name,
        "urn": manifest.urn,
        "edition": last.number,
        "content_hash": last.content_hash,
        "change_class": last.change_class,
        "published_at": last.published_at,
        "approved_by": last.approved_by,
        "dataset_edition": last.dataset_edition,
        "feed_id": feed_id,
        "urls": {
            "page": links.page,
            "fragment": links.fragment,
            "fragment_css": links.stylesheet,
            "json": links.json,
            "markdown": base_url + "notice.md",
            "pdf": base_url + "notice.pdf",
            "edition": base_url + f"v{last.number}/index.html",
            "changes": base_url + f"v{last.number}/changes.html",
            "history": base_url + "history.html",
            "feed": links.feed,
        },
        # The pupils' version of the same edition (flows.notice.pupil_view), in every form.
        "for_pupils": {
            "page": base_url + "for-pupils.html",
            "fragment": base_url + "for-pupils-fragment.html",
            "markdown": base_url + "for-pupils.md",
            "pdf": base_url + "for-pupils.pdf",
            "edition": base_url + f"v{last.number}/for-pupils.html",
        },
    }


def root_pages(ctx: RunContext, schools: list[dict[str, Any]]) -> list[Upload]:
    """The trust's index of schools, its error page and the fragment stylesheet.

    Like the pages, ``fragment.css`` is written only where its bytes differ (one HEAD a run
    that touches the index), so an unchanged stylesheet is never uploaded again.
    """
    prefix, colour, base = ctx.target.prefix, ctx.trust_colour, ctx.target.public_base_url
    # The error page is served for any missing path, so it links to the index absolutely.
    index_href = layout.root_url(base, prefix, "index.html")
    listed = [
        {
            **school,
            # Each school's office links and embed code are on its history page, not repeated
            # here: they were 2.4 of the index's 2.6 KB a school (2.6 MB at 1,000 schools).
            "page_href": layout.school_href(school["slug"], "index.html"),
            "history_href": layout.school_href(school["slug"], "history.html"),
        }
        for school in schools
    ]
    css = fragment_css_url(base, prefix)
    trust_root = layout.root_url(base, prefix, "") + ("/" if prefix else "")
    every = "Every edition of every school’s notice is"
    trust_log = {**public_log(ctx, trust_root, every), "public_key": ctx.log_key}
    index = render_page(
        ctx, "trust_index.html.j2", colour, schools=listed, fragment_css=css, host_csp=host_csp(base), public_log=trust_log
    )
    return [
        Upload(layout.root_key(prefix, "index.html"), index, layout.LATEST_CACHE),
        Upload(
            layout.root_key(prefix, "error.html"),
            render_page(ctx, "error.html.j2", colour, index_href=index_href),
            layout.LATEST_CACHE,
        ),
        Upload(layout.root_key(prefix, FRAGMENT_CSS), fragment_stylesheet(ctx.env), layout.LATEST_CACHE),
    ]
