"""Terminal tables of `watchfloor backtest`: alerts, scores (with the change against a baseline), the timeline
of expected events, the diff of alerts, near misses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich import box
from rich.markup import escape
from rich.table import Table

from watchfloor.schemas.events import Detection
from watchfloor.scoring import AlertDiff, AlertRef, Counts, Scores, TimelineOutcome, format_lead_short
from watchfloor.scoring.near_misses import NearMiss

from ._common import out

SHOW_AT_MOST = 20


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def _change(before: float | None, after: float | None) -> str:
    if before is None and after is None:
        return ""
    if before is None or after is None:
        return f"{_pct(before)}→{_pct(after)}"
    return "" if abs(after - before) < 1e-9 else f"{after - before:+.2f}"


def _int_change(before: int, after: int) -> str:
    return "" if before == after else f"{after - before:+d}"


def print_alerts(detections: list[Detection]) -> None:
    if not detections:
        return
    table = Table(show_lines=False)
    for col in ("fired at", "rule", "severity", "title", "evidence"):
        table.add_column(col)
    for d in sorted(detections, key=lambda d: d.fired_at):
        sev = d.severity + (" (unconfirmed)" if d.confidence == "unconfirmed" else "")
        sources = ", ".join(sorted({e.source for e in d.evidence}))
        # Rule ids, titles and source names are text, not Rich markup: a `[…]` in them must show.
        table.add_row(d.fired_at.isoformat(), escape(d.rule), sev, escape(d.title), escape(sources))
    out.print(table)


def _lead(c: Counts) -> str:
    """The median lead as the JSON and the HTML report give it (the same score object's number: with an even
    count, the mean of the middle two, not the upper one)."""
    lead = c.to_json()["lead_time_s"]
    return "—" if not lead else format_lead_short(lead["median"])


def _table(title: str, caption: str | None = None) -> Table:
    return Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)


def print_scores(scores: Scores, baseline: Scores | None = None) -> None:
    table = _table(
        f"scores against {escape(str(scores.labels_source))}",
        "pos.: labelled positives; lead: median of alert time − labelled time",
    )
    table.add_column("rule", no_wrap=True)
    for col in ("pos.", "alerts", "TP", "FP", "FN", "prec.", "recall", "F1", "lead"):
        table.add_column(col, justify="right", no_wrap=True)
    rows = [*sorted(scores.per_rule.items()), ("overall", scores.overall)]
    for name, c in rows:
        table.add_row(
            f"[bold]{name}[/bold]" if name == "overall" else escape(name),
            *(str(v) for v in (c.positives, c.alerts, c.tp, c.fp, c.fn)),
            *(_pct(v) for v in (c.precision, c.recall, c.f1)),
            _lead(c),
            end_section=name == rows[-2][0],
        )
    out.print(table)
    if baseline is not None:
        print_score_change(scores, baseline)
    if scores.unscored_rules:
        unscored = ", ".join(f"{r} ({n})" for r, n in sorted(scores.unscored_rules.items()))
        out.print(f"alerts of rules no label maps to (not scored): {unscored}", highlight=False, markup=False)
    missed = [o for o in scores.outcomes if o.status == "fn"]
    for o in missed[:SHOW_AT_MOST]:
        out.print(f"  missed {o.item} ({', '.join(o.labels)}) for {o.rule}", highlight=False, markup=False)
    for a in scores.false_positives[:SHOW_AT_MOST]:
        out.print(f"  false alert {a.rule} at {a.fired_at.isoformat()}: {a.title}", highlight=False, markup=False)


def print_score_change(scores: Scores, baseline: Scores) -> None:
    """This run minus the baseline, per rule and overall (blank: unchanged)."""
    table = _table("change against the baseline")
    table.add_column("rule", no_wrap=True)
    for col in ("alerts", "TP", "FP", "FN", "prec.", "recall", "F1"):
        table.add_column(col, justify="right", no_wrap=True)
    names = sorted(set(scores.per_rule) | set(baseline.per_rule))
    rows = [(r, scores.per_rule.get(r, Counts()), baseline.per_rule.get(r, Counts())) for r in names]
    rows.append(("overall", scores.overall, baseline.overall))
    for name, c, b in rows:
        table.add_row(
            f"[bold]{name}[/bold]" if name == "overall" else escape(name),
            *(_int_change(x, y) for x, y in ((b.alerts, c.alerts), (b.tp, c.tp), (b.fp, c.fp), (b.fn, c.fn))),
            *(_change(x, y) for x, y in ((b.precision, c.precision), (b.recall, c.recall), (b.f1, c.f1))),
            end_section=name == rows[-2][0],
        )
    out.print(table)


def _short_time(t: datetime | None) -> str:
    return "—" if t is None else t.strftime("%Y-%m-%d %H:%M")


def print_timeline(outcomes: Sequence[TimelineOutcome]) -> None:
    table = _table("expected events", "lead: alert time − the event's time")
    for col in ("event", "time", "rule", "found", "alerted", "lead"):
        table.add_column(col, no_wrap=col != "event")
    for o in outcomes:
        table.add_row(
            escape(o.event),
            _short_time(o.time),
            escape(o.rule),
            "[green]found[/green]" if o.status == "found" else "[red]missed[/red]",
            _short_time(o.fired_at),
            format_lead_short(o.lead_time_s),
        )
    out.print(table)


def _alert_line(a: AlertRef) -> str:
    group = ", ".join(f"{k}={v}" for k, v in a.group.items())
    return f"{a.rule}{f' [{group}]' if group else ''} {a.severity} at {a.fired_at.isoformat()}: {a.title}"


def print_diff(diff: AlertDiff, against: Any) -> None:
    out.print(
        f"against {against}: {len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed, "
        f"{diff.unchanged} unchanged",
        highlight=False,
        markup=False,  # `against` is a path or a run's name
    )
    for a in diff.added[:SHOW_AT_MOST]:
        out.print(f"  + {_alert_line(a)}", highlight=False, markup=False)
    for a in diff.removed[:SHOW_AT_MOST]:
        out.print(f"  - {_alert_line(a)}", highlight=False, markup=False)
    for c in diff.changed[:SHOW_AT_MOST]:
        what = []
        if "severity" in c.fields:
            what.append(f"severity {c.before.severity} -> {c.after.severity}")
        if "confidence" in c.fields:
            what.append(f"confidence {c.before.confidence} -> {c.after.confidence}")
        if "evidence" in c.fields:
            what.append(f"evidence {len(c.before.evidence)} -> {len(c.after.evidence)} items")
        if "fired_at" in c.fields:
            what.append(f"fired {c.before.fired_at.isoformat()} -> {c.after.fired_at.isoformat()}")
        out.print(f"  ~ {_alert_line(c.after)} ({'; '.join(what)})", highlight=False, markup=False)


def print_near_misses(misses: Sequence[NearMiss]) -> None:
    if not misses:
        return
    noun = "near miss" if len(misses) == 1 else "near misses"
    out.print(f"{len(misses)} {noun} (signals no alert cites):", highlight=False)
    for m in misses[: SHOW_AT_MOST // 2]:
        s = m.signal
        why = "; ".join(r.detail for r in m.reasons)
        out.print(
            f"  {s.published_at.isoformat()} {s.name} {s.modality}: {why} — {s.source}: {s.sentence[:100]}",
            highlight=False,
            markup=False,
        )
