"""A digest's or throttle summary's line for an alert resting on a report dated in the future marks its time as a
receive time, as `alerts list` and the alert's own message do (outside trial 64, LOW-4: the summary's line for a
2099-dated report read `… · 2026-12-07 03:18 UTC`, unmarked)."""

from __future__ import annotations

from datetime import UTC, datetime

from watchfloor.alerts.notice import Digest
from watchfloor.alerts.notifiers.slack_blocks import digest_blocks
from watchfloor.schemas.events import Detection, Evidence

FIRED = datetime(2026, 12, 7, 3, 18, tzinfo=UTC)
MARK = "(received: a report it rests on is dated in the future)"


def summary(published: datetime) -> Digest:
    ev = Evidence(event_id="doc-1", signal="s", source="Harbour Wire", published_at=published,
                  sentence="North Korea ratified the treaty.")  # fmt: skip
    det = Detection(id="det1", rule="treaty", title="North Korea ratified", severity="high", fired_at=FIRED,
                    evidence=(ev,))  # fmt: skip
    return Digest(id="dig-1", subscription_id="s", channel="desk", slot=FIRED, since=None, after_position=0,
                  through_position=1, detections=(det,), throttle="1 per 1h")  # fmt: skip


def slack_text(digest: Digest) -> str:
    return "\n".join(str(e.get("text", "")) for b in digest_blocks(digest) for e in [b.get("text") or {}])


def test_a_line_resting_on_a_report_dated_in_the_future_marks_its_time() -> None:
    ahead = summary(datetime(2099, 1, 1, tzinfo=UTC))
    assert ahead.lines()[0].count(f"2026-12-07 03:18 UTC {MARK}") == 1, ahead.lines()
    assert f"|2026-12-07 03:18 UTC> {MARK}" in slack_text(ahead), slack_text(ahead)
    # a report of its own time: the time as it is
    on_time = summary(FIRED)
    assert MARK not in on_time.lines()[0] and MARK not in slack_text(on_time)
    assert "2026-12-07 03:18 UTC" in on_time.lines()[0]
