"""Where a run publishes, once resolved (pure data): bucket, prefix, public address, endpoint.

Resolving it from the trust file, ``$NOTICES_*`` and flags, and connecting (the embedded S3
included), is ``flows.publish.connect``; this module imports neither, so the results and the
run context that name a target pull in no S3 client, embedded S3 or YAML loader.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """Where a run publishes, after trust file, environment and command-line flags."""

    bucket: str
    prefix: str
    public_base_url: str
    endpoint_url: str | None
    region: str | None
    embedded: bool
    compress: bool = True  # text objects stored gzip-compressed (``publishing.compress``)

    def describe(self) -> str:
        """One line for the person running it."""
        where = "the embedded S3" if self.embedded else (self.endpoint_url or "AWS S3")
        return f"publishing to {where}, bucket {self.bucket}, prefix {self.prefix or '(root)'}: {self.public_base_url}"
