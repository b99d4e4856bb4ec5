"""Terminal tables of `watchfloor backtest`: alerts, scores (with the change against a baseline), the timeline
of expected events, the diff of alerts, near misses."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from watchfloor.schemas.events import FIRST_SEEN, Detection, fired_first_seen
from watchfloor.scoring import AlertDiff, AlertRef, Counts, Scores, TimelineOutcome, format_lead, format_lead_short
from watchfloor.scoring.diff import verdicts_of
from watchfloor.scoring.near_misses import NearMiss, by_report_and_reason, near_miss_key, reason_lines
from watchfloor.scoring.scores import SMALL_N, f1_of, ratio, signed_change, wilson_interval

from ._common import ID_COLUMN, counted, out

SHOW_AT_MOST = 20
T = TypeVar("T")


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def _change(before: float | None, after: float | None) -> str:
    if before is None and after is None:
        return ""
    if before is None or after is None:
        return f"{_pct(before)}→{_pct(after)}"
    return "" if abs(after - before) < 1e-9 else signed_change(after - before)


def _rate_change(before: tuple[int, int], after: tuple[int, int]) -> str:
    """A rate's change with the counts it rests on, `-0.28 1/2→2/9`: a -0.28 on 2 alerts is not one on 200 (outside
    trial 53, MED-2). Blank when neither the counts nor the rate changed."""
    if before == after:
        return ""
    (bn, bd), (an, ad) = before, after
    change = _change(ratio(bn, bd), ratio(an, ad))
    return f"{change} {bn}/{bd}→{an}/{ad}".strip()


def _int_change(before: int, after: int) -> str:
    return "" if before == after else f"{after - before:+d}"


def _when(t: datetime) -> str:
    """'2024-06-19 14:33', in UTC as every time the backtest shows (the HTML report too): short enough not to be cut
    in a narrow table. A report's own offset was kept, so a near miss at "13:00 +0300" sat under an alert at "13:00"
    (UTC) it had nothing to do with (outside trial 26, F7)."""
    if t.utcoffset() is not None:
        t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%d %H:%M")


def print_alerts(detections: list[Detection], *, console: Console = out) -> None:
    if not detections:
        return
    table = Table(show_lines=False)
    # Times and rule ids are never cut ("2024-06-19T1…", "troops-deplo…" in 80 columns): kept whole on one
    # line, folded only in a terminal narrower than themselves; titles and sources wrap instead.
    table.add_column("fired at (UTC)", no_wrap=True, overflow="fold")
    # A rule id too long for the room left beside the other columns folds onto more lines (kept whole, no_wrap,
    # it would crop every column after it).
    sev_width = max(len("unconfirmed") if d.confidence == "unconfirmed" else len(d.severity) for d in detections)
    need = 16 + max(len(d.rule) for d in detections) + sev_width + 6 + 6 + 16  # + borders and padding
    table.add_column("rule", **(ID_COLUMN if need <= console.width else {"overflow": "fold"}))
    table.add_column("severity", no_wrap=True, overflow="fold")
    table.add_column("title", ratio=2, min_width=12)
    table.add_column("evidence", ratio=1, min_width=8)
    for d in sorted(detections, key=lambda d: d.fired_at):
        sev = d.severity + ("\nunconfirmed" if d.confidence == "unconfirmed" else "")
        sources = ", ".join(sorted({e.source for e in d.evidence}))
        # Rule ids, titles and source names are text, not Rich markup: a `[…]` in them must show.
        # An undated report's first-seen time is marked, as every other output marks it (outside trial 10, F4),
        # on lines of their own so the column stays as narrow as a time.
        fired = _when(d.fired_at)
        if fired_first_seen(d.evidence, d.fired_at):
            fired = f"{FIRST_SEEN}\n{fired}\n(undated)"
        table.add_row(fired, escape(d.rule), sev, escape(d.title), escape(sources))
    console.print(table)


def spread(items: Sequence[T], rule_of: Callable[[T], str], limit: int) -> list[T]:
    """At most `limit` of `items`, taken in turn from each rule (so that one rule's many do not hide the others'),
    in their own order."""
    by_rule: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        by_rule.setdefault(rule_of(item), []).append(i)
    chosen: set[int] = set()
    queues = list(by_rule.values())
    depth = 0
    while len(chosen) < min(limit, len(items)):
        for q in queues:
            if depth < len(q) and len(chosen) < limit:
                chosen.add(q[depth])
        depth += 1
    return [item for i, item in enumerate(items) if i in chosen]


def _more(
    shown: Sequence[T], items: Sequence[T], rule_of: Callable[[T], str], what: str, *, console: Console = out
) -> None:
    """'  … and 12 more missed (troops-deployed 9, treaty-ratified 3; all in --json)'."""
    rest = len(items) - len(shown)
    if rest <= 0:
        return
    left: dict[str, int] = {}
    kept = {id(x) for x in shown}
    for item in items:
        if id(item) not in kept:
            left[rule_of(item)] = left.get(rule_of(item), 0) + 1
    per = ", ".join(f"{r} {n}" for r, n in sorted(left.items(), key=lambda rn: (-rn[1], rn[0])))
    console.print(f"  … and {rest} more {what} ({per}; all in --json / --html)", highlight=False, markup=False)


def _lead(c: Counts) -> str:
    """The median lead as the JSON and the HTML report give it (the same score object's number: with an even
    count, the mean of the middle two, not the upper one)."""
    lead = c.to_json()["lead_time_s"]
    return "—" if not lead else format_lead_short(lead["median"])


def _table(title: str, caption: str | None = None) -> Table:
    return Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)


def print_scores(scores: Scores, baseline: Scores | None = None, *, console: Console = out) -> None:
    table = _table(
        f"scores against {escape(str(scores.labels_source))}",
        # One short line per unit, so that a 100-column terminal does not break it mid-word (the console soft-wraps).
        # alerts = true + FP + repeats (score(): true_alerts); repeats are counted with an `event` column only.
        "labelled items: pos., TP (caught), FN (missed); recall = TP / pos.\n"
        + "alerts = true + FP (false)"
        + (" + rep. (repeats)" if scores.with_events else "")
        # in words: the alert came after the report (outside trial 53, LOW-7: "+4h50m" read as 4h50m early)
        + "; prec. = true / alerts\nlead: median of alert time − labelled time (after: the alert came after it)",
    )
    # A rule id longer than the room left folds onto a second line; numbers are never cut ("1.…"). Items first, then
    # alerts (outside trial 20, L3: TP next to FP read as one unit, and prec. could not be checked from the table).
    table.add_column("rule", overflow="fold")
    # With events the repeats have a column: alerts = true + FP + rep. reads off the row (outside trial 53, LOW-5).
    rep = ("rep.",) if scores.with_events else ()
    for col in ("pos.", "TP", "FN", "alerts", "true", "FP", *rep, "prec.", "recall", "F1", "lead"):
        table.add_column(col, justify="right", no_wrap=True)
    rows = [*sorted(scores.per_rule.items()), ("overall", scores.overall)]
    for name, c in rows:
        table.add_row(
            f"[bold]{name}[/bold]" if name == "overall" else escape(name),
            *(str(v) for v in (c.positives, c.tp, c.fn, c.alerts, c.true_alerts, c.fp)),
            *((str(c.repeat_alerts),) if rep else ()),
            *(_pct(v) for v in (c.precision, c.recall, c.f1)),
            _lead(c),
            end_section=name == rows[-2][0],
        )
    if _per_item_differs(scores, baseline):
        c = scores.overall
        table.add_row(
            "[bold]per item[/bold]",
            *(str(v) for v in (c.items, c.items_caught, c.items - c.items_caught, c.alerts, c.true_alerts, c.fp)),
            *((str(c.repeat_alerts),) if rep else ()),
            *(_pct(v) for v in (c.precision, c.item_recall, f1_of(c.precision, c.item_recall))),
            "",
        )
    console.print(table)
    if _per_item_differs(scores, baseline):
        console.print(
            "per item: each labelled item once, caught by an alert of any rule its labels map to\n"
            "overall: (item, rule) pairs, an item once per rule that answers its label",
            highlight=False,
        )
    if scores.window is not None:
        console.print(window_line(scores), highlight=False, markup=False)
    if scores.with_events:
        total = scores.overall
        console.print(
            f"events: {total.events_caught} of {total.events} caught ({_pct(total.event_recall)}); "
            f"{counted(total.repeat_alerts, 'alert')} only "
            "retold an event told before (repeats: not true alerts, in precision)",
            highlight=False,
        )
        if total.event_lead_times:
            # The desk's latency: repeats do not move it, where they move the item lead (outside trial 53, MED-1).
            lead = statistics.median(total.event_lead_times)
            console.print(
                f"lead per event: median {format_lead(lead)} (each event's first alert − its first labelled report"
                + (
                    f"; baseline {format_lead(statistics.median(b))})"
                    if baseline and (b := baseline.overall.event_lead_times)
                    else ")"
                ),
                highlight=False,
            )
    if scores.overall.covered:
        console.print(
            # Any alert citing a positive of its story holds back its repeats, a repeat alert too (outside trial 53,
            # LOW-2: the line said "a true alert", where 6 of 7 were held back by repeats).
            f"{scores.overall.covered} of the TP are repeats held back by an alert that cites a positive (a true alert "
            "or a repeat of one; its realert, or a sequence's step it told with a later report: the desk had been "
            "told); they have no lead time of their own"
            + (
                ""
                if scores.with_events
                else " (the labels have no `event` column: a new event held back counts as such a repeat too)"
            ),
            highlight=False,
        )
    if baseline is not None:
        print_score_change(scores, baseline, console=console)
    if (note := small_n_note(scores, baseline)) is not None:
        console.print(note, highlight=False, markup=False)
    if scores.unscored_rules:
        unscored = ", ".join(f"{r} ({n})" for r, n in sorted(scores.unscored_rules.items()))
        console.print(f"alerts of rules no label maps to (not scored): {unscored}", highlight=False, markup=False)
    missed = [o for o in scores.outcomes if o.status == "fn"]
    shown = spread(missed, lambda o: o.rule, SHOW_AT_MOST)
    # Each list under its heading: after a long `note:` line, the indented items read as the note's continuation
    # (outside trial 63, LOW-4).
    if missed:
        console.print(f"labelled items missed ({len(missed)}):", highlight=False, markup=False)
    for o in shown:
        # The item as the labels file names it (its URL when labelled by URL, not the derived doc-… id).
        why = f" — {o.why}" if o.why else ""
        console.print(f"  missed {o.shown_as} ({', '.join(o.labels)}) for {o.rule}{why}", highlight=False, markup=False)
    _more(shown, missed, lambda o: o.rule, "missed", console=console)
    false_alerts = spread(scores.false_positives, lambda a: a.rule, SHOW_AT_MOST)
    unlabelled = {v.alert: v.unlabelled for v in scores.verdicts if v.verdict == "false"}
    false_why = {v.alert: v.why for v in scores.verdicts if v.verdict == "false"}
    if false_alerts:
        console.print(f"false alerts ({len(scores.false_positives)}):", highlight=False, markup=False)
    for a in false_alerts:
        why = false_why.get(a.id, "")
        console.print(
            f"  false alert {a.rule} at {_when(a.fired_at)}: {a.title} — {why}", highlight=False, markup=False
        )
    _more(false_alerts, scores.false_positives, lambda a: a.rule, "false alerts", console=console)
    # With a first, partial set of labels, an alert on a real event whose reports nobody labelled reads as false, and
    # the labelled reports its realert held back as missed (outside trial 21, L12: recall 0 for a rule that caught both
    # coups): say so once, with what to do.
    blind = [a for a in scores.false_positives if a.reports and unlabelled.get(a.id, 0) == len(set(a.reports))]
    if blind:
        console.print(
            f"note: {len(blind)} of the {counted(len(scores.false_positives), 'false alert')} "
            f"{'rests' if len(blind) == 1 else 'rest'} only on reports the labels "
            'do not name: an unlabelled report counts as not so (docs/backtest.md, "Ground truth"). Label their '
            "reports (`--json` lists each alert's: `evidence`, `evidence_ids`) to score them; a positive such an "
            "alert's realert held back then counts as covered, not missed.",
            highlight=False,
            markup=False,
        )


def window_line(scores: Scores) -> str:
    """What --score-from / --score-until left out of the scores."""
    w = scores.window
    assert w is not None
    span = " ".join(
        part for part in (f"from {_when(w.start)}" if w.start else "", f"until {_when(w.end)}" if w.end else "") if part
    )
    return (
        f"scored {span} (UTC): alerts by when they fired, labelled items by their time; "
        f"{counted(scores.unscored_alerts, 'alert')} of scored rules outside it unscored, "
        f"{counted(scores.positives_outside_window, 'labelled item')} outside it not counted"
    )


def print_score_change(scores: Scores, baseline: Scores, *, console: Console = out) -> None:
    """This run minus the baseline, per rule and overall (blank: unchanged)."""
    # In the score table's order and units: items (TP, FN), then alerts (alerts, true, FP), so that a change in
    # prec. reads off the change in true and in alerts (outside trial 20, L3: TP beside FP read as one unit).
    table = _table(
        "change against the baseline",
        "this run − the baseline (blank: unchanged)\nlabelled items: TP, FN; alerts: alerts, true, FP\n"
        "prec. and recall: the change, then true/alerts and TP/pos. before→after",
    )
    table.add_column("rule", overflow="fold")
    rep = scores.with_events or baseline.with_events
    for col in ("TP", "FN", "alerts", "true", "FP", *(("rep.",) if rep else ()), "prec.", "recall", "F1"):
        table.add_column(col, justify="right", no_wrap=True)
    names = sorted(set(scores.per_rule) | set(baseline.per_rule))
    rows = [(r, scores.per_rule.get(r, Counts()), baseline.per_rule.get(r, Counts())) for r in names]
    rows.append(("overall", scores.overall, baseline.overall))
    added = set(baseline.absent_rules)  # not in the baseline's packs: the whole row is the edit's
    for name, c, b in rows:
        counts = [(b.tp, c.tp), (b.fn, c.fn), (b.alerts, c.alerts), (b.true_alerts, c.true_alerts), (b.fp, c.fp)]
        if rep:
            counts.append((b.repeat_alerts, c.repeat_alerts))
        shown = f"{escape(name)} (rule added)" if name in added else escape(name)
        table.add_row(
            f"[bold]{name}[/bold]" if name == "overall" else shown,
            *(_int_change(x, y) for x, y in counts),
            _rate_change((b.true_alerts, b.alerts), (c.true_alerts, c.alerts)),
            _rate_change((b.tp, b.tp + b.fn), (c.tp, c.tp + c.fn)),
            _change(b.f1, c.f1),
            end_section=name == rows[-2][0],
        )
    if _per_item_differs(scores, baseline):
        c, b = scores.overall, baseline.overall
        counts = [
            (b.items_caught, c.items_caught),
            (b.items - b.items_caught, c.items - c.items_caught),
            (b.alerts, c.alerts),
            (b.true_alerts, c.true_alerts),
            (b.fp, c.fp),
        ]
        if rep:
            counts.append((b.repeat_alerts, c.repeat_alerts))
        f1s = (f1_of(b.precision, b.item_recall), f1_of(c.precision, c.item_recall))
        table.add_row(
            "[bold]per item[/bold]",
            *(_int_change(x, y) for x, y in counts),
            _rate_change((b.true_alerts, b.alerts), (c.true_alerts, c.alerts)),
            _rate_change((b.items_caught, b.items), (c.items_caught, c.items)),
            _change(*f1s),
        )
    console.print(table)


def _with_interval(num: int, den: int) -> str:
    """`1/2 [0.09, 0.91]`: a rate's counts and its 95 % Wilson interval."""
    interval = wilson_interval(num, den)
    return f"{num}/{den}" + ("" if interval is None else f" [{interval[0]:.2f}, {interval[1]:.2f}]")


