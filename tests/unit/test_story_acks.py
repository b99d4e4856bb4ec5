"""What `alerts ack --story` takes (alerts.story_acks.channel_story, pure): of a story of several groups (`thread_by`),
the thread of the story's first alert and each other group's alert posted in it, named by any alert of the story;
each group's standing alerts (not the withdrawn, not another story's). Without `thread_by`: the one thread, what the
Acknowledge button on its first message takes."""

from __future__ import annotations

import dataclasses

from tests.unit.test_thread_by import APART, THREADED, _plan, sanction
from watchfloor.alerts.story_acks import channel_story


def test_a_thread_by_story_is_every_groups_thread_in_it_named_by_any_of_its_alerts() -> None:
    rows = _plan(
        [
            sanction(1, "FRA"),  # France: the story's first alert
            sanction(2, "EU", hours=1),  # the EU's: a new alert of the story, in its thread
            sanction(3, "FRA", hours=2, severity="high", sources=2),  # France confirmed: its follow-up
            sanction(4, "USA", hours=3),  # the U.S.'s: another new alert of the story
        ],
        THREADED,
    )
    assert [(r.alert_id, r.kind, r.parent_id) for r in rows][:3] == [
        ("d1", "alert", None),
        ("d2", "alert", None),
        ("d3", "followup", "d1"),
    ]
    for named in ("d1", "d2", "d3", "d4"):
        story = channel_story(rows, named)
        assert story is not None and story.channel == "desk" and story.first.alert_id == "d1", named
        assert [s.first.alert_id for s in story.threads] == ["d1", "d2", "d4"], named
        assert [a.id for a in story.standing] == ["d1", "d3", "d2", "d4"], named


def test_a_withdrawn_alert_is_not_taken_and_without_thread_by_a_group_is_its_own_story() -> None:
    rows = _plan([sanction(1, "FRA"), sanction(2, "EU", hours=1)], THREADED)
    withdrawal = dataclasses.replace(rows[1], alert_id="r2", kind="retraction", parent_id="d2", seq=3, ref="C1:3.0")
    story = channel_story([*rows, withdrawal], "d1")
    assert story is not None and [a.id for a in story.standing] == ["d1"]

    apart = _plan([sanction(1, "FRA"), sanction(2, "EU", hours=1)], APART)
    story = channel_story(apart, "d2")
    assert story is not None and [s.first.alert_id for s in story.threads] == ["d2"]
    assert [a.id for a in story.standing] == ["d2"]
    assert channel_story(apart, "nope") is None
