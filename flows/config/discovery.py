"""Which files in a configuration folder are read, which are skipped and why, and how paths are shown.

Nothing in the schools or dataset folder is passed over silently: every entry is either a
YAML file to read or a ``Skipped`` with its reason (a backup file, a ``.YAML`` extension,
a symbolic link out of the folder...). ``display_path`` writes a path the way the person
running the command would type it, with escape sequences made visible.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from flows.config.text_rules import visible

TRUST_FILE_NAME = "_trust.yaml"
SCHOOL_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Skipped:
    """A file in a configuration folder that is not read, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: skipped: {self.reason}"


def display_path(path: Path) -> str:
    """A path as the person running the command would type it (relative when possible)."""
    absolute = Path(os.path.abspath(path))
    here = Path.cwd()
    # A file name can hold escape sequences; they must not reach the terminal as such.
    return visible(str(absolute.relative_to(here)) if absolute.is_relative_to(here) else str(absolute))


def school_files(schools_dir: Path) -> list[Path]:
    """The school files in a folder: every ``*.yaml``/``*.yml`` except the trust file."""
    return scan_folder(schools_dir, ignore=(TRUST_FILE_NAME,))[0]


_BACKUP_SUFFIXES = (".swp", ".swo", ".bak", ".orig", ".rej", ".tmp", ".old")


def scan_folder(folder: Path, ignore: tuple[str, ...] = ()) -> tuple[list[Path], list[Skipped]]:
    """The YAML files to read in ``folder``, and every other entry with the reason it is not read.

    Nothing is passed over silently: a ``.YAML`` file, a dangling symbolic link or one
    that leads out of the folder would otherwise vanish from a run without a word.
    """
    if not folder.is_dir():
        return [], []
    files: list[Path] = []
    skipped: list[Skipped] = []
    home = folder.resolve()
    for path in sorted(folder.iterdir()):
        if path.name in ignore:
            continue
        reason = _skip_reason(path, home)
        if reason is None:
            files.append(path)
        else:
            skipped.append(Skipped(display_path(path), reason))
    return files, skipped


def _skip_reason(path: Path, home: Path) -> str | None:
    name = path.name
    if (
        name.endswith("~")
        or name.startswith(".#")
        or (name.startswith("#") and name.endswith("#"))
        or path.suffix.lower() in _BACKUP_SUFFIXES
    ):
        return "an editor backup or temporary file"
    if name.startswith("."):
        return "a hidden file"
    if path.is_symlink():
        try:
            target = path.resolve(strict=False)
        except (OSError, RuntimeError):
            return "a symbolic link that cannot be followed (a loop?)"
        if not target.exists():
            return f"a symbolic link to {visible(str(target))}, which does not exist"
        if not target.is_relative_to(home):
            return f"a symbolic link to {visible(str(target))}, outside this folder; copy the file here instead"
    if path.is_dir():
        return "a folder; files in sub-folders are not read"
    if not path.is_file():
        return "not a regular file"
    if path.suffix not in SCHOOL_SUFFIXES:
        if path.suffix.lower() in SCHOOL_SUFFIXES:
            return f"the extension must be lower-case; rename it to {visible(path.stem)}{path.suffix.lower()}"
        return "not a .yaml file"
    return None
