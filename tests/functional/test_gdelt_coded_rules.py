"""Rules on GDELT's coded fields over a real export ($WATCHFLOOR_DATA/gdelt/spark-gdelt/eventsT.csv, 100 rows of
2015 and 2020): `run --once` of a folder source and `backtest --config` raise the same alerts, on the events whose
codes the rules name (outside trial 65, MED-2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.cli import app

pytestmark = pytest.mark.data
runner = CliRunner()

PACK = """\
version: 2
name: gdelt-coded
signals:
  hard_conflict:
    match: GDELT event            # every GDELT row's facts sentence: the codes decide
    gdelt: {quad_classes: [4], goldstein: {at_most: -9}, min_mentions: 5}
  us_force:
    match: military force
    gdelt: {event_codes: ["19"], actor1_countries: [USA], action_countries: [SY]}
detections:
  - id: hard-conflict
    title: Material conflict, Goldstein -9 or less (GDELT)
    pattern: {any: hard_conflict}
    realert: 0s
  - id: us-force
    title: US military force in Syria (GDELT)
    pattern: {any: us_force}
"""


def test_run_and_backtest_raise_the_coded_alerts(tmp_path: Path, shared_data: Path) -> None:
    export = shared_data / "gdelt" / "spark-gdelt" / "eventsT.csv"
    cfg, live = _run_export(tmp_path, export, "20200318103000.export.CSV", PACK)
    rows = [json.loads(x) for x in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    fired = sorted((r["detection"]["rule"], r["detection"]["evidence"][0]["event_id"]) for r in rows)
    # The row's codes, not its words: Yemen's torture (1822, -9, 10 mentions), Pretoria's assassination (186, -10,
    # 8), Al Qaeda's violence (180, -9, 6) and Obama's force (190, -10, 10); not the 4-mention rows of the same
    # codes, nor Venezuela's halted negotiations (164, -7).
    assert fired == [
        ("hard-conflict", "gdelt:410412338"),
        ("hard-conflict", "gdelt:410412341"),
        ("hard-conflict", "gdelt:913094860"),
        ("hard-conflict", "gdelt:913095749"),
        ("us-force", "gdelt:913095749"),
    ], live.output
    res = runner.invoke(app, ["backtest", "--config", str(cfg), "--json", str(tmp_path / "bt.json")])
    assert res.exit_code == 0, res.output
    replayed = sorted(a["id"] for a in json.loads((tmp_path / "bt.json").read_text())["alerts"])
    assert replayed == sorted(r["id"] for r in rows)


DESK = """\
version: 2
name: gdelt-desk
signals:
  hostile_abroad:                 # widely reported, dark in tone, and no actor the USA or of no country
    match: GDELT event
    gdelt:
      quad_classes: [4]
      avg_tone: {at_most: -5}
      min_articles: 5
      countries: {none: [USA, unknown]}
  unplaced_force:                 # force by an actor GDELT placed in no country, in two outlets or more
    match: GDELT event
    gdelt: {event_codes: ["19", "18"], actor1_countries: [unknown], min_sources: 2}
detections:
  - id: hostile-abroad
    title: Material conflict abroad (GDELT)
    pattern: {any: hostile_abroad}
    realert: 0s
  - id: unplaced-force
    title: Force by an actor of no country (GDELT)
    pattern: {any: unplaced_force}
    realert: 0s
