"""The DfE dataset's Markdown → safe HTML and Markdown, once per run, shared by every school.

python-markdown passes raw HTML through by default: its HTML block and inline patterns are
removed, and the result is sanitised with nh3 (only a few tags, http(s)/mailto links).
Reference links ``[text][id]`` resolve to the recipient's link (or the edition's ``links``
entry of that id), or plain text when it has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import markdown
import nh3
from markupsafe import Markup

from flows.config.models import DatasetEdition
from flows.notice.markdown import neutralise_markdown

_ALLOWED_TAGS = {"p", "a", "strong", "em", "ul", "ol", "li", "code", "br"}
_REFERENCE = re.compile(r"\[([^\]]+)\]\[([^\]]*)\]")


@dataclass(frozen=True)
class RecipientText:
    """One recipient's prose, as safe HTML and as Markdown with links resolved."""

    paragraphs_html: tuple[Markup, ...]
    list_items_html: tuple[Markup, ...]
    after_html: tuple[Markup, ...]
    opt_out_html: Markup | None
    paragraphs_md: tuple[str, ...]
    list_items_md: tuple[str, ...]
    after_md: tuple[str, ...]
    opt_out_md: str | None


@dataclass(frozen=True)
class DatasetText:
    """The dataset's prose rendered once, shared by every school of the run."""

    introduction_html: Markup
    introduction_md: str
    recipients: dict[str, RecipientText]


def render_dataset_text(dataset: DatasetEdition) -> DatasetText:
    """Convert every Markdown string of the dataset to sanitised HTML, once."""
    links: dict[str, str | None] = {**dataset.links, **{r.id: r.link for r in dataset.recipients}}
    converter = _markdown_converter()

    def md(text: str) -> str:
        # Markdown by design, but a dataset file must not inject HTML or a script link (notice.md, notice.json).
        return neutralise_markdown(_resolve_links(text, links))

    def html(text: str, inline: bool = False) -> Markup:
        converter.reset()
        out = nh3.clean(
            converter.convert(_resolve_links(text, links)),
            tags=_ALLOWED_TAGS,
            attributes={"a": {"href"}},
            url_schemes={"http", "https", "mailto"},
            link_rel=None,
        )
        if inline:
            out = re.sub(r"^<p>(.*)</p>$", r"\1", out.strip(), flags=re.S)
        return Markup(out)

    recipients = {
        r.id: RecipientText(
            paragraphs_html=tuple(html(p) for p in r.paragraphs),
            list_items_html=tuple(html(i, inline=True) for i in r.list_items),
            after_html=tuple(html(p) for p in r.paragraphs_after_list),
            opt_out_html=html(r.opt_out) if r.opt_out else None,
            paragraphs_md=tuple(md(p) for p in r.paragraphs),
            list_items_md=tuple(md(i) for i in r.list_items),
            after_md=tuple(md(p) for p in r.paragraphs_after_list),
            opt_out_md=md(r.opt_out) if r.opt_out else None,
        )
        for r in dataset.recipients
    }
    return DatasetText(html(dataset.introduction), md(dataset.introduction), recipients)


def _markdown_converter() -> markdown.Markdown:
    converter = markdown.Markdown(output_format="html")
    # python-markdown passes raw HTML through by default; the dataset must never inject it.
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return converter


def _resolve_links(text: str, links: dict[str, str | None]) -> str:
    """``[text][id]`` → ``[text](url)`` when the recipient's link is known, else plain text."""

    def replace(match: re.Match[str]) -> str:
        label, ref = match.group(1), match.group(2)
        url = links.get(ref)
        return f"[{label}]({url})" if url else label

    return _REFERENCE.sub(replace, text)