def _rate_counts(c: Counts, what: str) -> tuple[int, int]:
    return (c.true_alerts, c.alerts) if what == "prec." else (c.tp, c.positives)


SHOWN_SMALL = 6  # rates listed by the small-n note; the rest are counted


def small_n_note(scores: Scores, baseline: Scores | None = None) -> str | None:
    """A note naming each precision or recall that rests on fewer than SMALL_N alerts or labelled items (in this run
    or the baseline; against a baseline, those whose counts changed), with its counts and 95 % Wilson interval: n too
    small to compare (outside trial 53, MED-2)."""
    rows = [*sorted(scores.per_rule.items()), ("overall", scores.overall)]
    small: list[str] = []
    for name, c in rows:
        b = None if baseline is None else (baseline.overall if name == "overall" else baseline.per_rule.get(name))
        for what in ("prec.", "recall"):
            sides = [_rate_counts(x, what) for x in (b, c) if x is not None]
            if not any(0 < den < SMALL_N for _num, den in sides):
                continue
            if baseline is not None and len(set(sides)) == 1:
                continue  # unchanged: nothing to compare
            small.append(f"{name} {what} " + " → ".join(_with_interval(*side) for side in sides))
    if not small:
        return None
    more = f"; and {len(small) - SHOWN_SMALL} more" if len(small) > SHOWN_SMALL else ""
    return (
        f"note: n too small to compare: {'; '.join(small[:SHOWN_SMALL])}{more} (rates on fewer than {SMALL_N} alerts "
        "or labelled items; [95 % Wilson interval], in --json as precision_interval and recall_interval)"
    )


