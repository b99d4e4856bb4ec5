"""A feed item whose claim is made firmer by its publisher ("may have closed" -> "closed"), for a rule that takes
hedged and asserted reports: the alert is revised in its Slack thread, not withdrawn and raised again as a new
top-level alert. `watchfloor run --once` after each version of the feed (SQLite, the real slack-sdk against the local
Slack server), checked against `backtest --from-store` in both orders and a backtest of the feed's captures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from tests.functional.test_feed_corrections import Desk, feed, kind
from watchfloor.cli import app
from watchfloor.schemas.events import EventType

pytestmark = pytest.mark.functional

RULES = Path(__file__).resolve().parents[1] / "data" / "rules" / "modalities.yaml"
MAY = "Alphaland may have closed the border"
DID = "Alphaland closed the border"
runner = CliRunner()


def backtest(tmp_path: Path, *versions: str) -> list[dict[str, Any]]:
    paths = []
    for n, text in enumerate(versions):
        paths.append(tmp_path / f"capture-{n}.xml")
        paths[-1].write_text(text, encoding="utf-8")
    out = tmp_path / "bt.json"
    args = ["backtest", *map(str, paths), "--rules", str(RULES), "--order", "log", "--json", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    alerts: list[dict[str, Any]] = json.loads(out.read_text())["alerts"]
    return alerts


def from_store(tmp_path: Path, order: str) -> list[str]:
    out = tmp_path / "from-store.json"
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    args = ["backtest", "--from-store", url, "--rules", str(RULES), "--order", order, "--json", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return sorted(a["id"] for a in json.loads(out.read_text())["alerts"])


def test_a_hedge_made_firm_is_a_revision_in_the_alerts_thread(tmp_path: Path, slack_server: FakeSlack) -> None:
    desk = Desk(tmp_path, slack_server, rules=str(RULES))
    desk.poll(feed(MAY))
    [first] = desk.top_level()
    [hedged] = desk.standing().values()
    assert hedged.rule == "closure-any-claim" and [e.modality for e in hedged.evidence] == ["hedged"]

    out = desk.poll(feed(DID))
    assert "1 edited in place" in out, out
    assert not [e for e in desk.events() if e.type == EventType.RETRACTION.value]  # nothing withdrawn
    standing = {d.rule: d for d in desk.standing().values()}
    firm = standing["closure-any-claim"]
    assert firm.revises == hedged.id and firm.fired_at == hedged.fired_at
    assert [e.modality for e in firm.evidence] == ["asserted"]
    assert firm.cause is not None and "as asserted, no longer hedged" in firm.cause
    # The channel: a revision in the first alert's thread (its message rewritten), no "withdrawn" reply; the rule
    # that takes asserted reports only has its first report now, a message of its own.
    assert [kind(m) for m in slack_server.thread(first["ts"])] == ["revision"]
    assert slack_server.updates and all("Withdrawn" not in json.dumps(u) for u in slack_server.updates)
    tops = desk.top_level()
    assert len(tops) == 2 and tops[0] == first
    assert tops[1]["metadata"]["event_payload"]["rule"] == "closure-asserted"

    alerts = sorted(a.id for a in desk.standing().values())
    assert from_store(tmp_path, "event-time") == alerts == from_store(tmp_path, "log")
    assert sorted(a["id"] for a in backtest(tmp_path, feed(MAY), feed(DID))) == alerts
