"""A story is the channels' common thread: whether a detection starts one or continues one (and which) is decided
once, from every detection of its rule and group in the log, whichever channels it was routed to and whether it was
routed at all. A channel whose filter (`where`, `min_severity`) kept a story's first alert out starts its thread of
the story at the first alert it gets, and a later story is a new thread there too, never a reply under the earlier
one (outside trial, finding M5: the same alert was a new thread in one channel and a "Re:" downgrade in another)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from tests.functional.delivery_helpers import RETRY, Clock, Recorder, detection, feed, ledger
from watchfloor.alerts.dispatcher import STORY_TYPES, AlertDispatcher
from watchfloor.alerts.intake import Stories, Story
from watchfloor.alerts.notice import AlertCatalog, payload, thread_key
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import Alert, Detection, Event, detection_event, detection_event_id
from watchfloor.stream_processors.ports import Checkpoint, DeliveryRecord, StoredEvent
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional

DEC = datetime(2024, 12, 16, tzinfo=UTC)
CATALOG = AlertCatalog(
    entity_names={"DONBAS": "Donbas", "KHARKIV": "Kharkiv"}, open_periods={"troops": timedelta(days=1)}
)


def report(
    n: int, at: timedelta, severity: str, place: str, confidence: str = "unconfirmed", sources: int = 1
) -> Detection:
    """Troops in the east: one rule and group (`party=RUS`), reports naming a place."""
    d = detection(
        n,
        rule="troops",
        group={"party": "RUS"},
        severity=severity,
        confidence=confidence,
        sources=tuple(f"Outlet {i}" for i in range(sources)),
    )
    return d.model_copy(update={"fired_at": DEC + at, "attributes": {"place": [place]}})


def dispatch(subs: list[Subscription], *dets: Detection) -> tuple[MemoryStore, dict[str, Recorder]]:
    store = MemoryStore()
    channels = {s.channel: Recorder(s.channel) for s in subs}
    d = AlertDispatcher(store, channels, subs, RETRY, now=Clock(DEC + timedelta(days=3)), catalog=CATALOG)
    for det in dets:  # one at a time, as they were raised
        feed(store, det)
        d.cycle()
    return store, channels


def kinds(store: MemoryStore, channel: str) -> dict[str, tuple[str, str | None]]:
    """alert id -> (kind, the alert it replies under) of a channel's rows."""
    return {a: (r.kind, r.parent_id) for (a, c), r in ledger(store).items() if c == channel}


def starts(store: MemoryStore, channel: str) -> set[str]:
    return {a for a, (kind, _) in kinds(store, channel).items() if kind == "alert"}


# The timeline of the trial: a story starts on 12-16 (Kharkiv, medium), is confirmed on 12-17 in Donbas (high, two
# sources), and a new unconfirmed report from Donbas comes on 12-18, beyond the rule's one day from the story's
# first alert: a new story.
FIRST = report(1, timedelta(hours=14), "medium", "KHARKIV")
CONFIRMED = report(2, timedelta(days=1, hours=12), "high", "DONBAS", "confirmed", sources=2)
NEXT = report(3, timedelta(days=2, hours=10), "medium", "DONBAS")


@pytest.mark.parametrize("next_place", ["DONBAS", "KHARKIV"])
def test_a_where_filtered_channel_and_an_unfiltered_one_agree_on_which_alert_starts_a_story(next_place: str) -> None:
    later = NEXT.model_copy(update={"attributes": {"place": [next_place]}})
    store, channels = dispatch(
        [Subscription(channel="all"), Subscription(channel="donbas", where={"place": "Donbas"})],
        FIRST,
        CONFIRMED,
        later,
    )
    assert kinds(store, "all") == {
        "det0001": ("alert", None),
        "det0002": ("followup", "det0001"),
        "det0003": ("alert", None),
    }
    if next_place == "DONBAS":
        # the donbas thread of the first story starts mid-story (its first alert named Kharkiv); the next story is a
        # thread of its own there too, not a reply under the first one's
        assert kinds(store, "donbas") == {"det0002": ("alert", None), "det0003": ("alert", None)}
        assert "det0003" in starts(store, "all") & starts(store, "donbas")  # both: a new story
    else:
        # a new story naming only Kharkiv is no update of a thread the donbas desk has: it goes there not at all
        assert kinds(store, "donbas") == {"det0002": ("alert", None)}
    assert [(n.key, n.kind) for n in channels["donbas"].sent][-1][1] == "alert"