def _per_item_differs(scores: Scores, baseline: Scores | None) -> bool:
    """Whether an item counts for more than one rule in either run: then the overall (item, rule) row and the
    per-item row differ, and the per-item one is what a desk reads (docs/backtest.md, "Overall")."""
    # (items 0: Counts made without score(), which fills them)
    return any(0 < s.overall.items != s.overall.positives for s in (scores, baseline) if s is not None)


def _short_time(t: datetime | None) -> str:
    return "—" if t is None else _when(t)


def print_timeline(outcomes: Sequence[TimelineOutcome], *, console: Console = out) -> None:
    table = _table("expected events", "alerted: when its alert fired, and the lead (alert time − the event's time)")
    # In 80 columns the event's name was dropped whole: times and rule ids stay whole on one line, the group
    # goes under its rule, the lead under the alert's time, and the name wraps in what is left.
    table.add_column("event", min_width=10, ratio=1)
    table.add_column("time", no_wrap=True, overflow="fold")
    table.add_column("rule / group", **ID_COLUMN)
    table.add_column("alerted", no_wrap=True, overflow="fold")
    for o in outcomes:
        group = ", ".join(f"{k}={v}" for k, v in o.group.items())
        found = o.status == "found" and o.fired_at is not None
        table.add_row(
            escape(o.event),
            _short_time(o.time),
            escape(o.rule) + (f"\n[dim]{escape(group)}[/dim]" if group else ""),
            (
                f"[yellow]{_short_time(o.fired_at)}[/yellow]\n{format_lead_short(o.lead_time_s)}, by a false alert"
                if o.false_alert
                else f"[green]{_short_time(o.fired_at)}[/green]\n{format_lead_short(o.lead_time_s)}"
                + (f"\nearlier false alert at {_short_time(o.earlier_false_at)}" if o.earlier_false_at else "")
            )
            if found
            else "[red]missed[/red]",
            end_section=True,
        )
    console.print(table)


