"""Rule-pack diffs and quality gates: alerts added, removed and changed against a baseline run over the same
events, the change in scores, and the thresholds a rules repository's CI can fail on.

"Changed" (docs/backtest.md): a baseline alert and a new alert of the same rule and group whose evidence
overlaps (they share at least one event id; the same alert id counts too) but differ in anything a reader
sees: severity, confirmation, title, attributes, evidence (the reports, or the sentence a report is quoted
by) or fired_at. Each alert is paired at most once, with the candidate sharing the most evidence (then the
nearest fired_at); what is left is added or removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .scores import AlertRef, Counts, Scores

# alerts and true_alerts too: the change in precision (true alerts / alerts) is read from theirs, in the HTML report's
# score table as in the terminal's (outside trial 20, L3).
# item_recall: overall, each labelled item once (any of its label's rules), beside the (item, rule) recall (outside
# trial 53, HIGH-1); per rule it equals recall. repeat_alerts: with events, the repeats the terminal's change table
# shows (`rep.`), which the report's left out (outside trial 63, MED-4: the one change that explained a precision gain).
METRICS = ("precision", "recall", "f1", "tp", "fp", "fn", "alerts", "true_alerts", "repeat_alerts", "item_recall")


@dataclass(frozen=True)
class Change:
    before: AlertRef
    after: AlertRef
    fields: tuple[str, ...]  # what differs: one of CHANGE_FIELDS each

    def describe(self) -> list[str]:
        """One line per field that differs, saying from what to what ('title 'A (Kursk)' -> 'A'')."""
        b, a = self.before, self.after
        out: list[str] = []
        for f in self.fields:
            if f == "severity":
                out.append(f"severity {b.severity} -> {a.severity}")
            elif f == "confidence":
                # "none", not Python's None, in text a desk reads (outside trial 53, LOW-1)
                out.append(f"confidence {b.confidence or 'none'} -> {a.confidence or 'none'}")
            elif f == "title":
                out.append(f"title {b.title!r} -> {a.title!r}")
            elif f == "group":
                out.append(f"group {_pairs(b.group)} -> {_pairs(a.group)}")
            elif f == "attributes":
                for k in sorted(set(b.attributes) | set(a.attributes)):
                    was, now = list(b.attributes.get(k, ())), list(a.attributes.get(k, ()))
                    if was != now:
                        out.append(f"attributes.{k} {', '.join(was) or 'none'} -> {', '.join(now) or 'none'}")
            elif f == "evidence":
                # Every report on both sides only when both are known: against a baseline written without
                # evidence_ids, the other side's unshown reports would read as added (or gone).
                full = b.reports_known and a.reports_known
                ids_was, ids_now = (b.reports, a.reports) if full else (b.evidence, a.evidence)
                set_was, set_now = set(ids_was), set(ids_now)
                gone = [e for e in dict.fromkeys(ids_was) if e not in set_now]
                new = [e for e in dict.fromkeys(ids_now) if e not in set_was]
                text = f"evidence {len(ids_was)} -> {len(ids_now)} items"
                if not full and (b.all_evidence or a.all_evidence):
                    text += " (the shown ones compared: the baseline does not list every report)"
                # Only the sides that have reports: "-d-2; +none" read as if a report named "none" were added.
                sides = ([f"-{_listed(gone)}"] if gone else []) + ([f"+{_listed(new)}"] if new else [])
                if sides:
                    text += f" ({'; '.join(sides)})"
                out.append(text)
            elif f == "sentence":
                ids = _sentence_changes(b, a)
                out.append(f"evidence quoted by another sentence: {', '.join(ids)}")
            elif f == "fired_at":
                out.append(f"fired {b.fired_at.isoformat()} -> {a.fired_at.isoformat()}")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.after.rule,
            "group": dict(self.after.group),
            "changes": list(self.fields),
            "details": self.describe(),
            "before": self.before.brief(),
            "after": self.after.brief(),
        }


@dataclass
class AlertDiff:
    added: list[AlertRef]
    removed: list[AlertRef]
    changed: list[Change]
    unchanged: int

    def to_json(self) -> dict[str, Any]:
        return {
            "added": [a.brief() for a in self.added],
            "removed": [a.brief() for a in self.removed],
            "changed": [c.to_json() for c in self.changed],
            "unchanged": self.unchanged,
        }


CHANGE_FIELDS = ("severity", "confidence", "title", "group", "attributes", "evidence", "sentence", "fired_at")
"""What makes a paired alert "changed" (Change.fields), in the order they are listed."""


LISTED_IDS = 10
"""Report ids named per side of an evidence change at most (terminal, JSON and HTML): the rest are counted."""


def _listed(ids: list[str]) -> str:
    more = len(ids) - LISTED_IDS
    return ", ".join(ids[:LISTED_IDS]) + (f" … and {more} more" if more > 0 else "")


def _pairs(group: Any) -> str:
    return ";".join(f"{k}={v}" for k, v in sorted(group.items())) or "none"


def _attributes(a: AlertRef) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in a.attributes.items() if v}


def _sentence_changes(before: AlertRef, after: AlertRef) -> list[str]:
    """Evidence items both alerts show whose quoted sentence differs (when both runs recorded sentences)."""
    if len(before.evidence_sentences) != len(before.evidence) or len(after.evidence_sentences) != len(after.evidence):
        return []
    was: dict[str, set[str]] = {}
    for e, text in zip(before.evidence, before.evidence_sentences, strict=True):
        was.setdefault(e, set()).add(text)
    now: dict[str, set[str]] = {}
    for e, text in zip(after.evidence, after.evidence_sentences, strict=True):
        now.setdefault(e, set()).add(text)
    return [e for e in now if e in was and was[e] != now[e]]


def _differences(before: AlertRef, after: AlertRef) -> tuple[str, ...]:
    out = []
    if before.severity != after.severity:
        out.append("severity")
    if before.confidence != after.confidence:
        out.append("confidence")
    if before.title != after.title:
        out.append("title")
    if dict(before.group) != dict(after.group):
        out.append("group")
    if _attributes(before) != _attributes(after):
        out.append("attributes")
    # Paired alerts have the same rule and group, and an alert id hashes those and *all* its reports: another
    # id is other reports, even when the ten shown are the same.
    if before.id != after.id or set(before.evidence) != set(after.evidence):
        out.append("evidence")
    if _sentence_changes(before, after):
        out.append("sentence")
    if before.fired_at != after.fired_at:
        out.append("fired_at")
    return tuple(out)


def _group_key(a: AlertRef) -> tuple[str, tuple[tuple[str, str], ...]]:
    return a.rule, tuple(sorted(a.group.items()))


def diff_alerts(baseline: Iterable[AlertRef], current: Iterable[AlertRef]) -> AlertDiff:
    before = sorted(baseline, key=lambda a: (a.fired_at, a.id))
    after = sorted(current, key=lambda a: (a.fired_at, a.id))
    changed: list[Change] = []
    unchanged = 0
    # The same alert id is the same rule, group and evidence (ids hash them): compare what else it carries.
    left_before: dict[str, AlertRef] = {a.id: a for a in before}
    left_after: list[AlertRef] = []
    for a in after:
        b = left_before.get(a.id)
        if b is None or _group_key(b) != _group_key(a):
            left_after.append(a)
            continue
        del left_before[a.id]
        fields = _differences(b, a)
        if fields:
            changed.append(Change(b, a, fields))
        else:
            unchanged += 1
    candidates: dict[tuple[str, tuple[tuple[str, str], ...]], list[AlertRef]] = {}
    for b in left_before.values():
        candidates.setdefault(_group_key(b), []).append(b)
    added: list[AlertRef] = []
    for a in left_after:
        pool = candidates.get(_group_key(a), [])
        ev = set(a.reports)
        best: AlertRef | None = None
        best_rank: tuple[int, float] | None = None
        for b in pool:
            shared = len(ev & set(b.reports))
            if not shared:
                continue
            rank = (-shared, abs((b.fired_at - a.fired_at).total_seconds()))
            if best_rank is None or rank < best_rank:
                best, best_rank = b, rank
        if best is None:
            added.append(a)
            continue
        pool.remove(best)
        del left_before[best.id]
        changed.append(Change(best, a, _differences(best, a)))
    removed = sorted(left_before.values(), key=lambda a: (a.fired_at, a.id))
    changed.sort(key=lambda c: (c.after.fired_at, c.after.id))
    return AlertDiff(added, removed, changed, unchanged)


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def counts_delta(before: Counts, after: Counts) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in METRICS:
        out[m] = {
            "before": before.metric(m),
            "after": after.metric(m),
            "change": _delta(before.metric(m), after.metric(m)),
        }
    return out


def score_delta(before: Scores, after: Scores) -> dict[str, Any]:
    """Each metric's change per rule and overall, and the positives lost and gained: (item, rule), the item by
    its `id` and by its `label_key`, what the labels file calls it (its URL when labelled by URL)."""
    rules = sorted(set(before.per_rule) | set(after.per_rule))
    key = {o.item: o.shown_as for o in (*after.outcomes, *before.outcomes)}
    return {
        "per_rule": {r: counts_delta(before.per_rule.get(r, Counts()), after.per_rule.get(r, Counts())) for r in rules},
        "overall": counts_delta(before.overall, after.overall),
        # scored now, absent from the baseline's packs: its change is the whole rule (outside trial 53)
        "rules_added": sorted(set(before.absent_rules) & set(after.per_rule)),
        "lost_true_positives": [
            {"id": i, "label_key": key.get(i, i), "rule": r} for i, r in lost_true_positives(before, after)
        ],
        "new_true_positives": [
            {"id": i, "label_key": key.get(i, i), "rule": r}
            for i, r in sorted(after.true_positive_pairs() - before.true_positive_pairs())
        ],
        "only_covered_now": [
            {"id": i, "label_key": key.get(i, i), "rule": r, "baseline_alert": a}
            for i, r, a in only_covered_now(before, after)
        ],
    }


def lost_true_positives(before: Scores, after: Scores) -> list[tuple[str, str]]:
    """(item, rule) pairs the baseline caught and this run misses."""
    return sorted(before.true_positive_pairs() - after.true_positive_pairs())


def only_covered_now(before: Scores, after: Scores) -> list[tuple[str, str, str]]:
    """(item, rule, the baseline's alert) of the positives an alert of the baseline cited that this run only covers
    as a repeat an earlier alert held back, when the labels have no `event` column. Without events a covered item
    may be a new event the realert held back as well as a retelling (outside trial 9, F4: a 30-day realert took
    the only Kursk alert and every positive still counted as caught), so the gate cannot call it kept. With events
    an item is covered only by an alert of its own event, and none of these is returned."""
    if after.with_events:
        return []
    now = {(o.item, o.rule): o.status for o in after.outcomes}
    return sorted(
        (o.item, o.rule, o.alert or "")
        for o in before.outcomes
        if o.status == "tp" and now.get((o.item, o.rule)) == "covered"
    )


_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def _rank(severity: object, confidence: object) -> tuple[int, bool]:
    sev = str(getattr(severity, "value", severity))
    return (_SEVERITY_RANK.get(sev, -1), confidence == "confirmed")


def _said(severity: object, confidence: object) -> str:
    sev = str(getattr(severity, "value", severity))
    return f"{sev}, {confidence}" if confidence else sev


def lost_escalations(diff: AlertDiff, before: Scores, after: Scores, now: Sequence[Any]) -> list[dict[str, Any]]:
    """The baseline's true alerts this run lost (removed, or changed to another severity or confidence) whose rule
    and group this run's true alerts no longer reach: their severity, then their confirmation, is higher than the
    highest of this run's true alerts of that rule and group (outside trial 65, MED-1: a candidate that dropped the
    only HIGH confirmed alert of a story, its reports still cited by the MEDIUM before it, passed the gate as "no
    true positive lost", and a pager subscribed at `min_severity: high` would never have been called). Only stories
    this run still alerts: one it no longer alerts at all loses positives, which the gate names. One entry per rule and
    group, its highest such alert; `now`: this run's alerts (Detection or AlertRef: rule, group, severity, confidence,
    id)."""
    was, is_now = verdicts_of(before), verdicts_of(after)
    best: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[tuple[int, bool], Any]] = {}
    for a in now:
        if is_now.get(a.id) != "true":
            continue
        key = (a.rule, tuple(sorted(a.group.items())))
        r = _rank(a.severity, a.confidence)
        if key not in best or r > best[key][0]:
            best[key] = (r, a)
    gone = [*diff.removed, *(c.before for c in diff.changed if {"severity", "confidence"} & set(c.fields))]
    lost: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[tuple[int, bool], AlertRef]] = {}
    for b in gone:
        if was.get(b.id) != "true":
            continue
        key = (b.rule, tuple(sorted(b.group.items())))
        r = _rank(b.severity, b.confidence)
        reach = best.get(key)
        # A story this run no longer alerts at all loses its positives, which the gate names already.
        if reach is None or reach[0] >= r:
            continue
        if key not in lost or r > lost[key][0]:
            lost[key] = (r, b)
    out: list[dict[str, Any]] = []
    for key, (_r, b) in sorted(lost.items(), key=lambda kv: (kv[0][0], kv[1][1].fired_at)):
        top = best[key][1]
        out.append(
            {
                "rule": b.rule,
                "group": dict(b.group),
                "baseline_alert": b.id,
                "fired_at": b.fired_at.isoformat(),
                "severity": b.severity,
                "confidence": b.confidence,
                "now": {"alert": top.id, "severity": _said(top.severity, None), "confidence": top.confidence},
            }
        )
    return out


def describe_lost_escalation(x: dict[str, Any]) -> str:
    """A lost escalation (lost_escalations), as the terminal and the HTML say it."""
    group = ", ".join(f"{k}={v}" for k, v in x["group"].items())
    where = f"{x['rule']}" + (f" [{group}]" if group else "")
    was = f"{where} {_said(x['severity'], x['confidence'])} (the baseline's true alert {x['baseline_alert']})"
    now = _said(x["now"]["severity"], x["now"]["confidence"])
    return f"{was}: this run's true alerts of that rule and group reach {now} at most ({x['now']['alert']})"


@dataclass(frozen=True)
class Threshold:
    metric: str
    minimum: float
    rule: str | None = None  # None: the overall score

    def label(self) -> str:
        return f"{self.rule}:{self.metric}" if self.rule else self.metric


def parse_fail_under(text: str) -> list[Threshold]:
    """'precision=0.9,recall=0.8,troops-deployed:recall=1' -> thresholds (overall unless RULE: is given)."""
    out: list[Threshold] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValueError(
                f"{part!r}: write METRIC=VALUE, e.g. precision=0.9 "
                "(metrics: precision, recall, f1, event_recall, item_recall)"
            )
        name, value = (s.strip() for s in part.split("=", 1))
        rule = None
        if ":" in name:
            rule, name = (s.strip() for s in name.split(":", 1))
        if name not in ("precision", "recall", "f1", "event_recall", "item_recall"):
            raise ValueError(f"{part!r}: unknown metric {name!r} (precision, recall, f1, event_recall or item_recall)")
        try:
            minimum = float(value)
        except ValueError:
            raise ValueError(f"{part!r}: {value!r} is not a number") from None
        if not 0.0 <= minimum <= 1.0:
            raise ValueError(f"{part!r}: a threshold is between 0 and 1")
        out.append(Threshold(name, minimum, rule))
    if not out:
        raise ValueError("no thresholds given (e.g. --fail-under precision=0.9,recall=0.8)")
    return out


def check_thresholds(scores: Scores, thresholds: Iterable[Threshold]) -> list[str]:
    """One message per threshold not met. An undefined score (no positives, no alerts) does not meet one."""
    failures: list[str] = []
    for t in thresholds:
        if t.rule is not None and t.rule not in scores.per_rule:
            failures.append(f"{t.label()}: rule {t.rule!r} is not scored (no label maps to it)")
            continue
        counts = scores.overall if t.rule is None else scores.per_rule[t.rule]
        value = counts.metric(t.metric)
        if value is None:
            failures.append(f"{t.label()} is undefined (nothing to divide by), required ≥ {t.minimum:g}")
        elif value < t.minimum:
            failures.append(f"{t.label()} = {value:.3f} < {t.minimum:g}")
    return failures


def comparison_warnings(before: Scores, after: Scores) -> list[str]:
    """What a comparison of two scored runs cannot tell, said beside it (outside trial 53): without an `event`
    column a re-alert of one story is a true alert (HIGH-2: a candidate re-alerting every 6 h gained precision +0.19,
    with events it lost 0.27); overall counts (item, rule) pairs, so runs whose rules answer a label a different
    number of times have different positives for the same items (HIGH-1: 41 items read as 41 and 56)."""
    out: list[str] = []
    if not (before.with_events and after.with_events):
        out.append(
            "the labels have no `event` column: repeats cannot be told, so a re-alert of a story that cites a labelled "
            "report not cited before counts as a true alert, and a pack that re-alerts one story more often gains "
            'precision; add an `event` column (docs/backtest.md, "Ground truth") before reading the change in '
            "precision"
        )
    b, a = before.overall, after.overall
    if b.positives != a.positives:
        out.append(
            f"the runs' overall positives differ ({b.positives} in the baseline, {a.positives} here) for "
            f"{b.items} and {a.items} labelled items: overall counts an item once per rule that answers its label; "
            "read the `per item` row (each item once) for the change in recall"
        )
    return out


def verdicts_of(scores: Scores) -> dict[str, str]:
    """Alert id -> its verdict in `scores` (true, repeat, false, unscored)."""
    return {v.alert: v.verdict for v in scores.verdicts}


def with_verdicts(diff: dict[str, Any], before: Scores, after: Scores) -> None:
    """Each alert a diff lists (its JSON) gains its `verdict`, an added one's in this run, a removed one's in the
    baseline, a changed one's on each side: which added alerts are true, repeats or false is the comparison's story
    (outside trial 53, MED-4: 9 added alerts, 1 true, 6 repeats, 2 false, found only by joining alerts.csv)."""
    now, was = verdicts_of(after), verdicts_of(before)
    for a in diff.get("added", []):
        if a["id"] in now:
            a["verdict"] = now[a["id"]]
    for a in diff.get("removed", []):
        if a["id"] in was:
            a["verdict"] = was[a["id"]]
    for c in diff.get("changed", []):
        for side, verdicts in (("before", was), ("after", now)):
            if c[side]["id"] in verdicts:
                c[side]["verdict"] = verdicts[c[side]["id"]]
