"""What can go wrong: a ``Problem`` found on the site, or a ``VerifyError`` that stops the run."""

from __future__ import annotations

from dataclasses import dataclass


class VerifyError(Exception):
    """The run cannot go on (the log or a page cannot be read); the message names the URL."""


class FetchError(VerifyError):
    """A GET failed: refused, reset, timed out, cut short, or an unexpected status."""

    def __init__(self, url: str, cause: str) -> None:
        super().__init__(f"{url}: {cause}")
        self.url = url
        self.cause = cause


class Missing(FetchError):
    """The server answered 404 (or S3's 403) for a file that must be there."""

    def __init__(self, url: str) -> None:
        super().__init__(url, "not found (HTTP 404 or 403)")


@dataclass(frozen=True)
class Problem:
    """One thing wrong, found by a check: ``where`` is a URL, a key or a log entry."""

    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def as_json(self) -> dict[str, str]:
        """The problem as a JSON object."""
        return {"code": self.code, "where": self.where, "message": self.message}
