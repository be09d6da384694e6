"""One HTML table, one ``/Table`` in the PDF's tag tree, whatever the page breaks.

WeasyPrint (70.0, and ``main`` at the time of writing: Kozea/WeasyPrint#2903, open) builds the
tag tree page by page, so a table that a page break splits becomes one ``/Table`` structure
element per page, and the header row it repeats at the top of each continuation page is tagged
again as ``TH`` cells: a screen reader announces two (or more) tables, and reads the repeated
header as data in the middle of the table.

``merge_split_tables`` is a WeasyPrint *finisher* (``write_pdf(finisher=...)``, a public API):
it runs on the in-memory PDF objects just before they are written, so it costs no re-parse
(a few milliseconds, only when a table was split) and keeps the output byte-identical for the
same input. For each table split over pages it

* moves the rows of every continuation fragment into the first fragment's ``/TBody``;
* turns the repeated header row into an artifact (``/Artifact BMC`` in the page content,
  its MCIDs mapped to null in the parent tree) and removes it from the tag tree;
* points the moved cells' ``/Headers`` at the first fragment's header cells;
* removes the emptied continuation ``/Table`` (and any wrapper left empty by it).

Which fragments belong to one HTML table is taken from WeasyPrint's own layout (each page's
boxes, in the order the tag tree was built from them), never guessed from the tag tree. If the
two do not line up (a WeasyPrint change), the PDF is left exactly as WeasyPrint made it.
Only tables are merged; other elements that cross a page break (sections, lists) still appear
once per page, as WeasyPrint makes them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)

_DO = re.compile(r"^/(\S+) Do$")


def merge_split_tables(document: Any, pdf: Any) -> None:
    """Finisher for ``write_pdf``: merge each split table's fragments into one ``/Table``."""
    if "StructTreeRoot" not in pdf.catalog:
        return
    objects = pdf.objects
    root = _resolve(objects, pdf.catalog["StructTreeRoot"])
    elements = list(_struct_tables(objects, root))
    boxes = list(_table_boxes(document))
    if len(elements) != len(boxes):
        log.warning("PDF tables left as WeasyPrint tagged them: %d /Table elements, %d table boxes", len(elements), len(boxes))
        return
    groups: dict[int, list[Any]] = {}
    for element, box in zip(elements, boxes, strict=True):
        groups.setdefault(id(box.element), []).append(element)
    for fragments in groups.values():
        for fragment in fragments[1:]:
            _merge(pdf, root, fragments[0], fragment)


def _resolve(objects: list[Any], reference: Any) -> Any:
    """The object a ``b"N 0 R"`` reference names (pydyf numbers objects by list position)."""
    return objects[int(reference.split()[0])]


def _kids(objects: list[Any], element: Any) -> Iterator[Any]:
    """The structure elements among ``element``'s kids (not MCIDs, not annotation references)."""
    for kid in element.get("K", ()):
        if isinstance(kid, bytes):
            obj = _resolve(objects, kid)
            if obj.get("Type") == "/StructElem":
                yield obj


def _struct_tables(objects: list[Any], element: Any) -> Iterator[Any]:
    """Every ``/Table`` element in document order (pre-order, as WeasyPrint creates them)."""
    for kid in _kids(objects, element):
        if kid.get("S") == "/Table":
            yield kid
        yield from _struct_tables(objects, kid)


def _table_boxes(document: Any) -> Iterator[Any]:
    """The boxes WeasyPrint made a ``/Table`` from, page by page, in the same order."""
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout.absolute import AbsolutePlaceholder

    def walk(box: Any) -> Iterator[Any]:
        if isinstance(box, AbsolutePlaceholder):
            box = box._box
        if isinstance(box, boxes.MarginBox) or not isinstance(box, boxes.ParentBox):
            return  # margin boxes are left out of the tag tree
        children = box.children
        if box.element is not None and box.element_tag == "table":
            yield box
            if box.is_table_wrapper and (table := _wrapped_table(box)):
                children = [c for child in box.children for c in (table.children if child is table else [child])]
        for child in children:
            yield from walk(child)

    for page in document.pages:
        yield from walk(page._page_box)


def _wrapped_table(wrapper: Any) -> Any:
    """The table in a table wrapper box, or None: a wrapper whose table went to another page
    has none here (WeasyPrint 63 raises ValueError for it, later versions return None)."""
    try:
        return wrapper.get_wrapped_table()
    except ValueError:
        return None


