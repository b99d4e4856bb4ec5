"""The report's timeline (inline SVG): one row per rule; alerts as dots coloured by severity (a red ring for a
false alert), and beside them the truth: labelled items as triangles (green caught, red missed) and expected
events of a --timeline as diamonds. Every mark carries data-rule (and data-severity) for the page's filters."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _ts(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


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
    t0, t1 = min(times), max(times)
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
    for k in range(7):
        tick = t0 + span * k / 6
        label = datetime.fromtimestamp(tick, UTC).strftime("%Y-%m-%d")
        parts.append(f'<text x="{x(tick):.1f}" y="{axis_y + 16}" text-anchor="middle" font-size="11">{label}</text>')
    for t_ev in expected:
        t = _ts(t_ev["time"])
        if t is None:
            continue
        cx, cy = x(t), y(t_ev["rule"])
        colour = "#2e7d32" if t_ev["status"] == "found" else "#c62828"
        tip = f"expected: {t_ev['event']} at {t_ev['time']} ({t_ev['status']})"
        parts.append(
            f'<path class="mark expected {_e(t_ev["status"])}" data-rule="{_e(t_ev["rule"])}" '
            f'd="M{cx:.1f},{cy - 12:.1f} l8,12 l-8,12 l-8,-12 z" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{_e(tip)}</title></path>"
        )
    for ev in truth:
        t = _ts(ev["time"])
        if t is None:
            continue
        cx, cy = x(t), y(ev["rule"]) + 11
        colour = "#2e7d32" if ev["status"] == "tp" else "#c62828"
        tip = f"labelled {', '.join(ev['labels'])}: {ev['id']} ({'caught' if ev['status'] == 'tp' else 'missed'})"
        parts.append(
            f'<path class="mark truth {_e(ev["status"])}" data-rule="{_e(ev["rule"])}" '
            f'd="M{cx:.1f},{cy - 5:.1f} l5,9 l-10,0 z" fill="{colour}"><title>{_e(tip)}</title></path>'
        )
    for a in alerts:
        fired = _ts(a["fired_at"])
        if fired is None:
            continue
        colour = colours.get(a["severity"], "#333")
        false_alert = a["id"] in fps
        stroke = 'stroke="#c62828" stroke-width="3"' if false_alert else 'stroke="#333"'
        tip = f"{a['fired_at']}  {a['severity']}  {a['title']}" + ("  (false alert)" if false_alert else "")
        cls = "mark alert-mark fp" if false_alert else "mark alert-mark"
        parts.append(
            f'<a href="#{_e(a["id"])}" class="{cls}" data-rule="{_e(a["rule"])}" '
            f'data-severity="{_e(a["severity"])}"><circle cx="{x(fired):.1f}" cy="{y(a["rule"]) - 3}" r="7" '
            f'fill="{colour}" fill-opacity="0.85" {stroke}><title>{_e(tip)}</title></circle></a>'
        )
    parts.append("</svg>")
    return "".join(parts)
