"""A Slack channel conversations.list does not show (a private channel to an app without groups:read) after an
attempt that got through but was answered 503 (outside trial 15, H1: posted twice). The look before sending again is
made by the channel's ID, which an earlier delivery's answer named (the ledger's ref "CHANNELID:ts", maybe another
process's). Where no delivery there has succeeded yet the ID is unknown: another delivery to the channel due now goes
first and its answer names the ID; with none, the alert is sent again (at-least-once: a copy rather than a loss),
which the log and the start-up check say. Real slack-sdk against the
local Slack server, the ledger in SQLite on disk, each "process" a new dispatcher with a new notifier."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, detection, feed, ledger, make, slack
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notifiers.base import PermanentError
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

PRIV = "#priv"


def process(store: Store, server: FakeSlack, tmp_path: Path, clock: Clock) -> AlertDispatcher:
    """A new `run --once`: a new dispatcher and notifier, which know nothing of the channel's ID yet."""
    return make(store, server, tmp_path / "archive.jsonl", clock, slack_notifier=slack(server, channel=PRIV))


def posted_then_503(store: Store, server: FakeSlack, tmp_path: Path, clock: Clock, n: int) -> None:
    """Alert `n` (a story of its own: a message of its own, not a reply in an earlier thread, whose ref would name the
    channel) is posted in the channel and then answered 503: outstanding, maybe delivered."""
    server.fail_after_next("chat.postMessage", status=503)
    feed(store, detection(n, group={"route": f"ROUTE{n}"}))
    assert not process(store, server, tmp_path, clock).cycle().ok
    assert len(server.messages_for(f"det{n:04d}")) == 1
    assert ledger(store)[(f"det{n:04d}", "slack-ops")].unsure


def test_an_unlisted_channel_delivered_to_before_is_looked_in_by_its_id_not_posted_twice(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    slack_server.unlisted.add(PRIV)
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    clock = Clock()
    feed(store, detection(1))
    assert process(store, slack_server, tmp_path, clock).cycle().ok  # posted by name: the answer names its ID
    channel_id = ledger(store)[("det0001", "slack-ops")].ref.split(":")[0]
    assert channel_id == FakeSlack.channel_id(PRIV)

    posted_then_503(store, slack_server, tmp_path, clock, 2)
    again = process(store, slack_server, tmp_path, clock)  # a later run: conversations.list still does not show it
    clock.advance(again.next_due() or 0)
    assert again.cycle().ok
    assert len(slack_server.messages_for("det0002")) == 1  # found by ID, not posted again
    [message] = slack_server.messages_for("det0002")
    assert "thread_ts" not in message and ledger(store)[("det0002", "slack-ops")].ref == f"{channel_id}:{message['ts']}"
    looks = slack_server.requests_for("conversations.history")
    assert looks and {r.body.get("channel") for r in looks} == {channel_id}
    store.close()


def test_an_unlisted_channel_never_delivered_to_is_sent_again_and_said_then_looked_in_once_known(
    tmp_path: Path, slack_server: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """Its ID is unknown (not listed, no delivery there succeeded) and no other delivery to it is due to tell it: the
    alert is sent again, not held (held, it could only expire: a lost alert is worse than a duplicate), and the log
    says it may arrive twice. Once that delivery succeeded, its answer names the
    ID, and the next interrupted attempt is looked for by it, in a later process too."""
    slack_server.unlisted.add(PRIV)
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    clock = Clock()
    with pytest.raises(PermanentError) as checked:  # what `run` says at start for this channel
        slack(slack_server, channel=PRIV).check()
    said = " ".join(checked.value.message.split())
    assert "not found by conversations.list" in said and "sent again (at-least-once" in said, said

    posted_then_503(store, slack_server, tmp_path, clock, 1)
    again = process(store, slack_server, tmp_path, clock)
    clock.advance(again.next_due() or 0)
    with caplog.at_level(logging.WARNING, logger="watchfloor.alerts.delivery"):
        assert again.cycle().ok
    assert len(slack_server.messages_for("det0001")) == 2  # the decided cost: at-least-once, never lost
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "no delivery there has succeeded yet" in warned and "it may arrive twice" in warned, warned
    assert ledger(store)[("det0001", "slack-ops")].status == "sent"

    posted_then_503(store, slack_server, tmp_path, clock, 2)
    third = process(store, slack_server, tmp_path, clock)
    clock.advance(third.next_due() or 0)
    assert third.cycle().ok
    assert len(slack_server.messages_for("det0002")) == 1  # now known from the ledger: looked in, not posted again
    store.close()


def test_an_unlisted_channel_never_delivered_to_lets_another_alert_due_go_first_and_looks_by_its_answer(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """The trial's own run: the first alert posted then answered 503, the channel skipped for the rest of that run, so
    the second was not tried. The next run sends the second first (it cannot have got through) and holds the first;
    the second's answer names the channel's ID, and the first is looked for by it: found, not posted again."""
    slack_server.unlisted.add(PRIV)
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    clock = Clock()
    slack_server.fail_after_next("chat.postMessage", status=503)
    feed(store, detection(1, group={"route": "ROUTE1"}), detection(2, group={"route": "ROUTE2"}))
    assert not process(store, slack_server, tmp_path, clock).cycle().ok
    assert len(slack_server.messages_for("det0001")) == 1 and not slack_server.messages_for("det0002")

    again = process(store, slack_server, tmp_path, clock)
    clock.advance(again.next_due() or 0)
    report = again.cycle()
    assert report.tally.sent == 1 and report.tally.deferred == 1 and report.outstanding == 1
    held = ledger(store)[("det0001", "slack-ops")]
    assert held.unsure and held.detail.startswith("waiting for det0002 to be delivered to the channel first"), held
    clock.advance(again.next_due() or 0)
    assert again.cycle().ok
    assert len(slack_server.messages_for("det0001")) == 1 and len(slack_server.messages_for("det0002")) == 1
    assert ledger(store)[("det0001", "slack-ops")].ref.endswith(":" + slack_server.messages_for("det0001")[0]["ts"])
    store.close()


def test_the_look_by_an_earlier_ref_holds_the_alert_while_the_channel_cannot_be_read(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Looking by the known ID, a look that fails for now (Slack 503 on conversations.history) holds the alert: nothing
    is sent until the channel can be looked in."""
    slack_server.unlisted.add(PRIV)
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    clock = Clock()
    feed(store, detection(1))
    assert process(store, slack_server, tmp_path, clock).cycle().ok
    posted_then_503(store, slack_server, tmp_path, clock, 2)
    # (after the start's look at what was posted since the ledger's newest delivery, which reads the history too)
    slack_server.fail_next("conversations.history", status=503, after=1)
    held = process(store, slack_server, tmp_path, clock)
    clock.advance(held.next_due() or 0)
    assert not held.cycle().ok
    row = ledger(store)[("det0002", "slack-ops")]
    assert row.status == "outstanding" and row.unsure and "could not look in the channel" in row.detail
    clock.advance(held.next_due() or 0)
    assert held.cycle().ok
    assert len(slack_server.messages_for("det0002")) == 1
    store.close()
