"""Synthetic trusts for benchmarks and trials: ``notices generate-trust N --out DIR``.

N valid, varied school files (every GIAS phase with its usual age ranges, local recipients,
DfE recipient overrides) and a trust file, all fictional (``example.org``), the same bytes
for the same seed, so a benchmark run can be repeated exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

# (phase, statutory low age, high age, name ending)
_KINDS: tuple[tuple[str, int, int, str], ...] = (
    ("Nursery", 2, 5, "Nursery School"),
    ("Primary", 4, 11, "Primary School"),
    ("Primary", 3, 11, "Primary Academy"),
    ("Primary", 4, 7, "Infant School"),
    ("Primary", 7, 11, "Junior School"),
    ("Middle deemed primary", 8, 12, "Middle School"),
    ("Middle deemed secondary", 9, 13, "Upper Middle School"),
    ("Secondary", 11, 16, "Academy"),
    ("Secondary", 11, 18, "High School"),
    ("16 plus", 16, 19, "Sixth Form College"),
    ("All-through", 4, 18, "All-through Academy"),
    ("Not applicable", 2, 19, "Special School"),
)
_PLACES = (
    "Alder",
    "Ashby",
    "Beech",
    "Birch",
    "Bramble",
    "Brook",
    "Cedar",
    "Clover",
    "Elm",
    "Fern",
    "Hazel",
    "Heath",
    "Holly",
    "Juniper",
    "Larch",
    "Linden",
    "Maple",
    "Meadow",
    "Oak",
    "Orchard",
    "Poplar",
    "Rowan",
    "Sycamore",
    "Thorn",
    "Willow",
    "Yew",
)
_SUFFIXES = ("field", "dale", "wood", "brook", "gate", "hill", "side", "vale", "bank", "ford", "mere", "ley")
_FIRST = ("Sam", "Alex", "Jordan", "Riley", "Morgan", "Casey", "Rowan", "Jamie", "Robin", "Charlie")
_TITLES = ("Mr", "Ms", "Mrs", "Dr", "Mx")
_EXTRA_RECIPIENTS = (
    {"name": "Example School Meals Ltd", "purpose": "school meals and allergy records", "lawful_basis": "contract"},
    {"name": "Example Music Service", "purpose": "instrumental lessons", "lawful_basis": "consent"},
    {"name": "Example Tutoring Ltd", "purpose": "catch-up tutoring", "lawful_basis": "public_task"},
    {
        "name": "Example Counselling Service",
        "purpose": "school counselling",
        "lawful_basis": "public_task",
        "legislation": "Children Act 1989",
    },
)
_OVERRIDES = (
    ("learning-records-service", True, "Our post-16 partnership registers some younger pupils for vocational courses."),
    (
        "national-child-measurement-programme",
        True,
        "Our pupils in reception and year 6 take part in the National Child Measurement Programme.",
    ),
    ("standards-and-testing-agency", False, "We take no part in the national curriculum assessments this section describes."),
)


@dataclass(frozen=True)
class Generated:
    """What ``generate_trust`` wrote."""

    folder: Path
    slugs: tuple[str, ...]


def school_data(index: int, rng: random.Random) -> tuple[str, dict[str, object]]:
    """One school's slug and file contents (the index keeps names and URNs unique)."""
    phase, low, high, ending = _KINDS[index % len(_KINDS)]
    place = f"{rng.choice(_PLACES)}{rng.choice(_SUFFIXES)}"
    name = f"{place} {ending}" + (f" {index // len(_KINDS) + 1}" if index >= len(_KINDS) else "")
    slug = "-".join(name.lower().split())
    data: dict[str, object] = {
        "name": name,
        "urn": f"{900000 + index:06d}",
        "phase": phase,
        "statutory_low_age": low,
        "statutory_high_age": high,
        "address": {
            "lines": [f"{rng.randint(1, 200)} {place} Road"],
            "town": "Exampleford",
            "postcode": f"EX{rng.randint(1, 99)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
        },
        "email": f"office@{slug}.example.org",
        "phone": f"01632 960{rng.randint(0, 999):03d}",
        "website": f"https://{slug}.example.org/",
        "headteacher": f"{rng.choice(_TITLES)} {rng.choice(_FIRST)} Example",
    }
    if rng.random() < 0.3:  # some schools name their own local recipients (replacing the trust's)
        data["local_recipients"] = [dict(r) for r in rng.sample(_EXTRA_RECIPIENTS, rng.randint(1, 3))]
    if rng.random() < 0.15:
        rid, include, reason = rng.choice(_OVERRIDES)
        data["recipient_overrides"] = {rid: {"include": include, "reason": reason}}
    return slug, data


def generate_trust(count: int, out: Path, *, seed: int = 1) -> Generated:
    """Write ``out/_trust.yaml`` and ``count`` school files into ``out`` (same seed, same bytes)."""
    rng = random.Random(seed)
    schools = out
    schools.mkdir(parents=True, exist_ok=True)
    trust = resources.files("flows.data").joinpath("synthetic-trust.yaml").read_text(encoding="utf-8")
    (schools / "_trust.yaml").write_text(trust, encoding="utf-8")
    slugs = []
    for index in range(count):
        slug, data = school_data(index, rng)
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        (schools / f"{slug}.yaml").write_text(text, encoding="utf-8")
        slugs.append(slug)
    return Generated(schools, tuple(slugs))
