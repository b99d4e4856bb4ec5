"""`watchfloor backtest` with a pack that captures who deepened military ties and with whom (outside trial 81, F3):
the actor capture and a `role: any` partner over the same countries made "Russia military ties with Russia" of a
report naming Russia alone, and that self-pair opened a story. The partner now takes another country than the actor,
or none (a near miss saying which capture took the one named), and `rules explain` says so. Reports written for this
test."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

PACK = """\
version: 2
name: ties
entities:
  RUS: {name: Russia, kind: country, aliases: [Russia, Moscow]}
  PRK: {name: North Korea, kind: country, aliases: [North Korea, Pyongyang]}
signals:
  ties:
    match: {any: [military ties, military cooperation]}
    capture:
      actor: {entities: [RUS, PRK]}
      partner: {entities: [RUS, PRK], role: any}
detections:
  - id: ties
    title: "{actor} military ties with {partner}"
    severity: medium
    pattern: {any: ties}
    group_by: [actor, partner]
"""
REPORTS = [
    ("t-1", "2024-06-10T08:00:00+00:00", "Wire A", "Moscow pledges deeper military ties after summit season"),
    ("t-2", "2024-06-12T08:00:00+00:00", "Wire B", "Russia expands military cooperation with North Korea"),
    ("t-3", "2024-06-13T08:00:00+00:00", "Wire C", "Pyongyang praises military ties with Moscow"),
    ("t-4", "2024-06-14T08:00:00+00:00", "Wire D", "North Korea seeks military cooperation on missiles"),
]


def _files(tmp_path: Path) -> tuple[Path, Path]:
    pack = tmp_path / "ties.yaml"
    pack.write_text(PACK)
    events = tmp_path / "ties.jsonl"
    events.write_text(
        "".join(
            json.dumps({"type": "news.article", "id": i, "published_at": t, "source": s, "title": title, "body": ""})
            + "\n"
            for i, t, s, title in REPORTS
        )
    )
    return pack, events


def test_no_alert_pairs_a_country_with_itself(tmp_path: Path) -> None:
    pack, events = _files(tmp_path)
    out = tmp_path / "bt.json"
    res = CliRunner().invoke(app, ["backtest", str(events), "--rules", str(pack), "--json", str(out)])
    assert res.exit_code == 0, res.output
    got = json.loads(out.read_text())
    assert [a["title"] for a in got["alerts"]] == [
        "Russia military ties with North Korea",
        "North Korea military ties with Russia",
    ]
    misses = {m["document_id"]: m for m in got["near_misses"]}
    assert set(misses) == {"t-1", "t-4"}
    assert misses["t-1"]["captures"] == {"actor": "RUS"}
    (reason,) = misses["t-1"]["reasons"]
    assert reason["detail"] == (
        "ties groups by actor, partner; the sentence names RUS (Russia), not taken as its partner: no candidate "
        "named is left: capture 'actor' took \u201cmoscow\u201d (RUS) (a signal's captures take different entities; "
        "`distinct: false` lets a capture take one another took)"
    ), reason


def test_rules_explain_says_the_actor_took_the_only_candidate(tmp_path: Path) -> None:
    pack, _events = _files(tmp_path)
    text = REPORTS[3][3]
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(pack), "--text", text], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    assert "capture actor = PRK (North Korea)" in res.output, res.output
    assert "capture partner = none" in res.output and "capture 'actor' took \u201cnorth korea\u201d (PRK)" in res.output
