"""The report's timeline (inline SVG): one row per rule; alerts as dots coloured by severity (a false alert
crossed out), and beside them the truth: labelled items as triangles (green caught, red missed) and expected
events of a --timeline as diamonds. Every mark carries data-rule (and data-severity) for the page's filters."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Mark = tuple[str, float, dict[str, Any]]  # (rule, time, what the mark shows)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _ts(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


FAR = 30 * 86400.0  # a gap shorter than this never puts marks off the axis


def axis_range(times: list[float]) -> tuple[float, float]:
    """The span the axis shows: all of `times` (four or more) but a few far outliers at either end (a report
    dated 2099, an alert raised at the receive time of a future-dated one) that would squash the rest into a
    corner. A tail of at most a tenth of the marks is left off when the gap before it is longer than 30 days and
    twice the span of the rest."""
    ts = sorted(times)
    lo, hi = 0, len(ts) - 1
    most = max(1, len(ts) // 10) if len(ts) >= 4 else 0  # of three marks or fewer, none stands apart
    for k in range(most, 0, -1):  # the largest tail that stands apart
        if hi - k <= lo:
            continue
        gap, rest = ts[hi - k + 1] - ts[hi - k], ts[hi - k] - ts[lo]
        if gap > max(FAR, 2 * rest):
            hi -= k
            break
    for k in range(most, 0, -1):
        if lo + k >= hi:
            continue
        gap, rest = ts[lo + k] - ts[lo + k - 1], ts[hi] - ts[lo + k]
        if gap > max(FAR, 2 * rest):
            lo += k
            break
    return ts[lo], ts[hi]


def future_dated(alert: dict[str, Any], skew_s: float = 3600.0) -> str | None:
    """The publication time of the report an alert cites that is dated after the alert fired (beyond the skew): a
    future-dated document, processed at its receive time (the alert's fired_at), else None."""
    fired = _ts(alert.get("fired_at"))
    for e in alert.get("evidence") or []:
        t = _ts(e.get("published_at"))
        if fired is not None and t is not None and t > fired + skew_s:
            return str(e.get("published_at"))
    return None


def _short(iso: str | None) -> str:
    t = _ts(iso)
    return "?" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M")


TICK_STEPS = (3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400)
"""The axis's steps, in seconds: the first that gives at most MAX_TICKS ticks (past 28 days: calendar months)."""
MAX_TICKS = 8


def axis_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """Ticks at equal steps of time between `lo` and `hi` (POSIX seconds), each at a round UTC time (a multiple of
    its step since the epoch: midnights for day steps, the 1st of a month past 28 days), labelled with that time
    (outside trial 20, L4: seven ticks at equal fractions of the span were labelled with dates an uneven distance
    apart: 09-04, 06, 08, 09, 11, 13, 15)."""
    for step in TICK_STEPS:
        first = -(-lo // step) * step
        if (hi - first) // step + 1 <= MAX_TICKS:
            fmt = "%Y-%m-%d" if step >= 86400 else "%m-%d %H:%M"
            ticks = [first + k * step for k in range(int((hi - first) // step) + 1)]
            return [(t, datetime.fromtimestamp(t, UTC).strftime(fmt)) for t in ticks]
    # Months: the 1st of every n-th month, n chosen as above.
    start = datetime.fromtimestamp(lo, UTC)
    months = (datetime.fromtimestamp(hi, UTC).year - start.year) * 12 + datetime.fromtimestamp(hi, UTC).month
    months -= start.month
    n = next(n for n in (1, 2, 3, 6, 12, 24, 60, 120) if months // n + 1 <= MAX_TICKS) if months > 0 else 1
    out: list[tuple[float, str]] = []
    y, m = start.year, start.month
    while True:
        at = datetime(y, m, 1, tzinfo=UTC)
        if at.timestamp() > hi:
            return out
        if at.timestamp() >= lo and (y * 12 + m - 1) % n == 0:
            out.append((at.timestamp(), at.strftime("%Y-%m-%d")))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


NEAR_PX = 3.0  # marks of one kind on one row closer than this are drawn as one cluster, side by side
DODGE_PX = 10.0  # the step between the marks of a cluster, shrunk so that a cluster spans no more than CLUSTER_PX
CLUSTER_PX = 60.0


def dodge(xs: list[float]) -> tuple[list[float], list[tuple[float, int]]]:
    """Where to draw marks of one kind on one row that would otherwise sit on each other (outside trial 32, L5: three
    reports of one instant were drawn as one triangle): each cluster of marks within NEAR_PX of its first is spread
    side by side about its centre, in the order given; and (centre, size) of each cluster of more than one mark, whose
    count the picture prints above it. A lone mark stays where its time puts it."""
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    shown = list(xs)
    clusters: list[tuple[float, int]] = []
    k = 0
    while k < len(order):
        j = k
        while j + 1 < len(order) and xs[order[j + 1]] - xs[order[k]] < NEAR_PX:
            j += 1
        members = sorted(order[k : j + 1])  # in the order given (time, then as listed)
        if len(members) > 1:
            centre = sum(xs[i] for i in members) / len(members)
            step = min(DODGE_PX, CLUSTER_PX / (len(members) - 1))
            for n, i in enumerate(members):
                shown[i] = centre + (n - (len(members) - 1) / 2) * step
            clusters.append((centre, len(members)))
        k = j + 1
    return shown, clusters


def timeline_svg(result: dict[str, Any], colours: dict[str, str], width: int = 1100) -> str:
    alerts = result.get("alerts", [])
    scores = result.get("scores") or {}
    truth = [ev for ev in scores.get("events", []) if ev.get("time")]
    expected = scores.get("timeline") or []
    fps = set(scores.get("false_positives", []))
    rules = sorted({a["rule"] for a in alerts} | {ev["rule"] for ev in truth} | {t["rule"] for t in expected})
    if not rules:
        return "<p>No alerts fired and no labelled truth to show.</p>"
    times = [t for t in (_ts(a["fired_at"]) for a in alerts) if t is not None]
    times += [t for t in (_ts(ev["time"]) for ev in truth) if t is not None]
    times += [t for t in (_ts(x["time"]) for x in expected) if t is not None]
    if not times:
        return "<p>No alert or labelled item has a time to show.</p>"
    t0, t1 = axis_range(times)
    lo_t, hi_t = t0, t1
    outside: list[str] = []

    def shown(t: float, what: str) -> bool:
        if lo_t <= t <= hi_t:
            return True
        outside.append(what)
        return False

    span = max(t1 - t0, 86400.0)
    t0 -= span * 0.02
    span *= 1.04
    left, right, row_h, top = 200, 30, 40, 20
    height = top + row_h * len(rules) + 40
    plot_w = width - left - right

    def x(t: float) -> float:
        return left + (t - t0) / span * plot_w

    def y(rule: str) -> float:
        return top + rules.index(rule) * row_h + row_h / 2

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="Timeline of alerts and labelled truth by rule">'
    ]
    for rule in rules:
        yy = y(rule)
        parts.append(
            f'<g data-rule="{_e(rule)}"><line x1="{left}" y1="{yy}" x2="{width - right}" y2="{yy}" stroke="#eee"/>'
            f'<text x="{left - 8}" y="{yy + 4}" text-anchor="end" font-size="12">{_e(rule)}</text></g>'
        )
    axis_y = top + row_h * len(rules) + 8
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#999"/>')
    for tick, label in axis_ticks(t0, t0 + span):
        # A label near an edge ends (or starts) at its tick: centred, it ran past the picture's edge and was clipped.
        anchor = "end" if x(tick) > width - right - 40 else "start" if x(tick) < left + 40 else "middle"
        parts.append(
            f'<text class="tick" x="{x(tick):.1f}" y="{axis_y + 16}" text-anchor="{anchor}" font-size="11">'
            f"{label}</text>"
        )

    def placed(marks: list[Mark], cy_of: Callable[[str], float]) -> list[tuple[float, float, dict[str, Any]]]:
        """(x, y, item) of each mark, with the marks of one row that coincide drawn side by side (dodge), and a
        count beside each such cluster."""
        out: list[tuple[float, float, dict[str, Any]]] = []
        for rule in dict.fromkeys(r for r, _, _ in marks):
            row = [(t, item) for r, t, item in marks if r == rule]
            xs, clusters = dodge([x(t) for t, _ in row])
            cy = cy_of(rule)
            out += [(cx, cy, item) for cx, (_, item) in zip(xs, row, strict=True)]
            for centre, size in clusters:
                half = min(DODGE_PX, CLUSTER_PX / (size - 1)) * (size - 1) / 2
                parts.append(
                    f'<text class="cluster" x="{centre + half + 9:.1f}" y="{cy + 4:.1f}" font-size="9" '
                    f'fill="#555">×{size}</text>'
                )
        return out

    shown_expected: list[Mark] = []
    for t_ev in expected:
        t = _ts(t_ev["time"])
        if t is None or not shown(t, f"expected event {t_ev['event']} ({t_ev['rule']}) at {_short(t_ev['time'])}"):
            continue
        shown_expected.append((t_ev["rule"], t, t_ev))
    for cx, cy, t_ev in placed(shown_expected, y):
        colour = "#2e7d32" if t_ev["status"] == "found" else "#c62828"
        tip = f"expected: {t_ev['event']} at {_short(t_ev['time'])} UTC ({t_ev['status']})"
        parts.append(
            f'<path class="mark expected {_e(t_ev["status"])}" data-rule="{_e(t_ev["rule"])}" '
            f'd="M{cx:.1f},{cy - 12:.1f} l8,12 l-8,12 l-8,-12 z" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{_e(tip)}</title></path>"
        )
    shown_truth: list[Mark] = []
    for ev in truth:
        t = _ts(ev["time"])
        name = ev.get("label_key") or ev["id"]  # as the labels file names it: its URL when labelled by URL
        if t is None or not shown(t, f"labelled item {name} ({ev['rule']}) at {_short(ev['time'])}"):
            continue
        shown_truth.append((ev["rule"], t, ev))
    for cx, cy, ev in placed(shown_truth, lambda rule: y(rule) + 11):
        name = ev.get("label_key") or ev["id"]
        colour = "#c62828" if ev["status"] == "fn" else "#2e7d32"
        caught = {"tp": "caught", "covered": "a repeat of a true alert, held back by its realert"}
        tip = f"labelled {', '.join(ev['labels'])}: {name} ({caught.get(ev['status'], 'missed')})"
        parts.append(
            f'<path class="mark truth {_e(ev["status"])}" data-rule="{_e(ev["rule"])}" '
            f'd="M{cx:.1f},{cy - 5:.1f} l5,9 l-10,0 z" fill="{colour}"><title>{_e(tip)}</title></path>'
        )
    shown_alerts: list[Mark] = []
    for a in alerts:
        fired = _ts(a["fired_at"])
        dated = future_dated(a)
        why = f": it cites a report dated {_short(dated)}, processed at its receive time" if dated else ""
        if fired is None or not shown(fired, f"alert {a['rule']} fired {_short(a['fired_at'])}{why}"):
            continue
        shown_alerts.append((a["rule"], fired, a))
    for cx, cy, a in placed(shown_alerts, lambda rule: y(rule) - 3):
        colour = colours.get(a["severity"], "#333")
        false_alert = a["id"] in fps
        tip = f"{_short(a['fired_at'])} UTC  {a['severity']}  {a['title']}" + ("  (false alert)" if false_alert else "")
        cls = "mark alert-mark fp" if false_alert else "mark alert-mark"
        # Colour says severity only; a false alert is crossed out (a red ring was read as a high alert's red).
        cross = (
            f'<path class="fp-cross" d="M{cx - 5:.1f},{cy - 5:.1f} l10,10 m0,-10 l-10,10" stroke="#111" '
            f'stroke-width="2.5" stroke-linecap="round"><title>{_e(tip)}</title></path>'
            if false_alert
            else ""
        )
        parts.append(
            f'<a href="#{_e(a["id"])}" class="{cls}" data-rule="{_e(a["rule"])}" '
            f'data-severity="{_e(a["severity"])}"><circle cx="{cx:.1f}" cy="{cy:.1f}" r="7" '
            f'fill="{colour}" fill-opacity="0.85" stroke="#333"><title>{_e(tip)}</title></circle>{cross}</a>'
        )
    parts.append("</svg>")
    if outside:
        items = "".join(f"<li>{_e(w)}</li>" for w in outside)
        parts.append(
            f'<div id="off-axis"><p>{len(outside)} mark(s) far outside the rest, not drawn (the axis spans '
            f"{_e(_short(datetime.fromtimestamp(lo_t, UTC).isoformat()))} to "
            f"{_e(_short(datetime.fromtimestamp(hi_t, UTC).isoformat()))}):</p><ul>{items}</ul></div>"
        )
    return "".join(parts)
