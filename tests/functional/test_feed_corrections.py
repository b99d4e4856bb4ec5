"""A feed item edited in place that walks its story back withdraws the alert its first version raised.

`watchfloor run --once` after each version of the feed (SQLite, the real slack-sdk against the local Slack server):
version 1 says North Korean troops were killed or wounded in Kursk (an alert), version 2 under the same guid says
officials deny it. Before, the edition was read as one more report and the alert stood on a report its publisher
had taken back. Now the observations of the item's earlier versions that the new text no longer makes are
withdrawn (engine/corrections.py): the alert is withdrawn in its thread, a typo fix changes nothing, an alert a
second source carries too is revised to rest on that source, and a backtest over the same events gives the same
alerts.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.cli import app
from watchfloor.schemas.events import Detection, EventType
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

runner = CliRunner()
GUID = "https://desk.example/wire/880"
OTHER = "https://radio.example/news/12"
ALERT_EVENTS = {EventType.DETECTION.value, EventType.RETRACTION.value}

# The item is dated a few hours before the test runs: its edits, seen now, are within the pack's lateness (2 days), so
# they correct its alerts; one edited later leaves them standing (test_feed_late_edits.py).
ITEM_TIME = datetime.now(UTC) - timedelta(hours=3)


def rfc822(t: datetime) -> str:
    return format_datetime(t, usegmt=True)


CLAIM = "Hundreds of North Korean troops killed or wounded in Kursk, officials say"
DENIAL = "Officials deny reports that North Korean troops were killed or wounded in Kursk"
TYPO_FIXED = "Hundreds of North Korean troops killed or wounded in Kursk, officials said"


def feed(title: str, guid: str = GUID, date: str = rfc822(ITEM_TIME), name: str = "Harbour Wire") -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{name}</title>'
        "<link>https://desk.example/</link><description>test</description>"
        f"<item><title>{title}</title><link>{guid}</link><guid>{guid}</guid><pubDate>{date}</pubDate>"
        "<description>From our correspondent.</description></item></channel></rss>\n"
    )


SECOND_SOURCE = feed(
    "Kyiv says hundreds of North Korean soldiers were killed or wounded in Kursk",
    guid=OTHER,
    date=rfc822(ITEM_TIME + timedelta(hours=2)),
    name="Radio Example",
)


class Desk:
    """A watchfloor config with the wire feed (and, if asked, a second source) and a Slack channel."""

    def __init__(
        self, tmp_path: Path, server: FakeSlack, *, second: bool = False, rules: str = "builtin:dprk_russia"
    ) -> None:
        self.tmp = tmp_path
        self.server = server
        self.wire = tmp_path / "wire.xml"
        self.radio = tmp_path / "radio.xml"
        sources = f"  - {{kind: rss, url: {self.wire}}}\n"
        if second:
            self.radio.write_text(SECOND_SOURCE, encoding="utf-8")
            sources += f"  - {{kind: rss, url: {self.radio}}}\n"
        self.cfg = tmp_path / "watchfloor.yaml"
        self.cfg.write_text(
            f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{rules}]\nsources:\n{sources}"
            "channels:\n"
            f'  - {{type: slack, name: desk, channel: "#dprk-russia", token_env: WF_TEST_SLACK, '
            f'base_url: "{server.base_url}"}}\n'
            "subscriptions:\n  - {channel: desk}\n",
            encoding="utf-8",
        )

    def poll(self, wire: str) -> str:
        self.wire.write_text(wire, encoding="utf-8")
        res = runner.invoke(
            app,
            ["run", "--once", "--config", str(self.cfg)],
            env={"WF_TEST_SLACK": self.server.token, "WATCHFLOOR_STORE": ""},
        )
        assert res.exit_code == 0, res.output
        return str(res.output)

    def events(self) -> list[Any]:
        store = open_store(f"sqlite:///{self.tmp / 'wf.db'}")
        try:
            return [se.event for se in store.read(types=ALERT_EVENTS, limit=10_000)]
        finally:
            store.close()

    def standing(self) -> dict[str, Detection]:
        return current_alerts(self.events())

    def top_level(self) -> list[dict[str, Any]]:
        return [m for m in self.server.messages if m.get("thread_ts") in (None, m["ts"])]

    def from_store(self, order: str = "event-time") -> list[str]:
        """The alerts `backtest --from-store` raises over the live log (its documents and marks)."""
        out = self.tmp / "from-store.json"
        url = f"sqlite:///{self.tmp / 'wf.db'}"
        res = runner.invoke(app, ["backtest", "--from-store", url, "--order", order, "--json", str(out)])
        assert res.exit_code == 0, res.output
        return sorted(a["id"] for a in json.loads(out.read_text())["alerts"])


def kind(m: dict[str, Any]) -> str:
    return str(m["metadata"]["event_payload"].get("kind", "alert"))


def texts(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return "\n".join(texts(v) for v in obj.values())
    if isinstance(obj, list):
        return "\n".join(texts(v) for v in obj)
    return ""


def backtest(tmp_path: Path, *versions: str) -> list[dict[str, Any]]:
    """`watchfloor backtest` over captures of the feed, one file per version read (SeenIds makes the editions)."""
    paths = []
    for n, text in enumerate(versions):
        paths.append(tmp_path / f"capture-{n}.xml")
        paths[-1].write_text(text, encoding="utf-8")
    out = tmp_path / "bt.json"
    res = runner.invoke(app, ["backtest", *map(str, paths), "--order", "log", "--json", str(out)])
    assert res.exit_code == 0, res.output
    alerts: list[dict[str, Any]] = json.loads(out.read_text())["alerts"]
    return alerts


def test_a_denial_edited_in_withdraws_the_alert_in_its_thread(tmp_path: Path, slack_server: FakeSlack) -> None:
    desk = Desk(tmp_path, slack_server)
    assert "1 alert" in desk.poll(feed(CLAIM))
    [sent] = desk.standing().values()
    assert sent.rule == "troop-engagement"
    [first] = desk.top_level()

    out = desk.poll(feed(DENIAL))
    assert "1 edited in place" in out, out
    assert desk.standing() == {}  # the alert rested on the claim alone, which its publisher took back
    [retraction] = [e.payload for e in desk.events() if e.type == EventType.RETRACTION.value]
    assert retraction["alert_id"] == sent.id and retraction["superseded_by"] is None
    assert retraction["reason"].startswith(f"corrected by the publisher: Harbour Wire edited item {GUID} at "), (
        retraction
    )
    assert re.search(r" at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, and the new text", retraction["reason"]), retraction

    # The channel is told in the alert's thread, and the alert's message now reads as withdrawn.
    assert len(desk.top_level()) == 1
    [reply] = slack_server.thread(first["ts"])
    assert kind(reply) == "retraction"
    assert "*Withdrawn*: corrected by the publisher: Harbour Wire edited" in texts(reply["blocks"])
    assert slack_server.message("#dprk-russia", first["ts"])["blocks"][0]["text"]["text"].startswith("Withdrawn: ")

    # Replay == live: the log replayed, and the feed's captures read as a backtest reads them.
    assert desk.from_store() == [] and desk.from_store("log") == []
    assert backtest(tmp_path, feed(CLAIM), feed(DENIAL)) == []


def test_a_typo_fix_changes_nothing(tmp_path: Path, slack_server: FakeSlack) -> None:
    """The edition says what the first version said: the same report, standing at its first time. (Read as news
    of when it was seen, a day and more later, it was an alert again past the rule's realert.)"""
    desk = Desk(tmp_path, slack_server)
    desk.poll(feed(CLAIM))
    before = desk.events()
    out = desk.poll(feed(TYPO_FIXED))
    assert "1 edited in place" in out and "0 alerts" in out, out
    assert desk.events() == before  # no revision, no retraction, no second alert
    assert len(slack_server.messages) == 1 and slack_server.updates == []
    assert desk.from_store() == sorted(desk.standing())


def test_an_alert_a_second_source_carries_is_revised_not_withdrawn(tmp_path: Path, slack_server: FakeSlack) -> None:
    desk = Desk(tmp_path, slack_server, second=True)
    desk.poll(feed(CLAIM))
    raised = {d.severity: d for d in desk.standing().values()}
    assert set(raised) == {"medium", "high"}  # the wire's claim, then confirmed by the radio's report
    [first] = desk.top_level()

    desk.poll(feed(DENIAL))
    [now] = desk.standing().values()
    # What stands rests on the radio's report alone: the same story, one source, so no longer confirmed.
    assert (now.severity, now.confidence) == ("medium", "unconfirmed")
    assert [e.event_id for e in now.evidence] == [OTHER]
    assert now.revises == raised["medium"].id
    [gone] = [e.payload for e in desk.events() if e.type == EventType.RETRACTION.value]
    assert (gone["alert_id"], gone["superseded_by"]) == (raised["high"].id, now.id)
    assert gone["reason"].startswith("corrected by the publisher: Harbour Wire edited")
    # In the thread: the follow-up (high), then the revision and the withdrawal; no new top-level message.
    assert len(desk.top_level()) == 1
    assert [kind(m) for m in slack_server.thread(first["ts"])] == ["followup", "revision", "retraction"]
    # The revision says what changed the alert: the publisher's correction, not "a late report".
    assert now.cause is not None and now.cause.startswith("corrected by the publisher: Harbour Wire edited")
    revision = slack_server.thread(first["ts"])[1]
    assert "This alert changed: corrected by the publisher: Harbour Wire edited" in texts(revision["blocks"])
    assert "late report" not in texts(revision["blocks"])

    assert desk.from_store() == sorted(desk.standing()) == desk.from_store("log")
    assert [a["id"] for a in backtest(tmp_path, feed(CLAIM), SECOND_SOURCE, feed(DENIAL))] == [now.id]


def test_a_headline_that_moves_on_takes_nothing_back(tmp_path: Path, slack_server: FakeSlack) -> None:
    """A live blog's headline moves on to the next development: the new text no longer makes the claim but does
    not say otherwise (no denial, no hedge), so the alert stands (the correction rule is a contradiction)."""
    desk = Desk(tmp_path, slack_server)
    desk.poll(feed(CLAIM))
    before = desk.standing()
    out = desk.poll(feed("Seoul summons the Russian ambassador over the reports from Kursk"))
    assert "1 edited in place" in out, out
    assert desk.standing() == before and len(before) == 1
    assert [e.type for e in desk.events()] == [EventType.DETECTION.value]
    assert len(slack_server.messages) == 1


def test_a_hedge_edited_in_withdraws_the_claim(tmp_path: Path, slack_server: FakeSlack) -> None:
    """Walked back to "could not be verified" (hedged), the rule's asserted report is withdrawn too."""
    desk = Desk(tmp_path, slack_server)
    desk.poll(feed(CLAIM))
    desk.poll(feed("Claims that hundreds of North Korean troops were killed in Kursk could not be verified"))
    assert desk.standing() == {}
    [retraction] = [e.payload for e in desk.events() if e.type == EventType.RETRACTION.value]
    assert retraction["reason"].startswith("corrected by the publisher")
