"""The report's timeline (inline SVG): one row per rule; alerts as dots coloured by severity (a false alert
crossed out, a repeat faded, an unscored one pale), and beside them the truth: labelled items as triangles (green
caught, red missed) and expected events of a --timeline as diamonds. Every mark carries data-rule (and
data-severity) for the page's filters."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from watchfloor.schemas.plural import counted

Mark = tuple[str, float, dict[str, Any]]  # (rule, time, what the mark shows)
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}  # as the page's severity filter ranks them


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
MARK_R = 7.0  # half the width of the widest mark (an alert's dot)
COUNT_GAP = 9.0  # from a cluster's last mark to its count
COUNT_PAD = 3.0  # the least space between two counts


def _step(size: int) -> float:
    return min(DODGE_PX, CLUSTER_PX / (size - 1)) if size > 1 else 0.0


def _count_width(size: int) -> float:
    return 5.5 * (len(str(size)) + 1)  # "×12" at the count's 9 px font


def _clusters(xs: list[float]) -> list[list[int]]:
    """The indices of the marks of each cluster (marks within NEAR_PX of its first; in the order given), or of a
    lone mark, in time order."""
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    out: list[list[int]] = []
    for i in order:
        if out and xs[i] - xs[out[-1][0]] < NEAR_PX:
            out[-1].append(i)
        else:
            out.append([i])
    return [sorted(members) for members in out]


def dodge(xs: list[float]) -> tuple[list[float], list[tuple[float, int]]]:
    """Where to draw marks of one kind on one row that would otherwise sit on each other (outside trial 32, L5: three
    reports of one instant were drawn as one triangle): each cluster of marks within NEAR_PX of its first is spread
    side by side about its centre, in the order given; and (centre, size) of each cluster of more than one mark. A
    lone mark stays where its time puts it."""
    shown = list(xs)
    clusters: list[tuple[float, int]] = []
    for members in _clusters(xs):
        if len(members) > 1:
            centre = sum(xs[i] for i in members) / len(members)
            for n, i in enumerate(members):
                shown[i] = centre + (n - (len(members) - 1) / 2) * _step(len(members))
            clusters.append((centre, len(members)))
    return shown, clusters


def counts(xs: list[float]) -> list[tuple[float, list[int]]]:
    """The counts the picture prints beside the marks of one row (drawn where `dodge` puts them): (x of the count,
    the indices of the marks it counts). Each cluster's count goes after its last mark; when that would print over
    the count before it, the two are one count, of both clusters and the marks between them, after the second (outside
    trial 53, L3: two clusters 9 px apart printed "×2" on "×2"; now one "×4")."""
    shown, _ = dodge(xs)
    out: list[tuple[float, list[int]]] = []
    for members in _clusters(xs):
        if len(members) < 2:
            continue
        at = max(shown[i] for i in members) + COUNT_GAP
        if out and at < out[-1][0] + _count_width(len(out[-1][1])) + COUNT_PAD:
            lo = min(shown[i] for i in out[-1][1])
            between = {i for i in range(len(xs)) if lo <= shown[i] <= at}
            out[-1] = (at, sorted(between | set(members)))
        else:
            out.append((at, members))
    return out


VERDICT_CLASS = {"true": "tp", "false": "fp", "repeat": "repeat", "unscored": "unscored"}
"""The class of an alert's mark (and of its badge in the alerts' list) for each verdict of the scores."""


def alert_verdicts(scores: dict[str, Any]) -> dict[str, str]:
    """Each alert's verdict ("true", "false", "repeat", "unscored") as the scores decided it (`scores.verdicts`); a
    result written before those were recorded: "false" for its false positives, the others unknown."""
    recorded = scores.get("verdicts")
    if recorded is not None:
        return {v["id"]: v["verdict"] for v in recorded if v.get("verdict") in VERDICT_CLASS}
    return {a: "false" for a in scores.get("false_positives", [])}


def timeline_svg(result: dict[str, Any], colours: dict[str, str], width: int = 1100) -> str:
    alerts = result.get("alerts", [])
    scores = result.get("scores") or {}
    truth = [ev for ev in scores.get("events", []) if ev.get("time")]
    expected = scores.get("timeline") or []
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

    def placed(
        marks: list[Mark], cy_of: Callable[[str], float], severity_of: Callable[[dict[str, Any]], str] | None = None
    ) -> list[tuple[float, float, dict[str, Any]]]:
        """(x, y, item) of each mark, with the marks of one row that coincide drawn side by side (dodge), and a
        count beside each such cluster. The count carries its row's data-rule (and, of alerts, the highest
        severity among them) so that the page's filter hides it with its marks (outside trial 53, L3: the counts
        of a filtered-out row stayed, floating over the plot)."""
        out: list[tuple[float, float, dict[str, Any]]] = []
        for rule in dict.fromkeys(r for r, _, _ in marks):
            row = [(t, item) for r, t, item in marks if r == rule]
            xs, _ = dodge([x(t) for t, _ in row])
            cy = cy_of(rule)
            out += [(cx, cy, item) for cx, (_, item) in zip(xs, row, strict=True)]
            for at, members in counts([x(t) for t, _ in row]):
                severity = ""
                if severity_of is not None:
                    top = max((severity_of(row[i][1]) for i in members), key=lambda s: SEVERITY_RANK.get(s, -1))
                    severity = f' data-severity="{_e(top)}"'
                parts.append(
                    f'<text class="cluster" data-rule="{_e(rule)}"{severity} x="{at:.1f}" y="{cy + 4:.1f}" '
                    f'font-size="9" fill="#555">×{len(members)}</text>'
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
    verdict_of = alert_verdicts(scores)
    for cx, cy, a in placed(shown_alerts, lambda rule: y(rule) - 3, lambda a: str(a["severity"])):
        colour = colours.get(a["severity"], "#333")
        verdict = verdict_of.get(a["id"], "")
        said = {"false": "false alert", "repeat": "repeat", "unscored": "unscored"}
        tip = f"{_short(a['fired_at'])} UTC  {a['severity']}  {a['title']}"
        tip += f"  ({said[verdict]})" if verdict in said else ""
        cls = f"mark alert-mark {VERDICT_CLASS[verdict]}" if verdict in VERDICT_CLASS else "mark alert-mark"
        # Colour says severity only; a false alert is crossed out (a red ring was read as a high alert's red), a
        # repeat is faded in a dashed ring and an unscored one pale in a dotted grey ring (outside trial 53, L3:
        # drawn as true alerts, six repeats of thirteen alerts read as seven more good ones).
        look = {
            "repeat": 'fill-opacity="0.35" stroke="#333" stroke-dasharray="3,2"',
            "unscored": 'fill-opacity="0.15" stroke="#999" stroke-dasharray="1,2"',
        }.get(verdict, 'fill-opacity="0.85" stroke="#333"')
        cross = (
            f'<path class="fp-cross" d="M{cx - 5:.1f},{cy - 5:.1f} l10,10 m0,-10 l-10,10" stroke="#111" '
            f'stroke-width="2.5" stroke-linecap="round"><title>{_e(tip)}</title></path>'
            if verdict == "false"
            else ""
        )
        parts.append(
            f'<a href="#{_e(a["id"])}" class="{cls}" data-rule="{_e(a["rule"])}" '
            f'data-severity="{_e(a["severity"])}"><circle cx="{cx:.1f}" cy="{cy:.1f}" r="7" '
            f'fill="{colour}" {look}><title>{_e(tip)}</title></circle>{cross}</a>'
        )
    parts.append("</svg>")
    if outside:
        items = "".join(f"<li>{_e(w)}</li>" for w in outside)
        parts.append(
            f'<div id="off-axis"><p>{counted(len(outside), "mark")} far outside the rest, not drawn (the axis spans '
            f"{_e(_short(datetime.fromtimestamp(lo_t, UTC).isoformat()))} to "
            f"{_e(_short(datetime.fromtimestamp(hi_t, UTC).isoformat()))}):</p><ul>{items}</ul></div>"
        )
    return "".join(parts)
