"""Rules on GDELT's coded fields over a real export ($WATCHFLOOR_DATA/gdelt/spark-gdelt/eventsT.csv, 100 rows of
2015 and 2020): `run --once` of a folder source and `backtest --config` raise the same alerts, on the events whose
codes the rules name (outside trial 65, MED-2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

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
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(shared_data / "gdelt" / "spark-gdelt" / "eventsT.csv", folder / "20200318103000.export.CSV")
    (tmp_path / "pack.yaml").write_text(PACK, encoding="utf-8")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [pack.yaml]\nsources: [{{kind: gdelt, path: inbox}}]\n"
        "channels:\n  - {type: file, name: file, path: alerts.jsonl}\nsubscriptions:\n  - {channel: file}\n",
        encoding="utf-8",
    )
    live = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert live.exit_code == 0, live.output
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
