"""The dispatcher forgets stories no detection can join any more (StoryBook, `Stories(keep=...)`): over a long
timeline on a SQLite store it holds a bounded number of detections, and every channel's rows are those an unbounded
StoryBook makes, but for the one case documented at the edge: a report far beyond the lateness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.functional.delivery_helpers import RETRY, Clock, Recorder, detection, feed, ledger
from watchfloor.alerts.dispatcher import STORY_MARGIN, AlertDispatcher, StoryBook
from watchfloor.alerts.notice import AlertCatalog, earlier_text
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import Detection, Retraction, detection_event_id, retraction_event
from watchfloor.stream_processors.ports import Store
from watchfloor.wiring import open_store

pytestmark = pytest.mark.functional

COMPACT_AT = 64  # the story index compacts at 64 held detections, not intake.COMPACT_MIN (4096)

T = datetime(2025, 3, 1, tzinfo=UTC)
CATALOG = AlertCatalog(open_periods={"troops": timedelta(days=1), "noise": timedelta(hours=1)}, lateness=timedelta(1))
FILLER_EVERY = timedelta(hours=3)
_n = [1000]


def alert(n: int, at: timedelta, **kw: object) -> Detection:
    d = detection(n, rule="troops", group={"party": "RUS"}, severity="high")
    return d.model_copy(update={"fired_at": T + at, **kw})


def fillers(start: timedelta, end: timedelta) -> list[Detection]:
    """Low detections of another rule every 3 hours of event time: routed nowhere, each taken by the stories."""
    out = []
    at = start
    while at < end:
        _n[0] += 1
        d = detection(_n[0], rule="noise", group={"n": "1"}, severity="low")
        out.append(d.model_copy(update={"fired_at": T + at}))
        at += FILLER_EVERY
    return out


A = alert(1, timedelta(days=1))
C = alert(3, timedelta(days=150))
B = alert(2, timedelta(days=150, hours=6))  # logged after reports of day 151: late, within the lateness
C_REV = alert(4, timedelta(days=150, hours=1), revises=C.id, revision=1)  # logged 20 days on
A_REV = alert(5, timedelta(days=1), revises=A.id, revision=1)  # logged ~170 days on: A's story is forgotten
D = alert(6, timedelta(days=1, hours=2))  # a report ~170 days behind the newest, far beyond the lateness
X = alert(9, timedelta(days=100))
E = alert(10, timedelta(days=100, hours=3))  # ~70 days behind the newest: X's story is forgotten, and no lease


def run(store: Store, bounded: bool) -> tuple[AlertDispatcher, dict[str, Recorder]]:
    subs = [Subscription(channel="desk", min_severity="high")]
    channels = {"desk": Recorder("desk")}
    d = AlertDispatcher(store, channels, subs, RETRY, now=Clock(T + timedelta(days=200)), catalog=CATALOG)
    d.stories = StoryBook(store, CATALOG, bounded=bounded, compact_min=COMPACT_AT)
    steps: list[list[Detection] | Retraction] = [
        [A],
        fillers(timedelta(0), timedelta(days=100)),
        [X],
        fillers(timedelta(days=100), timedelta(days=150)),
        [C],
        fillers(timedelta(days=150), timedelta(days=151, hours=12)),
        [B],
        fillers(timedelta(days=151, hours=12), timedelta(days=170)),
        [C_REV],
        Retraction(alert_id=B.id, rule="troops", group=B.group, reason="a late report", revision=2, at=T),
        [A_REV],
        [D],
        [E],
    ]
    for step in steps:
        if isinstance(step, Retraction):
            store.append([retraction_event(step)])
        else:
            feed(store, *step)
        d.cycle()
    return d, channels


def rows(store: Store) -> dict[str, tuple[str, str | None, str]]:
    return {a: (r.kind, r.parent_id, r.status) for (a, c), r in ledger(store).items() if c == "desk"}


def test_a_long_timeline_through_the_dispatcher_keeps_the_answers_and_a_bounded_story_index(tmp_path: Path) -> None:
    assert CATALOG.lateness + STORY_MARGIN == timedelta(days=31)
    unbounded_store = open_store(f"sqlite:///{tmp_path / 'unbounded.db'}")
    bounded_store = open_store(f"sqlite:///{tmp_path / 'bounded.db'}")
    unbounded, _ = run(unbounded_store, bounded=False)
    bounded, channels = run(bounded_store, bounded=True)

    want, got = rows(unbounded_store), rows(bounded_store)
    # the late report joins its story, the revision 20 days on replies under the alert it revises, the retraction
    # withdraws the late report: the same rows either way
    assert got[C.id][:2] == want[C.id][:2] == ("alert", None)
    assert got[B.id][:2] == want[B.id][:2] == ("followup", C.id)
    revision_keys = [k for k, v in got.items() if v[0] == "revision"]
    assert len(revision_keys) == 2 and {got[k][1] for k in revision_keys} == {C.id, A.id}
    retraction_keys = [k for k, v in got.items() if v[0] == "retraction"]
    assert len(retraction_keys) == 1 and got[retraction_keys[0]][1] == B.id
    # a revision of an alert whose story is forgotten: still a reply in its alert's thread (the ledger decides); it
    # came ~170 days behind the newest, so the story it begins is kept on a lease (intake.BACKFILL_TAKES), and the next
    # report of that time (D, 2 hours after A) follows up in the same thread, as unbounded
    assert {k: v for k, v in got.items() if k != E.id} == {k: v for k, v in want.items() if k != E.id}
    assert got[D.id][:2] == ("followup", A.id)
    # the edge: a report ~70 days behind the newest (far beyond the 1-day lateness) joined X's story unbounded;
    # bounded, that story is over (nothing far behind began or joined it) and it starts a thread of its own, which
    # says that it is X's story posted apart, not "a new story"
    assert want[E.id][:2] == ("followup", X.id)
    assert got[E.id][:2] == ("alert", None)
    (sent,) = [n for n in channels["desk"].sent if n.key == E.id]
    assert sent.kind == "alert" and sent.earlier is not None and sent.earlier.alert_id == X.id
    assert sent.earlier.within == timedelta(hours=3)
    assert earlier_text(sent.earlier).startswith(f"Same story as {X.id}, fired 2025-06-09 00:00 UTC (3h00m before")
    assert "a new story" not in earlier_text(sent.earlier)

    taken = bounded.stories.stories.taken
    assert taken == unbounded.stories.stories.taken == len(unbounded.stories.stories) > 1300
    # held: what 31 days + the open period of fillers make (~250), at most twice that before a compaction
    assert len(bounded.stories.stories) < 600


def test_a_second_dispatcher_on_the_same_log_forgets_alike(tmp_path: Path) -> None:
    """Stories are rebuilt from the log at start: a dispatcher started after the whole timeline decides the next
    detection's story as the one that followed it live (forgetting is a function of the log)."""
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    live, _ = run(store, bounded=True)
    near_c = alert(7, timedelta(days=150, hours=12))  # 20 days behind: C's story (C's revision stands) goes on
    # near A: its story is over, but A's revision and D, ~170 days behind the newest, began and joined one on a lease
    near_d = alert(8, timedelta(days=1, hours=3))
    near_e = alert(11, timedelta(days=100, hours=4))  # near X, whose story is over, and E, whose story is leased
    old = detection(12, rule="noise", group={"n": "1"}, severity="low")
    old = old.model_copy(update={"fired_at": T + timedelta(days=50, minutes=10)})  # a filler's: over, no lease
    feed(store, near_c, near_d, near_e, old)
    fresh = StoryBook(store, CATALOG, compact_min=COMPACT_AT)
    head = store.head()
    for position, det, root in (
        (head - 3, near_c, C.id),
        (head - 2, near_d, detection_event_id(A_REV)),
        (head - 1, near_e, E.id),
        (head, old, old.id),
    ):
        assert fresh.story(position, det.id, det) == live.stories.story(position, det.id, det)
        assert fresh.story(position, det.id, det).root == root
