"""A channel's Retry-After holds the channel, for every dispatcher on the store and for alerts queued after it.

Outside audit: after one Slack 429 with `Retry-After: 60`, `watchfloor run --interval 10` ran 274 cycles in 20 s
("next attempt in 0s"): alerts enqueued after the 429 had no `not_before` of their own, so `next_due()` counted
them due now while the deliverer skipped their channel (paused in that process only). And a second process,
`watchfloor notify --once` 21 s into the 60 s, posted three of them. The pause is now recorded in the store
(`defer_channel(..., server_asked=True)` -> `channel_pauses`), claims respect it, and `next_due()` counts it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, detection, feed, ledger, make
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.cli.alerts import delivery_summary, next_wait
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.functional


@pytest.fixture(params=["memory", "sqlite"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Store objects on the same data: one MemoryStore shared, or one SqlStore per call on one file (like
    processes)."""
    if request.param == "memory":
        shared = MemoryStore()
        yield lambda: shared
        return
    opened: list[SqlStore] = []

    def open_one() -> Store:
        opened.append(SqlStore(f"sqlite:///{tmp_path / 'wf.db'}"))
        return opened[-1]

    yield open_one
    for st in opened:
        st.close()


def posts(server: FakeSlack) -> list[str]:
    """The alert keys of the messages the channel got, in order."""
    return [str(((m.get("metadata") or {}).get("event_payload") or {}).get("alert_id", "")) for m in server.messages]


def group(n: int) -> dict[str, str]:
    return {"route": f"ROUTE-{n}"}  # a thread of its own each: no follow-up waits for another's first message


def test_a_retry_after_holds_the_channel_for_every_dispatcher_and_for_alerts_queued_after_it(
    stores: Callable[[], Store], slack_server: FakeSlack, tmp_path: Path
) -> None:
    clock = Clock()
    archive = tmp_path / "alerts.jsonl"
    first = stores()
    feed(first, detection(1, group=group(1)))
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "60"})
    d1 = make(first, slack_server, archive, clock)
    d1.cycle()
    rows = ledger(first)
    assert rows[("det0001", "slack-ops")].status == "outstanding" and rows[("det0001", "archive")].status == "sent"
    assert posts(slack_server) == []

    # New alerts arrive 5 s into the Retry-After: queued after the 429, without a not_before of their own.
    clock.advance(5)
    feed(first, detection(2, group=group(2)), detection(3, group=group(3)))
    report = d1.cycle()
    assert report.enqueued == 4 and report.tally.sent == 2  # the archive took them; Slack is paused
    assert posts(slack_server) == []
    # (1) Nothing of the channel is due before the pause ends: the live loop sleeps, it does not spin.
    assert d1.next_due() == 55
    assert next_wait(d1, 10) == 10 and next_wait(d1, 600) == 55
    assert "(next attempt in 55s)" in delivery_summary(report, d1)

    # (2) A second dispatcher on the store (a `notify --once` started now, which tries every backoff at once)
    # posts nothing before the Retry-After ends, neither the alert that met the 429 nor those queued since,
    # nor one it takes in itself.
    clock.advance(16)
    second = stores()
    feed(second, detection(4, group=group(4)))
    d2 = make(second, slack_server, archive, clock)
    report2 = d2.cycle()
    assert report2.tally.sent == 1 and report2.tally.failed == 0  # det0004 to the archive; no Slack attempt
    assert posts(slack_server) == [] and not report2.ok
    assert d2.next_due(digests=False) == 39
    clock.advance(38)
    for d in (d1, d2, make(stores(), slack_server, archive, clock)):
        assert d.cycle().tally.sent == 0 and d.next_due(digests=False) == 1
    assert posts(slack_server) == []
    assert [r.method for r in slack_server.requests if r.method == "chat.postMessage"] == ["chat.postMessage"]

    # (3) Once it ends, everything goes, once each, in order, whichever dispatcher gets there.
    clock.advance(1)
    sent = d2.cycle().tally.sent + d1.cycle().tally.sent
    assert sent == 4
    assert posts(slack_server) == ["det0001", "det0002", "det0003", "det0004"]
    assert all(r.status == "sent" for r in ledger(first).values())
    assert d1.cycle().ok and d2.cycle().ok and d1.next_due() is None


def test_a_retry_after_met_by_one_dispatcher_object_is_kept_by_a_fresh_one(
    stores: Callable[[], Store], slack_server: FakeSlack, tmp_path: Path
) -> None:
    """A process that never met the 429 (started after it, with no in-process pause) still waits: the pause
    is the store's, and its `next_due()` says so."""
    clock = Clock()
    archive = tmp_path / "alerts.jsonl"
    feed(stores(), detection(1, group=group(1)))
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "60"})
    make(stores(), slack_server, archive, clock).cycle()
    clock.advance(30)
    late = stores()
    feed(late, detection(2, group=group(2)))
    fresh: AlertDispatcher = make(late, slack_server, archive, clock)
    assert fresh.deliverer.paused == {}
    assert fresh.cycle().tally.sent == 1  # the archive only
    assert posts(slack_server) == [] and fresh.next_due(digests=False) == 30
    clock.advance(30)
    assert fresh.cycle().tally.sent == 2 and posts(slack_server) == ["det0001", "det0002"]
