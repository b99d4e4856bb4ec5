"""A thread whose first message was deleted in Slack (outside trial 9, F5): Slack refuses a reply under it
(`thread_not_found`), or, where the reply was taken, the update of it answers `message_not_found`; no retry can
change either. The follow-up is posted as a message of its own, recorded sent (nothing outstanding: `run --once`
exits 0), and the thread goes on under it. Real slack-sdk against the local Slack server, the ledger in SQLite on
disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, ledger, make
from tests.functional.test_threads import CATALOG, SUBS, troops
from watchfloor.schemas.events import detection_event
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    yield st
    st.close()


@pytest.mark.parametrize("gone", ["deleted", "forgotten"])
def test_a_follow_up_whose_thread_was_deleted_starts_the_thread_again(
    store: Store, slack_server: FakeSlack, tmp_path: Path, gone: str
) -> None:
    """`deleted`: as Slack does, the reply under the deleted message is refused (`thread_not_found`); `forgotten`:
    the trial's local server restarted, which takes the reply and then cannot update its parent
    (`message_not_found`)."""
    clock = Clock()
    d = make(store, slack_server, tmp_path / "alerts.jsonl", clock, subs=SUBS[:2], catalog=CATALOG)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    [first] = slack_server.messages
    if gone == "deleted":
        slack_server.delete_message(first["channel"], first["ts"])  # a desk member deleted it
    else:
        slack_server.messages.clear()

    store.append([detection_event(troops(2, severity="high", hours=1, sources=("Daily A", "Wire B")))])
    report = d.cycle()
    assert report.ok and report.outstanding == 0  # not retried as if Slack were down: `run --once` exits 0
    row = ledger(store)[("det0002", "slack-ops")]
    assert row.status == "sent" and "the thread starts again here" in row.detail and "deleted" in row.detail
    on_top = [m for m in slack_server.messages if "thread_ts" not in m]
    assert [m["metadata"]["event_payload"]["alert_id"] for m in on_top] == ["det0002"]  # visible: top level
    assert len(slack_server.messages) == (1 if gone == "deleted" else 2)  # (+ the reply the restarted server took)
    assert row.ref.endswith(":" + on_top[0]["ts"])

    # the next follow-up replies under the message posted in its place, and updates that one
    store.append([detection_event(troops(3, severity="high", hours=2, sources=("Daily A", "Wire B", "Post C")))])
    assert d.cycle().ok
    [reply] = slack_server.thread(on_top[0]["ts"])
    assert reply["metadata"]["event_payload"]["alert_id"] == "det0003"
    assert slack_server.updates[-1]["ts"] == on_top[0]["ts"]
    assert {r.status for r in store.deliveries()} == {"sent"}
