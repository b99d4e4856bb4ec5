"""fired_at in UTC where alerts are exported and sorted (trial L2): a detection stored before the engine wrote it in
UTC keeps its report's offset in the store, so exports write it in UTC and the HTML report sorts and compares times
as times, not as text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from watchfloor.report import _by_time, _fired
from watchfloor.schemas.events import Detection, Evidence
from watchfloor.stream_processors.replay import detection_to_json

KIRIBATI = timezone(timedelta(hours=14))


def test_an_export_writes_a_stored_offset_fired_at_in_utc() -> None:
    at = datetime(2026, 12, 2, 12, tzinfo=KIRIBATI)
    ev = Evidence(event_id="d1", signal="s", source="Wire", published_at=at, sentence="x")
    det = Detection(id="a1", rule="r", title="t", severity="low", fired_at=at, evidence=(ev,))
    out = detection_to_json(det)
    assert out["fired_at"] == "2026-12-01T22:00:00+00:00"
    assert out["evidence"][0]["published_at"] == "2026-12-02T12:00:00+14:00"  # the report's own time, as given


def test_the_report_sorts_and_matches_times_as_times() -> None:
    old = {"id": "east", "fired_at": "2026-12-02T12:00:00+14:00"}  # 2026-12-01T22:00Z: a result of before
    new = {"id": "west", "fired_at": "2026-12-02T00:30:00+00:00"}
    assert [a["id"] for a in sorted([new, old], key=_by_time)] == ["east", "west"]
    undated = {
        "fired_at": "2026-12-01T22:00:00+00:00",
        "evidence": [{"published_at": "2026-12-02T12:00:00+14:00", "first_seen": True}],
    }
    assert _fired(undated) == "first seen 2026-12-01 22:00 UTC (undated)"
