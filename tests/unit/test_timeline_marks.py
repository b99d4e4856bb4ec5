"""The backtest report's timeline draws marks of one instant side by side, with their count (outside trial 32, L5)."""

from __future__ import annotations

import re
from typing import Any

from watchfloor.report import render_backtest_html
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


# -- outside trial 53, L3: repeats drawn as true alerts; two counts printed on each other; counts of a filtered-out
# row left floating -------------------------------------------------------------------------------------------


def alert(alert_id: str, fired_at: str, rule: str = "pow-swap", severity: str = "high") -> dict[str, Any]:
    return {
        "id": alert_id,
        "rule": rule,
        "title": "swap",
        "fired_at": fired_at,
        "severity": severity,
        "evidence": [],
        "group": {},
        "confidence": None,
        "tags": [],
        "attributes": {},
    }


def test_each_verdict_has_its_own_mark_and_the_legend_names_them() -> None:
    alerts = [alert(f"a-{v}", f"2024-01-0{k + 2}T12:00:00+00:00") for k, v in enumerate(("t", "r", "f", "u"))]
    verdicts = [
        {"id": "a-t", "rule": "pow-swap", "verdict": "true"},
        {"id": "a-r", "rule": "pow-swap", "verdict": "repeat"},
        {"id": "a-f", "rule": "pow-swap", "verdict": "false"},
        {"id": "a-u", "rule": "pow-swap", "verdict": "unscored"},
    ]
    result = {"alerts": alerts, "scores": {"events": [], "verdicts": verdicts, "false_positives": ["a-f"]}}
    svg = timeline_svg(result, {"high": "#e65100"})
    marks = dict(re.findall(r'<a href="#([^"]+)" class="mark alert-mark ([a-z]+)"', svg))
    assert marks == {"a-t": "tp", "a-r": "repeat", "a-f": "fp", "a-u": "unscored"}
    # one colour (the severity's); a repeat and an unscored alert drawn each its own way, a false one crossed out
    looks = {m: c.split('fill="#e65100"')[1] for m, c in re.findall(r'href="#([^"]+)"[^>]*>(<circle [^>]*>)', svg)}
    assert len({looks["a-t"], looks["a-r"], looks["a-u"]}) == 3 and looks["a-f"] == looks["a-t"]
    assert svg.count('class="fp-cross"') == 1
    page = render_backtest_html(result)
    assert "◌ repeat (faded, dashed ring)" in page and "○ unscored (pale, dotted grey ring)" in page
    assert '<span class="verdict repeat">repeat</span>' in page and '<span class="verdict unscored">' in page


def counts_of(svg: str) -> list[tuple[str, float, str]]:
    return [(a, float(x), n) for a, x, n in re.findall(r'<text class="cluster"([^>]*) x="([0-9.]+)"[^>]*>×(\d+)<', svg)]


def test_counts_of_two_clusters_close_together_are_one_count_not_two_on_each_other() -> None:
    # Two pairs of reports 2h30m apart on a 10-day axis: about 9 px, as on 2023-06-24 in the trial.
    times = ["2024-01-05T00:00:00+00:00"] * 2 + ["2024-01-05T02:30:00+00:00"] * 2
    events = [truth(f"r-{k}", t) for k, t in enumerate(times)]
    events += [truth("r-a", "2024-01-01T00:00:00+00:00"), truth("r-b", "2024-01-11T00:00:00+00:00")]
    svg = timeline_svg({"alerts": [], "scores": {"events": events}}, {})
    assert [n for _, _, n in counts_of(svg)] == ["4"]
    # Two pairs a day apart keep a count each, far enough apart to read.
    times = ["2024-01-05T00:00:00+00:00"] * 2 + ["2024-01-06T00:00:00+00:00"] * 2
    events = [truth(f"r-{k}", t) for k, t in enumerate(times)]
    events += [truth("r-a", "2024-01-01T00:00:00+00:00"), truth("r-b", "2024-01-11T00:00:00+00:00")]
    found = counts_of(timeline_svg({"alerts": [], "scores": {"events": events}}, {}))
    assert [n for _, _, n in found] == ["2", "2"] and found[1][1] - found[0][1] > 20


def test_counts_hide_with_their_row_and_severity() -> None:
    alerts = [alert("a-1", "2024-01-05T00:00:00+00:00", severity="low")]
    alerts += [alert("a-2", "2024-01-05T00:00:00+00:00", severity="high"), alert("a-3", "2024-01-15T00:00:00+00:00")]
    events = [truth(f"r-{k}", "2024-01-05T00:00:00+00:00") for k in range(3)]
    svg = timeline_svg({"alerts": alerts, "scores": {"events": events}}, {})
    attrs = sorted(a for a, _, _ in counts_of(svg))
    # what the page's filter goes by: the row's rule, and of alerts the highest severity among them
    assert attrs == [' data-rule="pow-swap"', ' data-rule="pow-swap" data-severity="high"']
