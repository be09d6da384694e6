"""Every setting read from the environment, in one place: ``$NOTICES_*`` (and ``$XDG_STATE_HOME``).

``read_settings()`` is the only reader of ``os.environ`` in the package. It is called where a
setting is needed, not once at import, so a test's ``monkeypatch.setenv`` or a deployment's
job variables take effect for the next run in the same process. A value that breaks its
rule is refused with a ``SettingsError`` that names the variable, what it expects, and the
value given (``$NOTICES_S3_READ_TIMEOUT: a positive number, got 'soon'``).

An empty variable counts as unset, as in a shell (``NOTICES_RETRY_DELAYS= notices publish``).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "NOTICES_"

# The publishing-target variables, by the trust file's field they override.
PUBLISHING_VARIABLES = {
    "endpoint_url": "NOTICES_S3_ENDPOINT",
    "bucket": "NOTICES_S3_BUCKET",
    "region": "NOTICES_S3_REGION",
    "prefix": "NOTICES_S3_PREFIX",
    "public_base_url": "NOTICES_PUBLIC_BASE_URL",
}


class SettingsError(ValueError):
    """A variable's value breaks its rule; the message names the variable and the value."""


class Settings(BaseSettings):
    """What the environment says; every field is optional, with the default the README gives."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", frozen=True)

    # Where the trust's configuration is (after --schools / --shared-data and ./schools, ./shared_data).
    schools: str | None = None
    shared_data: str | None = None

    # The publishing target, over the trust file's ``publishing:`` (checked with its rules in
    # ``flows.config.loading``, so these stay plain text here).
    s3_endpoint: str | None = None
    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_prefix: str | None = None
    public_base_url: str | None = None

    # How requests to S3 fail (``flows.publish.transport``).
    s3_connect_timeout: float = Field(3.0, gt=0)
    s3_read_timeout: float = Field(10.0, gt=0)
    s3_attempts: int = Field(5, gt=0)
    s3_circuit_failures: int = Field(8, gt=0)
    s3_circuit_cooldown: float = Field(30.0, gt=0)

    # The embedded S3 (``flows.embedded_s3``).
    state_dir: str | None = None
    xdg_state_home: str | None = Field(None, validation_alias=AliasChoices("XDG_STATE_HOME"))
    s3_port: int = Field(8333, gt=0, lt=65536)
    weed: str | None = None
    prefect_port: int = Field(4200, gt=0, lt=65536)  # the local Prefect server (``flows.runs.local_server``)
    # Prefect's own: a server named here wins over the local one.
    prefect_api_url: str | None = Field(None, validation_alias=AliasChoices("PREFECT_API_URL"))

    # The trust's log key (``flows.publish.log_key``): the key itself (a secret), or its file.
    log_key: SecretStr | None = None
    log_key_file: str | None = None
    log_previous_key: SecretStr | None = None
    """When the key changes: the old private key (it co-signs, so readers move to the new key), or,
    if it was lost, its public key (``_log/key.txt``): the new key then continues the log."""

    # A run (``flows.runs``).
    max_task_runs: int = Field(250, ge=1)
    retry_delays: str | None = None
    dask_workers: int | None = Field(None, ge=1)
    pdf_workers: int | None = Field(None, ge=0)
    approval_timeout_seconds: int | None = Field(None, gt=0)
    pause_poll: int = Field(10, gt=0)
    run_token: str = ""

    def publishing_overrides(self) -> dict[str, tuple[str, str]]:
        """The publishing settings the environment gives: ``{"$VARIABLE": (field, value)}``."""
        values = {
            "endpoint_url": self.s3_endpoint,
            "bucket": self.s3_bucket,
            "region": self.s3_region,
            "prefix": self.s3_prefix,
            "public_base_url": self.public_base_url,
        }
        return {f"${PUBLISHING_VARIABLES[name]}": (name, value) for name, value in values.items() if value}

    def state_base(self) -> Path:
        """The project's state folder: ``$NOTICES_STATE_DIR``, else ``<state home>/trust-notices``."""
        return Path(self.state_dir) if self.state_dir else self.state_home() / "trust-notices"

    def state_home(self) -> Path:
        """Where per-user state lives: ``$XDG_STATE_HOME``, else ``~/.local/state``."""
        return Path(self.xdg_state_home) if self.xdg_state_home else Path.home() / ".local" / "state"


class _RunToken(BaseSettings):
    """Only the run token: the guard must find it even when another variable is invalid."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    run_token: str = ""


def run_token() -> str:
    """``$NOTICES_RUN_TOKEN``, read alone: a bad unrelated variable must not stop the guard's clean-up."""
    return _RunToken().run_token


_EXPECTED = {
    "float_parsing": "a number",
    "int_parsing": "a whole number",
    "greater_than": "a positive number",
    "greater_than_equal": "a number of at least {ge}",
    "less_than": "a number below {lt}",
}


def environment_with(**extra: str) -> dict[str, str]:
    """This process's environment plus ``extra``: for a child that needs a few variables more."""
    return {**os.environ, **extra}


def read_settings() -> Settings:
    """The settings the environment gives now; raises ``SettingsError`` naming each bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError("; ".join(_describe(error) for error in exc.errors())) from None


def _describe(error: object) -> str:
    assert isinstance(error, dict)
    field = str(error["loc"][0]) if error.get("loc") else "?"
    variable = "XDG_STATE_HOME" if field == "xdg_state_home" else PREFIX + field.upper()
    template = _EXPECTED.get(str(error.get("type", "")), str(error.get("msg", "a valid value")))
    expected = template.format(**(error.get("ctx") or {}))
    return f"${variable}: {expected}, got {error.get('input')!r}"