def test_a_min_severity_channel_and_an_unfiltered_one_agree_on_which_alert_starts_a_story() -> None:
    high_next = NEXT.model_copy(update={"severity": "high"})
    store, channels = dispatch(
        [Subscription(channel="all"), Subscription(channel="high", min_severity="high")], FIRST, CONFIRMED, high_next
    )
    assert starts(store, "all") == {"det0001", "det0003"}
    assert kinds(store, "high") == {"det0002": ("alert", None), "det0003": ("alert", None)}
    assert [n.kind for n in channels["high"].sent] == ["alert", "alert"]


def test_a_story_started_by_a_detection_routed_to_no_channel_still_counts() -> None:
    """The story's first alert went nowhere (every channel wants high): the confirmation is the first either channel
    gets of it, and the next report, beyond the rule's one day from the story's start, starts a new story in both."""
    high_next = NEXT.model_copy(update={"severity": "high"})
    subs = [
        Subscription(channel="desk", min_severity="high"),
        Subscription(channel="donbas", min_severity="high", where={"place": "Donbas"}),
    ]
    store, _ = dispatch(subs, FIRST, CONFIRMED, high_next)
    assert "det0001" not in {a for a, _ in ledger(store)}
    for channel in ("desk", "donbas"):
        assert kinds(store, channel) == {"det0002": ("alert", None), "det0003": ("alert", None)}, channel


def test_a_story_goes_on_in_a_channel_that_joined_it_late() -> None:
    """Within the story, a filtered channel's later alerts reply under its own first alert of the story."""
    more = report(4, timedelta(days=1, hours=13), "high", "DONBAS", "confirmed", sources=3)
    store, _ = dispatch(
        [Subscription(channel="all"), Subscription(channel="donbas", where={"place": "Donbas"})],
        FIRST,
        CONFIRMED,
        more,
    )
    assert kinds(store, "all") == {
        "det0001": ("alert", None),
        "det0002": ("followup", "det0001"),
        "det0004": ("followup", "det0001"),
    }
    assert kinds(store, "donbas") == {"det0002": ("alert", None), "det0004": ("followup", "det0002")}


def test_stories_are_the_same_when_the_log_is_dispatched_again_from_the_start() -> None:
    """A second dispatcher over the same log (a fresh process, a replay) decides every story as the first did."""
    subs = [Subscription(channel="all"), Subscription(channel="donbas", where={"place": "Donbas"})]
    store, _ = dispatch(subs, FIRST, CONFIRMED, NEXT)
    again = MemoryStore()
    for se in store.read(0, types={"detection"}, limit=100):
        again.append([se.event])
    channels = {s.channel: Recorder(s.channel) for s in subs}
    AlertDispatcher(again, channels, subs, RETRY, now=Clock(DEC + timedelta(days=3)), catalog=CATALOG).cycle()
    assert {k: (r.kind, r.parent_id) for k, r in ledger(again).items()} == {
        k: (r.kind, r.parent_id) for k, r in ledger(store).items()
    }


