"""Backtest report: one self-contained, offline HTML page rendered from the backtest's JSON result: scores, a
timeline of alerts with the labelled truth beside them, the alerts with evidence, the diff against a baseline,
near misses, and filters by rule and severity. No external resources (a Content-Security-Policy forbids
any), and links only to http(s) URLs."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from watchfloor.schemas.events import dated_text
from watchfloor.schemas.plural import counted
from watchfloor.schemas.timefmt import utc_text
from watchfloor.scoring import describe_lost_escalation, format_lead
from watchfloor.scoring.near_misses import Reason, by_report_and_reason
from watchfloor.scoring.scores import f1_of, signed_change

from .report_timeline import VERDICT_CLASS, future_dated, timeline_svg

SEVERITY_COLOURS = {"low": "#7f8c8d", "medium": "#e6a23c", "high": "#d9534f", "critical": "#8e44ad"}
SEVERITIES = tuple(SEVERITY_COLOURS)
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _counted(n: Any, singular: str) -> str:
    """A count from the result's JSON and its noun, escaped: "1 alert", "2 alerts" (a value that is not a count,
    from a result of another version, as written, with the plural)."""
    return _e(counted(n, singular) if isinstance(n, int) else f"{n} {singular}s")


_CYRILLIC = re.compile("[\u0400-\u04ff]")


def _news(text: Any) -> str:
    """Text of the news (a title, a sentence), escaped, marked `lang="ru"` when it is in Cyrillic: the page around
    it is English (`<html lang="en">`), and a screen reader or the browser's hyphenation reads Russian as English
    otherwise (outside trial 57, LOW-3)."""
    shown = _e(text)
    return f'<span lang="ru">{shown}</span>' if _CYRILLIC.search(str(text)) else shown


def safe_url(url: Any) -> str | None:
    """The URL if it is an absolute http(s) URL (what an evidence link may point to), else None: article
    text decides these URLs, and a `javascript:` or `data:` link would run in the reader's browser."""
    if not isinstance(url, str):
        return None
    text: str = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(ord(c) < 32 for c in text):
        return None
    return text


def _link(url: Any, text: str) -> str:
    ok = safe_url(url)
    return f'<a href="{_e(ok)}" rel="noopener noreferrer">{_e(text)}</a>' if ok else _e(text)


def _when(iso: str | None) -> str:
    """'2024-10-23T10:45:38.910014+00:00' -> '2024-10-23 10:45 UTC', as every other output writes a time
    (outside trial 10, F4: "+00:00" here alone); a time without a zone is the result's UTC."""
    if not iso:
        return "—"
    try:
        ts = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return utc_text(ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC))


def _instant(iso: Any) -> float | None:
    """An ISO time's instant (a time without a zone is UTC), None when unreadable: results of versions before
    fired_at was kept in UTC hold each report's own offset, so their times are compared and sorted as times."""
    try:
        ts = datetime.fromisoformat(str(iso))
    except ValueError:
        return None
    return (ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)).timestamp()


def _by_time(a: dict[str, Any]) -> tuple[float, str]:
    at = _instant(a.get("fired_at"))
    return (at if at is not None else float("inf"), str(a.get("fired_at")))


def _num(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.2f}"
    return _e(v)


# Which way a score's change is good for the scores: more caught and more told, fewer misses, false alerts and
# repeats. Counts that are neither (alerts, positives) are only changes: an edit that removes a repeat and a false
# alert has fewer alerts, which is not a loss (outside trial 63, MED-4: coloured red like a lost true positive).
BETTER_HIGHER = frozenset({"tp", "true_alerts", "precision", "recall", "f1", "item_recall", "event_recall"})
BETTER_LOWER = frozenset({"fp", "fn", "repeat_alerts"})


def _delta(change: Any, column: str) -> str:
    """' (+0.17)' after a score, coloured good or bad by which way helps the scores (BETTER_HIGHER, BETTER_LOWER),
    grey for a count that is neither."""
    if not isinstance(change, int | float) or abs(change) < 1e-9:
        return ""
    counted = column in ("tp", "fp", "fn", "alerts", "true_alerts", "repeat_alerts", "positives")
    text = f"{int(change):+d}" if counted else signed_change(change)
    if column in BETTER_HIGHER:
        tone = "good" if change > 0 else "bad"
    elif column in BETTER_LOWER:
        tone = "good" if change < 0 else "bad"
    else:
        tone = "neutral"
    return f' <small class="{tone}">({text})</small>'


def _leads(counts: dict[str, Any], with_events: bool) -> str:
    """The median lead of a score row's items, and with events of its events (`event_lead_time_s`)."""
    lead = counts.get("lead_time_s") or {}
    cells = f"<td>{_e(format_lead(lead.get('median')))}</td>"
    if with_events:
        per_event = counts.get("event_lead_time_s") or {}
        cells += f'<td class="event-lead">{_e(format_lead(per_event.get("median")))}</td>'
    return cells


