"""A digest's line of an alert acknowledged before it was sent says who and when, in every form, within Slack's
limits whatever the name, and in the channel's language (outside trial 69, M3b)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from tests.fixtures.blockkit import message_problems
from watchfloor.alerts.notice import Digest
from watchfloor.alerts.notifiers.slack_blocks import digest_blocks
from watchfloor.alerts.notifiers.wording import wording
from watchfloor.schemas.control import Actor, AlertAcknowledged
from watchfloor.schemas.events import Detection

AT = datetime(2024, 11, 4, 7, 30, tzinfo=UTC)


def digest(by: Actor) -> Digest:
    listed = Detection(
        id="d1",
        rule="treaty-ratified",
        title="Duma ratified the pact",
        severity="high",
        group={"party": "Russia"},
        fired_at=datetime(2024, 11, 4, 6, 0, tzinfo=UTC),
    )
    plain = Digest(
        id="dig-1",
        subscription_id="s1",
        channel="desk",
        slot=datetime(2024, 11, 4, 8, 0, tzinfo=UTC),
        since=None,
        after_position=0,
        through_position=1,
        detections=(listed,),
    )
    return dataclasses.replace(plain, acks={"d1": AlertAcknowledged(alert_id="d1", by=by, at=AT, channel="desk")})


def test_the_line_says_who_acknowledged_it_and_when_in_plain_and_slack_forms() -> None:
    d = digest(Actor(via="slack", user="U0ALICE", name="alice"))
    (line,) = d.lines()
    assert line.endswith(" · acknowledged by alice (via slack) at 2024-11-04 07:30 UTC")
    (entry,) = d.to_json()["alerts"]
    assert entry["acknowledged"] == {"by": "alice (via slack)", "user": "U0ALICE", "at": "2024-11-04T07:30:00+00:00"}
    text = str(digest_blocks(d)[1]["text"]["text"])
    assert ":white_check_mark: Acknowledged by <@U0ALICE> at <!date^1730705400^" in text
    assert "Принято: <@U0ALICE>" in str(digest_blocks(d, wording("ru"))[1]["text"]["text"])


def test_a_very_long_name_typed_on_the_cli_keeps_the_message_within_slacks_limits() -> None:
    d = digest(Actor(via="cli", user="x" * 5000, name="<b>" * 2000))
    blocks = digest_blocks(d)
    assert message_problems({"channel": "C1", "text": "digest", "blocks": blocks}) == []
    assert "&lt;b&gt;" in str(blocks[1]["text"]["text"]) and "&amp;lt;" not in str(blocks[1]["text"]["text"])
