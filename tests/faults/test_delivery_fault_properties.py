"""Nothing lost, nothing twice, as a property: under any generated mix of Slack faults, process restarts and a
second dispatcher on the same store, every alert ends up in the Slack channel and in the archive exactly once.

Real parts: the local Slack-compatible server (tests/fixtures/slack_server.py) answered by the real slack-sdk, a
SQLite store on disk opened once per "process", the file notifier. A fault is scripted on the server before a
step: refused before posting (500, 503, 429 with Retry-After, invalid_auth), or answered with an error after the
post went in (Slack's internal_error, a proxy's 502 page), or the channel look-up before a resend failing too. A
restart is a new dispatcher with a new owner over a new store handle, leaving its claims to their lease; the
second process runs its own cycles in between. The clock is the test's: a wait is a jump to `next_due`.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, detection, feed, ledger, lines, make
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.schemas.events import Event, Retraction, detection_event, detection_event_id, retraction_event
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.functional

# What the next call of a method meets: (method, "before" | "after", status, Retry-After or None).
FAULTS = [
    ("chat.postMessage", "before", 500, None),
    ("chat.postMessage", "before", 503, None),
    ("chat.postMessage", "before", 429, "3"),
    ("chat.postMessage", "before", 200, "invalid_auth"),
    ("chat.postMessage", "after", 200, "internal_error"),  # posted, then the error
    ("chat.postMessage", "after", 502, None),  # posted, then a proxy's page
    ("conversations.history", "before", 503, None),  # the look before a resend fails
]
STEP = st.one_of(
    st.just(("cycle", None)),
    st.just(("other", None)),  # the second process's cycle
    st.just(("restart", None)),
    st.just(("wait", None)),
    st.tuples(st.just("fault"), st.sampled_from(range(len(FAULTS)))),
)


def _fault(server: FakeSlack, which: int) -> None:
    method, when, status, extra = FAULTS[which]
    if when == "after":
        body = {"ok": False, "error": extra} if extra else None
        server.fail_after_next(method, status=status, body=body)
    elif status == 429:
        server.fail_next(method, status=429, headers={"Retry-After": str(extra)})
    else:
        server.fail_next(method, status=status, body={"ok": False, "error": extra} if extra else None)


class Processes:
    """The dispatcher processes over one SQLite store: `main` (restarted with a new owner and a new store handle,
    its claims left to their lease) and `other`, beside a local Slack; the clock is the test's."""

    def __init__(self, where: Path) -> None:
        self.url = f"sqlite:///{where / 'wf.db'}"
        self.archive = where / "alerts.jsonl"
        self.clock = Clock()
        self.server = FakeSlack().start()
        self.server.channels = {"#dprk-russia"}
        self.stores: list[SqlStore] = []
        self.log = self._store()
        self.restarts = 0
        self.main, self.other = self._process("main-0"), self._process("other")

    def _store(self) -> SqlStore:
        store = SqlStore(self.url)
        self.stores.append(store)
        return store

    def _process(self, name: str) -> AlertDispatcher:
        return make(self._store(), self.server, self.archive, self.clock, owner=name)

    def step(self, kind: str, arg: int | None) -> None:
        """One generated step: a fault scripted on Slack, a cycle of either process, a restart, or a wait."""
        if kind == "fault":
            _fault(self.server, arg or 0)
        elif kind == "cycle":
            self.main.cycle()
        elif kind == "other":
            self.other.cycle()
        elif kind == "restart":
            self.restarts += 1
            self.main = self._process(f"main-{self.restarts}")
        elif (wait := self.main.next_due()) is not None:
            self.clock.advance(wait)

    def settle(self, cycles: int) -> None:
        """The faults gone, the main process goes on until nothing is outstanding (each wait a jump of the clock)."""
        for _ in range(cycles):
            if self.main.cycle().ok and not any(r.status == "outstanding" for r in ledger(self.log).values()):
                return
            wait = self.main.next_due()
            assert wait is not None, "something is outstanding that never falls due"
            self.clock.advance(max(wait, 1.0))

    def close(self) -> None:
        self.server.stop()
        for store in self.stores:
            store.close()


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(routes=st.lists(st.sampled_from("ABC"), min_size=1, max_size=4), steps=st.lists(STEP, max_size=14))
def test_every_alert_is_posted_once_whatever_fails_and_whoever_sends(
    tmp_path_factory: pytest.TempPathFactory, routes: list[str], steps: list[tuple[str, int | None]]
) -> None:
    desk = Processes(tmp_path_factory.mktemp("wf"))
    try:
        # Alerts of one route are one story: the later ones are follow-ups in the first one's thread.
        alerts = len(routes)
        feed(desk.log, *(detection(n, group={"route": r}) for n, r in enumerate(routes, 1)))
        for kind, arg in steps:
            desk.step(kind, arg)
        desk.settle(40)
        rows = ledger(desk.log)
        assert {(a, c): r.status for (a, c), r in rows.items()} == {
            (f"det{n:04d}", c): "sent" for n in range(1, alerts + 1) for c in ("slack-ops", "archive")
        }
        for n in range(1, alerts + 1):
            key = f"det{n:04d}"
            posted = desk.server.messages_for(key)
            assert len(posted) == 1, f"{key} posted {len(posted)} times"
            assert rows[(key, "slack-ops")].ref.endswith(posted[0]["ts"]), "the ledger keeps the posted message"
        # A later alert of a route is told in the thread of the route's first, however the first one's post went.
        firsts: dict[str, str] = {}
        for n, route in enumerate(routes, 1):
            (message,) = desk.server.messages_for(f"det{n:04d}")
            if route in firsts:
                assert message.get("thread_ts") == firsts[route], f"det{n:04d} is not in its story's thread"
            else:
                assert message.get("thread_ts") in (None, message["ts"])
                firsts[route] = message["ts"]
        written = [line.get("key", line.get("id")) for line in lines(desk.archive)]
        assert sorted(written) == [f"det{n:04d}" for n in range(1, alerts + 1)]
    finally:
        desk.close()


