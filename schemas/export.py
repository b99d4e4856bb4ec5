"""JSON Schema export: the input contract, event payloads, rule packs and config, for editors and producers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from . import inputs as contract
from .config import AppConfig
from .events import SCHEMA_VERSION, Alert, CaughtUp, DeadLetter, Delivery, Detection, Event, Retraction, Signal
from .rules import pack_durations, rule_pack_json_schema

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def input_document_schema() -> dict[str, Any]:
    """The input contract of DESIGN §4, as users write it (looser than the stored Document)."""
    return {
        "$schema": DRAFT,
        "title": "watchfloor input document",
        "description": (
            "One line of a JSON Lines input file: at most 4 MiB (or 8 bytes per allowed body character), "
            "published between the years 1800 and 2999 (UTC); see the README's Input section."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": ["type", "published_at", "source"],
        "anyOf": [{"required": ["title"]}, {"required": ["body"]}],
        "properties": {
            "type": {"enum": ["news.article", "official.statement"]},
            "id": {
                "type": ["string", "integer"],
                "maxLength": contract.MAX_ID_CHARS,
                "pattern": "^[^\u0000]*$",
                "description": "Else derived from url or a content hash. No NUL character.",
            },
            "published_at": {
                "type": "string",
                "format": "date-time",
                "pattern": r"(Z|z|[+-]\d{2}:?\d{2})$",
                "description": "ISO-8601 with a UTC offset, from 1800-01-01T00:00:00Z up to (not including) "
                "3000-01-01T00:00:00Z.",
            },
            "source": {
                "oneOf": [
                    {"type": "string", "minLength": 1, "maxLength": contract.MAX_NAME_CHARS},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1, "maxLength": contract.MAX_NAME_CHARS},
                            "url": {"type": ["string", "null"], "maxLength": contract.MAX_URL_CHARS},
                            "kind": {"type": ["string", "null"], "maxLength": contract.MAX_SHORT_CHARS},
                        },
                    },
                ]
            },
            "url": {"type": "string", "maxLength": contract.MAX_URL_CHARS},
            "title": {"type": "string", "maxLength": contract.MAX_TITLE_CHARS},
            "body": {
                "type": "string",
                "maxLength": contract.DEFAULT_MAX_BODY_CHARS,
                "description": "The limit is the config's max_body_chars (default 200,000).",
            },
            "language": {"type": "string", "maxLength": contract.MAX_SHORT_CHARS},
            "issuer": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "maxLength": contract.MAX_NAME_CHARS},
                    "country": {"type": ["string", "null"], "maxLength": contract.MAX_SHORT_CHARS},
                },
            },
            "metadata": {
                "type": "object",
                "description": f"At most {contract.MAX_METADATA_BYTES} bytes as compact JSON, objects and arrays "
                f"nested at most {contract.MAX_METADATA_DEPTH} levels deep (metadata itself is level 1).",
            },
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
        "config": pack_durations(_model_schema(AppConfig, "watchfloor config")),
    }


def export_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        p = directory / f"{name}.schema.json"
        p.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(p)
    return written
