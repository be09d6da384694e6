"""A school is its URN: one history per URN, wherever its files are renamed or moved.

Each prefix keeps a registry, ``_urn-registry/<prefix>/_urns/<URN>/<seq>/<home prefix>/<slug>.json``
(one small object per home, the highest ``seq`` the current one; outside ``_private/``, whose
files expire, and outside the prefix, so the school LISTs never see it; URNs and addresses are
public anyway, as ``schools.json`` shows), read with one LIST
per run under the trust lock, together with the registry of the prefix the trust file names
(and of ``--move-from``): publishing there under another prefix, from a flag or
``$NOTICES_S3_PREFIX``, is a move. So, for a school whose file name (slug) changed, its new
location continues the same history: the earlier editions' files are copied there
byte for byte (create-only), its manifest starts from the old one, and the old location stays
up saying where the notice went (never a different live notice). A URN whose history lives
under another prefix of the bucket is refused unless the run names that move and an approver.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flows.editions.records import Manifest
from flows.publish import layout
from flows.publish.base import PreconditionFailed, Publisher, PublishError
from flows.publish.writer import create_only
from flows.publish.context import RunContext, Upload

NO_PREFIX = "-"


REGISTRY_ROOT = "_urn-registry"


def registry_dir(prefix: str) -> str:
    """Where a prefix keeps its URN registry (``_urns`` ends it, so prefix ``a`` never lists ``a/b``'s)."""
    return layout.join(REGISTRY_ROOT, prefix, "_urns")


@dataclass(frozen=True)
class Home:
    """Where a URN's history lives now (plain data: it travels to task workers)."""

    urn: str
    seq: int
    prefix: str
    slug: str

    def key(self, registry_prefix: str) -> str:
        """The object in ``registry_prefix``'s registry that records this home."""
        return layout.join(
            registry_dir(registry_prefix), self.urn, f"{self.seq:06d}", self.prefix or NO_PREFIX, f"{self.slug}.json"
        )

    def at(self, prefix: str, slug: str) -> bool:
        """True if this home is that prefix and slug."""
        return (self.prefix, self.slug) == (prefix, slug)


def read_homes(pub: Publisher, prefixes: list[str]) -> dict[str, Home]:
    """Every URN's current home that these prefixes' registries know (one LIST per 1,000 homes each)."""
    homes: dict[str, Home] = {}
    keys = [
        (head.key, registry_dir(prefix)) for prefix in dict.fromkeys(prefixes) for head in pub.list(registry_dir(prefix) + "/")
    ]
    for key, folder in keys:
        parts = key[len(folder) + 1 :].split("/")
        if len(parts) < 4 or not parts[0].isdigit() or not parts[1].isdigit() or not parts[-1].endswith(".json"):
            continue  # not ours: ignore rather than guess
        prefix = "/".join(parts[2:-1])
        home = Home(parts[0], int(parts[1]), "" if prefix == NO_PREFIX else prefix, parts[-1][: -len(".json")])
        if parts[0] not in homes or homes[parts[0]].seq < home.seq:
            homes[parts[0]] = home
    return homes


def record_home(pub: Publisher, urn: str, prefix: str, slug: str, previous: Home | None) -> Home:
    """Make (prefix, slug) the URN's home, in this prefix's registry and the previous home's."""
    if previous is not None and previous.at(prefix, slug):
        return previous
    home = Home(urn, previous.seq + 1 if previous else 1, prefix, slug)
    body = json.dumps({"urn": urn, "prefix": prefix, "slug": slug}).encode()
    for registry in dict.fromkeys([prefix, *([previous.prefix] if previous else [])]):
        try:
            pub.put(
                home.key(registry), body, content_type="application/json", cache_control=layout.RECORD_CACHE, if_none_match=True
            )
        except PreconditionFailed:
            pass  # written already (an earlier attempt): the same home
    return home


def refuse_move(ctx: RunContext, urn: str, home: Home) -> str | None:
    """Why this run may not publish the URN here (another prefix holds its history), or None."""
    if home.prefix == ctx.target.prefix or (ctx.move_from == home.prefix and ctx.approval is not None):
        return None
    how = (
        "and a named approver (--approved-by)"
        if ctx.move_from == home.prefix
        else f"with --move-from {home.prefix or NO_PREFIX!r} and a named approver"
    )
    return (
        f"URN {urn} already has a published history at prefix {home.prefix or NO_PREFIX!r} ({home.slug}); publishing it "
        f"at {ctx.target.prefix or NO_PREFIX!r} would start a second one: to move it there, run {how}"
    )


def source_manifest(pub: Publisher, home: Home) -> tuple[Manifest | None, str | None]:
    """The manifest at a URN's previous home, and its ETag."""
    from flows.publish.writer import read_manifest

    return read_manifest(pub, layout.record_key(home.prefix, home.slug, "manifest.json"))


def copy_history(pub: Publisher, ctx: RunContext, home: Home, manifest: Manifest, slug: str) -> list[str]:
    """Every earlier edition's files, copied byte for byte to the new location (create-only)."""
    written = []
    for edition in manifest.editions:
        for name in list(edition.files) or list(layout.EDITION_FILES):
            old = pub.get(layout.edition_key(home.prefix, home.slug, edition.number, name))
            if old is None:
                raise PublishError(
                    f"{layout.edition_key(home.prefix, home.slug, edition.number, name)}: missing, so the history cannot move",
                    transient=False,
                )
            upload = Upload(layout.edition_key(ctx.target.prefix, slug, edition.number, name), old.body, layout.IMMUTABLE_CACHE)
            if create_only(pub, upload):
                written.append(upload.key)
    return written


def mark_moved(pub: Publisher, ctx: RunContext, home: Home, name: str, new_url: str) -> list[str]:
    """The old location says where the notice went: its latest files and manifest, not its editions."""
    manifest, etag = source_manifest(pub, home)
    if manifest is None or manifest.moved_to == new_url:
        return []
    pages = moved_files(ctx, name, new_url)
    keys = []
    for file_name, body in pages.items():
        key = layout.latest_key(home.prefix, home.slug, file_name)
        cache = layout.RECORD_CACHE if file_name == "latest.json" else layout.LATEST_CACHE
        pub.put(key, body, content_type=layout.content_type(key), cache_control=cache)
        keys.append(key)
    moved = manifest.model_copy(update={"moved_to": new_url})
    manifest_key = layout.record_key(home.prefix, home.slug, "manifest.json")
    pub.put(
        manifest_key,
        (moved.model_dump_json(indent=2) + "\n").encode(),
        content_type="application/json",
        cache_control=layout.RECORD_CACHE,
        if_match=etag,
    )
    return [*keys, manifest_key]


def moved_files(ctx: RunContext, name: str, new_url: str) -> dict[str, bytes]:
    """The moved notice in every latest form: a page, a fragment, text, JSON and a PDF.

    The pupils' files get the same stubs, pointing at the pupils' page at the new address.
    """
    from flows.notice.render import print_pdf

    from flows.publish.pages import render_page

    def stubs(url: str) -> tuple[str, bytes, bytes]:
        page = render_page(ctx, "moved.html.j2", ctx.trust_colour, footer=name, school_name=name, new_url=url).decode()
        fragment = ctx.env.get_template("moved-fragment.html.j2").render(school_name=name, new_url=url)
        return page, fragment.encode(), f"# {name}: privacy notice\n\nThis notice has moved to {url}\n".encode()

    data = {"format": "trust-notices/moved/1", "school": name, "moved_to": new_url}
    pupil_url = new_url.rsplit("/", 1)[0] + "/for-pupils.html"  # new_url is the new latest index.html
    page, fragment, text = stubs(new_url)
    pupil_page, pupil_fragment, pupil_text = stubs(pupil_url)
    return {
        "index.html": page.encode(),
        "fragment.html": fragment,
        "notice.md": text,
        "notice.json": (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode(),
        "latest.json": (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode(),
        "notice.pdf": print_pdf(page, new_url),
        "for-pupils.html": pupil_page.encode(),
        "for-pupils-fragment.html": pupil_fragment,
        "for-pupils.md": pupil_text,
        "for-pupils.pdf": print_pdf(pupil_page, pupil_url),
    }
