"""Stories forget the stories no detection can join any more: held entries stay bounded, answers stay the same."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from watchfloor.alerts.intake import COMPACT_MIN, Stories
from watchfloor.alerts.notice import thread_key

T0 = datetime(2025, 1, 1, tzinfo=UTC)
PERIOD = timedelta(hours=6)
KEEP = timedelta(days=9)  # lateness 2 days + a margin of 7, as the dispatcher's is lateness + 30 days
GROUPS = [thread_key("r", {"g": str(i)}) for i in range(5)]


def _timeline(
    rng: random.Random, n: int, *, late_within: timedelta
) -> list[tuple[str, tuple[str, str, str, datetime, str | None]]]:
    """`n` log events over ~n/20 days of event time: new detections, late ones (within `late_within` of the newest),
    revisions and retractions of recent alerts. ("add", (key, id, thread, fired, revises)) or ("withdraw", ...)."""
    out: list[tuple[str, tuple[str, str, str, datetime, str | None]]] = []
    newest = T0
    alerts: list[tuple[str, str, datetime]] = []  # (id, thread, fired) raised so far
    for i in range(n):
        kind = rng.random()
        if kind < 0.1 and alerts:  # a revision of a recent alert (the engine revises what it still holds)
            aid, tk, fired = rng.choice(alerts[-50:])
            at = fired + timedelta(minutes=rng.randint(-30, 30))
            out.append(("add", (f"{aid}-r{i}", f"rev{i}", tk, at, aid)))
            alerts.append((f"rev{i}", tk, at))
        elif kind < 0.15 and alerts:
            aid, tk, _ = rng.choice(alerts[-50:])
            out.append(("withdraw", (aid, aid, tk, newest, None)))
        else:
            if kind < 0.3:  # a late report, within `late_within` of the newest
                at = newest - late_within * rng.random()
            else:
                newest += timedelta(minutes=rng.randint(0, 140))
                at = newest
            tk = rng.choice(GROUPS)
            out.append(("add", (f"d{i}", f"d{i}", tk, at, None)))
            alerts.append((f"d{i}", tk, at))
    return out


def _run(stories: Stories, events: list[tuple[str, tuple[str, str, str, datetime, str | None]]]) -> list[object]:
    """Each detection's story (root key and members) in log order; positions are 1, 2, ..."""
    answers: list[object] = []
    sizes: list[int] = []
    for position, (what, (key, aid, tk, fired, revises)) in enumerate(events, start=1):
        if what == "withdraw":
            stories.withdraw(position, tk, aid)
            continue
        stories.add(position, key, aid, tk, fired, revises, PERIOD)
        story = stories._story(stories._number[key])
        answers.append((key, story.root, sorted(story.members)))
        sizes.append(len(stories))
    answers.append(("largest held", max(sizes)))
    return answers


def test_held_detections_stay_bounded_over_a_long_timeline() -> None:
    # ~20 detections a day for ~2 years: unbounded holds every one, bounded what ~10 days of them (x2 before a
    # compaction) make, however long the timeline runs.
    events = _timeline(random.Random(1), 15_000, late_within=timedelta(days=2))
    unbounded, bounded = Stories(), Stories(KEEP)
    _run(unbounded, events)
    _run(bounded, events)
    assert len(unbounded) == unbounded.taken == bounded.taken > 13_000
    assert len(bounded) <= 2 * COMPACT_MIN
    assert len(bounded._number) == len(bounded) and len(bounded._alert_ids) < len(bounded)
    assert len(bounded._threads) == len(GROUPS)


def test_the_stories_are_those_of_unbounded_within_the_lateness() -> None:
    # late reports (up to 2 days) joining their stories, revisions of recent alerts, retractions ending stories:
    # every detection's story, root and members, is what an unbounded Stories decides
    for seed in range(3):
        events = _timeline(random.Random(seed), 12_000, late_within=timedelta(days=2))
        want, got = _run(Stories(), events), _run(Stories(KEEP), events)
        assert want[:-1] == got[:-1]
        assert got[-1][1] < want[-1][1] // 2  # type: ignore[index]


def test_a_report_beyond_keep_starts_a_story_of_its_own() -> None:
    tk = GROUPS[0]
    for stories, joins in ((Stories(), True), (Stories(KEEP), False)):
        stories.add(1, "a", "a", tk, T0, None, PERIOD)
        stories.add(2, "b", "b", tk, T0 + timedelta(days=30), None, PERIOD)
        stories.add(3, "late", "late", tk, T0 + timedelta(hours=1), None, PERIOD)  # 29 days behind: past KEEP
        assert (stories._story(stories._number["late"]).root == "a") is joins
        # a revision of the forgotten alert: its own story (not the old one), and no error
        stories.add(4, "a-r1", "a2", tk, T0, "a", PERIOD)
        assert (stories._story(stories._number["a-r1"]).root == "a") is joins
        stories.withdraw(5, tk, "a")  # a retraction of it: no error either way


def test_forgetting_is_decided_by_log_order_not_by_when_a_compaction_runs() -> None:
    # One Stories that compacts at every detection and one that never needs to (unbounded threshold) decide alike.
    events = _timeline(random.Random(7), 3_000, late_within=timedelta(days=2))
    eager = Stories(KEEP)
    lazy = Stories(KEEP)
    lazy._compact_at = 10**9
    eager_answers: list[object] = []
    for position, (what, (key, aid, tk, fired, revises)) in enumerate(events, start=1):
        eager._compact_at = 0  # compact after every add
        if what == "withdraw":
            eager.withdraw(position, tk, aid)
            continue
        n = eager.add(position, key, aid, tk, fired, revises, PERIOD)
        story = eager._story(n)
        eager_answers.append((key, story.root, sorted(story.members)))
    assert eager_answers == _run(lazy, events)[:-1]
    assert len(eager) < len(lazy) == lazy.taken


def test_a_future_dated_report_moves_no_clock() -> None:
    # A report dated 2099 is processed at its receive time (years after a backfill's event time): its detection shows
    # a report dated after it fired (`ahead`), and the stories of the backfill's time are not over for it.
    tk = GROUPS[0]
    for ahead, joins in ((True, True), (False, False)):
        stories = Stories(KEEP)
        stories.add(1, "a", "a", tk, T0, None, PERIOD)
        stories.add(2, "typo", "typo", GROUPS[1], T0 + timedelta(days=700), None, PERIOD, ahead=ahead)
        stories.add(3, "late", "late", tk, T0 + timedelta(hours=1), None, PERIOD)
        assert (stories._story(stories._number["late"]).root == "a") is joins
