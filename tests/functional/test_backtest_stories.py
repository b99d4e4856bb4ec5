"""`backtest --json` says each alert's story (outside trial 81, F6): for a rule that `thread_by`, the story's first
alert's id, the same as `alerts list --json` gives for the same alert after a live `run`, so a desk previews its story
grouping before it changes its pack. The DPRK–Russia pack with `treaty-ratified` threaded by nothing (one story for
both parties) and open for 30 days: Russia's ratification (24 October) and North Korea's (12 November) are one story,
Russia's alert its first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.rulefile import builtin_dir

pytestmark = pytest.mark.functional
runner = CliRunner()
EVENTS = Path(__file__).resolve().parents[1] / "data" / "events" / "treaty_story.jsonl"
RULE = "treaty-ratified"


def pack(tmp_path: Path, threaded: bool) -> Path:
    text = (builtin_dir() / "dprk_russia.yaml").read_text(encoding="utf-8")
    head, rest = text.split(f"  - id: {RULE}\n", 1)
    rule, tail = rest.split("\n  - id: ", 1)
    rule = rule.replace("    realert: 1d\n", "    realert: 30d\n")
    if threaded:
        rule = rule.replace("    group_by: [party]\n", "    group_by: [party]\n    thread_by: []\n")
    path = tmp_path / "desk.yaml"
    path.write_text(f"{head}  - id: {RULE}\n{rule}\n  - id: {tail}", encoding="utf-8")
    return path


def wf(*args: str) -> str:
    res = runner.invoke(app, list(args), env={"COLUMNS": "200", "WATCHFLOOR_STORE": ""})
    assert res.exit_code == 0, res.output
    return res.stdout


def test_backtest_json_gives_the_story_alerts_list_gives_live(tmp_path: Path) -> None:
    rules = pack(tmp_path, threaded=True)
    out = tmp_path / "result.json"
    wf("backtest", str(EVENTS), "--rules", str(rules), "--json", str(out))
    result = json.loads(out.read_text(encoding="utf-8"))
    ratified = [a for a in result["alerts"] if a["rule"] == RULE]
    assert [a["group"]["party"] for a in ratified] == ["RUS", "PRK"], ratified
    russia = ratified[0]["id"]
    assert [a.get("story") for a in ratified] == [russia, russia], ratified
    assert all("story" not in a for a in result["alerts"] if a["rule"] != RULE)  # (no thread_by: no such story)

    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{rules}]\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS}}}\n"
        f"channels:\n  - {{type: file, name: desk, path: {tmp_path / 'desk.jsonl'}}}\n"
        "subscriptions:\n  - {channel: desk}\n",
        encoding="utf-8",
    )
    wf("run", "--once", "--config", str(cfg))
    live = [json.loads(line) for line in wf("alerts", "list", "--json", "--config", str(cfg)).splitlines()]
    assert {a["id"]: a.get("story") for a in live} == {a["id"]: a.get("story") for a in result["alerts"]}


def test_without_thread_by_no_alert_has_a_story(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    wf("backtest", str(EVENTS), "--rules", str(pack(tmp_path, threaded=False)), "--json", str(out))
    assert all("story" not in a for a in json.loads(out.read_text(encoding="utf-8"))["alerts"])
