"""A channel backing off after a failure holds the alerts raised during the backoff too (trial 46, MED-2, the rest).

Slack answers a story's first alert (A) with a 500; while the channel backs off, a later story of the same rule and
group (B) is raised, by the same dispatcher or by another on the same store. B reached the ledger after the failure
deferred the channel's rows, so it had no backoff of its own and went first; A followed it, marked "Sent late". The
backoff is now the channel's in the store (`channel_backoffs`): B waits for it, A goes first when it ends, and
neither message says "Sent late". A 5xx is no Retry-After: no pause of the channel is shown for it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, detection, feed, ledger, make
from watchfloor.cli import app
from watchfloor.schemas.events import detection_event_id
from watchfloor.stream_processors.ports import DeliveryRecord, Store
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.functional


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Store objects on the same data: one MemoryStore shared, or one SqlStore per call (like processes)."""
    if request.param == "memory":
        shared = MemoryStore()
        yield lambda: shared
        return
    url = f"sqlite:///{tmp_path / 'wf.db'}" if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))
    opened: list[SqlStore] = []

    def open_one() -> Store:
        opened.append(SqlStore(url))
        return opened[-1]

    yield open_one
    for st in opened:
        st.close()


def posts(server: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in server.messages if m.get("metadata")]


def key(message: dict[str, Any]) -> str:
    return str(message["metadata"]["event_payload"]["alert_id"])


def said(message: dict[str, Any]) -> str:
    return str(message.get("text", "")) + str(message.get("blocks", ""))


@pytest.mark.parametrize("raised_by", ["the same dispatcher", "another dispatcher"])
def test_an_alert_raised_while_its_channel_backs_off_waits_for_the_failed_one(
    stores: Callable[[], Store], slack_server: FakeSlack, tmp_path: Path, raised_by: str
) -> None:
    slack_server.channels = {"#dprk-russia"}  # listed: the 500's post (it may have got through) is looked for there
    clock = Clock()
    archive = tmp_path / "alerts.jsonl"
    first, second = stores(), stores()
    d1 = make(first, slack_server, archive, clock, owner="d1")
    d2 = make(second, slack_server, archive, clock, owner="d2")
    clock.advance(1)  # both running before anything fails (a process start tries every backoff at once)
    feed(first, detection(1))
    slack_server.fail_next("chat.postMessage", status=500)
    d1.cycle()
    a = ledger(first)[("det0001", "slack-ops")]
    assert a.status == "outstanding" and a.attempts == 1 and posts(slack_server) == []
    assert a.next_attempt_at == clock().timestamp() + 2  # RETRY's backoff: 2 s

    # One second into the backoff, the next story of the same rule and group (100 hours on: a message of its own)
    clock.advance(1)
    store, d = (first, d1) if raised_by == "the same dispatcher" else (second, d2)
    feed(store, detection(2, minutes=100 * 60))
    report = d.cycle()
    assert report.enqueued == 2 and report.tally.sent == 1  # the archive took it; the channel backs off
    assert posts(slack_server) == []
    for other in (d1, d2):
        assert other.cycle().tally.sent == 0 and other.next_due(digests=False) == 1  # waits, does not spin
    assert posts(slack_server) == []
    # A 5xx is the channel's failure, not its asking: no Retry-After pause is shown for it
    assert first.channel_pauses(clock().timestamp()) == {} and d1.deliverer.paused == {}

    # The backoff ends: the failed alert goes first, then the one raised meanwhile; neither "Sent late"
    clock.advance(1)
    assert d.cycle().tally.sent == 2
    got = posts(slack_server)
    assert [key(m) for m in got] == ["det0001", "det0002"]
    assert not any("Sent late" in said(m) for m in got), [said(m) for m in got]
    assert all(r.status == "sent" for r in ledger(first).values())
    assert d1.cycle().ok and d2.cycle().ok and d1.next_due(digests=False) is None


def test_alerts_list_shows_the_channel_backoff_as_the_next_attempt_of_a_row_queued_during_it(tmp_path: Path) -> None:
    """`alerts list` tells a row queued during its channel's backoff when it goes: at the backoff's end, not "due
    now"; the backoff is the channel's failure, not the server's asking (no Retry-After said)."""
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    st = SqlStore(url)
    try:
        now = time.time()
        st.defer_channel("desk", now + 600, now)  # a failure of the channel, its row retried in 10 minutes
        feed(st, detection(1))
        key = detection_event_id(detection(1))
        st.enqueue([DeliveryRecord(key, "desk", seq=1, created_at=now)])  # queued during the backoff
    finally:
        st.close()
    res = CliRunner().invoke(app, ["alerts", "list", "--store", url, "--json"], env={"WATCHFLOOR_STORE": ""})
    assert res.exit_code == 0, res.output
    [line] = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    shown = line["delivery_details"]["desk"]
    assert shown["status"] == "outstanding"
    assert shown["next_attempt_at"] == datetime.fromtimestamp(now + 600, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert "Retry-After" not in res.output
