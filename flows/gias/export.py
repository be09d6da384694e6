"""Read the DfE's "Get Information about Schools" (GIAS) establishment export for one trust.

The export (``edubasealldata<date>.csv``, 139 columns, about 50,000 rows and 60 MB) is
Windows-1252 text. It is streamed row by row: only the chosen trust's rows are kept, plus
the set of trust names for a "did you mean" when the name given matches none of them.
Which values become which school-file fields is ``flows.gias.fields``.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# The columns import-gias reads, as GIAS spells them.
TRUST_COLUMN = "Trusts (name)"
STATUS_COLUMN = "EstablishmentStatus (name)"
COLUMNS = {
    "urn": "URN",
    "name": "EstablishmentName",
    "status": STATUS_COLUMN,
    "phase": "PhaseOfEducation (name)",
    "low_age": "StatutoryLowAge",
    "high_age": "StatutoryHighAge",
    "street": "Street",
    "locality": "Locality",
    "address3": "Address3",
    "town": "Town",
    "postcode": "Postcode",
    "website": "SchoolWebsite",
    "phone": "TelephoneNum",
    "head_title": "HeadTitle (name)",
    "head_first": "HeadFirstName",
    "head_last": "HeadLastName",
    "trust": TRUST_COLUMN,
}

IMPORTED_STATUSES = ("Open", "Open, but proposed to close")
CLOSED, PROPOSED = "Closed", "Proposed to open"

EXIT_BAD_INPUT = 2


class GiasError(Exception):
    """The file cannot be used as asked (not a GIAS export, bad bytes, unknown trust); exit status 2."""


@dataclass(frozen=True)
class Establishment:
    """One GIAS row, reduced to the columns import-gias reads (``COLUMNS``), stripped."""

    urn: str
    name: str
    status: str
    phase: str
    low_age: str
    high_age: str
    street: str
    locality: str
    address3: str
    town: str
    postcode: str
    website: str
    phone: str
    head_title: str
    head_first: str
    head_last: str
    trust: str


@dataclass
class TrustExport:
    """What the export says about one trust: its open establishments and what was passed over."""

    trust_name: str
    establishments: list[Establishment] = field(default_factory=list)
    closed: int = 0
    proposed: int = 0
    other_status: list[Establishment] = field(default_factory=list)
    other_trusts: int = 0


def normalise_trust(name: str) -> str:
    """A trust name compared as a person reads it: case and runs of spaces do not matter."""
    return " ".join(name.split()).casefold()


def read_trust(path: Path, trust: str) -> TrustExport:
    """Every row of ``trust`` in the export at ``path``, sorted by URN; raises ``GiasError``.

    Nothing is returned until the whole file has been read, so a bad byte on the last line
    leaves nothing half-imported.
    """
    wanted = normalise_trust(trust)
    names: dict[str, str] = {}
    export = TrustExport(trust_name=" ".join(trust.split()))
    spellings: Counter[str] = Counter()
    for row in _rows(path):
        key = normalise_trust(row.trust)
        if key != wanted:
            export.other_trusts += 1
            if key:
                names.setdefault(key, row.trust)
            continue
        spellings[" ".join(row.trust.split())] += 1
        if row.status in IMPORTED_STATUSES:
            export.establishments.append(row)
        elif row.status == CLOSED:
            export.closed += 1
        elif row.status == PROPOSED:
            export.proposed += 1
        else:
            export.other_status.append(row)
    if not spellings:
        raise GiasError(_not_found(trust, path, names))
    export.trust_name = spellings.most_common(1)[0][0]  # the spelling most rows use, for the trust file
    export.establishments.sort(key=lambda e: e.urn)
    return export


def _not_found(trust: str, path: Path, names: dict[str, str]) -> str:
    wanted = normalise_trust(trust)
    # Names that contain what was typed come first ("Meadowbank" → "Meadowbank Learning Trust"),
    # then difflib's closest spellings.
    within = sorted(key for key in names if wanted and wanted in key)
    close = difflib.get_close_matches(wanted, list(names), n=5, cutoff=0.6)
    picks = list(dict.fromkeys([*within, *close]))[:5]
    message = f"no establishment of trust {trust!r} in {path} ({len(names):,} trusts named there)"
    if picks:
        return message + "; did you mean: " + "; ".join(repr(names[k]) for k in picks) + "?"
    return message + "; copy the trust's name as GIAS spells it (the 'Trusts (name)' column)"


def _rows(path: Path) -> Iterator[Establishment]:
    """Stream the export's rows as ``Establishment``; raises ``GiasError`` for anything unusable."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise GiasError(f"cannot read {path}: {exc.strerror}") from None
    with raw:
        # Excel's "CSV UTF-8" starts with a byte-order mark; the file as downloaded has none.
        encoding = "utf-8-sig" if raw.read(3) == codecs.BOM_UTF8 else "cp1252"
        raw.seek(0)
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = csv.reader(text)
        try:
            header = next(reader, None)
            if header is None:
                raise GiasError(f"{path} is empty; expected the GIAS establishment export (edubasealldata….csv)")
            index = _column_index(header, path)
            for cells in reader:
                if not any(cells):
                    continue
                if len(cells) < len(header):
                    cells = cells + [""] * (len(header) - len(cells))
                yield Establishment(**{name: cells[at].strip() for name, at in index.items()})
        except UnicodeDecodeError:
            raise GiasError(_bad_byte(path, encoding)) from None
        except csv.Error as exc:
            raise GiasError(f"{path} line {reader.line_num}: not valid CSV ({exc})") from None


def _column_index(header: list[str], path: Path) -> dict[str, int]:
    positions = {name.strip(): at for at, name in reversed(list(enumerate(header)))}
    missing = [column for column in COLUMNS.values() if column not in positions]
    if missing:
        raise GiasError(
            f"{path} is not a GIAS establishment export: it has no column {', '.join(repr(m) for m in missing)}; "
            "download 'all establishment data' (edubasealldata….csv) from get-information-schools.service.gov.uk"
        )
    return {name: positions[column] for name, column in COLUMNS.items()}


def _bad_byte(path: Path, encoding: str) -> str:
    """Where the first byte that ``encoding`` cannot decode is (a second pass: only on error)."""
    with path.open("rb") as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as exc:
                byte = line[exc.start]
                name = "UTF-8" if encoding.startswith("utf-8") else "Windows-1252 (cp1252)"
                return (
                    f"{path} line {number}: byte 0x{byte:02x} at column {exc.start + 1} is not {name} text; "
                    "GIAS exports are Windows-1252: use the file as downloaded"
                )
    return f"{path}: not {encoding} text"