def _story(route: str, base: int, revisions: int, withdrawn: bool) -> list[Event]:
    """An alert of `route`, revised `revisions` times by late reports (each revision a new alert in the last one's
    place), the last of them withdrawn when `withdrawn`: the detection and retraction events, in log order."""
    first = detection(base, group={"route": route})
    chain = [first]
    for k in range(1, revisions + 1):
        chain.append(
            first.model_copy(
                update={
                    "id": f"{first.id}r{k}",
                    "revises": chain[-1].id,
                    "revision": k,
                    "fired_at": first.fired_at + timedelta(minutes=k),
                }
            )
        )
    events = [detection_event(d) for d in chain]
    if withdrawn:
        last = chain[-1]
        events.append(
            retraction_event(
                Retraction(
                    alert_id=last.id,
                    rule=last.rule,
                    group=last.group,
                    reason="a late report changed the group's history",
                    revision=revisions + 1,
                    at=last.fired_at + timedelta(minutes=1),
                )
            )
        )
    return events


STORY = st.tuples(st.sampled_from("ABC"), st.integers(0, 2), st.booleans())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    stories=st.lists(STORY, min_size=1, max_size=3, unique_by=lambda s: s[0]),
    steps=st.lists(st.one_of(STEP, st.tuples(st.just("append"), st.integers(0, 2))), max_size=16),
)
def test_revisions_and_withdrawals_arriving_between_faults_post_each_key_once(
    tmp_path_factory: pytest.TempPathFactory,
    stories: list[tuple[str, int, bool]],
    steps: list[tuple[str, int | None]],
) -> None:
    """Late reports revise or withdraw alerts at any moment of the faults: each message key reaches the channel
    once at most, every alert that stands is in it once, and nothing is left outstanding."""
    pending = [
        _story(route, 100 * i + 1, revisions, withdrawn) for i, (route, revisions, withdrawn) in enumerate(stories)
    ]
    appended: list[Event] = []
    desk = Processes(tmp_path_factory.mktemp("wf"))

    def append(which: int) -> None:
        queue = pending[which % len(pending)]
        if queue:
            event = queue.pop(0)
            desk.log.append([event])
            appended.append(event)

    try:
        append(0)
        for kind, arg in steps:
            if kind == "append":
                append(arg or 0)
            else:
                desk.step(kind, arg)
        for which in range(len(pending)):
            while pending[which]:
                append(which)
        desk.settle(60)
        rows = ledger(desk.log)
        assert not [k for k, r in rows.items() if r.status in ("outstanding", "expired")], rows
        keys = Counter(
            ((m.get("metadata") or {}).get("event_payload") or {}).get("alert_id") for m in desk.server.messages
        )
        assert [k for k, n in keys.items() if n > 1] == [], f"posted more than once: {keys}"
        standing = current_alerts(appended)
        for alert_id, det in standing.items():
            key = detection_event_id(det)  # a revision's delivery key is its event's id
            assert keys[key] == 1, f"{alert_id} stands and was posted {keys[key]} times"
    finally:
        desk.close()
