"""`watchfloor backtest` with a coup pack grouped by where the coup happened (outside trial 56, M1): a capture of
`role: any` takes the country the headline is about, its lead before ':' included ("Niger: …"), and not the
first country named ("… hits U.S. ally Niger", as `kind: country` took it). Headlines written for this test."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

PACK = """\
version: 2
name: coup-scene
entities:
  NER: {name: Niger, kind: country, aliases: [Niger, Nigerien]}
  GAB: {name: Gabon, kind: country, aliases: [Gabon]}
  USA: {name: United States, kind: country, aliases: [U.S., United States]}
signals:
  coup:
    match: {any: [coup, putsch, declares himself leader]}
    capture:
      country: {%s}
detections:
  - id: coup
    title: "Coup in {country}"
    severity: high
    pattern: {any: coup}
    group_by: [country]
"""
LEAD = "Niger: general declares himself leader"
ALLY = "Coup attempt hits U.S. ally Niger"


def _titles(tmp_path: Path, capture: str, headline: str) -> list[str]:
    pack = tmp_path / "coup.yaml"
    pack.write_text(PACK % capture)
    events = tmp_path / "news.jsonl"
    item = {"type": "news.article", "id": "c-1", "published_at": "2025-03-02T09:00:00+00:00", "source": "Wire A"}
    events.write_text(json.dumps({**item, "title": headline, "body": ""}) + "\n")
    out = tmp_path / "bt.json"
    res = CliRunner().invoke(app, ["backtest", str(events), "--rules", str(pack), "--json", str(out)])
    assert res.exit_code == 0, res.output
    return [a["title"] for a in json.loads(out.read_text())["alerts"]]


def test_a_coup_grouped_by_its_place_names_niger(tmp_path: Path) -> None:
    scene = "entities: [NER, GAB], role: any"
    assert _titles(tmp_path, scene, LEAD) == ["Coup in Niger"]
    assert _titles(tmp_path, scene, ALLY) == ["Coup in Niger"]
    # What the forms without a role take: the actor is not the lead, the first country is the U.S.
    assert _titles(tmp_path, "entities: [NER, GAB]", LEAD) == []
    assert _titles(tmp_path, "kind: country", ALLY) == ["Coup in United States"]