def test_a_ledger_threaded_before_stories_keeps_its_threads() -> None:
    """Rows written when threads were each channel's own (the donbas desk has the next story as a reply under the
    first one's confirmation): the next report of that story replies in the thread that holds it, in each channel."""
    subs = [Subscription(channel="all"), Subscription(channel="donbas", where={"place": "Donbas"})]
    store = MemoryStore()
    feed(store, FIRST, CONFIRMED, NEXT)

    def told(
        d: Detection, channel: str, kind: str = "alert", parent: str | None = None, seq: int = 0
    ) -> DeliveryRecord:
        alert = Alert(id=d.id, detection=d, channels=(channel,))
        data = payload(alert, parent_alert=parent)
        tk = thread_key(d.rule, d.group)
        return DeliveryRecord(d.id, channel, "sent", kind, data, tk, parent, seq)

    store.enqueue(
        [
            told(FIRST, "all", seq=2),
            told(CONFIRMED, "all", "followup", FIRST.id, seq=3),
            told(NEXT, "all", seq=4),
            told(CONFIRMED, "donbas", seq=3),
            told(NEXT, "donbas", "followup", CONFIRMED.id, seq=4),
        ]
    )
    store.commit("alerts", Checkpoint(store.head(), None), [])
    after = report(4, timedelta(days=2, hours=12), "high", "DONBAS", "confirmed", sources=2)
    feed(store, after)
    channels = {s.channel: Recorder(s.channel) for s in subs}
    AlertDispatcher(store, channels, subs, RETRY, now=Clock(DEC + timedelta(days=3)), catalog=CATALOG).cycle()
    assert kinds(store, "all")["det0004"] == ("followup", NEXT.id)
    assert kinds(store, "donbas")["det0004"] == ("followup", CONFIRMED.id)


class CountingStore(MemoryStore):
    """A memory store that counts the reads of detection events alone (the dispatcher's StoryBook reads them so, as
    payloads; intake reads detections and retractions together) and the events those reads return."""

    def __init__(self) -> None:
        super().__init__()
        self.story_reads = 0
        self.story_rows = 0
        self.event_reads = 0  # reads of whole detection events alone (Event envelopes)

    def read(self, after: int = 0, *, types: Collection[str] | None = None, limit: int = 1000) -> list[StoredEvent]:
        got = super().read(after, types=types, limit=limit)
        if types is not None and set(types) == {"detection"}:
            self.event_reads += 1
        return got

    def read_payloads(
        self, after: int = 0, *, types: Collection[str] | None = None, limit: int = 1000
    ) -> list[tuple[int, str]]:
        got = super().read_payloads(after, types=types, limit=limit)
        if types is not None and set(types) == STORY_TYPES:  # detections and retractions (which may end a story)
            self.story_reads += 1
            self.story_rows += len(got)
        return got


def backlog(store: MemoryStore, n: int) -> list[Detection]:
    """n reports of one story after another, each after a document of its own (as a pipeline's log holds them)."""
    dets = [report(i, timedelta(hours=7 * i), "medium", "DONBAS") for i in range(1, n + 1)]
    for d in dets:
        store.append([Event(id=f"doc-{d.id}", type="news.article", time=d.fired_at, payload={}), detection_event(d)])
    return dets


def test_a_backlog_taken_in_one_intake_pass_reads_the_log_for_stories_once_and_decides_as_one_at_a_time() -> None:
    # A dispatcher behind by 30 detections (an outage, a first start on a full store) used to read the log again
    # before each (every detection after the last it had taken, 5,000 at a time): a store read per detection.
    subs = [Subscription(channel="all")]
    store = CountingStore()
    dets = backlog(store, 30)
    AlertDispatcher(store, {"all": Recorder("all")}, subs, RETRY, now=Clock(DEC), catalog=CATALOG).cycle()
    assert store.story_reads <= 1
    one_at_a_time, _ = dispatch(subs, *dets)
    assert kinds(store, "all") == kinds(one_at_a_time, "all")


def test_a_dispatcher_reads_no_detection_past_the_one_it_decides() -> None:
    # Each intake pass (5 events here) starts with a read for the story of its first detection: it used to return
    # every later detection too (up to 5,000), read and dropped.
    subs = [Subscription(channel="all")]
    store = CountingStore()
    dets = backlog(store, 30)
    d = AlertDispatcher(store, {"all": Recorder("all")}, subs, RETRY, now=Clock(DEC), catalog=CATALOG)
    passes = 0
    while d.intake(5)[0]:
        passes += 1
    assert passes == 6
    assert store.story_rows <= passes  # at most the detection the pass starts with, per pass
    one_at_a_time, _ = dispatch(subs, *dets)
    assert kinds(store, "all") == kinds(one_at_a_time, "all")


