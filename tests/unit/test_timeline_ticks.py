"""The HTML timeline's axis: ticks at equal steps of time, each at a round UTC time and labelled with it (outside
trial 20, L4: seven ticks at equal fractions of the span were labelled 09-04, 06, 08, 09, 11, 13, 15)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest

from watchfloor.report_timeline import MAX_TICKS, axis_ticks


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "lo,hi",
    [
        ("2023-09-03T21:07", "2023-09-16T02:41"),  # the trial's: twelve days
        ("2024-06-19T10:00", "2024-06-19T18:00"),
        ("2024-06-01T00:00", "2024-06-02T00:00"),
        ("2024-05-28T13:13", "2024-07-04T08:00"),
        ("2024-01-01T00:00", "2024-12-31T00:00"),
        ("2019-03-05T00:00", "2026-01-01T00:00"),
    ],
)
def test_ticks_are_equally_spaced_round_times_labelled_with_their_own_time(lo: str, hi: str) -> None:
    ticks = axis_ticks(ts(lo), ts(hi))
    assert 2 <= len(ticks) <= MAX_TICKS
    assert all(ts(lo) <= t <= ts(hi) for t, _ in ticks)
    for t, label in ticks:
        at = datetime.fromtimestamp(t, UTC)
        assert label in (at.strftime("%Y-%m-%d"), at.strftime("%m-%d %H:%M"))
        assert at.minute == 0 and at.second == 0
    times = [t for t, _ in ticks]
    steps = {b - a for a, b in pairwise(times)}
    months = {datetime.fromtimestamp(t, UTC).day for t in times} == {1}
    assert len(steps) == 1 or months  # equal steps, or calendar months (the 1st of each)
