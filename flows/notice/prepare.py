"""Inputs → notices: every input loaded and validated once, and each valid school's notice composed.

The only I/O here is reading the inputs; rendering to a folder is ``flows.publish.folder``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flows.notice.compose import compose_notices
from flows.config.currency import apply_acknowledgements
from flows.config.errors import ConfigError
from flows.config.paths import templates_dir
from flows.config.loading import Inputs, load_inputs
from flows.config.models import DatasetEdition, Notice, TrustFile

TEMPLATES_DIR = templates_dir()


@dataclass(frozen=True)
class ValidInputs:
    """The shared inputs every school needs, both present and valid.

    Composing, rendering and publishing take this, so no stage checks for a missing trust
    file or dataset again: the check is made once, when it is built.
    """

    trust: TrustFile
    trust_path: str
    dataset: DatasetEdition


@dataclass(frozen=True)
class Prepared:
    """Inputs read and notices composed: what can be rendered, and every error found.

    ``valid`` is None when the dataset or the trust file is broken (then no school renders).
    """

    inputs: Inputs
    notices: tuple[Notice, ...]
    errors: tuple[ConfigError, ...]
    broken: tuple[str, ...]
    valid: ValidInputs | None = None


def load_and_compose(
    schools_dir: Path,
    shared_dir: Path,
    *,
    only: tuple[str, ...] = (),
    dataset_edition: str | None = None,
) -> Prepared:
    """Load and validate every input and compose each valid school's notice."""
    inputs = load_inputs(schools_dir, shared_dir, only=only, dataset_edition=dataset_edition)
    errors = list(inputs.errors)
    broken = set(inputs.broken)
    notices: tuple[Notice, ...] = ()
    valid = None
    if inputs.dataset is not None and inputs.trust is not None:
        valid = ValidInputs(inputs.trust, inputs.trust_path, inputs.dataset)
        composed = compose_notices(inputs.schools, valid.trust, valid.trust_path, valid.dataset)
        # A section naming a body that is gone is published only where the trust says why it keeps it.
        settled = apply_acknowledgements(composed.notices, inputs.stale, valid.trust, valid.trust_path)
        notices = settled.notices
        errors.extend((*composed.errors, *settled.errors))
        broken.update((*composed.broken, *settled.refused))
    else:
        # Without a dataset or trust no school can be rendered; say so once, not per school.
        broken.update(s.slug for s in inputs.schools)
    return Prepared(inputs, notices, tuple(sorted(errors, key=ConfigError.sort_key)), tuple(sorted(broken)), valid)
