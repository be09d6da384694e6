"""The base of every pipeline model, and the list limits the models share."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# List limits (README, "Settings a school inherits"): far above any real trust, low enough that a runaway list
# is refused at once rather than rendered for minutes.
MAX_ADDRESS_LINES = 6
MAX_LOCAL_RECIPIENTS = 200
MAX_PURPOSES = 100
MAX_CATEGORIES = 100
MAX_OVERRIDES = 100
MAX_RECIPIENTS = 200
MAX_PARAGRAPHS = 100
MAX_VOLUNTARY = 50
MAX_APPROVERS = 50


class Frozen(BaseModel):
    """Base for every model: immutable, and unknown fields are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")
