"""A publisher's walk-back (outside trial 12, M1): an item edited from "may have closed" to "retracts report that …
closed" takes the claim back. It neither firms the hedged alert into an asserted one nor raises an alert for the rule
that takes asserted reports only; and a walk-back headline read first raises nothing. `watchfloor run --once` after
each version of the feed (SQLite, the real slack-sdk against the local Slack server) and `watchfloor backtest`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from tests.functional.test_feed_corrections import Desk, feed
from watchfloor.cli import app
from watchfloor.schemas.events import EventType

pytestmark = pytest.mark.functional

RULES = Path(__file__).resolve().parents[1] / "data" / "rules" / "modalities.yaml"
MAY = "Alphaland may have closed the border"
runner = CliRunner()


@pytest.mark.parametrize(
    "walk_back",
    [
        "Agency retracts report that Alphaland closed the border",
        "Agency walks back claim Alphaland closed the border",
        "Agency withdraws its earlier report that Alphaland closed the border",
    ],
)
def test_a_walk_back_does_not_firm_a_hedged_alert(tmp_path: Path, slack_server: FakeSlack, walk_back: str) -> None:
    desk = Desk(tmp_path, slack_server, rules=str(RULES))
    desk.poll(feed(MAY))
    [hedged] = desk.standing().values()
    assert hedged.rule == "closure-any-claim"

    out = desk.poll(feed(walk_back))
    assert "1 edited in place" in out, out
    standing = list(desk.standing().values())
    # nothing stands on the walk-back's words as asserted: no firmer revision, no alert of the asserted-only rule
    assert all(e.modality != "asserted" for d in standing for e in d.evidence), standing
    assert "closure-asserted" not in {d.rule for d in standing}
    # the hedged alert the item no longer supports is withdrawn
    assert [e.payload["alert_id"] for e in desk.events() if e.type == EventType.RETRACTION.value] == [hedged.id]
    assert standing == []


def test_a_walk_back_headline_raises_nothing(tmp_path: Path) -> None:
    items = tmp_path / "items.jsonl"
    rows = [
        {"title": "Kyiv retracts claim that North Korean troops were killed in Kursk"},
        {"title": "Ukraine walks back report North Korean soldiers died in Kursk fighting"},
        {"title": "Seoul withdraws its earlier statement that North Korean troops were sent to Russia"},
    ]
    items.write_text(
        "".join(
            json.dumps({"type": "news.article", "published_at": "2024-12-18T10:00:00Z", "source": f"Wire {n}", **r})
            + "\n"
            for n, r in enumerate(rows)
        ),
        encoding="utf-8",
    )
    out = tmp_path / "bt.json"
    res = runner.invoke(app, ["backtest", str(items), "--rules", "builtin:dprk_russia", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["alerts"] == []
