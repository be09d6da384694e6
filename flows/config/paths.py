"""Where things are: the package's own templates and fonts, and the trust's configuration.

Templates, the stylesheet and the fonts ship inside the installed package
(``flows/templates/``, built from the repository's ``templates/``, which stays the source of
truth); a source checkout or an editable install uses ``templates/`` directly.

The trust's configuration is looked for where the person is: ``--schools`` / ``--shared-data``
if given, else ``schools/`` and ``shared_data/`` in the current directory, else
``$NOTICES_SCHOOLS`` / ``$NOTICES_SHARED_DATA``. Nothing falls back to the sample trust.
"""

from __future__ import annotations

from pathlib import Path

from flows.settings import read_settings

_PACKAGE = Path(__file__).resolve().parent.parent  # flows/


class ConfigNotFound(Exception):
    """No configuration folder was found; the message says where we looked and what to do."""


def templates_dir() -> Path:
    """The templates folder: inside the installed package, or ``templates/`` in a checkout."""
    for candidate in (_PACKAGE / "templates", _PACKAGE.parent / "templates"):
        if (candidate / "notice.html.j2").is_file():
            return candidate
    raise ConfigNotFound(
        f"the templates are missing from the installed package ({_PACKAGE / 'templates'}): reinstall trust-notices"
    )


def find_folder(
    given: str | Path | None,
    name: str,
    variable: str,
    *,
    flag: str,
    cwd: Path | None = None,
    configured: str | None = None,
) -> Path:
    """The folder ``name`` (``schools`` or ``shared_data``): the flag's, the current directory's, then $variable's.

    ``configured`` is $variable's value, from ``flows.settings`` (None: not set).
    """
    if given:
        folder = Path(given)
        if not folder.is_dir():
            raise ConfigNotFound(f"{flag} {folder}: no such folder")
        return folder
    here = (cwd or Path.cwd()) / name
    if here.is_dir():
        return Path(name) if cwd is None else here  # relative, so errors name files as a DPO sees them
    if configured:
        folder = Path(configured)
        if not folder.is_dir():
            raise ConfigNotFound(f"${variable} is {folder}, which is not a folder")
        return folder
    raise ConfigNotFound(
        f"no {name}/ folder in {here.parent} and ${variable} is not set: run this from your trust's configuration "
        f"folder (the one holding {name}/), or pass {flag} DIR, or set ${variable}"
    )


def find_config(schools: str | Path | None = None, shared: str | Path | None = None) -> tuple[Path, Path]:
    """The schools and shared-data folders of this run (see the module's docstring).

    Raises ``ConfigNotFound``, or ``flows.settings.SettingsError`` for an invalid $NOTICES_* variable.
    """
    settings = read_settings()
    return (
        find_folder(schools, "schools", "NOTICES_SCHOOLS", flag="--schools", configured=settings.schools),
        find_folder(shared, "shared_data", "NOTICES_SHARED_DATA", flag="--shared-data", configured=settings.shared_data),
    )
