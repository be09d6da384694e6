"""Shared fixtures: the sample trust, a real temporary copy of it, and one render environment."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.render import DatasetText, build_environment, render_dataset_text
from flows.site import Prepared, prepare

REPO = Path(__file__).resolve().parent.parent
SCHOOLS = REPO / "schools"
SHARED = REPO / "shared_data"
TEMPLATES = REPO / "templates"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

SAMPLE_SLUGS = (
    "brookside-special",
    "hillcrest-middle",
    "northgate-academy",
    "oakfield-primary",
    "riverside-infant",
    "st-aidans-all-through",
)


@pytest.fixture(scope="session")
def sample() -> Prepared:
    """The repository's sample trust, loaded and composed once."""
    prepared = prepare(SCHOOLS, SHARED)
    assert not prepared.errors, [str(e) for e in prepared.errors]
    return prepared


@pytest.fixture(scope="session")
def env():
    return build_environment(TEMPLATES)


@pytest.fixture(scope="session")
def dataset_text(sample: Prepared) -> DatasetText:
    return render_dataset_text(sample.notices[0].dataset)


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real copy of schools/ and shared_data/ in a temp folder, which is also the cwd.

    Errors then name files as a DPO sees them: ``schools/x.yaml:3: …``.
    """
    shutil.copytree(SCHOOLS, tmp_path / "schools")
    shutil.copytree(SHARED, tmp_path / "shared_data")
    monkeypatch.chdir(tmp_path)
    yield tmp_path
