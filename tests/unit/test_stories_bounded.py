"""Stories forget the stories no detection can join any more: held entries stay bounded, answers stay the same."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from watchfloor.alerts.intake import COMPACT_MIN, Stories, Story
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


def test_a_backfill_s_story_is_kept_on_a_lease_so_its_confirmation_joins_it() -> None:
    # Outside trial 29, F2: a store whose newest alert is 500 days on takes a backfill of older news: outlet A's
    # report, then outlet B's 24 minutes later. Both far beyond the lateness, A's story used to be over at once and B
    # began another ("a new story"). The story a detection that far behind begins or joins is kept on a lease: B joins
    # it, as unbounded. The lease ends once the newest moves the open period + keep past what was newest then.
    tk = GROUPS[0]
    newest = T0 + timedelta(days=500)
    for stories in (Stories(), Stories(KEEP)):
        stories.add(1, "now", "now", tk, newest, None, PERIOD)
        stories.add(2, "a", "a", tk, T0, None, PERIOD)
        stories.add(3, "b", "b", tk, T0 + timedelta(minutes=24), None, PERIOD)
        assert stories._story(stories._number["b"]) == Story("a", frozenset({"a"}))
    bounded = Stories(KEEP)
    bounded.add(1, "now", "now", tk, newest, None, PERIOD)
    bounded.add(2, "a", "a", tk, T0, None, PERIOD)
    # the newest moves on, to just within the lease, then past it
    bounded.add(3, "on", "on", GROUPS[1], newest + PERIOD + KEEP, None, PERIOD)
    bounded.add(4, "b", "b", tk, T0 + timedelta(minutes=24), None, PERIOD)
    assert bounded._story(bounded._number["b"]).root == "a"  # (and b renews the lease)
    bounded.add(5, "later", "later", GROUPS[1], newest + 2 * (PERIOD + KEEP) + timedelta(seconds=1), None, PERIOD)
    bounded.add(6, "c", "c", tk, T0 + timedelta(minutes=30), None, PERIOD)
    assert bounded._story(bounded._number["c"]).root == "c"  # over: a story of its own
    # on-time detections take no lease: a story of the newest's time is over as before
    assert bounded._lease[bounded._number["now"]] == bounded._lease[bounded._number["on"]] < 0


def test_a_backfill_s_leases_are_bounded_by_the_detections_taken_after() -> None:
    # While the newest stands still (a backfill of a decade into a quiet store) leases would keep every story the
    # backfill begins: a story whose last detection came more than BACKFILL_TAKES detections ago is over, so the
    # stories held stay bounded, and a compaction at any point decides alike.
    newest = T0 + timedelta(days=5000)
    eager, lazy = Stories(KEEP, backfill_takes=50), Stories(KEEP, backfill_takes=50)
    lazy._compact_at = 10**9
    answers: dict[str, list[str]] = {"eager": [], "lazy": []}
    for name, stories in (("eager", eager), ("lazy", lazy)):
        stories.add(1, "now", "now", GROUPS[0], newest, None, PERIOD)
        for i in range(400):  # a story a day, each of two reports 30 minutes apart, in event time
            for j in range(2):
                if name == "eager":
                    stories._compact_at = 0
                key = f"d{i}-{j}"
                n = stories.add(
                    2 + 2 * i + j, key, key, GROUPS[i % 5], T0 + timedelta(days=i, minutes=30 * j), None, PERIOD
                )
                answers[name].append(stories._story(n).root)
        # a report of the first day's story, read after the backfill: 798 detections later, its lease is over
        n = stories.add(900, "again", "again", GROUPS[0], T0 + timedelta(minutes=40), None, PERIOD)
        answers[name].append(stories._story(n).root)
    assert answers["eager"] == answers["lazy"]
    assert answers["eager"][:4] == ["d0-0", "d0-0", "d1-0", "d1-0"] and answers["eager"][-1] == "again"
    assert len(eager) < 3 * 50 < len(lazy)


def test_a_new_story_names_the_story_begun_at_its_very_time_not_an_older_one() -> None:
    """Outside trial 72, HIGH-1's message: an alert fired 1982-01-02 00:00 that starts a story of its own (the story of
    the group's alert of that very time is over: read after the desk's 2016 and 2024 alerts) said "Again: the last
    alert of this rule and group was cf740f… (1979)". The story begun last before it in event time is the 1982 one,
    taken before it at the same time: it names that one."""
    tk = GROUPS[0]
    at_1979, at_1982 = datetime(1979, 12, 31, tzinfo=UTC), datetime(1982, 1, 2, tzinfo=UTC)
    stories = Stories(KEEP)
    stories.add(1, "cf740f", "cf740f", tk, at_1979, None, PERIOD)
    stories.add(2, "a870a3", "a870a3", tk, at_1982, None, PERIOD)
    stories.add(3, "ca7fc8", "ca7fc8", tk, datetime(2016, 7, 28, tzinfo=UTC), None, PERIOD)
    stories.add(4, "newest", "newest", GROUPS[1], datetime(2024, 10, 1, tzinfo=UTC), None, PERIOD)
    n = stories.add(5, "62cce4", "62cce4", tk, at_1982, None, PERIOD)
    assert stories._story(n).members == frozenset()  # a story of its own (the 1982 one is over)
    before = stories.before(n)
    assert before is not None and (before.alert_id, before.fired_at) == ("a870a3", at_1982)
    first = stories.before(stories._number["a870a3"])  # (one fired before at another time: as it was)
    assert first is not None and first.alert_id == "cf740f"
