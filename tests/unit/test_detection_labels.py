"""A detection may declare the ground-truth labels it answers (`labels:`), which scored backtests read."""

from __future__ import annotations

from pathlib import Path

from watchfloor.schemas.rules import rule_pack_json_schema
from watchfloor.stream_processors.rulefile import load_rules

PACK = """\
version: 1
name: mini
entities:
  ALPHA: {name: Alphaland, kind: country, aliases: [Alphaland]}
signals:
  closure:
    match: {all: [closed, border]}
    mentions: {any: [ALPHA]}
detections:
  - id: border-closed
    title: border closed
    pattern: {any: closure}
    labels: [BORDER_CLOSED, BORDER_SHUT]
  - id: border-closed-twice
    title: border closed twice
    pattern: {count: {signal: closure, at_least: 2}}
    within: 2d
"""


def test_labels_are_read_and_default_to_none(tmp_path: Path) -> None:
    p = tmp_path / "pack.yaml"
    p.write_text(PACK, encoding="utf-8")
    _loaded, compiled = load_rules([str(p)])
    labels = {d.id: d.definition.labels for d in compiled.detections}
    assert labels == {"border-closed": ["BORDER_CLOSED", "BORDER_SHUT"], "border-closed-twice": []}


def test_labels_are_in_the_published_schema() -> None:
    schema = rule_pack_json_schema()
    det = schema["$defs"]["DetectionDef"]["properties"]
    assert det["labels"]["type"] == "array"
