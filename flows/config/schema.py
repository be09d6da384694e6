"""JSON Schemas of the trust file and school files, for editors that validate as you type."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from flows.config.models import SchoolFile, TrustFile

SCHEMA_BASE = "https://trust-notices.example.org/schema"


def config_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``kind``: ``"school"`` or ``"trust"``."""
    models: dict[str, type[BaseModel]] = {"school": SchoolFile, "trust": TrustFile}
    model = models[kind]
    schema = model.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}/{kind}.json",
        **schema,
    }
