"""A revision that goes in the place of an alert never sent, and "(was MEDIUM)" decided at sending: timelines from the
code review of session 22 (review 22), each against a store on disk where two dispatchers share it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import RETRY, Clock, Hook, Recorder, detection, lines, webhook_server
from tests.functional.test_threads import CATALOG, dispatcher, troops
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import Notice
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import detection_event, detection_event_id
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.stores import open_store
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return MemoryStore() if request.param == "memory" else open_store(f"sqlite:///{tmp_path / 'wf.db'}")


def one_channel(store: Store) -> tuple[AlertDispatcher, Recorder]:
    ops = Recorder("ops")
    return AlertDispatcher(store, {"ops": ops}, [Subscription(channel="ops")], RETRY, now=Clock(), catalog=CATALOG), ops


def test_a_chain_of_revisions_of_an_unsent_alert_goes_once_in_its_place_at_its_own_time(store: Store) -> None:
    # F1 (HIGH): R1 revising the alert A and R2 revising R1, both before A was sent: R1, claimed first, was replaced by
    # R2, which left A with no outstanding revision of its own, and the out-of-date A was sent, then R2 under it.
    d, ops = one_channel(store)
    r1 = troops(1, hours=1, sources=("Daily A", "Wire C"), severity="high", revises="det0001", revision=1)
    r2 = troops(1, hours=2, sources=("Daily A", "Wire C", "Radio D"), severity="high", revises="det0001", revision=2)
    other = detection(7, rule="shells-shipped", minutes=5 * 60)
    store.append([detection_event(troops(1, hours=10)), detection_event(other)])
    store.append([detection_event(r1), detection_event(r2)])
    d.cycle()
    assert [(n.key, n.kind) for n in ops.sent] == [(detection_event_id(r2), "alert"), ("det0007", "alert")]


def test_a_follow_up_under_the_revision_sent_in_place_of_its_alert_goes_at_its_own_time(store: Store) -> None:
    # F5 (LOW): the follow-up was ordered at the replaced alert's later time, after another rule's alert between.
    d, ops = one_channel(store)
    r1 = troops(1, hours=1, sources=("Daily A", "Wire C"), severity="high", revises="det0001", revision=1)
    follow_up = troops(2, hours=2, sources=("Daily A", "Radio D"), severity="high")
    other = detection(7, rule="shells-shipped", minutes=5 * 60)
    store.append([detection_event(troops(1, hours=10)), detection_event(other), detection_event(r1)])
    store.append([detection_event(follow_up)])
    d.cycle()
    assert [n.key for n in ops.sent] == [detection_event_id(r1), "det0002", "det0007"]


@pytest.fixture
def hook() -> Iterator[Hook]:
    yield from webhook_server()


def test_a_revision_sent_as_a_message_of_its_own_says_no_was(
    slack_server: FakeSlack, tmp_path: Path, hook: Hook
) -> None:
    # F4 (MEDIUM): in place of an unsent MEDIUM alert, the HIGH revision's file and webhook records said
    # escalated_from "medium", of a MEDIUM the channel was never told.
    store, archive = MemoryStore(), tmp_path / "alerts.jsonl"
    d = dispatcher(store, slack_server, archive, Clock(), hook)
    late = troops(1, hours=1, sources=("Daily A", "Wire C"), severity="high", revises="det0001", revision=1)
    store.append([detection_event(troops(1, hours=10)), detection_event(late)])
    assert d.cycle().ok
    [record] = lines(archive)
    assert record["key"] == detection_event_id(late) and record["kind"] == "alert" and "escalated_from" not in record
    assert all(body.get("escalated_from") is None for _, _, body in hook.received)


class Racing:
    """A channel that records, and on its first send of `trigger` lets another dispatcher run a pass first."""

    def __init__(self, name: str, sent: list[tuple[str, str | None]], trigger: str = "", during: object = None):
        self.name, self.sent, self.trigger, self.during = name, sent, trigger, during

    def send(self, notice: Notice) -> str:
        if callable(self.during) and notice.key == self.trigger:
            run, self.during = self.during, None
            run()
        self.sent.append((notice.key, notice.escalated_from))
        return f"{self.name}-{len(self.sent)}"


def test_two_dispatchers_sending_two_escalating_replies_at_once_say_was_medium_once(tmp_path: Path) -> None:
    # F2 (MEDIUM): decided from the rows already sent, two HIGH follow-ups sent at once by two processes both said
    # "(was MEDIUM)", and both were broadcast to the channel.
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    s1, s2 = open_store(url), open_store(url)
    sent: list[tuple[str, str | None]] = []
    clock, subs = Clock(), [Subscription(channel="ops")]
    d2 = AlertDispatcher(s2, {"ops": Racing("d2", sent)}, subs, RETRY, now=clock, catalog=CATALOG, owner="d2")
    first = Racing("d1", sent, trigger="det0002", during=d2.cycle)
    d1 = AlertDispatcher(s1, {"ops": first}, subs, RETRY, now=clock, catalog=CATALOG, owner="d1")
    s1.append([detection_event(troops(1))])  # MEDIUM
    d1.cycle()
    s1.append([detection_event(troops(2, severity="high", hours=1, sources=("Daily A", "Wire B")))])
    s1.append([detection_event(troops(3, severity="high", hours=2, sources=("Daily A", "Wire C")))])
    d1.cycle()
    assert dict(sent) == {"det0001": None, "det0002": "medium", "det0003": None}


class ClaimRace:
    """A store whose named claim (`claim_delivery`) lets another dispatcher run a pass first, once: the race of two
    processes where the other settles the alert a revision waits for between this one's look and its claim."""

    def __init__(self, store: Store, during: object) -> None:
        self._store, self.during = store, during

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def claim_delivery(self, *args: object, **kw: object) -> object:
        if callable(self.during):
            run, self.during = self.during, None
            run()
        return self._store.claim_delivery(*args, **kw)  # type: ignore[arg-type]


def test_a_revision_whose_alert_another_dispatcher_settled_before_the_named_claim_goes_in_the_same_pass(
    tmp_path: Path,
) -> None:
    # Review 22, F7 (LOW): the named claim lost to another dispatcher, which settled the unsent alert as replaced; the
    # revision, already claimed here, was deferred for a backoff instead of going at once in that alert's place.
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    s1, s2 = open_store(url), open_store(url)
    sent: list[tuple[str, str | None]] = []
    clock, subs = Clock(), [Subscription(channel="ops")]
    d2 = AlertDispatcher(s2, {"ops": Racing("d2", sent)}, subs, RETRY, now=clock, catalog=CATALOG, owner="d2")
    racing = ClaimRace(s1, during=d2.cycle)
    d1 = AlertDispatcher(racing, {"ops": Racing("d1", sent)}, subs, RETRY, now=clock, catalog=CATALOG, owner="d1")  # type: ignore[arg-type]
    late = troops(1, hours=1, sources=("Daily A", "Wire C"), severity="high", revises="det0001", revision=1)
    s1.append([detection_event(troops(1, hours=10)), detection_event(late)])
    d1.cycle()
    assert racing.during is None  # the race was run
    assert sent == [(detection_event_id(late), None)]  # in this pass, once, in the place of the alert never sent
    assert s1.delivery_counts(("outstanding",)).get("outstanding", 0) == 0
