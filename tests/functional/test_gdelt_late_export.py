"""A GDELT export added to a folder later with an older event: `run` holds it back as the backtest does (outside trial
72, HIGH-1: a re-listed 1982 event re-alerted live, posted twice) and the backtest says it was late live (MED-1)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.unit.test_gdelt_producer import line, row
from watchfloor.cli import app

runner = CliRunner()

PACK = """\
version: 2
name: conflict-desk
language: en
settings: {lateness: 7d}
signals:
  conflict:
    match: GDELT event
    gdelt: {quad_classes: [4]}
    capture:
      place: {gdelt: action_country}
detections:
  - id: conflict
    title: "Conflict in {place}"
    severity: medium
    pattern: {any: conflict}
    group_by: [place]
    realert: 1d
"""


def export(folder: Path, name: str, *events: tuple[str, str]) -> None:
    """An export of material-conflict events in Moscow: (event id, day)."""
    rows = [line(row(eid, day=day, added=day + "000000", code="190", root="19", quad="4")) for eid, day in events]
    (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_an_older_event_in_an_export_added_later_is_held_back_live_as_in_the_backtest(tmp_path: Path) -> None:
    """First poll: the group alerts on 1 Sep, 10 Sep and 1 Oct (a day and more apart); the sweep at the poll's end drops
    the September alerts. Then an export of another event of 1 Sep is added: late, within the day after the 1 Sep
    alert, which the backtest holds it back by. Live raised it (it met only the 10 Sep throttle state)."""
    (tmp_path / "pack.yaml").write_text(PACK, encoding="utf-8")
    folder = tmp_path / "gdelt"
    folder.mkdir()
    export(folder, "20240910000000.export.CSV", ("1194000001", "20240901"), ("1194000002", "20240910"))
    export(folder, "20241001000000.export.CSV", ("1194000003", "20241001"))
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{tmp_path / 'pack.yaml'}]\n"
        f"sources: [{{kind: gdelt, path: {folder}}}]\n"
        "channels:\n  - {type: file, name: file, path: alerts.jsonl}\nsubscriptions:\n  - {channel: file}\n",
        encoding="utf-8",
    )
    first = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert first.exit_code == 0, first.output
    assert "3 alerts" in first.output, first.output
    export(folder, "20241002000000.export.CSV", ("1194000004", "20240901"))
    second = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert second.exit_code == 0, second.output
    assert "1 late" in second.output and "0 alerts" in second.output, second.output
    sent = [json.loads(x)["id"] for x in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    out = tmp_path / "bt.json"
    bt = runner.invoke(app, ["backtest", "--config", str(cfg), "--json", str(out)])
    assert bt.exit_code == 0, bt.output
    assert sorted(a["id"] for a in json.loads(out.read_text())["alerts"]) == sorted(sent) and len(sent) == 3
    said = " ".join(bt.output.split())
    assert "note: 1 document of GDELT exports comes after an export of the same source" in said, bt.output