def _ci(counts: dict[str, Any], column: str) -> str:
    """A rate's 95 % Wilson interval under it (`precision_interval`, `recall_interval` in the JSON): a 1.00 on 2
    alerts is [0.34, 1.00] (outside trial 53, MED-2)."""
    interval = counts.get(f"{column}_interval") if column in ("precision", "recall") else None
    if not interval:
        return ""
    return f'<br><small class="ci" title="95 % Wilson interval">[{interval[0]:.2f}, {interval[1]:.2f}]</small>'


def _item(ev: dict[str, Any]) -> str:
    """A scored item as the labels file names it: its URL (a link) when it was labelled by URL, with the
    derived doc-… id beside it; else its id."""
    key, item = ev.get("label_key") or ev["id"], ev["id"]
    if key == item:
        return _e(item)
    return f"{_link(key, key)} (<code>{_e(item)}</code>)"


def _scores_section(result: dict[str, Any]) -> str:
    scores = result.get("scores")
    if not scores or not scores.get("per_rule"):
        return ""
    delta = (result.get("diff") or {}).get("scores") or {}
    # Labelled items first (positives, TP, FN), then alerts (alerts, true, FP): precision is true / alerts on the row
    # (outside trial 20, L3), as the terminal's table.
    # With events, the repeats (alerts = true + FP + repeats: LOW-5) and each rule's lead per event (the desk's latency,
    # which repeats do not move: MED-1), as the terminal and the JSON give them (outside trial 53).
    with_events = bool(scores.get("with_events"))
    cols = (
        "positives",
        "tp",
        "fn",
        "alerts",
        "true_alerts",
        "fp",
        *(("repeat_alerts",) if with_events else ()),
        "precision",
        "recall",
        "f1",
    )
    names = {"tp": "TP", "fp": "FP", "fn": "FN", "f1": "F1", "true_alerts": "true", "repeat_alerts": "repeats"}
    head = "".join(f"<th>{names.get(c, c)}</th>" for c in cols)
    rows = []
    items = [*sorted(scores["per_rule"].items()), ("overall", scores["overall"])]
    for rule, s in items:
        d = delta.get("overall") if rule == "overall" else (delta.get("per_rule") or {}).get(rule)
        cells = "".join(
            f"<td>{_num(s.get(c))}{_delta((d or {}).get(c, {}).get('change'), c) if d else ''}{_ci(s, c)}</td>"
            for c in cols
        )
        attr = ' class="overall"' if rule == "overall" else f' data-rule="{_e(rule)}"'
        # a rule the baseline's packs do not have: its change is the whole rule, not a gain over a baseline's 0
        added = ' <small class="good">(rule added)</small>' if rule in (delta.get("rules_added") or ()) else ""
        rows.append(f"<tr{attr}><th>{_e(rule)}{added}</th>{cells}{_leads(s, with_events)}</tr>")
    overall = scores["overall"]
    if overall.get("items") and overall.get("items") != overall.get("positives"):
        # An item answered by more than one rule: the overall row counts (item, rule) pairs; this row each labelled
        # item once, what a desk reads (docs/backtest.md, "Overall"), as the terminal's `per item` row.
        d = delta.get("overall") or {}
        per_item = {
            **overall,
            "positives": overall["items"],
            "tp": overall["items_caught"],
            "fn": overall["items"] - overall["items_caught"],
            "recall": overall.get("item_recall"),
            "recall_interval": overall.get("item_recall_interval"),
            "f1": f1_of(overall.get("precision"), overall.get("item_recall")),
        }
        changes = {"recall": (d.get("item_recall") or {}).get("change")} | {
            c: (d.get(c) or {}).get("change") for c in ("alerts", "true_alerts", "fp", "repeat_alerts", "precision")
        }
        cells = "".join(f"<td>{_num(per_item.get(c))}{_delta(changes.get(c), c)}{_ci(per_item, c)}</td>" for c in cols)
        rows.append(
            f'<tr class="per-item"><th>per item</th>{cells}<td>—</td>{"<td>—</td>" if with_events else ""}</tr>'
        )
    missed = [ev for ev in scores.get("events", []) if ev["status"] == "fn"]
    missed_html = "".join(
        f'<li data-rule="{_e(ev["rule"])}">{_item(ev)} ({_e(", ".join(ev["labels"]))}) — {_e(ev["rule"])}, '
        f"{_e(_when(ev['time']))}"
        # whose story the labels say it is (their `group`), which may be all that kept it from its alert
        + (f"; labelled group <code>{_e(ev['group'])}</code>" if ev.get("group") else "")
        + (f'<br><span class="why">{_e(ev["why"])}</span>' if ev.get("why") else "")
        + "</li>"
        for ev in missed
    )
    unscored = ", ".join(f"{_e(r)} ({_e(n)})" for r, n in (scores.get("unscored_rules") or {}).items())
    return (
        f'<section id="scores"><h2>Scores</h2><p>Against <code>{_e(scores.get("labels"))}</code> {_map_said(scores)}'
        ". Precision = true alerts / alerts (alerts citing an item "
        "labelled for their rule); recall = TP / (TP + FN), over labelled items: TP are those an alert of their rule "
        "cites, or that an alert of it citing a positive holds back as a repeat (its realert); FP counts false alerts. "
        "Lead = alert time "
        "− labelled time. Under precision and recall, in brackets, their 95 % Wilson interval: how far a rate on "
        "few alerts or items may be from the rate over many.</p>"
        f'<div class="scroll"><table class="scores"><thead><tr><th>rule</th>{head}<th>median lead</th>'
        + ("<th>median lead per event</th>" if with_events else "")
        + f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        + (
            "<p>per item: each labelled item once, caught by an alert of any rule its labels map to (items, "
            "items caught, item recall); overall: (item, rule) pairs, an item once per rule that answers its label."
            "</p>"
            if 'class="per-item"' in rows[-1]
            else ""
        )
        + (
            f"<p>{_e(covered)} of the TP are repeats held back by an alert that cites a positive (a true alert or a "
            "repeat of one; its realert, or a sequence's step it told with a later report: the desk had been told); "
            "they have no lead time of their own.</p>"
            if (covered := (scores.get("overall") or {}).get("covered"))
            else ""
        )
        + _window_html(scores)
        + _events_html(scores)
        + (f"<h3>Missed ({len(missed)})</h3><ul>{missed_html}</ul>" if missed else "")
        + (f"<p>Alerts of rules no label maps to (not scored): {unscored}</p>" if unscored else "")
        + "</section>"
    )


