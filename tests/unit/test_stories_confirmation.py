"""A confirmation continues the story its earliest report began, within `corroborate.within` (outside trial 62, M1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchfloor.alerts.intake import Stories
from watchfloor.alerts.notice import thread_key

T0 = datetime(2024, 10, 28, 6, tzinfo=UTC)
REALERT = timedelta(days=1)  # the open period of an `any` rule with `realert: 1d` and no window
REACH = timedelta(hours=72)  # its `corroborate.within`
TK = thread_key("ru-troops", {"place": "KURSK"})


def hours(h: float) -> datetime:
    return T0 + timedelta(hours=h)


def take(stories: Stories, position: int, key: str, at: float, reports_from: float | None = None, tk: str = TK) -> str:
    """The root of the story of detection `key`, fired `at` hours after T0 (confirmed when `reports_from` is given:
    its earliest report's hour)."""
    since = None if reports_from is None else hours(reports_from)
    n = stories.add(position, key, key, tk, hours(at), None, REALERT, reach=REACH, reports_from=since)
    return stories._story(n).root


def test_a_confirmation_past_realert_continues_the_story_of_its_earliest_report() -> None:
    stories = Stories()
    assert take(stories, 1, "a", 0) == "a"  # MEDIUM, unconfirmed
    assert take(stories, 2, "b", 33, reports_from=0) == "a"  # HIGH, confirmed, citing a's report and its own
    assert take(stories, 3, "c", 130) == "c"  # past both windows: a story of its own


def test_an_unconfirmed_alert_past_realert_starts_a_story() -> None:
    stories = Stories()
    take(stories, 1, "a", 0)
    assert take(stories, 2, "b", 33) == "b"


def test_a_confirmation_resting_on_later_reports_only_starts_a_story() -> None:
    # Its reports all came after that story began, past the open period: not that story's confirmation.
    stories = Stories()
    take(stories, 1, "a", 0)
    assert take(stories, 2, "b", 33, reports_from=10) == "b"


def test_a_confirmation_reaches_back_no_further_than_corroborate_within() -> None:
    stories = Stories()
    take(stories, 1, "a", 0)
    # (its reports as told go back 80 hours; the rule's window is 72: the engine corroborates no further)
    assert take(stories, 2, "b", 80, reports_from=0) == "b"


def test_a_confirmation_reaches_back_not_forward() -> None:
    # A story begun after it, beyond the open period, is not the one it confirms, however far back its reports go.
    stories = Stories()
    take(stories, 1, "later", 60)
    assert take(stories, 2, "b", 30, reports_from=0) == "b"


def test_a_withdrawn_story_is_not_continued_by_a_confirmation() -> None:
    stories = Stories()
    take(stories, 1, "a", 0)
    stories.withdraw(2, TK, "a")
    assert take(stories, 3, "b", 33, reports_from=0) == "b"


def test_a_story_a_confirmation_may_reach_is_kept_by_bounded_stories() -> None:
    # With keep = 1h, a story of a 1-day rule is over once the newest detection is 25 hours on; a confirmation may
    # reach back 72 hours, so the story is kept that long (and compactions, run often here, keep it).
    stories = Stories(timedelta(hours=1), compact_min=2)
    take(stories, 1, "a", 0)
    other = thread_key("ru-troops", {"place": "BELGOROD"})
    for i in range(30):
        take(stories, 2 + i, f"o{i}", i + 1, tk=other)
    assert take(stories, 40, "b", 33, reports_from=0) == "a"