def _alert_line(a: AlertRef, verdict: str | None = None) -> str:
    group = ", ".join(f"{k}={v}" for k, v in a.group.items())
    said = f"{a.rule}{f' [{group}]' if group else ''} {a.severity} at {a.fired_at.isoformat()}: {a.title}"
    return f"{said} — {verdict}" if verdict else said


def print_diff(
    diff: AlertDiff,
    against: Any,
    scores: Scores | None = None,
    baseline: Scores | None = None,
    *,
    console: Console = out,
) -> None:
    """With both runs scored, each alert listed says its verdict (true, repeat, false), as the JSON's `verdict`:
    an added alert's in this run, a removed one's in the baseline, a changed one's on both sides."""
    now = verdicts_of(scores) if scores is not None else {}
    was = verdicts_of(baseline) if baseline is not None else {}
    console.print(
        f"against {against}: {len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed, "
        f"{diff.unchanged} unchanged",
        highlight=False,
        markup=False,  # `against` is a path or a run's name
    )
    for a in diff.added[:SHOW_AT_MOST]:
        console.print(f"  + {_alert_line(a, now.get(a.id))}", highlight=False, markup=False)
    for a in diff.removed[:SHOW_AT_MOST]:
        console.print(f"  - {_alert_line(a, was.get(a.id))}", highlight=False, markup=False)
    for c in diff.changed[:SHOW_AT_MOST]:
        # What differs, from what to what (Change.describe: the title, attributes, quoted sentence, evidence
        # and the rest, as the JSON's `details` says it).
        what = "; ".join(c.describe()) or ", ".join(c.fields)
        v_was, v_now = was.get(c.before.id), now.get(c.after.id)
        verdict = (f"{v_was} -> {v_now}" if v_was != v_now else v_now) if v_was and v_now else None
        console.print(f"  ~ {_alert_line(c.after, verdict)} ({what})", highlight=False, markup=False)


