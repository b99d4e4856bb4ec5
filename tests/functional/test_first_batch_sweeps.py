"""A first batch that raises an alert and carries the watermark far past it: the detections over an absence's alert
and that alert still meet (outside trial 84, F3). The engine swept a state never swept before once, at the batch's
watermark, which dropped the earlier alert from the group over both in the same sweep that raised the absence's
alert, so `run --once` of the three reports lost an alert `backtest` (document by document) raised."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

pytestmark = pytest.mark.functional
runner = CliRunner()

# composed.yaml's signals (closed, reopened) and absence (still-closed), and a detection over its alerts and another's
COMPOSED = Path(__file__).resolve().parents[1] / "data" / "rules" / "composed.yaml"
MASSED = COMPOSED.parent / "massed.yaml"


def report(i: int, at: str, text: str) -> str:
    return json.dumps(
        {"type": "news.article", "id": f"fb-{i}", "published_at": at, "source": "Wire A", "title": text, "body": text}
    )


@pytest.mark.parametrize(("last", "raised"), [("2025-03-08T12:00:00+00:00", True), ("2025-03-07T06:00:00+00:00", True)])
def test_a_first_batch_jumping_the_watermark_raises_what_backtest_raises(
    tmp_path: Path, last: str, raised: bool
) -> None:
    # troops massed on day 0; Alphaland closes its border on day 3 (still closed 12 h later: the absence's alert,
    # 3.5 days after the troops'); the last report (its text matches nothing) moves the watermark past day 0 + 5 d
    # (the group's window) + 2 d (the lateness) on 8 March, short of it on 7 March
    lines = [
        report(1, "2025-03-01T00:00:00+00:00", "Troops massed near the frontier."),
        report(2, "2025-03-04T00:00:00+00:00", "Alphaland closed the border crossing."),
        report(3, last, "A quiet day of weather."),
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rules = [str(COMPOSED), str(MASSED)]
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{', '.join(rules)}]\n"
        f"sources: [{{kind: jsonl, path: {tmp_path / 'in.jsonl'}}}]\n"
        f"channels: [{{type: file, name: f, path: {tmp_path / 'alerts.jsonl'}}}]\nsubscriptions: [{{channel: f}}]\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])  # all three in one poll: one batch
    assert res.exit_code == 0, res.output
    listed = runner.invoke(app, ["alerts", "list", "--config", str(cfg), "--json"])
    live = sorted((a["rule"], a["fired_at"]) for a in map(json.loads, listed.stdout.splitlines()))
    out = tmp_path / "bt.json"
    bt = runner.invoke(
        app, ["backtest", str(tmp_path / "in.jsonl"), *(x for r in rules for x in ("--rules", r)), "--json", str(out)]
    )
    assert bt.exit_code == 0, bt.output
    replayed = sorted((a["rule"], a["fired_at"]) for a in json.loads(out.read_text())["alerts"])
    assert ("closed-while-massed" in {r for r, _ in replayed}) is raised, replayed
    assert live == replayed
