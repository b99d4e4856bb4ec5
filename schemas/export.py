"""JSON Schema export: the input contract, event payloads, rule packs and config, for editors and producers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .config import AppConfig
from .events import SCHEMA_VERSION, Alert, CaughtUp, DeadLetter, Delivery, Detection, Event, Retraction, Signal
from .rules import rule_pack_json_schema

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def input_document_schema() -> dict[str, Any]:
    """The input contract of DESIGN §4, as users write it (looser than the stored Document)."""
    return {
        "$schema": DRAFT,
        "title": "watchfloor input document",
        "description": "One line of a JSON Lines input file.",
        "type": "object",
        "additionalProperties": False,
        "required": ["type", "published_at", "source"],
        "anyOf": [{"required": ["title"]}, {"required": ["body"]}],
        "properties": {
            "type": {"enum": ["news.article", "official.statement"]},
            "id": {"type": ["string", "integer"], "description": "Else derived from url or a content hash."},
            "published_at": {
                "type": "string",
                "format": "date-time",
                "pattern": r"(Z|z|[+-]\d{2}:?\d{2})$",
                "description": "ISO-8601 with a UTC offset.",
            },
            "source": {
                "oneOf": [
                    {"type": "string", "minLength": 1},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "url": {"type": ["string", "null"]},
                            "kind": {"type": ["string", "null"]},
                        },
                    },
                ]
            },
            "url": {"type": "string"},
            "title": {"type": "string"},
            "body": {"type": "string"},
            "language": {"type": "string"},
            "issuer": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "country": {"type": ["string", "null"]}},
            },
            "metadata": {"type": "object"},
        },
    }


def _model_schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema["$schema"] = DRAFT
    schema["title"] = title
    schema["x-schema-version"] = SCHEMA_VERSION
    return schema


def all_schemas() -> dict[str, dict[str, Any]]:
    return {
        "input-document": input_document_schema(),
        "event": _model_schema(Event, "watchfloor event envelope"),
        "signal": _model_schema(Signal, "watchfloor signal payload"),
        "detection": _model_schema(Detection, "watchfloor detection payload"),
        "retraction": _model_schema(Retraction, "watchfloor retraction payload (event type detection.retracted)"),
        "caught-up": _model_schema(CaughtUp, "watchfloor caught-up payload (a producer drained its sources)"),
        "alert": _model_schema(Alert, "watchfloor alert payload"),
        "delivery": _model_schema(Delivery, "watchfloor delivery payload"),
        "dead-letter": _model_schema(DeadLetter, "watchfloor dead-letter payload"),
        "rule-pack": rule_pack_json_schema(),
        "config": _model_schema(AppConfig, "watchfloor config"),
    }


def export_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        p = directory / f"{name}.schema.json"
        p.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(p)
    return written
