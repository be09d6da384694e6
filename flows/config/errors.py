"""Configuration errors as a person reads them: ``schools/x.yaml:14: urn: message``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class ConfigError:
    """One problem in one input file. ``line`` is 1-based, or None for the whole file."""

    path: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def sort_key(self) -> tuple[str, int, str, str]:
        """Order errors by file, then line, so the report reads top to bottom."""
        return (self.path, self.line or 0, self.field, self.message)
