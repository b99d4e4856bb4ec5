"""Pure parts of delivery: the retry schedule (backoff, Retry-After cap, expiry) and intake's thread decisions."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta, timezone

from watchfloor.alerts.intake import Stories, _shifted, plan_detection, plan_retraction
from watchfloor.alerts.notice import (
    REPLACED,
    AlertCatalog,
    alert_of,
    escalation,
    independent_sources,
    payload,
    thread_key,
)
from watchfloor.alerts.schedule import RetrySchedule
from watchfloor.schemas.config import RetryPolicy
from watchfloor.schemas.events import Alert, Detection, Evidence, Retraction
from watchfloor.stream_processors.ports import DeliveryRecord

T0 = datetime(2024, 11, 4, 9, 0, tzinfo=UTC)
NOW = 1_730_000_000.0


def test_backoff_doubles_and_is_capped() -> None:
    s = RetrySchedule(backoff=2, max_backoff=60)
    assert [s.delay(n) for n in range(1, 9)] == [2, 4, 8, 16, 32, 60, 60, 60]
    assert s.delay(10_000) == 60  # no overflow however long the outage


def test_retry_after_is_honoured_but_capped_and_never_earlier_than_the_backoff() -> None:
    s = RetrySchedule(backoff=2, max_backoff=60, max_retry_after=300, max_age=86_400)
    r = s.after_failure(1, 30, NOW, NOW)
    assert (r.next_attempt_at, r.not_before) == (NOW + 30, NOW + 30)
    r = s.after_failure(1, 10**9, NOW, NOW)  # a hostile or broken server
    assert (r.next_attempt_at, r.not_before) == (NOW + 300, NOW + 300)
    r = s.after_failure(6, 1, NOW, NOW)  # our backoff is longer than the server asks
    assert (r.next_attempt_at, r.not_before) == (NOW + 60, NOW + 1)
    for bad in (None, float("nan"), -5, 0):
        assert s.after_failure(1, bad, NOW, NOW).not_before == 0


def test_no_attempt_is_scheduled_past_the_expiry() -> None:
    s = RetrySchedule(backoff=2, max_backoff=3600, max_age=100)
    r = s.after_failure(12, None, NOW + 90, NOW)
    assert r.next_attempt_at == NOW + 100
    assert not s.expired(NOW, NOW + 99.9) and s.expired(NOW, NOW + 100)


def test_the_schedule_comes_from_the_config() -> None:
    s = RetrySchedule.from_policy(RetryPolicy(attempts=5))
    assert (s.backoff, s.max_backoff, s.max_age, s.max_retry_after, s.lease) == (2, 600, 86_400, 900, 120)
    assert (s.max_attempts, s.out_of_attempts(4), s.out_of_attempts(5)) == (5, False, True)
    assert not RetrySchedule.from_policy(RetryPolicy()).out_of_attempts(10**6)  # no cap unless asked for


def det(n: int, *, hours: float = 0, group: dict[str, str] | None = None, **kw: object) -> Detection:
    return Detection(
        id=f"d{n}",
        rule="troops",
        title="Troops seen",
        severity=kw.pop("severity", "medium"),  # type: ignore[arg-type]
        group=group or {"party": "RUS"},
        fired_at=T0 + timedelta(hours=hours),
        evidence=tuple(
            Evidence(event_id=f"e{n}{s}", signal="s", source=s, published_at=T0, sentence="x")
            for s in kw.pop("sources", ("A",))  # type: ignore[attr-defined]
        ),
        **kw,  # type: ignore[arg-type]
    )


def row(d: Detection, kind: str = "alert", status: str = "sent", seq: int = 1) -> DeliveryRecord:
    alert = Alert(id=d.id, detection=d, channels=("desk",))
    return DeliveryRecord(
        d.id, "desk", status=status, kind=kind, payload=payload(alert), thread_key=thread_key(d.rule, d.group), seq=seq
    )


CAT = AlertCatalog(entity_names={"RUS": "Russia"}, open_periods={"troops": timedelta(hours=24)})


def plan(d: Detection, rows: list[DeliveryRecord]) -> DeliveryRecord:
    """`d`'s row in the channel whose rows are `rows`; its story decided over the rows' detections, as if they were
    all the log had of its rule and group, in seq order."""
    stories, period = Stories(), CAT.open_period(d.rule)
    for i, r in enumerate(rows):
        alert = alert_of(r.payload)
        assert alert is not None
        stories.take(i + 1, r.alert_id, alert.detection, period)
    story = stories.take(len(rows) + 1, d.id, d, period)
    return plan_detection(d.id, Alert(id=d.id, detection=d, channels=("desk",)), "desk", rows, story, CAT, seq=9)


def test_a_detection_in_an_open_thread_is_a_follow_up_of_its_first_alert() -> None:
    first = det(1)
    got = plan(det(2, hours=23, severity="high"), [row(first)])
    assert (got.kind, got.parent_id, got.seq) == ("followup", "d1", 9)
    assert got.payload is not None and got.payload["group_label"] == "Russia"
    assert got.payload["escalated_from"] == "medium"  # medium -> high: broadcast too
    assert plan(det(3, hours=25), [row(first)]).kind == "alert"  # past the rule's open period
    assert plan(det(4, hours=-2), [row(first)]).kind == "followup"  # arrived late, but within the period
    assert plan(det(5, hours=1), []).kind == "alert"


def test_only_the_newest_first_alert_takes_follow_ups_and_only_while_it_may_still_be_sent() -> None:
    old, new = det(1), det(2, hours=30)
    assert plan(det(3, hours=31), [row(old), row(new, seq=2)]).parent_id == "d2"
    assert plan(det(3, hours=31), [row(old), row(new, status="suppressed", seq=2)]).kind == "alert"
    assert plan(det(3, hours=31), [row(old), row(new, status="expired", seq=2)]).kind == "alert"
    assert plan(det(3, hours=31), [row(old), row(new, status="outstanding", seq=2)]).kind == "followup"


def test_a_revision_replies_under_the_alert_it_revises() -> None:
    first, follow = det(1), det(2, hours=1)
    rows = [row(first), row(follow, kind="followup", seq=2)]
    got = plan(det(3, hours=1, revises="d2", revision=1), rows)
    assert (got.kind, got.parent_id) == ("revision", "d2")
    # revising an alert this channel never got: an ordinary follow-up (or alert) instead
    assert plan(det(4, hours=1, revises="d9", revision=1), rows).kind == "followup"


def test_a_retraction_goes_where_the_alert_went() -> None:
    first = det(1)
    rows = [row(first), DeliveryRecord("d1", "other", status="suppressed", payload=row(first).payload)]
    r = Retraction(alert_id="d1", rule="troops", group={"party": "RUS"}, reason="exercise", revision=1, at=T0)
    [got] = plan_retraction("ret-1", r, rows, CAT, seq=5)
    assert (got.alert_id, got.channel, got.kind, got.parent_id) == ("ret-1", "desk", "retraction", "d1")
    assert got.payload is not None and got.payload["reason"] == "exercise"


def test_sources_and_escalations() -> None:
    assert independent_sources([det(1, sources=("A", "a ", "B")), det(2, sources=("B", "C"))]) == 3
    assert escalation([], "critical") is None  # the first alert escalates nothing
    assert escalation(["medium", "low"], "high") == "medium"
    assert escalation(["high"], "critical") == "high"
    assert escalation(["high"], "high") is None
    assert escalation(["low"], "medium") is None


def test_a_late_report_follows_up_the_thread_of_its_own_time_not_the_newest() -> None:
    # Two threads of one rule and group: d1 (0h) and d2 (36h, after d1's 24h closed; sent later). A report at
    # 9h arriving after both follows up d1, the thread whose story it is part of (outside audit: it had started
    # a thread of its own, or replied under the newest thread, leaving d1 "unconfirmed" for good).
    d1, d2 = det(1, hours=0), det(2, hours=36)
    rows = [row(d1, seq=1), row(d2, seq=2)]
    got = plan(det(3, hours=9, severity="high", sources=("A", "B")), rows)
    assert (got.kind, got.parent_id, got.payload and got.payload.get("escalated_from")) == ("followup", "d1", "medium")
    # A future-dated item processed at its receive time starts a thread of its own years later: the newest
    # thread by arrival, and not the one a late corroboration of d1 belongs to.
    future = det(4, hours=24 * 700)
    got = plan(det(5, hours=9), [row(d1, seq=1), row(future, seq=2)])
    assert (got.kind, got.parent_id) == ("followup", "d1")
    # Of two open threads within the period, the latest at or before it; else the earliest after it.
    d6 = det(6, hours=20)
    assert plan(det(7, hours=22), [row(d1, seq=1), row(d6, seq=2)]).parent_id == "d6"
    assert plan(det(8, hours=-3), [row(d6, seq=1), row(d1, seq=2)]).parent_id == "d1"


def test_a_revision_sent_in_place_of_an_alert_replaced_unsent_takes_its_follow_ups() -> None:
    # Slack was down: the alert and the revision a late report made of it waited together, so the alert was
    # settled 'replaced before it was sent' and the revision went as the thread's first message.
    first = det(1)
    replaced = dataclasses.replace(row(first, status="suppressed"), detail=f"{REPLACED}: d2 revises it")
    standing = dataclasses.replace(row(det(2, revises="d1", revision=1), kind="revision", seq=2), parent_id="d1")
    got = plan(det(3, hours=5), [replaced, standing])
    assert (got.kind, got.parent_id) == ("followup", "d2")
    # a revision of it, replaced unsent too, passes it on down its chain
    again = dataclasses.replace(row(det(4, revises="d2", revision=2), kind="revision", seq=3), parent_id="d2")
    gone = dataclasses.replace(standing, status="suppressed", detail=f"{REPLACED}: d4 revises it")
    assert plan(det(5, hours=5), [replaced, gone, again]).parent_id == "d4"
    # a plain suppressed alert (a silence) still starts nothing
    silenced = dataclasses.replace(row(first, status="suppressed"), detail="silenced by s1")
    assert plan(det(6, hours=5), [silenced, standing]).kind == "alert"


def test_a_story_is_decided_from_every_detection_before_it_whatever_the_channels() -> None:
    stories, period = Stories(), CAT.open_period("troops")
    assert stories.take(1, "d1", det(1), period).root == "d1"  # starts one (routed anywhere or not)
    assert stories.take(2, "d2", det(2, hours=22), period).root == "d1"  # within a day of d1
    third = stories.take(3, "d3", det(3, hours=44), period)  # within a day of d2, not of d1: a story of its own
    assert (third.root, third.members) == ("d3", frozenset())
    late = stories.take(4, "d4", det(4, hours=10), period)  # a late report: the story of its own time
    assert (late.root, late.members) == ("d1", frozenset({"d1", "d2"}))
    revised = stories.take(5, "r3", det(5, hours=1, revises="d3", revision=1), period)  # in its alert's story
    assert (revised.root, revised.members) == ("d3", frozenset({"d3"}))
    assert stories.take(2, "d2", det(2, hours=22), period).members == frozenset({"d1"})  # the same when replayed
    other = stories.take(6, "p1", det(6, hours=22, group={"party": "PRK"}), period)  # another group: another story
    assert other.root == "p1"


def test_a_story_whose_alerts_were_all_withdrawn_is_over() -> None:
    # Outside trial 10, F1: a claim restored after a denial, or another outlet's report after the withdrawal, fires
    # within the open period of the withdrawn alert; its story has no alert standing, so it starts one of its own.
    stories, period = Stories(), CAT.open_period("troops")
    tk = thread_key("troops", {"party": "RUS"})
    assert stories.take(1, "d1", det(1), period).root == "d1"
    assert stories.take(2, "r1", det(2, hours=1, revises="d1", revision=1), period).root == "d1"  # d1 replaced
    stories.withdraw(3, tk, "d2")  # the revision that stood for d1 withdrawn: nothing of the story stands
    again = stories.take(4, "d4", det(4, hours=2), period)
    assert (again.root, again.members) == ("d4", frozenset())
    assert stories.take(5, "d5", det(5, hours=3), period).root == "d4"  # the new story goes on
    late = stories.take(6, "d6", det(6, hours=1.5), period)  # between the two: not the story that is over
    assert late.root == "d4"
    # Decided from what came before each one in the log: taken again, d2's story is still d1's.
    assert stories.take(2, "r1", det(2, hours=1, revises="d1", revision=1), period).root == "d1"
    # A withdrawal of one alert of two leaves the story going; one of another group touches nothing.
    stories.withdraw(7, thread_key("troops", {"party": "PRK"}), "d4")
    stories.withdraw(8, tk, "d5")
    assert stories.take(9, "d9", det(9, hours=4), period).root == "d4"


def test_stories_are_those_of_their_definition_over_many_roots() -> None:
    # Stories looks among the roots near a detection's fired_at only (a slice of them by fired_at, not all a rule
    # and group ever had): the same stories as the definition, over every earlier root, whatever the order the
    # reports come in (late ones, far ones, ties, revisions, a year-1 date).
    rng = random.Random(5)
    period = CAT.open_period("troops")
    stories = Stories()
    roots: list[tuple[int, str, datetime]] = []  # (position, key, fired_at) of every story's first detection
    root_of: dict[str, str] = {}  # alert id -> its latest detection's story
    for n in range(1, 1500):
        hours = rng.choice([rng.uniform(0, 2000), rng.randrange(0, 2000, 12), n * 1.5])
        d = det(n, hours=hours)
        if n > 10 and rng.random() < 0.1:
            d = det(n, hours=hours, revises=f"d{rng.randrange(1, n + 3)}", revision=1)  # some name no alert yet
        if n == 700:
            d = d.model_copy(update={"fired_at": datetime(1, 1, 1, 3, tzinfo=UTC)})
        if d.revises is not None and d.revises in root_of:
            want = root_of[d.revises]
        else:
            near = [(f, p, k) for p, k, f in roots if abs(d.fired_at - f) < period]
            before = [x for x in near if x[0] <= d.fired_at]
            want = max(before)[2] if before else min(near)[2] if near else d.id
        if want == d.id:
            roots.append((n, d.id, d.fired_at))
        root_of[d.id] = want
        assert stories.take(n, d.id, d, period).root == want, n


@dataclasses.dataclass
class _Taken:
    position: int
    key: str
    id: str
    thread: str
    fired_at: datetime
    root: str


def _definition(taken: list[_Taken], position: int, d: Detection, period: timedelta) -> str:
    """The story of a detection new at `position` by its definition (alerts/intake.py's docstring), over every
    detection taken before it: what Stories keeps in columns and finds by bisection."""
    thread = thread_key(d.rule, d.group)
    if d.revises is not None:
        same = [t for t in taken if t.thread == thread and t.id == d.revises]
        if same:
            # the alert's latest detection (by position; of two at one, the first taken)
            latest = max(same, key=lambda t: (t.position, -taken.index(t)))
            if latest.position < position:
                return latest.root
    low, high = _shifted(d.fired_at, -period), _shifted(d.fired_at, period)
    near = [
        t for t in taken if t.thread == thread and t.root == t.key and low < t.fired_at < high and t.position < position
    ]
    before = [t for t in near if t.fired_at <= d.fired_at]
    if before:
        return max(before, key=lambda t: (t.fired_at, t.position, -taken.index(t))).key
    if near:
        return min(near, key=lambda t: (t.fired_at, t.position, taken.index(t))).key
    return "own"


def test_stories_are_their_definition_with_revisions_offsets_replays_and_any_order() -> None:
    # Keys that are not the alert id (a revision's event), an alert raised again under another key, revisions of
    # alerts of another group or none, times with UTC offsets and at the calendar's ends, two detections at one
    # position and positions taken out of order (Stories itself allows both), replays: the story and its members
    # are those of the definition (a guard of Stories' columns and bisection).
    rng = random.Random(11)
    periods = {"troops": timedelta(hours=24), "strikes": timedelta(hours=6)}
    stories = Stories()
    taken: list[_Taken] = []
    made: list[tuple[int, str, Detection]] = []
    for n in range(1, 2500):
        if made and rng.random() < 0.05:  # a replay of an earlier one
            position, key, d = rng.choice(made)
            mine = next(t for t in taken if t.key == key)
            got = stories.take(position, key, d, periods[d.rule])
            members = {t.key for t in taken if t.root == mine.root and t.position < mine.position}
            assert (got.root, got.members) == (mine.root, members), n
            continue
        rule = rng.choice(sorted(periods))
        offset = timezone(timedelta(minutes=rng.choice([0, 0, 540, -300, 330, 1439, -1439])))
        hours = rng.choice([rng.uniform(0, 600), rng.randrange(0, 600, 6), n * 0.2])
        fired = (T0 + timedelta(hours=hours)).astimezone(offset)
        if rng.random() < 0.01:
            fired = rng.choice([datetime(1, 1, 1, 5, tzinfo=offset), datetime(9999, 12, 31, 20, tzinfo=offset)])
        alert_id = f"d{n}" if rng.random() > 0.05 or not made else rng.choice(made)[2].id  # raised again
        revision = 0 if rng.random() < 0.85 else rng.randint(1, 3)
        revises = None
        if made and revision:
            revises = rng.choice([rng.choice(made)[2].id, f"d{n + 5}"])
        d = det(n, group={"party": rng.choice(["RUS", "PRK"])}).model_copy(
            update={"id": alert_id, "rule": rule, "fired_at": fired, "revises": revises, "revision": revision}
        )
        key = alert_id if revision == 0 else f"k{n}"
        position = n if rng.random() > 0.05 else rng.randrange(1, n + 1)  # out of order, or at a taken position
        if any(t.key == key for t in taken):  # an event taken before (its key): a replay, whatever it holds now
            mine = next(t for t in taken if t.key == key)
            got = stories.take(position, key, d, periods[rule])
            assert got.root == mine.root, n
            continue
        want = _definition(taken, position, d, periods[rule])
        got = stories.take(position, key, d, periods[rule])
        root = key if want == "own" else want
        assert got.root == root, n
        members = {t.key for t in taken if t.root == root and t.position < position}
        assert got.members == members, n
        taken.append(_Taken(position, key, alert_id, thread_key(rule, d.group), fired, root))
        made.append((position, key, d))
    assert len(stories) == len(taken)


def test_a_channel_replies_in_its_own_thread_of_the_story_and_starts_one_when_it_has_none() -> None:
    # The channel missed d1 (a filter): d2 started its thread of d1's story, and d3, beyond d1's day though within
    # d2's, starts a new story: an alert here too, not a reply under d2.
    d1, d2 = det(1), det(2, hours=22)
    stories, period = Stories(), CAT.open_period("troops")
    stories.take(1, "d1", d1, period)
    stories.take(2, "d2", d2, period)
    rows = [row(d2, seq=2)]
    story = stories.take(3, "d3", det(3, hours=30), period)
    got = plan_detection(
        "d3", Alert(id="d3", detection=det(3, hours=30), channels=("desk",)), "desk", rows, story, CAT, 9
    )
    assert got.kind == "alert"
    story = stories.take(4, "d4", det(4, hours=23), period)
    got = plan_detection(
        "d4", Alert(id="d4", detection=det(4, hours=23), channels=("desk",)), "desk", rows, story, CAT, 9
    )
    assert (got.kind, got.parent_id) == ("followup", "d2")
