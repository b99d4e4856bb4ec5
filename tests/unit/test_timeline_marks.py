"""The backtest report's timeline draws marks of one instant side by side, with their count (outside trial 32, L5)."""

from __future__ import annotations

import re
from typing import Any

from watchfloor.report_timeline import dodge, timeline_svg


def truth(doc_id: str, time: str, status: str = "tp") -> dict[str, Any]:
    return {"id": doc_id, "time": time, "rule": "pow-swap", "labels": ["POW_SWAP"], "status": status}


def test_three_reports_of_one_instant_are_three_triangles_side_by_side_with_their_count() -> None:
    events = [truth(f"r-{k}", "2024-01-03T12:00:00+00:00") for k in range(3)]
    events.append(truth("r-9", "2024-01-20T12:00:00+00:00", "fn"))
    svg = timeline_svg({"alerts": [], "scores": {"events": events}}, {})
    xs = [float(m) for m in re.findall(r'class="mark truth [a-z]+"[^>]*d="M([0-9.]+),', svg)]
    assert len(xs) == 4 and len(set(xs)) == 4, xs  # each its own triangle, none hidden under another
    same = sorted(xs[:3])
    assert same[1] - same[0] == same[2] - same[1] == 10.0  # spread about their common time
    assert re.findall(r'class="cluster"[^>]*>×(\d+)<', svg) == ["3"]


def test_a_lone_mark_stays_at_its_time_and_a_big_cluster_stays_narrow() -> None:
    shown, clusters = dodge([100.0, 300.0])
    assert shown == [100.0, 300.0] and clusters == []
    shown, clusters = dodge([500.0] * 31 + [100.0])
    assert shown[-1] == 100.0 and clusters == [(500.0, 31)]
    assert max(shown[:31]) - min(shown[:31]) == 60.0 and shown[:31] == sorted(shown[:31])