def print_near_misses(misses: Sequence[NearMiss], *, console: Console = out) -> None:
    if not misses:
        return
    noun = "near miss" if len(misses) == 1 else "near misses"
    console.print(f"{len(misses)} {noun} (signals no alert cites; times in UTC):", highlight=False)
    # A report whose sentences are near misses for the same reasons is one line, with how many it stands for.
    groups = by_report_and_reason(misses, near_miss_key)
    shown = groups[: SHOW_AT_MOST // 2]

    def head(s: Any) -> str:
        return f"{_when(s.published_at)} {s.name} {s.modality} — {s.source}: {s.sentence[:100]}"

    # Two documents' lines that read the same (two GDELT events of one outlet and code) each name their document,
    # so they are not taken for one report listed twice (outside trial 65, LOW-2).
    heads = Counter(head(same[0].signal) for same in shown)
    for same in shown:
        s = same[0].signal
        also = f" ({len(same)} sentences of this report, for the same reason)" if len(same) > 1 else ""
        which = f" [{s.document_id}]" if heads[head(s)] > 1 else ""
        # The report, then one line per detection that read it, each starting with the detection's name (outside
        # trial 34: joined on one line, a sequence's reason read as the one before it, whose own has "; " in it).
        console.print(f"  {head(s)}{which}{also}", highlight=False, markup=False)
        for line in reason_lines(same[0].reasons):
            console.print(f"      {line}", highlight=False, markup=False)
    rest = len(misses) - sum(len(same) for same in shown)
    if rest > 0:
        console.print(
            f"  … and {rest} more near misses: --json and --html hold the first --near-misses N (200)",
            highlight=False,
            markup=False,
        )