def test_a_dispatcher_starting_on_a_full_log_reads_the_stories_as_payloads_not_events() -> None:
    # At start-up the StoryBook takes in every detection of the log: it reads their payloads alone (the few fields a
    # story needs, decoded without a model) rather than an Event and a Detection each, which was most of the time a
    # dispatcher took to start on a big store.
    subs = [Subscription(channel="all")]
    store = CountingStore()
    backlog(store, 30)
    store.commit("alerts", Checkpoint(store.head() - 1, None), [])  # everything but the last taken before
    d = AlertDispatcher(store, {"all": Recorder("all")}, subs, RETRY, now=Clock(DEC), catalog=CATALOG)
    assert d.intake(10) == (1, 1)
    assert (store.event_reads, store.story_reads) == (0, 1)  # one read of the 29 before it (and itself)
    assert len(d.stories.stories) == 30
    want = by_the_model(store)
    assert {key: d.stories.story(p, key, det) for key, (p, det) in positions(store).items()} == want
    assert len({s.root for s in want.values()}) > 1


def positions(store: MemoryStore) -> dict[str, tuple[int, Detection]]:
    """The detections the model reads in the log, by delivery key, with their positions."""
    out: dict[str, tuple[int, Detection]] = {}
    for se in store.read(0, types={"detection"}, limit=10_000):
        try:
            det = Detection.model_validate(se.event.payload)
        except ValidationError:
            continue  # intake dead-letters it
        out[detection_event_id(det)] = (se.position, det)
    return out


def by_the_model(store: MemoryStore) -> dict[str, Story]:
    """Every detection's story as the StoryBook decided it before it read payloads itself (Event, then Detection)."""
    stories = Stories()
    return {key: stories.take(p, key, det, CATALOG.open_period(det.rule)) for key, (p, det) in positions(store).items()}


def test_detections_the_model_reads_in_other_forms_or_refuses_make_the_same_stories() -> None:
    # The payloads the StoryBook decodes itself are those the engine writes; any other form a payload may take (a
    # time with seven decimals or in lower case, a revision as "1") is read by the model, and one it refuses (a
    # field it does not know) starts no story, as intake dead-letters it: the same stories as the model's reading.
    def at(hours: int) -> str:
        return (DEC + timedelta(hours=hours)).isoformat()

    odd = [
        (10, {"fired_at": at(10).replace("+00:00", ".1234567+00:00")}),
        (40, {"fired_at": at(40).replace("T", "t")}),
        (41, {"revision": "1", "revises": "det0002"}),
        (80, {"unknown": 1}),  # refused: no story (else the last one, at 85 h, would have joined it)
        (100, {"fired_at": (DEC + timedelta(hours=101)).strftime("%Y-%m-%dT%H:%M:%S+0100")}),  # 100 h UTC
    ]
    store = MemoryStore()
    for i, (hours, change) in enumerate(odd, start=1):
        d = report(i, timedelta(hours=hours), "medium", "DONBAS")
        payload = {**detection_event(d).payload, **change}
        store.append([Event(id=f"event-{i}", type="detection", time=d.fired_at, payload=payload)])
    feed(store, report(9, timedelta(hours=85), "high", "DONBAS"))
    store.commit("alerts", Checkpoint(store.head() - 1, None), [])
    d = AlertDispatcher(store, {"all": Recorder("all")}, [Subscription(channel="all")], RETRY, catalog=CATALOG)
    d.intake(1)  # the story of the last one: the StoryBook reads every detection before it
    want = by_the_model(store)
    got = {key: d.stories.story(p, key, det) for key, (p, det) in positions(store).items()}
    assert got == want
    revision = detection_event_id(report(3, timedelta(hours=41), "medium", "DONBAS").model_copy(update={"revision": 1}))
    assert {k: s.root for k, s in got.items()} == {
        "det0001": "det0001",
        "det0002": "det0002",
        revision: "det0002",
        "det0005": "det0005",
        "det0009": "det0005",
    }
