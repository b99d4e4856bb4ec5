"""A backfill beyond the lateness alerts live (`run --once`) as `backtest` of the same reports does, however many
alerts its group raised before (outside trial 77, F1: with 4 and more live alerts of the group, a backfill's second
report 3h after its first alerted too, `sent (followup)`, where the backtest names it a near miss "quiet for 12h").
Headlines written for this test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

pytestmark = pytest.mark.functional

PACK = """version: 2
name: harbour-desk
language: en
settings: {lateness: 2d}
entities:
  UA: {name: Ukraine, kind: country, aliases: [Ukraine, Ukrainian, Odesa]}
signals:
  port_strike:
    match: {any: [strike, drone, shelling]}
    mentions: {any: [UA]}
detections:
  - id: port-strike
    title: "A strike on a Ukrainian port"
    severity: low
    pattern: {any: port_strike}
    realert: 12h
    corroborate: {distinct: source, at_least: 2, within: 12h, severity: medium}
"""


def item(at: str, source: str, title: str) -> str:
    return json.dumps({"type": "news.article", "published_at": at, "source": source, "title": title}) + "\n"


def run(*args: str) -> str:
    res = CliRunner().invoke(app, [*args])
    assert res.exit_code == 0, res.output
    return res.output


@pytest.mark.parametrize("n", [3, 4, 10])
def test_a_backfill_after_n_live_alerts_raises_what_the_backtest_raises(tmp_path: Path, n: int) -> None:
    (tmp_path / "pack.yaml").write_text(PACK, encoding="utf-8")
    live, old = tmp_path / "live.jsonl", tmp_path / "old.jsonl"
    live.write_text(
        "".join(item(f"2023-09-{5 + k:02d}T12:00:00+00:00", "Harbour Wire", f"Drones strike Odesa docks, night {k + 1}")
                for k in range(n)),
        encoding="utf-8",
    )  # fmt: skip
    old.write_text("", encoding="utf-8")
    config = tmp_path / "wf.yaml"
    config.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{tmp_path / 'pack.yaml'}]\n"
        f"sources: [{{kind: jsonl, path: {live}}}, {{kind: jsonl, path: {old}}}]\n"
        f"channels: [{{type: file, name: archive, path: {tmp_path / 'alerts.jsonl'}}}]\n"
        "subscriptions: [{channel: archive}]\n",
        encoding="utf-8",
    )
    run("run", "--once", "--config", str(config))
    # A month earlier, two reports of the group 3h apart, read in one later pass (beyond the 2d lateness).
    old.write_text(
        item("2023-08-01T06:00:00+00:00", "Archive Desk", "Shelling hits Odesa grain terminal")
        + item("2023-08-01T09:00:00+00:00", "Archive Desk", "Odesa drone strike damages a warehouse"),
        encoding="utf-8",
    )
    out = run("run", "--once", "--config", str(config))
    assert "2 late" in out  # beyond the lateness indeed
    rows = run("alerts", "list", "--all", "--json", "--config", str(config)).splitlines()
    listed = [json.loads(line) for line in rows if line.startswith("{")]
    report = tmp_path / "bt.json"
    run("backtest", "--rules", str(tmp_path / "pack.yaml"), str(live), str(old), "--json", str(report))
    backtest = json.loads(report.read_text(encoding="utf-8"))["alerts"]
    assert sorted(a["id"] for a in listed) == sorted(a["id"] for a in backtest)
    assert [a["fired_at"] for a in listed if a["fired_at"].startswith("2023-08")] == ["2023-08-01T06:00:00+00:00"]