def _window_html(scores: dict[str, Any]) -> str:
    """What --score-from / --score-until left out, as the terminal says it."""
    window = scores.get("window")
    if not window:
        return ""
    span = " ".join(
        f"{word} {_e(_when(window[key]))}" for word, key in (("from", "from"), ("until", "until")) if window.get(key)
    )
    return (
        f'<p class="window">Scored {span}: alerts by when they fired, labelled items by their time; '
        f"{_counted(scores.get('unscored_alerts', 0), 'alert')} of scored rules outside it unscored, "
        f"{_counted(scores.get('positives_outside_window', 0), 'labelled item')} outside it not counted.</p>"
    )


def _events_html(scores: dict[str, Any]) -> str:
    """With labels that name each item's event: the events caught (the figure a briefing quotes, which the terminal
    and JSON gave and the report did not: outside trial 32, M1), and each event with its items and the alert that
    told it, per rule."""
    if not scores.get("with_events"):
        return ""
    overall = scores.get("overall") or {}
    by_event: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for ev in scores.get("events", []):
        by_event.setdefault((ev["rule"], ev.get("event") or ev["label_key"]), []).append(ev)
    rows = []
    for (rule, event), items in sorted(by_event.items(), key=lambda x: (x[0][0], min(i["time"] or "" for i in x[1]))):
        told = [i for i in items if i["status"] != "fn"]
        first = min(told, key=lambda i: i["fired_at"] or "") if told else None
        status = "caught" if told else "missed"
        rows.append(
            f'<tr data-rule="{_e(rule)}"><td>{_e(event)}</td><td><code>{_e(rule)}</code></td>'
            f'<td class="{"tp" if told else "fn"}">{status}</td><td>{len(told)} of {len(items)}</td>'
            f'<td class="when">{_e(_when(first["fired_at"])) if first else "—"}</td>'
            f"<td>{_e(first['alert']) if first else '—'}</td></tr>"
        )
    return (
        f"<h3>Events: {_e(overall.get('events_caught'))} of {_e(overall.get('events'))} caught "
        f"({_e(_num(overall.get('event_recall')))})</h3>"
        f"<p>{_counted(overall.get('repeat_alerts') or 0, 'alert')} only retold an event told before (repeats: not "
        "true alerts, in precision). An event is caught when an alert of its rule cites one of its items, or an alert "
        "citing a positive (a true alert or a repeat) held one back as a repeat.</p>"
        '<div class="scroll"><table class="events"><thead><tr><th>event</th><th>rule</th><th>status</th>'
        "<th>items caught</th><th>first told</th><th>alert</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _problems_section(result: dict[str, Any]) -> str:
    """What the terminal said beside the results: inputs that could not be used, warnings, the gates' verdicts."""
    items: list[str] = []
    for f in result.get("sources_failed") or []:
        items.append(f'<li class="bad">input not used: {_e(f.get("problem") or f.get("source"))}</li>')
    for w in result.get("warnings") or []:
        items.append(f"<li>warning: {_e(w)}</li>")
    for n in result.get("notes") or []:
        items.append(f"<li>{_e(n)}</li>")
    for m in result.get("merged_sources") or []:  # feed files counted as one source (outside trial 67, MED-1)
        items.append(f"<li>{_e(m.get('note') or m.get('files'))}</li>")
    gates = result.get("gates") or {}
    for name, verdict in gates.items():
        if not isinstance(verdict, dict):
            continue
        met = verdict.get("met")
        failures = verdict.get("failures") or verdict.get("lost") or []
        said = "; ".join(
            [_e(_failure(x)) for x in failures]
            # cited by the baseline, only covered now, labels without `event` (outside trial 9, F4)
            + [
                f"{_e(_failure(x))} no longer alerted: only held back as a repeat now, and the labels have no event "
                "column"
                for x in verdict.get("only_covered_now") or []
            ]
            # a true HIGH of a story this run no longer reaches (outside trial 65, MED-1)
            + [f"lost escalation: {_e(describe_lost_escalation(x))}" for x in verdict.get("lost_escalations") or []]
        )
        items.append(
            f'<li class="{"good" if met else "bad"}">{_e(name.replace("_", " "))}: {"met" if met else "failed"}'
            + (f" — {said}" if said else "")
            + "</li>"
        )
    if not items:
        return ""
    return f'<section id="problems"><h2>Inputs, warnings and gates</h2><ul>{"".join(items)}</ul></section>'


def _failure(x: Any) -> str:
    """One failure of a gate as the terminal says it: an expectation with the entry it is about (outside trial 7:
    "expect: failed — no alert matched" did not say which), else its detail, label or id."""
    if isinstance(x, str):
        return x
    if isinstance(x.get("expectation"), dict):
        entry = json.dumps(x["expectation"], ensure_ascii=False)
        return f"{x.get('kind', '')} {entry}: {x.get('detail', '')}".strip()
    return str(x.get("detail") or x.get("label_key") or x.get("id") or x)


def _earlier_false(t: dict[str, Any]) -> str:
    at = t.get("earlier_false_alert")
    return f" (earlier false alert at {_e(_when(at))})" if at else ""


def _timeline_events_section(result: dict[str, Any]) -> str:
    rows = (result.get("scores") or {}).get("timeline") or []
    if not rows:
        return ""
    body = "".join(
        f'<tr data-rule="{_e(t["rule"])}"><td>{_e(t["event"])}</td><td class="when">{_e(_when(t["time"]))}</td>'
        f"<td><code>{_e(t['rule'])}</code></td><td>{_e(_group(t.get('group')))}</td>"
        f'<td class="{_e(t["status"])}">{_e(t["status"])}{" by a false alert" if t.get("false_alert") else ""}'
        f"{_earlier_false(t)}</td>"
        f'<td class="when">{_e(_when(t["fired_at"]))}</td><td>{_e(format_lead(t["lead_time_s"]))}</td></tr>'
        for t in rows
    )
    return (
        '<section id="expected"><h2>Expected events</h2><div class="scroll"><table><thead><tr><th>event</th>'
        "<th>time</th><th>rule</th><th>group</th><th>status</th><th>alert fired</th><th>lead</th></tr></thead>"
        f"<tbody>{body}</tbody></table></div></section>"
    )


def _group(group: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in group.items()) if isinstance(group, dict) and group else "—"


def _dated(e: dict[str, Any]) -> str:
    """A report's time, marked when its feed gave no date and it is when the report was first seen."""
    return dated_text(_when(e.get("published_at")), bool(e.get("first_seen")))


def _fired(a: dict[str, Any]) -> str:
    """An alert's time, marked as its report's when that is the first-seen time of an undated report."""
    fired = _instant(a.get("fired_at"))  # (fired_at is in UTC, a report's time in its own offset: compared as times)
    at = [bool(e.get("first_seen")) for e in a.get("evidence", ()) if _instant(e.get("published_at")) == fired]
    return dated_text(_when(a.get("fired_at")), bool(at) and all(at))


def _evidence(e: dict[str, Any]) -> str:
    return (
        f"<li>{_link(e.get('url'), e.get('source', ''))} · {_e(_dated(e))} · "
        f"<code>{_e(e.get('event_id', ''))}</code><br><q>{_news(e.get('sentence', ''))}</q></li>"
    )


def _alerts_section(alerts: list[dict[str, Any]], truth: dict[str, str], why: dict[str, str] | None = None) -> str:
    """Each alert with its evidence, badged with its verdict; a false alert with why it is false (`why`: the scores'
    `verdicts[].why`, as the terminal says it: outside trial 63, the badge alone sent the reader to the label map)."""
    rows = []
    for a in alerts:
        group = ", ".join(f"{k}={v}" for k, v in a["group"].items()) or "—"
        conf = f' <span class="conf">{_e(a["confidence"])}</span>' if a.get("confidence") else ""
        verdict = truth.get(a["id"])
        badge = f' <span class="verdict {verdict}">{_BADGES[verdict]}</span>' if verdict else ""
        reason = (why or {}).get(a["id"]) if verdict == "fp" else None
        false_why = f'<br><small class="why">false alert: {_e(reason)}</small>' if reason else ""
        rows.append(
            f'<tr id="{_e(a["id"])}" data-rule="{_e(a["rule"])}" data-severity="{_e(a["severity"])}" class="alert">'
            f'<td class="when">{_e(_fired(a))}</td><td><code>{_e(a["rule"])}</code></td>'
            f'<td><span class="sev {_e(a["severity"])}">{_e(a["severity"])}</span>{conf}{badge}</td>'
            f"<td>{_news(a['title'])}<br><small>group: {_e(group)}</small>{false_why}"
            f"<ul>{''.join(_evidence(e) for e in a['evidence'])}</ul></td></tr>"
        )
    return (
        f'<section id="alerts"><h2>Alerts (<span id="shown">{len(alerts)} of {len(alerts)}</span>)</h2>'
        f'<div class="scroll"><table><tbody>{"".join(rows)}</tbody></table></div></section>'
    )


def _conf(a: dict[str, Any]) -> str:
    return f" ({_e(a['confidence'])})" if a.get("confidence") else ""


def _brief_row(a: dict[str, Any], mark: str, note: str = "") -> str:
    group = ", ".join(f"{k}={v}" for k, v in a["group"].items())
    return (
        f'<tr data-rule="{_e(a["rule"])}" data-severity="{_e(a["severity"])}"><td class="{mark}">{mark}</td>'
        f"<td>{_e(_when(a['fired_at']))}</td><td><code>{_e(a['rule'])}</code>{f' [{_e(group)}]' if group else ''}</td>"
        f"<td>{_e(a['severity'])}{_conf(a)}</td>"
        f"<td>{_news(a.get('title', ''))}{note}</td>"
        # its verdict in the scores (true, repeat, false), when both runs were scored (outside trial 53, MED-4)
        + (f'<td class="verdict">{_e(a["verdict"])}</td>' if a.get("verdict") else "")
        + "</tr>"
    )


def _diff_section(result: dict[str, Any]) -> str:
    diff = result.get("diff")
    if diff is None:
        return ""
    base = result.get("baseline") or {}
    rows = [_brief_row(a, "added") for a in diff["added"]]
    rows += [_brief_row(a, "removed") for a in diff["removed"]]
    for c in diff["changed"]:
        b = c["before"]
        # What differs, from what to what (the diff's `details`: a title, an attribute, the evidence...); a
        # result written before there were details says which fields.
        details = c.get("details") or []
        what = (
            "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in details) + "</ul>"
            if details
            else f"changed: {_e(', '.join(c['changes']))}; "
        )
        note = f"<br><small>{what}before: {_e(b['severity'])}"
        note += f"{_conf(b)}, {_e(_when(b['fired_at']))}, "
        note += f"{len(b.get('evidence_ids') or b['evidence'])} evidence items</small>"
        rows.append(_brief_row(c["after"], "changed", note))
    lost = ((diff.get("scores") or {}).get("lost_true_positives")) or []
    # As the labels file names them (a URL when labelled by URL; the lost ones are misses of this run's score).
    keys = {ev["id"]: ev.get("label_key") or ev["id"] for ev in (result.get("scores") or {}).get("events", [])}
    lost_text = ", ".join(f"{keys.get(x['id'], x['id'])} ({x['rule']})" for x in lost)
    lost_html = f'<p class="lost">True positives lost: {_e(lost_text)}</p>' if lost else ""
    # Cited by a removed alert of the baseline, only covered now; without an `event` column that may be a new event.
    covered = ((diff.get("scores") or {}).get("only_covered_now")) or []
    if covered:
        covered_text = ", ".join(f"{keys.get(x['id'], x['id'])} ({x['rule']})" for x in covered)
        lost_html += (
            f'<p class="lost">Alerted on by the baseline, only held back as repeats now: {_e(covered_text)} (the '
            "labels have no <code>event</code> column to tell a retelling from a new event held back)</p>"
        )
    return (
        f'<section id="diff"><h2>Against the baseline</h2><p>Baseline: <code>{_e(base.get("source"))}</code> '
        f"({_e(base.get('alerts'))} alerts): {len(diff['added'])} added, {len(diff['removed'])} removed, "
        f"{len(diff['changed'])} changed, {_e(diff['unchanged'])} unchanged.</p>{lost_html}"
        f'<div class="scroll"><table><tbody>{"".join(rows)}</tbody></table></div></section>'
    )


def _history_section(result: dict[str, Any]) -> str:
    """What a `revisions: 4` or `future_dated: 1` among the counts stands for, as far as the result holds it: the
    alerts revised (which replaced which) and withdrawn (from `raised`, in log order), and the alerts that cite a
    future-dated report (raised at its receive time), and the late reports that raised nothing (its near misses of
    kind late); the result keeps no list of the other late documents."""
    raised = result.get("raised") or []
    by_id = {a["id"]: a for a in raised if "id" in a}
    rows = []
    for a in raised:
        if "retraction" in a:
            r = a["retraction"]
            old = by_id.get(r.get("alert_id"), {})
            by = f"; superseded by <code>{_e(r['superseded_by'])}</code>" if r.get("superseded_by") else ""
            rows.append(
                f'<tr class="retracted" data-rule="{_e(r.get("rule"))}"><td>retracted</td>'
                f"<td><code>{_e(r.get('rule'))}</code> [{_e(_group(r.get('group')))}]</td>"
                f"<td><code>{_e(r.get('alert_id'))}</code> (fired {_e(_when(old.get('fired_at')))}): "
                f"{_e(r.get('reason'))}{by}; by a report of {_e(_when(r.get('at')))}</td></tr>"
            )
        elif a.get("revision") or a.get("revises"):
            # Raised by a change of the group's history (a late report): replacing an alert, or new beside them.
            old = by_id.get(a.get("revises") or "", {})
            was = f" (was {_e(old.get('severity'))}, fired {_e(_when(old.get('fired_at')))})" if old else ""
            what = (
                f"replaces <code>{_e(a['revises'])}</code>{was}"
                if a.get("revises")
                else "raised when a report changed its group's history, replacing no alert"
            )
            rows.append(
                f'<tr class="revised" data-rule="{_e(a["rule"])}"><td>revision {_e(a.get("revision"))}</td>'
                f"<td><code>{_e(a['rule'])}</code> [{_e(_group(a.get('group')))}]</td>"
                f'<td><a href="#{_e(a["id"])}">{_e(a["id"])}</a> ({_e(a["severity"])}, fired '
                f"{_e(_when(a['fired_at']))}) {what}</td></tr>"
            )
    for a in result.get("alerts", []):
        dated = future_dated(a)
        if dated:
            rows.append(
                f'<tr class="future" data-rule="{_e(a["rule"])}"><td>future-dated report</td>'
                f"<td><code>{_e(a['rule'])}</code> [{_e(_group(a.get('group')))}]</td>"
                f'<td><a href="#{_e(a["id"])}">{_e(a["id"])}</a> fired {_e(_when(a["fired_at"]))}, the receive '
                f"time of a report dated {_e(_when(dated))}</td></tr>"
            )
    listed_late = 0
    for m in result.get("near_misses") or []:
        why = [r for r in m.get("reasons", []) if r.get("kind") == "late"]
        if why:
            listed_late += 1
            rows.append(
                f'<tr class="late" data-rules="{_e(" ".join(sorted({r.get("detection") or "" for r in why})))}">'
                f"<td>late report</td><td><code>{_e(m.get('signal'))}</code></td>"
                f"<td>{_link(m.get('url'), m.get('source', ''))} <code>{_e(m.get('document_id'))}</code> "
                f"(published {_e(_when(m.get('published_at')))}): {_e(why[0].get('detail'))}</td></tr>"
            )
    stats = result.get("stats") or {}
    late = stats.get("late_documents", stats.get("late_signals")) or 0
    # The near misses are capped (--near-misses): when the result keeps fewer than there were, the late
    # reports among those not kept are not listed either.
    kept = len(result.get("near_misses") or [])
    all_misses = stats.get("near_misses", kept)
    cut = isinstance(all_misses, int) and all_misses > kept
    listed = (
        f"up to {kept} of the {all_misses} near misses are kept (--near-misses); of kind late among them: "
        f"{listed_late}; late reports among the {all_misses - kept} not kept are not listed"
        if cut
        else f"near misses of kind late: {listed_late}"
    )
    note = (
        f"<p>{_counted(late, 'report')} came beyond the lateness; listed here are those that raised nothing "
        f"({_e(listed)}); the result does not name the others.</p>"
        if late
        else ""
    )
    if not rows and not note:
        return ""
    table = f'<div class="scroll"><table><tbody>{"".join(rows)}</tbody></table></div>' if rows else ""
    return (
        '<section id="history"><h2>Revised, retracted, late and future-dated</h2><p>Alerts a report revised or '
        "withdrew as it changed their group's history (in log order: a report out of time order, or of the same "
        "time), alerts raised on a report dated in the future (at its receive time), and late reports that raised "
        "nothing.</p>"
        f"{table}{note}</section>"
    )


def _near_miss_key(m: dict[str, Any]) -> str:
    """A near miss's report, signal, modality and reasons (scoring.near_misses.near_miss_key, of the JSON)."""
    return json.dumps([m.get("document_id"), m.get("signal"), m.get("modality"), m.get("reasons")], sort_keys=True)


def _near_misses_section(result: dict[str, Any]) -> str:
    misses = result.get("near_misses")
    if misses is None:
        return ""
    total = (result.get("stats") or {}).get("near_misses", len(misses))
    rows = []
    # A report whose sentences are near misses for the same reasons is one row: its sentences, the reasons once.
    for same in by_report_and_reason(misses, _near_miss_key):
        m = same[0]
        rules = {r["detection"] for r in m["reasons"] if r.get("detection")}
        # One line per detection, starting with its name (Reason.clause), then the kind of reason
        clauses = [(Reason(r["kind"], r["detail"], r.get("detection")).clause(), r["kind"]) for r in m["reasons"]]
        why = "".join(f"<li>{_e(text)} <small>({_e(kind)})</small></li>" for text, kind in clauses)
        cue = f"“{_e(m['cue'])}”" if m.get("cue") else "—"
        rule_attr = f' data-rules="{_e(" ".join(sorted(rules)))}"' if rules else ""
        rows.append(
            f'<tr class="miss"{rule_attr}><td class="when">{_e(_when(m["published_at"]))}</td>'
            f'<td><code>{_e(m["signal"])}</code></td><td class="mod {_e(m["modality"])}">{_e(m["modality"])}</td>'
            f"<td>{cue}</td><td>{_link(m.get('url'), m['source'])}: "
            + "<br>".join(f"<q>{_news(x['sentence'])}</q>" for x in same)
            + (f"<br><small>{len(same)} sentences of this report, for the same reason</small>" if len(same) > 1 else "")
            + f"<ul>{why}</ul></td></tr>"
        )
    shown = f"{len(misses)} of {total}" if total != len(misses) else str(total)
    return (
        f'<section id="near-misses"><h2>Near misses ({shown})</h2><p>Signals that no alert cites: their modality, '
        'the cue that decided it, and why no detection fired on them.</p><div class="scroll"><table><thead><tr>'
        "<th>published</th>"
        "<th>signal</th><th>modality</th><th>cue</th><th>sentence and why</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


_BADGES = {"tp": "true alert", "fp": "false alert", "repeat": "repeat", "unscored": "unscored"}


def _verdicts(result: dict[str, Any]) -> dict[str, str]:
    """Each scored alert's badge class (tp, fp, repeat, unscored), as the scores decided it (`scores.verdicts`); a
    result written before those were recorded: tp for the alerts that caught a positive, fp for the false ones."""
    scores = result.get("scores") or {}
    recorded = scores.get("verdicts")
    if recorded is not None:
        return {v["id"]: VERDICT_CLASS[v["verdict"]] for v in recorded if v.get("verdict") in VERDICT_CLASS}
    out = {ev["alert"]: "tp" for ev in scores.get("events", []) if ev.get("alert")}
    out.update({a: "fp" for a in scores.get("false_positives", [])})
    return out


def _false_whys(result: dict[str, Any]) -> dict[str, str]:
    """Each false alert's reason as the scores gave it (`scores.verdicts[].why`)."""
    recorded = (result.get("scores") or {}).get("verdicts") or []
    return {v["id"]: v["why"] for v in recorded if v.get("verdict") == "false" and v.get("why")}


def _rules_of(result: dict[str, Any]) -> list[str]:
    rules = {a["rule"] for a in result.get("alerts", [])}
    scores = result.get("scores") or {}
    rules |= set(scores.get("per_rule") or {})
    rules |= {t["rule"] for t in scores.get("timeline") or []}
    diff = result.get("diff") or {}
    rules |= {a["rule"] for a in diff.get("removed", [])}
    return sorted(rules)


def _options(values: Iterable[str], first: str) -> str:
    return f'<option value="">{first}</option>' + "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)


FILTER_SCRIPT = """
(function () {
  var rank = {low: 0, medium: 1, high: 2, critical: 3};
  var rule = document.getElementById('f-rule'), sev = document.getElementById('f-sev');
  function visible(el) {
    var r = rule.value, s = sev.value;
    if (r) {
      var rules = (el.getAttribute('data-rules') || el.getAttribute('data-rule') || '').split(' ');
      if (rules.indexOf(r) < 0) return false;
    }
    var es = el.getAttribute('data-severity');
    return !(s && es && rank[es] < rank[s]);
  }
  function apply() {
    var all = document.querySelectorAll('[data-rule], [data-rules]'), shown = 0, total = 0;
    for (var i = 0; i < all.length; i++) {
      var ok = visible(all[i]);
      all[i].classList.toggle('off', !ok);
      if (all[i].classList.contains('alert')) { total++; if (ok) shown++; }
    }
    document.getElementById('shown').textContent = shown + ' of ' + total;
    var h = [];
    if (rule.value) h.push('rule=' + encodeURIComponent(rule.value));
    if (sev.value) h.push('severity=' + encodeURIComponent(sev.value));
    if (history.replaceState) history.replaceState(null, '', h.length ? '#' + h.join('&') : location.pathname);
  }
  var params = location.hash.replace(/^#/, '').split('&');
  for (var i = 0; i < params.length; i++) {
    var kv = params[i].split('='), v = decodeURIComponent(kv[1] || '');
    if (kv[0] === 'rule') rule.value = v;
    if (kv[0] === 'severity') sev.value = v;
  }
  rule.addEventListener('change', apply);
  sev.addEventListener('change', apply);
  apply();
})();
"""


# The summary's words for the result's `stats` (the --json keys stay as they are; each item's tooltip names its key).
STAT_LABELS = {
    "documents": "documents read",
    "signals": "signals",
    "alerts": "alerts",
    "late_documents": "late reports (beyond the allowed lateness)",
    "late_passed_over": "late documents no detection reads (passed over, not reported)",
    "documents_after_later_dated_in_file": "documents after later-dated ones in their file (see the note)",
    "late_signals": "late reports (beyond the allowed lateness)",  # results written before late_documents
    "future_dated": "reports dated in the future",
    "epoch_dated": "reports dated at the Unix epoch (1970-01-01: a date the source did not have)",
    # (a report of the same time, or one out of order within the lateness, revises too: "late" misled, trial 85 F15)
    "revisions": "alerts revised (a report changed their history)",
    "retractions": "alerts withdrawn",
    "dead_letters": "records refused (dead letters)",
    "sources_failed": "sources that could not be read",
    "already_seen": "repeated records skipped",
    "editions_left_out": "edits of feed items past --max-editions, left out",
    "ids_not_kept": "documents past the id bound of --sort-run (a repeat of one is replayed)",
    "repeats_recorded": "repeats held back by realert recorded (for --baseline)",
    "rules": "rules",
    "order": "order",
    "evidence_unresolved": "alerts whose full evidence was not found (scored on what they show)",
    "near_misses": "near misses",
}


def _stat_label(key: str) -> str:
    return STAT_LABELS.get(key, key.replace("_", " "))


def _stat_value(value: Any) -> Any:
    return ("yes" if value else "no") if isinstance(value, bool) else value


def render_backtest_html(result: dict[str, Any], title: str = "watchfloor backtest") -> str:
    alerts: list[dict[str, Any]] = sorted(result.get("alerts", []), key=_by_time)
    stats = result.get("stats", {})
    history = _history_section(result)
    listed = ("revisions", "retractions", "future_dated", "late_signals", "late_documents")
    stat_items = "".join(
        f'<li title="stats.{_e(k)} in --json"><a href="#history">{_e(_stat_label(k))}: {_e(_stat_value(v))}</a></li>'
        if history and k in listed and v
        else f'<li title="stats.{_e(k)} in --json">{_e(_stat_label(k))}: {_e(_stat_value(v))}</li>'
        for k, v in stats.items()
        if not isinstance(v, dict)
    )
    by_rule = stats.get("alerts_by_rule") or {}
    if by_rule:
        stat_items += f"<li>alerts by rule: {', '.join(f'{_e(k)} {_e(v)}' for k, v in sorted(by_rule.items()))}</li>"
    legend = " ".join(f'<span class="sev {s}">{s}</span>' for s in SEVERITIES)
    filters = (
        '<form id="filters" onsubmit="return false">Filter: rule <select id="f-rule">'
        f'{_options(_rules_of(result), "all rules")}</select> severity at least <select id="f-sev">'
        f"{_options(SEVERITIES, 'any')}</select></form>"
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="referrer" content="no-referrer">
<title>{_e(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1150px}}
table{{border-collapse:collapse;width:100%}}
td,th{{border-top:1px solid #ddd;padding:.4rem;vertical-align:top;text-align:left}}
table.scores td{{text-align:right}} tr.overall{{font-weight:bold}} table.scores tbody th{{white-space:nowrap}}
.sev{{padding:1px 6px;border-radius:4px;color:#fff;font-size:.85em}}
{"".join(f".sev.{k}{{background:{v}}}" for k, v in SEVERITY_COLOURS.items())}
.when{{white-space:nowrap}} .conf{{font-size:.8em;color:#a94442}} q{{color:#444}}
ul{{margin:.3rem 0;padding-left:1.2rem}}
.verdict{{font-size:.8em;padding:1px 5px;border-radius:4px;border:1px solid}}
.verdict.tp{{color:#2e7d32}} .verdict.fp{{color:#c62828}} .verdict.repeat{{color:#6d6d6d}}
.verdict.unscored{{color:#999}}
.found,.added{{color:#2e7d32}} .missed,.removed,.lost{{color:#c62828}} .changed{{color:#e65100}}
small.good{{color:#2e7d32}} small.bad{{color:#c62828}} small.neutral{{color:#6d6d6d}}
small.ci{{color:#6d6d6d}} .mod.asserted{{color:#2e7d32}}
#filters{{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #ddd}}
.off{{display:none}}
.scroll{{overflow-x:auto;max-width:100%}}
#off-axis{{font-size:.9em;color:#555}}
#problems .bad{{color:#c62828}} #problems .good{{color:#2e7d32}}
</style></head><body>
<h1>{_e(title)}</h1>
<ul>{stat_items}</ul>
{filters}
{_problems_section(result)}
{_scores_section(result)}
<section id="timeline"><h2>Timeline</h2><p>● alert, its colour its severity: {legend}; scored: ● true alert ·
◌ repeat (faded, dashed ring) · ⊗ false alert (crossed out) · ○ unscored (pale, dotted grey ring) ·
▲ labelled item (green: caught, red: missed) · ◆ expected event · ×N marks drawn side by side</p>
{timeline_svg(result, SEVERITY_COLOURS)}</section>
{_timeline_events_section(result)}
{_alerts_section(alerts, _verdicts(result), _false_whys(result))}
{history}
{_diff_section(result)}
{_near_misses_section(result)}
<footer><small>Generated {generated} by watchfloor; every time shown is event time.</small></footer>
<script>{FILTER_SCRIPT}</script>
</body></html>
"""


def _map_said(scores: dict[str, Any]) -> str:
    """How the labels were mapped to rules: a --label-map file by its path, else the packs' own `labels:` (trial 34,
    L1: "with the label map `rule packs`" read as a file of that name)."""
    source = str(scores.get("label_map") or "")
    if source.endswith("rule packs"):  # (truth.label_map_from_packs: "rule packs", "the baseline's rule packs")
        packs = "the rule packs" if source == "rule packs" else source
        return f"with the labels {_e(packs)} map to their rules (their <code>labels:</code>)"
    return f"with the label map <code>{_e(source)}</code>"