"""


def test_counts_tone_and_countries_left_out_run_and_backtest_alike(tmp_path: Path, shared_data: Path) -> None:
    """Outside trial 70, M4: NumSources, NumArticles, AvgTone, "any actor but the USA" and actors of no country,
    over a real GDELT 1.0 day (gdelt1_daily_sample_20160728_reed9999.tsv, 448 root events): `run --once` of a folder
    source and `backtest --config` raise the same alerts."""
    cfg, live = _run_the_day(tmp_path, shared_data, DESK)
    rows = [json.loads(x) for x in _lines(tmp_path)]
    fired = sorted((r["detection"]["rule"], r["detection"]["evidence"][0]["event_id"]) for r in rows)
    assert fired == [
        ("hostile-abroad", "gdelt:564137628"),  # Israel fights Palestinians (tone -7.4, 5 articles)
        ("hostile-abroad", "gdelt:564442632"),  # Turkey expels Germans
        ("unplaced-force", "gdelt:564160386"),  # "Police" (no country) in Perth, 50 articles
        ("unplaced-force", "gdelt:564160446"),
        ("unplaced-force", "gdelt:564160456"),
    ], live.output
    res = runner.invoke(app, ["backtest", "--config", str(cfg), "--json", str(tmp_path / "bt.json")])
    assert res.exit_code == 0, res.output
    replayed = sorted(a["id"] for a in json.loads((tmp_path / "bt.json").read_text())["alerts"])
    assert replayed == sorted(r["id"] for r in rows)


FORCE = """\
version: 2
name: force
signals:
  force:
    match: military force
detections:
  - id: force
    title: Military force
    pattern: {any: force}
    group_by: [source]
