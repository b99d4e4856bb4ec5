"""Backtest report: one self-contained HTML page with a timeline plot (SVG) and the alerts with evidence."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

SEVERITY_COLOURS = {"low": "#7f8c8d", "medium": "#e6a23c", "high": "#d9534f", "critical": "#8e44ad"}


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _when(iso: str) -> str:
    """'2024-10-23T10:45:38.910014+00:00' -> '2024-10-23 10:45 +00:00' (readable, still unambiguous)."""
    try:
        ts = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return ts.strftime("%Y-%m-%d %H:%M ") + ts.strftime("%z")[:3] + ":" + ts.strftime("%z")[3:]


def _timeline_svg(alerts: list[dict[str, Any]], width: int = 1000) -> str:
    if not alerts:
        return "<p>No alerts fired.</p>"
    rules = sorted({a["rule"] for a in alerts})
    times = [datetime.fromisoformat(a["fired_at"]).timestamp() for a in alerts]
    t0, t1 = min(times), max(times)
    span = max(t1 - t0, 86400.0)
    left, right, row_h, top = 190, 60, 34, 30
    height = top + row_h * len(rules) + 40
    plot_w = width - left - right

    def x(t: float) -> float:
        return left + (t - t0) / span * plot_w

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="Timeline of alerts by rule">'
    ]
    for i, rule in enumerate(rules):
        y = top + i * row_h + row_h / 2
        parts.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 8}" y="{y + 4}" text-anchor="end" font-size="12">{_e(rule)}</text>')
    # Axis with ~6 date ticks.
    axis_y = top + row_h * len(rules) + 8
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#999"/>')
    for k in range(7):
        t = t0 + span * k / 6
        label = datetime.fromtimestamp(t).strftime("%Y-%m-%d")
        parts.append(f'<text x="{x(t):.1f}" y="{axis_y + 16}" text-anchor="middle" font-size="11">{label}</text>')
    for a, t in zip(alerts, times, strict=True):
        y = top + rules.index(a["rule"]) * row_h + row_h / 2
        colour = SEVERITY_COLOURS.get(a["severity"], "#333")
        tip = f"{a['fired_at']}  {a['severity']}  {a['title']}"
        parts.append(
            f'<a href="#{_e(a["id"])}"><circle cx="{x(t):.1f}" cy="{y}" r="7" fill="{colour}" '
            f'fill-opacity="0.85" stroke="#333"><title>{_e(tip)}</title></circle></a>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_backtest_html(result: dict[str, Any], title: str = "watchfloor backtest") -> str:
    alerts: list[dict[str, Any]] = sorted(result.get("alerts", []), key=lambda a: a["fired_at"])
    stats = result.get("stats", {})
    rows = []
    for a in alerts:
        ev = "".join(
            f'<li><a href="{_e(e["url"])}">{_e(e["source"])}</a> · {_e(_when(e["published_at"]))}<br>'
            f"<q>{_e(e['sentence'])}</q></li>"
            if e.get("url")
            else f"<li>{_e(e['source'])} · {_e(_when(e['published_at']))}<br><q>{_e(e['sentence'])}</q></li>"
            for e in a["evidence"]
        )
        group = ", ".join(f"{k}={v}" for k, v in a["group"].items()) or "—"
        conf = f' <span class="conf">{_e(a["confidence"])}</span>' if a.get("confidence") else ""
        rows.append(
            f'<tr id="{_e(a["id"])}"><td class="when">{_e(_when(a["fired_at"]))}</td>'
            f"<td><code>{_e(a['rule'])}</code></td>"
            f'<td><span class="sev {_e(a["severity"])}">{_e(a["severity"])}</span>{conf}</td>'
            f"<td>{_e(a['title'])}<br><small>group: {_e(group)}</small><ul>{ev}</ul></td></tr>"
        )
    stat_items = "".join(f"<li>{_e(k)}: {_e(v)}</li>" for k, v in stats.items() if not isinstance(v, dict))
    by_rule = stats.get("alerts_by_rule") or {}
    if by_rule:
        counts = ", ".join(f"{_e(k)} {_e(v)}" for k, v in sorted(by_rule.items()))
        stat_items += f"<li>alerts by rule: {counts}</li>"
    legend = " ".join(f'<span class="sev {s}">{s}</span>' for s in SEVERITY_COLOURS)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1100px}}
table{{border-collapse:collapse;width:100%}} td{{border-top:1px solid #ddd;padding:.5rem;vertical-align:top}}
.sev{{padding:1px 6px;border-radius:4px;color:#fff;font-size:.85em}}
{"".join(f".sev.{k}{{background:{v}}}" for k, v in SEVERITY_COLOURS.items())}
.when{{white-space:nowrap}}
.conf{{font-size:.8em;color:#a94442}} q{{color:#444}} ul{{margin:.3rem 0;padding-left:1.2rem}}
</style></head><body>
<h1>{_e(title)}</h1>
<ul>{stat_items}</ul>
<h2>Timeline</h2><p>{legend}</p>
{_timeline_svg(alerts)}
<h2>Alerts ({len(alerts)})</h2>
<table><tbody>{"".join(rows)}</tbody></table>
</body></html>
"""
