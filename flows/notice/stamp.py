"""Which edition a rendered file is, and when it was published, in the time parents read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def display_time(stamp: str) -> str:
    """``2026-07-01T16:30:00Z`` → ``1 July 2026 at 17:30 BST``: UK time, as parents read it."""
    when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UK)
    return f"{when.day} {when:%B %Y} at {when:%H:%M} {when.tzname()}"


@dataclass(frozen=True)
class EditionStamp:
    """Which edition a rendered file is, and where it is served from.

    ``location`` decides the relative links: the latest files sit beside ``history.html``;
    an edition's files sit one folder down, in ``v<N>/``. Relative links to explicit files
    work through an S3 website endpoint, a CDN and the plain S3 URL alike.
    """

    number: int
    published_at: str
    location: Literal["latest", "edition"] = "latest"

    @property
    def up(self) -> str:
        """The way from this file's folder to the school's notice folder."""
        return "" if self.location == "latest" else "../"

    def as_data(self) -> dict[str, Any]:
        """The ``edition`` member of ``notice.json`` (left out of the content hash)."""
        return {"number": self.number, "published_at": self.published_at, "published_uk": display_time(self.published_at)}