"""


def _texts(obj: Any) -> str:
    if isinstance(obj, str):
        return obj.replace("\u200b", "")  # (the zero-width space that keeps "10:30" from reading as an emoji code)
    if isinstance(obj, dict):
        return "\n".join(_texts(v) for v in obj.values())
    if isinstance(obj, list):
        return "\n".join(_texts(v) for v in obj)
    return ""


def test_a_gdelt_alert_shows_the_coded_facts(tmp_path: Path, shared_data: Path, slack_server: FakeSlack) -> None:
    """Outside trial 65, MED-3 (trial 59, LOW-1): an alert on a GDELT event quoted only its title, dated by DATEADDED.
    It now shows the CAMEO code and its description, the Goldstein scale, the mentions, the actors with their
    countries, the action's place and the event's own date beside the time GDELT added it: in the console, the file
    channel's record and the Slack message. An article's alert of the same rule shows none of them."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(shared_data / "gdelt" / "spark-gdelt" / "eventsT.csv", folder / "20200318103000.export.CSV")
    article = tmp_path / "news.jsonl"
    article.write_text(
        json.dumps(
            {
                "id": "wire-1",
                "type": "news.article",
                "published_at": "2020-03-18T11:00:00Z",
                "source": "Wire A",
                "title": "Coalition uses military force near Raqqa",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    (tmp_path / "pack.yaml").write_text(FORCE, encoding="utf-8")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [pack.yaml]\n"
        f"sources: [{{kind: gdelt, path: inbox}}, {{kind: jsonl, path: {article}}}]\n"
        "channels:\n  - {type: console, name: console}\n  - {type: file, name: file, path: alerts.jsonl}\n"
        f'  - {{type: slack, name: desk, channel: "#desk", token_env: WF_TEST_SLACK, '
        f'base_url: "{slack_server.base_url}"}}\n'
        "subscriptions:\n  - {channel: console}\n  - {channel: file}\n  - {channel: desk}\n",
        encoding="utf-8",
    )
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": "", "COLUMNS": "200"}
    live = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    assert live.exit_code == 0, live.output
    rows = {r["detection"]["group"]["source"]: r["detection"] for r in map(json.loads, _lines(tmp_path))}
    assert set(rows) == {"bbc.com", "Wire A"}
    assert rows["bbc.com"]["attributes"] == {
        "cameo_event": ["190 Use conventional military force (root 19, material conflict)"],
        "goldstein": ["-10"],
        "mentions": ["10 in 1 source, 10 articles"],
        "actors": ["Obama (USA, United States), government"],
        "action_geo": ["Syria (SY)"],
        "event_date": ["2020-03-18 (added by GDELT 2020-03-18 10:30 UTC)"],
    }
    assert rows["Wire A"]["attributes"] == {}
    out = " ".join(live.output.split())
    assert "cameo_event 190 Use conventional military force (root 19, material conflict)" in out, live.output
    assert "event_date 2020-03-18 (added by GDELT 2020-03-18 10:30 UTC)" in out, live.output
    posted = {_texts(m["blocks"]) for m in slack_server.messages_for(rows["bbc.com"]["id"])}
    assert len(posted) == 1, posted
    [text] = posted
    for label, value in (
        ("CAMEO event", "190 Use conventional military force (root 19, material conflict)"),
        ("Goldstein", "-10"),
        ("Mentions", "10 in 1 source, 10 articles"),
        ("Actors", "Obama (USA, United States), government"),
        ("Action place", "Syria (SY)"),
        ("Event date", "2020-03-18 (added by GDELT 2020-03-18 10:30 UTC)"),
    ):
        assert f"*{label}*\n{value}" in text, text
    [wire] = [_texts(m["blocks"]) for m in slack_server.messages_for(rows["Wire A"]["id"])]
    assert "CAMEO event" not in wire and "Goldstein" not in wire


def _run_the_day(tmp_path: Path, shared_data: Path, pack: str) -> tuple[Path, Any]:
    """`run --once` of a folder source holding the real GDELT 1.0 day with `pack`: the config and the result."""
    day = shared_data / "gdelt" / "gdelt1_daily_sample_20160728_reed9999.tsv"
    return _run_export(tmp_path, day, "20160728.export.CSV", pack)


def _run_export(tmp_path: Path, export: Path, name: str, pack: str) -> tuple[Path, Any]:
    """`run --once` of a folder source holding `export` (as `name`) with `pack`: the config and the result."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(export, folder / name)
    (tmp_path / "pack.yaml").write_text(pack, encoding="utf-8")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [pack.yaml]\nsources: [{{kind: gdelt, path: inbox}}]\n"
        "channels:\n  - {type: file, name: file, path: alerts.jsonl}\nsubscriptions:\n  - {channel: file}\n",
        encoding="utf-8",
    )
    live = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert live.exit_code == 0, live.output
    return cfg, live


def _lines(tmp_path: Path) -> list[str]:
    return (tmp_path / "alerts.jsonl").read_text().splitlines()


CODES_LEFT_OUT = """\
version: 2
name: gdelt-codes-left-out
signals:
  fighting_but_force:             # root 19 (fighting) but not 190, its plain "use conventional military force"
    match: GDELT event
    gdelt: {event_codes: {any: ["19"], none: ["190"]}}
  conflict_not_fighting:          # material conflict short of fighting: coerce (17), assault (18), protest…
    match: GDELT event
    gdelt: {quad_classes: {none: [1, 2, 3]}, event_codes: {none: ["19"]}}
detections:
  - id: fighting-but-force
    title: Fighting other than conventional force (GDELT)
    pattern: {any: fighting_but_force}
    realert: 0s
  - id: conflict-not-fighting
    title: Material conflict short of fighting (GDELT)
    pattern: {any: conflict_not_fighting}
    realert: 0s
"""


def test_event_codes_and_quad_classes_left_out_run_and_backtest_alike(tmp_path: Path, shared_data: Path) -> None:
    """`none:` on event_codes (a prefix) and quad_classes over the real GDELT 1.0 day (448 root events): of its 33
    root-19 events 11 are not 190; of its 67 material conflicts 34 are not root 19. `run --once` and `backtest
    --config` raise the same alerts."""
    cfg, live = _run_the_day(tmp_path, shared_data, CODES_LEFT_OUT)
    rows = [json.loads(x) for x in _lines(tmp_path)]
    rules = [r["detection"]["rule"] for r in rows]
    assert (rules.count("fighting-but-force"), rules.count("conflict-not-fighting")) == (11, 34), live.output
    res = runner.invoke(app, ["backtest", "--config", str(cfg), "--json", str(tmp_path / "bt.json")])
    assert res.exit_code == 0, res.output
    replayed = sorted(a["id"] for a in json.loads((tmp_path / "bt.json").read_text())["alerts"])
    assert replayed == sorted(r["id"] for r in rows)
