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

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, detection, feed, ledger, lines, make
from watchfloor.alerts.dispatcher import AlertDispatcher
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


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(routes=st.lists(st.sampled_from("ABC"), min_size=1, max_size=4), steps=st.lists(STEP, max_size=14))
def test_every_alert_is_posted_once_whatever_fails_and_whoever_sends(
    tmp_path_factory: pytest.TempPathFactory, routes: list[str], steps: list[tuple[str, int | None]]
) -> None:
    where = tmp_path_factory.mktemp("wf")
    url = f"sqlite:///{where / 'wf.db'}"
    archive = where / "alerts.jsonl"
    clock = Clock()
    server = FakeSlack().start()
    stores: list[SqlStore] = []

    def process(name: str) -> AlertDispatcher:
        store = SqlStore(url)
        stores.append(store)
        return make(store, server, archive, clock, owner=name)

    try:
        server.channels = {"#dprk-russia"}
        first = SqlStore(url)
        stores.append(first)
        # Alerts of one route are one story: the later ones are follow-ups in the first one's thread.
        alerts = len(routes)
        feed(first, *(detection(n, group={"route": r}) for n, r in enumerate(routes, 1)))
        restarts = 0
        main, other = process("main-0"), process("other")
        for kind, arg in steps:
            if kind == "fault":
                assert arg is not None
                _fault(server, arg)
            elif kind == "cycle":
                main.cycle()
            elif kind == "other":
                other.cycle()
            elif kind == "restart":
                restarts += 1
                main = process(f"main-{restarts}")
            elif (wait := main.next_due()) is not None:
                clock.advance(wait)
        # Then the faults are gone: the main process goes on until nothing waits (each wait a jump of the clock).
        for _ in range(40):
            if main.cycle().ok and all(r.status == "sent" for r in ledger(first).values()):
                break
            wait = main.next_due()
            assert wait is not None, "something is outstanding that never falls due"
            clock.advance(max(wait, 1.0))
        rows = ledger(first)
        assert {(a, c): r.status for (a, c), r in rows.items()} == {
            (f"det{n:04d}", c): "sent" for n in range(1, alerts + 1) for c in ("slack-ops", "archive")
        }
        for n in range(1, alerts + 1):
            key = f"det{n:04d}"
            posted = server.messages_for(key)
            assert len(posted) == 1, f"{key} posted {len(posted)} times"
            assert rows[(key, "slack-ops")].ref.endswith(posted[0]["ts"]), (
                "the ledger keeps the message it was posted as"
            )
        # A later alert of a route is told in the thread of the route's first, however the first one's post went.
        firsts: dict[str, str] = {}
        for n, route in enumerate(routes, 1):
            (message,) = server.messages_for(f"det{n:04d}")
            if route in firsts:
                assert message.get("thread_ts") == firsts[route], f"det{n:04d} is not in its story's thread"
            else:
                assert message.get("thread_ts") in (None, message["ts"])
                firsts[route] = message["ts"]
        written = [line.get("key", line.get("id")) for line in lines(archive)]
        assert sorted(written) == [f"det{n:04d}" for n in range(1, alerts + 1)]
    finally:
        server.stop()
        for store in stores:
            store.close()
