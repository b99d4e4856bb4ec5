"""A digest lists a story of several groups (a rule's `thread_by`) as Slack threads it (outside trial 74, F2: the Niger
sanctions thread was seven "stories" in the digest, scattered by severity, "21 alerts in 19 stories" beside 13
threads): its lines together at the place of its most severe one, in event time, each naming the story's first
alert, and the title's count of stories counts it once. The ledger keeps it (a redelivery sends the same list)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.functional.test_digest import ALICE, MONDAY_7, Clock, Inbox
from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import AlertCatalog, Digest
from watchfloor.alerts.notifiers.slack_blocks import digest_blocks, digest_title
from watchfloor.alerts.notifiers.wording import wording
from watchfloor.schemas.events import Detection, detection_event
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional

RULE = "sahel-sanctions"
NAMES = {"NER": "Niger", "MLI": "Mali", "USA": "United States", "EU": "European Union", "FRA": "France"}
PERIODS = {RULE: timedelta(days=3), "sahel-coup": timedelta(days=3)}
THREADED = AlertCatalog(entity_names=NAMES, open_periods=PERIODS, thread_by={RULE: ("country",)})
T0 = datetime(2024, 11, 1, tzinfo=UTC)


def sanction(n: int, imposer: str, hours: float, *, country: str = "NER", severity: str = "medium") -> Detection:
    return Detection(
        id=f"s{n}",
        rule=RULE,
        title=f"{NAMES[imposer]} sanctions on {NAMES[country]}",
        severity=severity,  # type: ignore[arg-type]
        group={"country": country, "imposer": imposer},
        fired_at=T0 + timedelta(hours=hours),
    )


def coup(n: int, hours: float) -> Detection:
    return Detection(
        id=f"c{n}", rule="sahel-coup", title="Coup in Niger", severity="high", group={"country": "NER"},
        fired_at=T0 + timedelta(hours=hours),
    )  # fmt: skip


def digest_of(catalog: AlertCatalog, *dets: Detection) -> Digest:
    store, clock, inbox = MemoryStore(), Clock(MONDAY_7), Inbox()
    control = ControlLog(store, now=clock)
    control.subscribe("desk", rules=["*"], digest="daily 08:00 UTC", by=ALICE)
    d = AlertDispatcher(store, {"desk": inbox}, now=clock, routing=ControlLog(store, now=clock), catalog=catalog)
    store.append([detection_event(x) for x in dets])
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert d.cycle().tally.digests == 1
    (got,) = inbox.got
    row = next(r for r in store.deliveries() if r.kind == "digest")
    assert Digest.from_payload(row.payload) == got  # the ledger keeps the grouping: a redelivery says the same
    return got


DETECTIONS = (
    sanction(1, "USA", 0),  # the Niger story starts: the U.S.
    coup(2, 1),
    sanction(3, "EU", 10),
    sanction(4, "FRA", 20, severity="high"),  # France's HIGH: where the story's lines go
    coup(5, 100),  # past the coup's open period: a story of its own
    sanction(6, "USA", 30, country="MLI"),  # Mali: another story of the rule
    sanction(7, "EU", 200),  # past the Niger story's open period: a story of its own
)


def test_a_story_of_several_groups_is_listed_together_named_by_its_first_alert_and_counted_once() -> None:
    digest = digest_of(THREADED, *DETECTIONS)
    ids = [x.id for x in digest.detections]
    assert ids == ["c2", "s1", "s3", "s4", "c5", "s6", "s7"], ids  # Niger's three together, at France's HIGH
    lines = digest.lines()
    # (the story's first alert's own line says it is, not "in the story of" itself: outside trial 79, F3)
    assert "the story's first alert (Niger, United States)" in lines[1] and "in the story of" not in lines[1]
    for line in lines[2:4]:
        assert "in the story of alert s1 (Niger, United States)" in line, line
    assert not any("story" in line for line in lines[:1] + lines[4:]), lines
    assert digest.title().startswith("watchfloor digest · 7 alerts in 5 stories"), digest.title()
    slack = "\n".join(str(e.get("text", "")) for b in digest_blocks(digest) for e in [b.get("text") or {}])
    assert slack.count("in the story of alert `s1` (Niger, United States)") == 2, slack
    assert slack.count("the story's first alert (Niger, United States)") == 1, slack
    assert "5 сюжетов" in digest_title(digest, wording("ru")) or "5 сюжет" in digest_title(digest, wording("ru"))
    story = {"alert": "s1", "group_label": "Niger, United States"}
    assert [a.get("story") for a in digest.to_json()["alerts"]][:5] == [None, story, story, story, None]


def test_without_thread_by_each_group_is_its_own_story_as_before() -> None:
    digest = digest_of(AlertCatalog(entity_names=NAMES, open_periods=PERIODS), *DETECTIONS)
    assert [x.id for x in digest.detections] == ["c2", "s4", "c5", "s1", "s3", "s6", "s7"]
    assert digest.stories == {} and "in the story of" not in "\n".join(digest.lines())
    assert digest.title().startswith("watchfloor digest · 7 alerts ·"), digest.title()


@pytest.mark.parametrize("now", [(), None, ("imposer",)], ids=["thread_by-empty", "thread_by-dropped", "by-imposer"])
def test_a_digest_made_after_thread_by_changed_lists_the_stories_as_the_channel_threaded_them(
    now: tuple[str, ...] | None,
) -> None:
    """Outside trial 79, F6: the desk took the alerts as they came under `thread_by: [country]` (the Niger sanctions
    one thread), then the pack's `thread_by` changed (`[]`, left out, `[imposer]`) before its digest was made: the
    digest lists the stories as the channel threaded them (Niger's three together, named by the U.S.'s alert,
    "7 alerts in 5 stories"), not re-cut by the setting now ("27 stories" where the channel had 13 threads)."""
    store, clock = MemoryStore(), Clock(MONDAY_7)
    control = ControlLog(store, now=clock)
    control.subscribe("desk", rules=["*"], by=ALICE)
    control.subscribe("desk", rules=["*"], digest="daily 08:00 UTC", by=ALICE)
    inbox = Inbox()

    def dispatcher(catalog: AlertCatalog) -> AlertDispatcher:
        return AlertDispatcher(store, {"desk": inbox}, now=clock, routing=ControlLog(store, now=clock), catalog=catalog)

    store.append([detection_event(x) for x in DETECTIONS])
    assert dispatcher(THREADED).cycle().ok
    assert len(inbox.alerts) == len(DETECTIONS) and not inbox.got
    clock.now = MONDAY_7 + timedelta(hours=1)
    threads = {RULE: now} if now is not None else {}
    assert dispatcher(AlertCatalog(entity_names=NAMES, open_periods=PERIODS, thread_by=threads)).cycle().ok
    (digest,) = inbox.got
    assert [x.id for x in digest.detections] == ["c2", "s1", "s3", "s4", "c5", "s6", "s7"], digest.detections
    assert digest.title().startswith("watchfloor digest · 7 alerts in 5 stories"), digest.title()
    assert {k: v[0] for k, v in digest.stories.items()} == {"s1": "s1", "s3": "s1", "s4": "s1"}, digest.stories


def test_a_follow_up_told_in_another_groups_thread_and_listed_alone_names_its_story() -> None:
    """Outside trial 79, F3: the EU's confirmation, a reply in the Niger thread (the U.S.'s story), is the only line of
    a digest subscribed after the story's first alerts: it says it is in the story of the U.S.'s alert, so a reader can
    tell which thread it belongs to; a story of one group listed alone names none."""
    store, clock = MemoryStore(), Clock(MONDAY_7)
    control = ControlLog(store, now=clock)
    control.subscribe("desk", rules=["*"], by=ALICE)
    inbox = Inbox()
    d = AlertDispatcher(store, {"desk": inbox}, now=clock, routing=ControlLog(store, now=clock), catalog=THREADED)
    store.append([detection_event(x) for x in (sanction(1, "USA", 0), sanction(3, "EU", 10))])
    assert d.cycle().ok
    control.subscribe("desk", rules=["*"], digest="daily 08:00 UTC", by=ALICE)
    store.append(
        [detection_event(x) for x in (sanction(8, "EU", 12, severity="high"), sanction(9, "FRA", 14, country="MLI"))]
    )
    clock.now = MONDAY_7 + timedelta(hours=1)
    assert d.cycle().ok
    (digest,) = inbox.got
    lines = {x.id: next(line for line in digest.lines() if f"alert {x.id}" in line) for x in digest.detections}
    assert "in the story of alert s1 (Niger, United States)" in lines["s8"], lines
    assert "story" not in lines["s9"], lines
