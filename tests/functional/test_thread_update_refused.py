"""A thread's message that Slack will not let the bot change any more (trial 33, L1): `chat.update` answers
`cant_update_message` (not the bot's message) or `edit_window_closed` (older than the workspace allows edits).
No retry can change that, so the follow-up, whose reply is in the thread, is recorded sent with the update given up
and said (`run --once` exits 0), not kept outstanding and retried as an outage until `retry.max_age`. Real
slack-sdk against the local Slack server, the ledger in SQLite on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, ledger, make
from tests.functional.test_ack_shown_in_slack import KIM
from tests.functional.test_ack_shown_in_slack import setup as ack_setup
from tests.functional.test_ack_shown_in_slack import troops as one_troops
from tests.functional.test_threads import CATALOG, SUBS, troops
from watchfloor.alerts.notice import ack_key
from watchfloor.schemas.events import detection_event
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.stores import open_store
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    yield st
    st.close()


@pytest.mark.parametrize("error", ["cant_update_message", "edit_window_closed"])
def test_a_thread_header_slack_will_not_update_is_given_up_not_retried(
    store: Store, slack_server: FakeSlack, tmp_path: Path, error: str
) -> None:
    clock = Clock()
    d = make(store, slack_server, tmp_path / "alerts.jsonl", clock, subs=SUBS[:2], catalog=CATALOG)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    [first] = slack_server.messages

    slack_server.fail_next("chat.update", body={"ok": False, "error": error}, times=50)
    store.append([detection_event(troops(2, severity="high", hours=1, sources=("Daily A", "Wire B")))])
    report = d.cycle()
    assert report.ok and report.outstanding == 0, report  # `run --once` exits 0: nothing is left to retry
    row = ledger(store)[("det0002", "slack-ops")]
    assert row.status == "sent"
    assert f"the thread's first message, {row.ref.split(':')[0]}:{first['ts']}" in row.detail
    assert "may not be changed any more" in row.detail and error in row.detail
    [reply] = slack_server.thread(first["ts"])  # the desk has the news, under its thread
    assert reply["metadata"]["event_payload"]["alert_id"] == "det0002"
    assert len(slack_server.requests_for("chat.update")) == 1

    clock.advance(3600)  # an hour on: nothing due, nothing tried again
    assert d.cycle().ok
    assert len(slack_server.requests_for("chat.update")) == 1
    assert {r.status for r in store.deliveries()} == {"sent"}
    assert len(slack_server.messages) == 2  # the first message and the reply, each once


def test_an_acknowledgement_slack_will_not_show_on_its_message_is_given_up_not_retried(
    slack_server: FakeSlack,
) -> None:
    """The same for the rewrite that shows an acknowledgement made elsewhere (`watchfloor alerts ack`)."""
    store, clock = MemoryStore(), Clock()
    control, d = ack_setup(store, slack_server, clock)
    store.append([detection_event(one_troops(1))])
    assert d.cycle().ok
    [posted] = slack_server.messages_for("det0001")

    slack_server.fail_next("chat.update", body={"ok": False, "error": "cant_update_message"}, times=50)
    control.acknowledge("det0001", by=KIM)
    report = d.cycle()
    assert report.ok and report.outstanding == 0 and report.tally.acks_shown == 0
    row = ledger(store)[(ack_key(store.read(0, types={"alert.acknowledged"})[0].event.id), "slack-ops")]
    assert row.status == "sent" and "may not be changed any more" in row.detail and posted["ts"] in row.detail
    clock.advance(3600)
    assert d.cycle().ok
    assert len(slack_server.requests_for("chat.update")) == 1
