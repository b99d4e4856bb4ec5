"""A missed item read several ways by its rule says what held back the reading that got furthest (outside trial 68,
MED-1: a sanctions report held back by its sequence rule's realert was said to be missed for the recap reading of
its background "after last week's coup", pointing the author at the wrong setting). Items and pack written for this
test (invented countries)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()

PACK = """\
version: 2
name: coup-sanctions
language: en
entities:
  ALF: {name: Alphaland, kind: country, aliases: [Alphaland]}
signals:
  coup:
    match: {any: [coup]}
    capture: {country: {entities: [ALF], role: any}}
  sanctions:
    match: {any: [sanctions]}
    capture: {country: {entities: [ALF], role: any}}
detections:
  - id: coup-then-sanctions
    title: "Sanctions on {country} after coup"
    severity: high
    labels: [SANCTIONS]
    pattern: {sequence: [coup, sanctions]}
    within: 30d
    group_by: [country]
    realert: 1d
"""

ITEMS = [
    ("s1", "2024-03-01T08:00:00+00:00", "A coup in Alphaland, the army says"),
    ("s2", "2024-03-01T10:00:00+00:00", "Neighbours impose sanctions on Alphaland"),
    # within the realert: its sanctions reading is held back by the alert of s2; its "coup" reads recap
    ("s3", "2024-03-01T12:00:00+00:00", "More sanctions on Alphaland after last week's coup"),
]


def test_the_missed_reason_is_the_realert_of_the_reading_that_got_furthest(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps({"type": "news.article", "id": i, "published_at": at, "source": "Wire", "title": t}) + "\n"
            for i, at, t in ITEMS
        ),
        encoding="utf-8",
    )
    labels = tmp_path / "labels.csv"
    # two events: the alert of s2 told its own, not the second imposer's (s3)
    labels.write_text("id,label,event\ns2,SANCTIONS,first\ns3,SANCTIONS,second\n", encoding="utf-8")
    out = tmp_path / "out.json"
    res = runner.invoke(
        app,
        ["backtest", str(events), "--rules", str(pack), "--labels", str(labels), "--json", str(out)],
        env={"COLUMNS": "400"},
    )
    assert res.exit_code == 0, res.output
    why = {e["id"]: e.get("why", "") for e in json.loads(out.read_text())["scores"]["events"]}
    assert why["s2"] == ""  # caught
    assert why["s3"].startswith("realert: coup-then-sanctions for country=ALF alerted at"), why
