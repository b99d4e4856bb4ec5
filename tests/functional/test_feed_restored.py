"""A feed item edited back: compared with its latest version, not its first, each new text is an edition.

`watchfloor run --once` after each version of the feed (SQLite, the real slack-sdk against the local Slack server):
version 1 claims North Korean troops were killed in Kursk (an alert), version 2 denies it (the alert withdrawn), and
version 3 is version 1's text again: the publisher restores the claim. Before, the producer compared an edit with
the item's first version, so version 3 was a duplicate of version 1 and the alert stayed withdrawn while the item
made the claim again. Now it is an edition (the item as it reads now) and the claim stands again: live, in
`backtest --from-store` in both orders, and in a backtest of the feed's captures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.test_feed_corrections import CLAIM, DENIAL, GUID, OTHER, Desk, backtest, feed, kind, texts
from watchfloor.alerts.dispatcher import StoryBook
from watchfloor.schemas.events import EventType, detection_event_id, edition_of
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.stores import open_store
from watchfloor.wiring import build_catalog

pytestmark = pytest.mark.functional


def documents(desk: Desk) -> list[str]:
    store = open_store(f"sqlite:///{desk.tmp / 'wf.db'}")
    try:
        return [se.event.id for se in store.read(types={EventType.NEWS_ARTICLE.value}, limit=10_000)]
    finally:
        store.close()


def same_everywhere(desk: Desk, tmp_path: Path, *versions: str) -> list[str]:
    """The alerts standing live, checked against `backtest --from-store` (both orders) and a backtest of captures."""
    standing = sorted(desk.standing())
    assert desk.from_store() == standing == desk.from_store("log")
    assert sorted(a["id"] for a in backtest(tmp_path, *map(feed, versions))) == standing
    return standing


def test_a_claim_restored_after_a_denial_stands_again(tmp_path: Path, slack_server: FakeSlack) -> None:
    desk = Desk(tmp_path, slack_server)
    desk.poll(feed(CLAIM))
    [first] = desk.top_level()
    desk.poll(feed(DENIAL))
    assert desk.standing() == {}

    out = desk.poll(feed(CLAIM))  # the publisher restores the claim, word for word
    assert "1 edited in place" in out, out
    [alert] = desk.standing().values()
    assert alert.rule == "troop-engagement"
    # The third version is an edition of its own (the item as it reads now), whose evidence the alert is.
    docs = documents(desk)
    assert len(docs) == 3 and docs[0] == GUID and all(edition_of(d) == GUID for d in docs[1:])
    assert len(set(docs)) == 3
    assert [e.event_id for e in alert.evidence] == [docs[2]]
    # Told to the channel: the withdrawn thread stays as it was, and the restored claim is a new alert message.
    assert [kind(m) for m in slack_server.thread(first["ts"])] == ["retraction"]
    [_, again] = desk.top_level()
    assert kind(again) == "alert" and again["metadata"]["event_payload"]["alert_id"] == alert.id
    assert same_everywhere(desk, tmp_path, CLAIM, DENIAL, CLAIM) == [alert.id]

    # Polled again, the restored text is the item's latest version: nothing new, nothing said.
    before, messages = desk.events(), len(slack_server.messages)
    out = desk.poll(feed(CLAIM))
    assert "edited in place" not in out, out
    assert desk.events() == before and documents(desk) == docs and len(slack_server.messages) == messages
    assert first in desk.top_level()


def test_an_item_edited_back_and_forth_makes_an_edition_at_each_step(tmp_path: Path, slack_server: FakeSlack) -> None:
    """A -> B -> A -> B: the second B follows the second A, so it is a new edition (not B's first, which an id of
    its text alone would make it again, a duplicate), and the claim is withdrawn again."""
    desk = Desk(tmp_path, slack_server)
    for text in (CLAIM, DENIAL, CLAIM):
        desk.poll(feed(text))
    assert len(desk.standing()) == 1
    out = desk.poll(feed(DENIAL))
    assert "1 edited in place" in out, out
    assert desk.standing() == {}
    docs = documents(desk)
    assert len(docs) == len(set(docs)) == 4
    retractions = [e for e in desk.events() if e.type == EventType.RETRACTION.value]
    assert len(retractions) == 2
    assert all(r.payload["reason"].startswith("corrected by the publisher") for r in retractions)
    assert same_everywhere(desk, tmp_path, CLAIM, DENIAL, CLAIM, DENIAL) == []
    # And polled again, the same denial adds nothing.
    before = desk.events()
    desk.poll(feed(DENIAL))
    assert documents(desk) == docs and desk.events() == before


def test_the_same_edit_polled_twice_adds_nothing(tmp_path: Path, slack_server: FakeSlack) -> None:
    desk = Desk(tmp_path, slack_server)
    desk.poll(feed(CLAIM))
    desk.poll(feed(DENIAL))
    docs, before = documents(desk), desk.events()
    out = desk.poll(feed(DENIAL))
    assert "edited in place" not in out, out
    assert documents(desk) == docs and desk.events() == before
    assert same_everywhere(desk, tmp_path, CLAIM, DENIAL, DENIAL) == []


def test_a_claim_restored_soon_after_its_denial_is_a_new_message(tmp_path: Path, slack_server: FakeSlack) -> None:
    """Outside trial 10, F1: the item dated minutes before the polls, so the restored claim's alert fires within the
    open period of the withdrawn one. Every alert of that story was withdrawn, so the story is over: the restored
    claim starts one of its own (a new top-level message, kind `alert`), not an "Update" under the "Withdrawn"
    message (which the follow-up rewrote "Withdrawn" again, hiding the standing alert in a dead thread)."""
    recent = format_datetime(datetime.now(UTC) - timedelta(minutes=10), usegmt=True)
    desk = Desk(tmp_path, slack_server)
    desk.poll(feed(CLAIM, date=recent))
    [first] = desk.top_level()
    desk.poll(feed(DENIAL, date=recent))
    assert desk.standing() == {}
    updates = len(slack_server.updates)

    desk.poll(feed(CLAIM, date=recent))
    [alert] = desk.standing().values()
    assert [kind(m) for m in slack_server.thread(first["ts"])] == ["retraction"]
    [_, again] = desk.top_level()
    assert kind(again) == "alert" and again["metadata"]["event_payload"]["alert_id"] == alert.id
    assert len(slack_server.updates) == updates  # the withdrawn message is not rewritten again
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        key = detection_event_id(alert)
        [row] = store.deliveries(alert_ids={key})
        # A dispatcher starting on this log (its stories read from the log: detections and retractions) decides the
        # same: the restored claim's story is its own.
        [position] = [se.position for se in store.read(types={EventType.DETECTION.value}) if se.event.id == key]
        book = StoryBook(store, build_catalog(load_rules(["builtin:dprk_russia"])[1]))
        story = book.story(position, key, alert)
    finally:
        store.close()
    assert (row.kind, row.parent_id, row.status) == ("alert", None, "sent")
    assert (story.root, story.members) == (key, frozenset())
    assert desk.from_store() == [alert.id] == desk.from_store("log")
    captures = [feed(text, date=recent) for text in (CLAIM, DENIAL, CLAIM)]
    assert [a["id"] for a in backtest(tmp_path, *captures)] == [alert.id]


def test_another_outlet_after_the_withdrawal_is_a_new_message(tmp_path: Path, slack_server: FakeSlack) -> None:
    """Outside trial 10, F1, without a restore: the wire's claim is withdrawn, then another outlet reports the story
    minutes later. Nothing of the withdrawn thread stands, so its alert is a new message, not an "Update" under it."""
    now = datetime.now(UTC)
    wire_date = format_datetime(now - timedelta(minutes=10), usegmt=True)
    radio_date = format_datetime(now - timedelta(minutes=5), usegmt=True)
    desk = Desk(tmp_path, slack_server, second=True)
    desk.radio.write_text(feed("Weather: rain in Seoul", guid=OTHER, date=wire_date, name="Radio Example"))
    desk.poll(feed(CLAIM, date=wire_date))
    [first] = desk.top_level()
    desk.poll(feed(DENIAL, date=wire_date))
    assert desk.standing() == {}

    report = "Kyiv says hundreds of North Korean soldiers were killed or wounded in Kursk"
    desk.radio.write_text(feed(report, guid=f"{OTHER}-2", date=radio_date, name="Radio Example"))
    desk.poll(feed(DENIAL, date=wire_date))
    [alert] = desk.standing().values()
    assert [e.event_id for e in alert.evidence] == [f"{OTHER}-2"]
    assert [kind(m) for m in slack_server.thread(first["ts"])] == ["retraction"]
    [_, again] = desk.top_level()
    assert kind(again) == "alert" and again["metadata"]["event_payload"]["alert_id"] == alert.id


def test_a_claim_restored_in_a_thread_that_stood_says_it_is_the_item_edited_back(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Outside trial 64, LOW-5: the wire's claim, confirmed by the radio (HIGH), denied by the wire (the HIGH alert
    withdrawn, the thread MEDIUM on the radio's report), then edited back: the reply raising the thread to HIGH again
    read as plain new evidence; it says it is the item the denial had taken back, restored."""
    desk = Desk(tmp_path, slack_server, second=True)
    config = desk.cfg.read_text(encoding="utf-8")  # a console channel beside Slack, subscribed likewise
    config = config.replace("channels:\n", "channels:\n  - {type: console, name: term}\n")
    desk.cfg.write_text(config + "  - {channel: term}\n", encoding="utf-8")
    desk.poll(feed(CLAIM))
    [first] = desk.top_level()
    desk.poll(feed(DENIAL))
    [gone] = [e.payload for e in desk.events() if e.type == EventType.RETRACTION.value]
    out = desk.poll(feed(CLAIM))  # the publisher restores the claim, word for word
    assert len(desk.top_level()) == 1  # the story stood (on the radio): a reply in its thread
    replies = slack_server.thread(first["ts"])
    said = texts(replies[-1]["blocks"])
    assert kind(replies[-1]) in ("followup", "revision") and "HIGH" in said, said
    assert (
        f"Restored by the publisher: Harbour Wire edited item {GUID} back to what alert {gone['alert_id']} rested on "
        "before it was withdrawn."
    ) in said, said
    # the replies before it (the first confirmation, the correction's) say nothing of the kind
    assert not any("Restored by the publisher" in texts(m["blocks"]) for m in replies[:-1])
    flat = " ".join(out.replace("│", " ").split())  # (the console's panel wraps its lines)
    assert (
        f"restored by the publisher: Harbour Wire edited item {GUID} back (alert {gone['alert_id']} was withdrawn by "
        "its correction)"
    ) in flat, out