def _merge(pdf: Any, root: Any, first: Any, fragment: Any) -> None:
    """Move ``fragment``'s rows into ``first``; make its repeated header an artifact."""
    objects = pdf.objects
    parts = {kid.get("S"): kid for kid in _kids(objects, first)}
    ids: dict[str, Any] = {}
    for part in list(_kids(objects, fragment)):
        role = part.get("S")
        if role in ("/THead", "/TFoot") and role in parts:
            ids.update(_header_ids(objects, part, parts[role]))
            _make_artifact(pdf, root, part)
            fragment["K"].remove(part.reference)
        elif role == "/TBody" and "/TBody" in parts:
            body = parts["/TBody"]
            for row in _kids(objects, part):
                row["P"] = body.reference
                body["K"].append(row.reference)
            fragment["K"].remove(part.reference)
        else:  # a part the first fragment lacks (its caption, say): moved as it is
            part["P"] = first.reference
            first["K"].append(part.reference)
            fragment["K"].remove(part.reference)
            parts.setdefault(role, part)
    if ids:
        _retarget_headers(objects, first, ids)
    _remove_empty(objects, fragment)


def _header_ids(objects: list[Any], repeated: Any, original: Any) -> dict[str, Any]:
    """Each repeated header cell's ``/ID`` → the ID of the original cell in the same place."""

    def cells(part: Any) -> list[Any]:
        return [cell for row in _kids(objects, part) for cell in _kids(objects, row) if "ID" in cell]

    return {str(old["ID"]): new["ID"] for old, new in zip(cells(repeated), cells(original), strict=False)}


def _retarget_headers(objects: list[Any], table: Any, ids: dict[str, Any]) -> None:
    for element in _descendants(objects, table):
        attributes = element.get("A")
        if attributes is not None and hasattr(attributes, "get") and "Headers" in attributes:
            attributes["Headers"][:] = [ids.get(str(h), h) for h in attributes["Headers"]]


def _descendants(objects: list[Any], element: Any) -> Iterator[Any]:
    for kid in _kids(objects, element):
        yield kid
        yield from _descendants(objects, kid)


def _make_artifact(pdf: Any, root: Any, part: Any) -> None:
    """Mark a repeated header's content as an artifact and drop it from the parent tree."""
    objects = pdf.objects
    by_page: dict[bytes, set[int]] = {}
    for element in (part, *_descendants(objects, part)):
        mcids = {kid for kid in element.get("K", ()) if isinstance(kid, int)}
        if mcids:
            by_page.setdefault(element["Pg"], set()).update(mcids)
    pages = pdf.page_references
    nums = _resolve(objects, root["ParentTree"])["Nums"]
    for page_ref, mcids in by_page.items():
        page = _resolve(objects, page_ref)
        for stream in _page_streams(pdf, page):
            _artifact_marks(stream, mcids)
        mapping = _page_nums(nums, pages.index(page_ref))
        for mcid in mcids:
            if mcid < len(mapping):
                mapping[mcid] = b"null"


def _page_nums(nums: list[Any], page_index: int) -> Any:
    """The parent-tree array of a page: ``Nums`` alternates keys and values."""
    for key, value in zip(nums[::2], nums[1::2], strict=True):
        if key == page_index:
            return value
    return []


def _page_streams(pdf: Any, page: Any) -> Iterator[Any]:
    """The page's content stream and the form XObjects (groups) it draws, recursively."""
    objects = pdf.objects
    seen: set[int] = set()
    todo = [_resolve(objects, page["Contents"])]
    xobjects = _resolve(objects, page["Resources"]).get("XObject", {})
    while todo:
        stream = todo.pop()
        if stream.number in seen:
            continue
        seen.add(stream.number)
        yield stream
        for item in stream.stream:
            match = _DO.match(item) if isinstance(item, str) else None
            if match and isinstance(xobjects.get(match[1]), bytes):
                todo.append(_resolve(objects, xobjects[match[1]]))


def _artifact_marks(stream: Any, mcids: set[int]) -> None:
    """``/Tag <</MCID n>> BDC`` → ``/Artifact BMC`` for the given MCIDs (same ``EMC``)."""
    items = stream.stream
    for i in range(len(items) - 1, 0, -1):
        item = items[i]
        if hasattr(item, "get") and item.get("MCID") in mcids and items[i + 1] == b"BDC":
            items[i - 1 : i + 2] = ["/Artifact", b"BMC"]


def _remove_empty(objects: list[Any], element: Any) -> None:
    """Unlink an element left with no kids, then any parent that this leaves empty."""
    while not element["K"] and element.get("S") != "/Document":
        parent = _resolve(objects, element["P"])
        parent["K"].remove(element.reference)
        element = parent
