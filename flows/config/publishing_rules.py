"""Rules for the publishing settings: the trust file's ``publishing:`` section and $NOTICES_S3_*.

Bucket names follow AWS's general-purpose naming rules; a region is a plain identifier;
a key prefix cannot climb out of its folder or into ``_private/``; an endpoint carries no
credentials, query or fragment. The types here are used by ``flows.config.models.PublishingTarget``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator

from flows.config.text_rules import fail, require_text
from flows.config.fields import check_url, describe_string

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")
_BUCKET_RESERVED_START = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_END = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PREFIX = re.compile(r"[A-Za-z0-9._/-]+")


def check_bucket(value: Any) -> str:
    """An S3 bucket name under AWS's general-purpose bucket naming rules."""
    text = require_text(value, "a bucket name").strip()
    rule = "S3 bucket names are 3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit"
    if not 3 <= len(text) <= 63 or not _BUCKET.fullmatch(text):
        raise fail("bucket", "{rule}; got {got!r}", rule=rule, got=text)
    if ".." in text:
        raise fail("bucket", "S3 bucket names must not contain two dots in a row; got {got!r}", got=text)
    if re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", text):
        raise fail("bucket", "S3 bucket names must not look like an IP address; got {got!r}", got=text)
    for start in _BUCKET_RESERVED_START:
        if text.startswith(start):
            raise fail("bucket", "S3 reserves bucket names starting with {part!r}; got {got!r}", part=start, got=text)
    for end in _BUCKET_RESERVED_END:
        if text.endswith(end):
            raise fail("bucket", "S3 reserves bucket names ending with {part!r}; got {got!r}", part=end, got=text)
    return text


def check_region(value: Any) -> str:
    """A region name such as ``eu-west-2``: lower-case letters, digits and single hyphens."""
    text = require_text(value, "a region name").strip()
    if len(text) > 40 or not _REGION.fullmatch(text):
        raise fail("region", "expected a region like 'eu-west-2' (lower-case letters, digits and hyphens), got {got!r}", got=text)
    return text


def check_prefix(value: Any) -> str:
    """A key prefix: safe characters, no leading '/', no '.' or '..' or empty segments, not under _private/."""
    text = require_text(value, "a key prefix").strip()
    if text.startswith("/"):
        raise fail("prefix", "must not start with '/'; write the folder as e.g. 'notices', got {got!r}", got=text)
    if len(text) > 200 or not _PREFIX.fullmatch(text):
        raise fail("prefix", "may contain only letters, digits, '.', '_', '-' and '/' (at most 200), got {got!r}", got=text)
    segments = text.rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in segments):
        raise fail("prefix", "must not contain '.', '..' or empty ('//') parts, got {got!r}", got=text)
    if segments[0] == "_private":
        raise fail("prefix", "must not start with '_private' (private run files live there), got {got!r}", got=text)
    return text


def check_endpoint(value: Any) -> str:
    """An S3 endpoint: http(s), a host, and no user name, password, query or fragment."""
    text = check_url(value)
    parts = urlsplit(text)
    if "@" in parts.netloc:
        raise fail(
            "endpoint",
            "must not contain a user name or password (credentials come from the AWS chain: environment, profile, role), got {got!r}",
            got=_hide_credentials(text),
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError:
        raise fail("endpoint", "has a port that is not a number from 1 to 65535, got {got!r}", got=text) from None
    if not parts.hostname:
        raise fail("endpoint", "expected a host name, e.g. https://s3.eu-west-2.amazonaws.com, got {got!r}", got=text)
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise fail("endpoint", "must not contain '?' or '#' (a query or fragment), got {got!r}", got=text)
    return text


def _hide_credentials(url: str) -> str:
    # Never echo a password back into a log.
    parts = urlsplit(url)
    return parts._replace(netloc="…@" + parts.netloc.rsplit("@", 1)[1]).geturl()


Bucket = Annotated[str, BeforeValidator(check_bucket), describe_string(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", "S3 bucket name")]
Region = Annotated[str, BeforeValidator(check_region), describe_string(r"^[a-z0-9]+(-[a-z0-9]+)*$", "region, e.g. eu-west-2")]
Prefix = Annotated[
    str, BeforeValidator(check_prefix), describe_string(r"^[A-Za-z0-9._-][A-Za-z0-9._/-]*$", "key prefix, e.g. notices")
]
EndpointUrl = Annotated[
    str, BeforeValidator(check_endpoint), describe_string(r"^https?://[^\s]+$", "S3 endpoint URL (http or https)", format="uri")
]
