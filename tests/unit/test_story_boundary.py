"""A story's open period ends where the engine's realert does: an alert exactly `realert` after a story's first
starts a story of its own (the engine fires it again then; it holds back only what is nearer), so a broadcaster that
dates every item 12:00 has the next day's report as a new message, not an "Update" of the day before's (outside
trial 71, M1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchfloor.alerts.intake import Stories

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _root(stories: Stories, key: str) -> str:
    return stories._story(stories._number[key]).root


def test_a_detection_exactly_one_period_after_starts_a_story_of_its_own() -> None:
    stories = Stories()
    stories.add(1, "jan1", "jan1", "strike|place=BELG", T0, None, DAY)
    stories.add(2, "jan2", "jan2", "strike|place=BELG", T0 + DAY, None, DAY)
    assert _root(stories, "jan2") == "jan2"
    # a late report exactly a period before the story's first does not join it either
    stories.add(3, "dec31", "dec31", "strike|place=BELG", T0 - DAY, None, DAY)
    assert _root(stories, "dec31") == "dec31"


def test_a_detection_just_within_the_period_continues_the_story() -> None:
    stories = Stories()
    stories.add(1, "a", "a", "strike|place=BELG", T0, None, DAY)
    stories.add(2, "b", "b", "strike|place=BELG", T0 + DAY - timedelta(seconds=1), None, DAY)
    assert _root(stories, "b") == "a"
