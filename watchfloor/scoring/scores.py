"""Scores of a backtest against labels: per rule and overall TP/FP/FN, precision, recall, F1, lead times.

Definitions (docs/backtest.md): an item labelled for rule R (its label maps to R) is a positive of R: a true
positive if some alert of R has it in its evidence (every report the alert rests on, also beyond the 10 it shows,
when the replay recovered them: AlertRef.reports), or if an alert of R citing a positive (a true alert or a repeat)
held it back as a repeat (its `realert`, in its group, or of a sequence an earlier report of a step it told with a
later one: AlertRef.repeats; status "covered"), else a false negative. An alert of R none of whose evidence items is
labelled for R is a false positive (a false alert); one that cites a positive is a true alert (with events, a repeat
when it retells only events its rule's alerts told, unless it escalates its group's alert: a higher severity than
that group's true alerts of those events had). A detection over detections rests on the reports of the input alerts
it cites (AlertRef.reports, scoring.evidence). Precision = true alerts / alerts (a share of alerts: what the desk
was told that was so), recall = TP / (TP + FN) (a share of labelled items), F1 their harmonic mean; each is None
when its denominator is 0. "Overall" sums over the scored rules (the rules the label map names) before dividing
(micro average). Lead time of a cited true positive = fired_at of the first alert of R that cites it − the label's
time (or the item's published_at): negative when the alert came before the labelled time. A covered repeat has no
lead time of its own (its alert came before it by design).

Why not TP / (TP + FP) (before 2026-12): TP counts items and FP alerts, so one `count` alert on 12 labelled
reports made 12 of precision's numerator; and why covered repeats: the throttle that keeps a desk from being
told the same story twice counted each repeat as missed, so a pack scored better the more it flooded the desk.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from watchfloor.schemas.events import SEVERITY_RANK, Detection
from watchfloor.schemas.plural import noun

from .truth import LabelMap, Labels, Timeline


@dataclass(frozen=True)
class AlertRef:
    """What scoring and diffing need of an alert, from a Detection or from a backtest's JSON."""

    id: str
    rule: str
    group: Mapping[str, str]
    severity: str
    confidence: str | None
    fired_at: datetime
    evidence: tuple[str, ...]  # event ids, in the alert's order
    evidence_times: tuple[datetime, ...] = ()
    title: str = ""
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # captures outside the group
    evidence_sentences: tuple[str, ...] = ()  # the sentence each shown evidence item quotes
    # Every report the alert rests on when it shows fewer (an alert shows 10; its id hashes all of them);
    # () when what it shows is all there is, or the rest is not known.
    all_evidence: tuple[str, ...] = ()
    # How many reports it rests on, when known (a Detection's evidence_total; a result's "evidence_total").
    evidence_total: int | None = None
    # The documents whose signals its `realert` held back: repeats, in its group, of what it told (when known).
    repeats: tuple[str, ...] = ()

    @property
    def reports_known(self) -> bool:
        """Whether `reports` is every report the alert rests on (a baseline result written before evidence_ids
        were, of an alert showing fewer than it rests on, is not)."""
        if self.all_evidence:
            return True
        if self.evidence_total is not None:
            return self.evidence_total <= len(set(self.evidence))
        return len(self.evidence) < 10  # an alert shows 10 at most: fewer is all of them

    @property
    def reports(self) -> tuple[str, ...]:
        """The event ids of every report the alert rests on, as far as known (else the shown ones)."""
        return self.all_evidence or self.evidence

    @classmethod
    def from_detection(
        cls, d: Detection, all_evidence: Iterable[str] | None = None, repeats: Iterable[str] | None = None
    ) -> AlertRef:
        """`all_evidence`: every report `d` rests on, when it shows fewer (scoring.evidence.FullEvidence);
        `repeats`: the documents its realert held back (NearMissCollector.repeats)."""
        shown = tuple(e.event_id for e in d.evidence)
        every = tuple(all_evidence) if all_evidence is not None else ()
        return cls(
            id=d.id,
            rule=d.rule,
            group=dict(d.group),
            severity=d.severity,
            confidence=d.confidence,
            fired_at=d.fired_at,
            evidence=tuple(e.event_id for e in d.evidence),
            evidence_times=tuple(e.published_at for e in d.evidence),
            title=d.title,
            attributes={k: tuple(v) for k, v in d.attributes.items()},
            evidence_sentences=tuple(e.sentence for e in d.evidence),
            # (a derived alert's reports are its input alerts', other ids than the alerts it shows)
            all_evidence=every if set(every) - set(shown) else (),
            evidence_total=d.evidence_total,
            repeats=tuple(repeats or ()),
        )

    @classmethod
    def from_json(cls, a: Mapping[str, Any]) -> AlertRef:
        ev = a.get("evidence") or []
        return cls(
            id=str(a["id"]),
            rule=str(a["rule"]),
            group={str(k): str(v) for k, v in (a.get("group") or {}).items()},
            severity=str(a.get("severity", "")),
            confidence=a.get("confidence"),
            fired_at=datetime.fromisoformat(str(a["fired_at"])),
            evidence=tuple(str(e["event_id"]) for e in ev),
            evidence_times=tuple(datetime.fromisoformat(str(e["published_at"])) for e in ev if e.get("published_at")),
            title=str(a.get("title", "")),
            attributes={str(k): tuple(str(x) for x in v) for k, v in (a.get("attributes") or {}).items()},
            evidence_sentences=tuple(str(e["sentence"]) for e in ev) if all("sentence" in e for e in ev) else (),
            all_evidence=tuple(str(i) for i in a.get("evidence_ids") or ()),
            evidence_total=int(a["evidence_total"]) if isinstance(a.get("evidence_total"), int) else None,
            repeats=tuple(str(i) for i in a.get("repeat_ids") or ()),
        )

    def brief(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "group": dict(self.group),
            "severity": self.severity,
            "confidence": self.confidence,
            "fired_at": self.fired_at.isoformat(),
            "evidence": list(self.evidence),
            "title": self.title,
            "attributes": {k: list(v) for k, v in self.attributes.items()},
            **({"evidence_ids": list(self.all_evidence)} if self.all_evidence else {}),
            **({"repeat_ids": list(self.repeats)} if self.repeats else {}),
        }


CAUGHT = ("tp", "covered")  # the outcome statuses of a positive caught


@dataclass(frozen=True)
class ScoreWindow:
    """The period scored (--score-from / --score-until): alerts by their fired_at and positives by their time (the
    label's, else published_at), from `start` included to `end` excluded; None: open on that side. The whole input is
    still replayed and scored in order, so what an alert outside told still makes a later one inside a repeat, and a
    positive inside is caught by any alert (outside trial 53, MED-3: a year's replay scored precision 0.02 where the
    labelled three days scored 0.22, on the same alerts)."""

    start: datetime | None = None
    end: datetime | None = None

    def __contains__(self, t: datetime) -> bool:
        return (self.start is None or t >= self.start) and (self.end is None or t < self.end)

    def to_json(self) -> dict[str, str | None]:
        return {"from": _utc_iso(self.start), "until": _utc_iso(self.end)}


def _utc_iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).isoformat()


def _spread(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def _interval(successes: int, n: int) -> list[float] | None:
    got = wilson_interval(successes, n)
    return None if got is None else [round(got[0], 4), round(got[1], 4)]


def ratio(num: int, den: int) -> float | None:
    return num / den if den else None


WILSON_Z = 1.959963984540054  # the normal quantile of a two-sided 95 % interval
SMALL_N = 10  # a rate on fewer alerts or positives than this is said to be too small to compare


def wilson_interval(successes: int, n: int, z: float = WILSON_Z) -> tuple[float, float] | None:
    """The Wilson score interval (95 % by default) of a rate successes / n; None when n is 0. Wilson rather than
    the normal approximation: it stays inside [0, 1] and is not [1, 1] for 2 of 2 (outside trial 53, MED-2: a
    -0.28 on 2 alerts read as one on 200)."""
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def f1_of(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


@dataclass
class Counts:
    tp: int = 0  # positives caught: cited by an alert of their rule, or covered (held back as its repeat)
    fp: int = 0  # false alerts: citing no positive of their rule
    fn: int = 0  # positives missed
    alerts: int = 0
    positives: int = 0
    lead_times: list[float] = field(default_factory=list)
    covered: int = 0  # of tp: repeats a true alert's realert held back (no lead time of their own)
    repeat_alerts: int = 0  # alerts citing positives only of events told before (labels with an `event` column)
    events: int = 0  # the positives' events (each item its own without an `event` column)
    events_caught: int = 0  # events with an item caught (cited, or covered by an alert of the same event)
    # Labelled items (each once, whatever number of rules its labels map to) and those caught by an alert of any of
    # them: per rule these equal positives and tp; overall they are what a desk counts, where positives and tp count
    # (item, rule) pairs (outside trial 53, HIGH-1: a rule added to answer an existing label made 41 items 56).
    items: int = 0
    items_caught: int = 0
    # With an `event` column: per event caught, its first alert's time − its first labelled report's time. The
    # item leads above are inflated by repeats (a report first cited by a re-alert hours later): two packs that told
    # the desk at the same minute read 0m and +4h50m (outside trial 53, MED-1).
    event_lead_times: list[float] = field(default_factory=list)

    @property
    def true_alerts(self) -> int:
        """Alerts that told something so: citing a positive (of an event not told before, with events)."""
        return self.alerts - self.fp - self.repeat_alerts

    @property
    def item_recall(self) -> float | None:
        """Labelled items caught / labelled items, each item once (overall: by any rule its labels map to)."""
        return ratio(self.items_caught, self.items)

    @property
    def event_recall(self) -> float | None:
        return ratio(self.events_caught, self.events)

    @property
    def precision(self) -> float | None:
        """True alerts / alerts: a share of alerts, not of items (a `count` alert on 12 positives is one)."""
        return ratio(self.true_alerts, self.alerts)

    @property
    def recall(self) -> float | None:
        return ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        return f1_of(self.precision, self.recall)

    def metric(self, name: str) -> float | None:
        if name in ("precision", "recall", "f1", "event_recall", "item_recall"):
            value: float | None = getattr(self, name)
            return value
        return float(getattr(self, name))

    def to_json(self) -> dict[str, Any]:
        lead: dict[str, float] | None = None
        if self.lead_times:
            lead = {
                "min": min(self.lead_times),
                "median": statistics.median(self.lead_times),
                "max": max(self.lead_times),
            }
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "covered": self.covered,
            "true_alerts": self.true_alerts,
            "repeat_alerts": self.repeat_alerts,
            "events": self.events,
            "events_caught": self.events_caught,
            "event_recall": self.event_recall,
            "items": self.items,
            "items_caught": self.items_caught,
            "item_recall": self.item_recall,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "alerts": self.alerts,
            "positives": self.positives,
            "lead_time_s": lead,
            "event_lead_time_s": _spread(self.event_lead_times),
            # 95 % Wilson intervals ([lo, hi]; None with nothing to divide by): how far a rate on few counts can be
            "precision_interval": _interval(self.true_alerts, self.alerts),
            "recall_interval": _interval(self.tp, self.tp + self.fn),
            "item_recall_interval": _interval(self.items_caught, self.items),
        }


@dataclass(frozen=True)
class Outcome:
    """One positive (item, rule): caught (tp) or missed (fn), and when."""

    item: str
    rule: str
    labels: tuple[str, ...]
    status: str  # "tp" (cited by an alert) | "covered" (a repeat a true alert's realert held back) | "fn"
    time: datetime | None  # the label's time, else the item's published_at (None: the item was never seen)
    time_from: str | None  # "label" | "published_at" | None
    alert: str | None = None
    fired_at: datetime | None = None
    label_key: str = ""  # the item as the labels file names it (its URL when labelled by URL); "" = `item`
    why: str = ""  # a missed one: what kept it from an alert of its rule (its near miss's reason), when known
    event: str | None = None  # the story the labels say it reports (their `event` column), when they say one
    group: str = ""  # whose story it is, as the labels' `group` column says it ("" when it says none)

    @property
    def lead_time_s(self) -> float | None:
        """Alert time − the item's time; None for a covered repeat (its alert came before it by design)."""
        if self.fired_at is None or self.time is None or self.status == "covered":
            return None
        return (self.fired_at - self.time).total_seconds()

    @property
    def shown_as(self) -> str:
        """What to call the item on screen: the labels file's own key (a URL rather than a derived doc-… id)."""
        return self.label_key or self.item

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.item,
            "label_key": self.shown_as,
            "rule": self.rule,
            "labels": list(self.labels),
            "status": self.status,
            # In UTC, as every time of the result and the CSV (outside trial 53, LOW-6: a label's own +03:00 here,
            # UTC in labels.csv, where the docs say the two agree cell for cell).
            "time": _utc_iso(self.time),
            "time_from": self.time_from,
            "alert": self.alert,
            "fired_at": _utc_iso(self.fired_at),
            "lead_time_s": self.lead_time_s,
            **({"why": self.why} if self.why else {}),
            **({"group": self.group} if self.group else {}),
            **({"event": self.event} if self.event is not None else {}),
        }


@dataclass(frozen=True)
class TimelineOutcome:
    event: str
    rule: str
    group: Mapping[str, str]
    time: datetime
    status: str  # "found" | "missed"
    alert: str | None = None
    fired_at: datetime | None = None
    false_alert: bool = False  # found by an alert the labels' scores count as false (it cites no positive)
    earlier_false_at: datetime | None = None  # found by a true alert; a false one that fits it came earlier

    @property
    def lead_time_s(self) -> float | None:
        return None if self.fired_at is None else (self.fired_at - self.time).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "rule": self.rule,
            "group": dict(self.group),
            "time": _utc_iso(self.time),
            "status": self.status,
            "alert": self.alert,
            "fired_at": _utc_iso(self.fired_at),
            "lead_time_s": self.lead_time_s,
            **({"false_alert": True} if self.false_alert else {}),
            **({"earlier_false_alert": _utc_iso(self.earlier_false_at)} if self.earlier_false_at else {}),
        }


def false_alert_why(a: AlertRef, unlabelled: int, other_group: Sequence[tuple[str, str]] = ()) -> str:
    """Why a false alert is false, in the words of its reports' labels: labelled for its rule but as another group's
    story (the labels' `group`), none labelled, or labelled but not for its rule (outside trial 63, HIGH-2: a group
    mismatch read "labelled, none for R", which sent the reader to the label map). Decided here, once, so that the
    terminal, the JSON (`verdicts[].why`) and the HTML report say the same (outside trial 63: the HTML said none)."""
    if other_group:
        groups = ", ".join(sorted({g for _, g in other_group}))
        carried = ";".join(f"{k}={v}" for k, v in sorted(a.group.items())) or "no group"
        reports = noun(len({r for r, _ in other_group}), "report")
        return (
            f"its {reports} labelled for {a.rule} as the story of {groups} (the labels' group), and this alert "
            f"carries {carried}"
        )
    n = len(set(a.reports))
    if n and unlabelled == n:
        return f"none of its {n} reports is labelled" if n > 1 else "its report is not labelled"
    if unlabelled:
        return f"{unlabelled} of its {n} reports unlabelled, none labelled for {a.rule}"
    return f"its {noun(n, 'report')} labelled, none for {a.rule}"


@dataclass(frozen=True)
class AlertVerdict:
    """What the scores made of one alert: "true" (it cites a positive of its rule), "false" (none: a false alert),
    "repeat" (with events: it cites positives only of events its rule's alerts had told) or "unscored" (no label
    maps to its rule); `positives`: the positives of its rule it rests on (item ids), in its evidence's order."""

    alert: str
    rule: str
    verdict: str
    positives: tuple[str, ...] = ()
    unlabelled: int = 0  # a false alert: how many of its reports the labels do not name at all
    outside_window: bool = False  # "unscored": fired outside --score-from/--score-until (its rule is scored)
    # A false alert that cites positives of its rule labelled as another group's story (the labels' `group` column,
    # which the alert does not carry): (item id, the label's group) of each. What made it false, not the label map.
    other_group: tuple[tuple[str, str], ...] = ()
    # A false alert: why, in the words of its reports' labels (false_alert_why), the text every view shows.
    why: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.alert,
            "rule": self.rule,
            "verdict": self.verdict,
            "positives": list(self.positives),
        }
        if self.verdict == "false":
            out["unlabelled_reports"] = self.unlabelled
            if self.other_group:
                out["labelled_for_another_group"] = [{"id": i, "group": g} for i, g in self.other_group]
            if self.why:
                out["why"] = self.why
        if self.outside_window:
            out["outside_window"] = True
        return out


@dataclass
class Scores:
    per_rule: dict[str, Counts]
    overall: Counts
    outcomes: list[Outcome]
    false_positives: list[AlertRef]
    unscored_rules: dict[str, int]  # rules with alerts that no label maps to -> their alert count
    ignored_items: list[str] = field(default_factory=list)  # labelled ids not among the events
    timeline: list[TimelineOutcome] = field(default_factory=list)
    labels_source: str = ""
    map_source: str = ""
    with_events: bool = False  # the labels name each item's event (story): repeats and event recall count
    # Every alert scored, in the order scored (fired_at, id): the one place an alert's verdict is decided, so the
    # JSON, the CSV and the report cannot tell it differently.
    verdicts: list[AlertVerdict] = field(default_factory=list)
    window: ScoreWindow | None = None  # --score-from / --score-until
    # Alerts of scored rules that fired outside `window` (verdict "unscored"), and positives dated outside it.
    unscored_alerts: int = 0
    positives_outside_window: int = 0
    # Rules the label map names that this run's packs do not have (a baseline's, against a candidate that adds
    # them): no row, not in the overall (item, rule) pairs; their items still count per item, as missed.
    absent_rules: list[str] = field(default_factory=list)

    def true_positive_pairs(self) -> set[tuple[str, str]]:
        return {(o.item, o.rule) for o in self.outcomes if o.status in CAUGHT}

    def cited_by(self) -> dict[tuple[str, str], list[str]]:
        """(item, rule) -> every alert of the rule resting on the item (true, repeat, or scored outside the window), in
        the order scored: labels.csv's `cited_by`, in the JSON's events too (outside trial 63, LOW-2)."""
        cited: dict[tuple[str, str], list[str]] = {}
        for v in self.verdicts:
            for item in v.positives:
                cited.setdefault((item, v.rule), []).append(v.alert)
        return cited

    def to_json(self) -> dict[str, Any]:
        cited = self.cited_by()
        out: dict[str, Any] = {
            "labels": self.labels_source,
            "label_map": self.map_source,
            "per_rule": {r: c.to_json() for r, c in sorted(self.per_rule.items())},
            "overall": self.overall.to_json(),
            "events": [o.to_json() | {"cited_by": cited.get((o.item, o.rule), [])} for o in self.outcomes],
            "false_positives": [a.id for a in self.false_positives],
            "unscored_rules": dict(sorted(self.unscored_rules.items())),
            "ignored_label_ids": len(self.ignored_items),
            "with_events": self.with_events,
            "verdicts": [v.to_json() for v in self.verdicts],
        }
        if self.window is not None:
            out["window"] = self.window.to_json()
            out["unscored_alerts"] = self.unscored_alerts
            out["positives_outside_window"] = self.positives_outside_window
        if self.timeline:
            out["timeline"] = [t.to_json() for t in self.timeline]
        if self.absent_rules:
            out["absent_rules"] = list(self.absent_rules)
        return out


def score(
    alerts: Iterable[AlertRef],
    labels: Labels,
    label_map: LabelMap,
    *,
    seen: Mapping[str, datetime] | None = None,
    window: ScoreWindow | None = None,
    absent: Collection[str] = (),
) -> Scores:
    """Score alerts against labels. `seen` (labelled id -> the item's published_at, for the labelled
    items that were among the replayed events): positives outside it are ignored, not missed — the
    rules never saw them. Without `seen`, every labelled item counts. `window`: only the alerts fired in it and the
    positives dated in it count (ScoreWindow); the others are scored in order all the same, as state. `absent`: rules
    of the map these alerts' packs do not have (a baseline's, beside a candidate that adds them): not scored per rule
    nor in the overall (item, rule) pairs (outside trial 53: a shared --label-map gave the baseline 0 recall and 15 FN
    for a rule it never had), their items still positives per item (which the run misses, unless another rule of
    their labels caught them)."""
    alerts = sorted(alerts, key=lambda a: (a.fired_at, a.id))
    labels_by_rule = label_map.labels_by_rule()
    scored = set(labels_by_rule)
    ignored = sorted(i for i in labels.items if seen is not None and i not in seen)
    # positives[rule] = {item id: labels of the item that map to rule}
    positives: dict[str, dict[str, tuple[str, ...]]] = {r: {} for r in scored}
    for item in labels.items.values():
        if seen is not None and item.id not in seen:
            continue
        for label in item.labels:
            for rule in label_map.rules_by_label.get(label, ()):
                got = positives[rule].setdefault(item.id, ())
                positives[rule][item.id] = (*got, label)
    per_rule = {r: Counts(positives=len(positives[r])) for r in scored}
    # The story of each item: its `event` when the labels give events, else the item itself.
    with_events = any(item.event is not None for item in labels.items.values())

    def event_of(item_id: str, rule: str) -> str:
        """The story the item reports as far as `rule` is concerned: the event of its labels that map to the rule."""
        item = labels.items.get(item_id)
        event = item.event_for(positives[rule].get(item_id, ())) if item is not None else None
        return event if event is not None else "\x00" + item_id

    def about(item_id: str, a: AlertRef) -> bool:
        """Whether the alert is about the item's story: its group, when the labels give one (`group` column)."""
        item = labels.items.get(item_id)
        return item is None or item.carried_by(a.group, a.attributes, labels.names)

    first_alert: dict[tuple[str, str], AlertRef] = {}
    repeat_of: dict[tuple[str, str], AlertRef] = {}  # (item, rule) -> the first true alert that held it back
    told: dict[str, set[str]] = {r: set() for r in scored}  # rule -> events its true alerts told so far
    # (rule, group, event) -> the highest severity of the group's true alerts that told the event so far: a more
    # severe alert of the group about an event it told is an escalation. Per event, not per group over the whole
    # replay: a rule's first high alert of the year must not make every later story's escalation a repeat, nor the
    # score depend on how much of the year is replayed (outside trial 51, H1).
    raised: dict[tuple[str, tuple[tuple[str, str], ...], str], int] = {}
    evidence_time: dict[str, datetime] = {}
    false_positives: list[AlertRef] = []
    unscored: dict[str, int] = {}
    verdicts: list[AlertVerdict] = []
    outside_alerts = 0
    for a in alerts:
        if a.rule not in scored:
            unscored[a.rule] = unscored.get(a.rule, 0) + 1
            verdicts.append(AlertVerdict(a.id, a.rule, "unscored"))
            continue
        inside = window is None or a.fired_at in window
        # An alert outside the window is scored as state only: it cites and covers positives, and tells events (a
        # later retelling is a repeat), but is not one of the alerts precision counts.
        counts = per_rule[a.rule] if inside else Counts()
        if not inside:
            outside_alerts += 1
        counts.alerts += 1
        gkey = (a.rule, tuple(sorted(a.group.items())))
        rank = SEVERITY_RANK.get(a.severity, -1)
        mine = positives[a.rule]
        cited: dict[str, None] = {}  # the positives it rests on, once each, in its order
        events: set[str] = set()
        elsewhere: dict[str, str] = {}  # positives of its rule it cites, labelled as another group's story
        for eid in a.reports:  # every report it rests on, not only the 10 it shows
            if eid in mine and not about(eid, a):
                elsewhere[eid] = labels.items[eid].group_text
            if eid in mine and about(eid, a):
                cited[eid] = None
                events.add(event_of(eid, a.rule))
                first_alert.setdefault((eid, a.rule), a)
        for k, eid in enumerate(a.evidence[: len(a.evidence_times)]):
            evidence_time.setdefault(eid, a.evidence_times[k])
        if not cited:
            counts.fp += 1
            unlabelled = sum(1 for eid in set(a.reports) if eid not in labels.items)
            if inside:
                false_positives.append(a)
                other = tuple(elsewhere.items())
                why = false_alert_why(a, unlabelled, other)
                verdicts.append(AlertVerdict(a.id, a.rule, "false", unlabelled=unlabelled, other_group=other, why=why))
            else:
                verdicts.append(AlertVerdict(a.id, a.rule, "unscored", outside_window=True))
        else:  # a true alert: the labelled repeats its realert held back are what it told, not missed
            # An escalation of its group's alert (medium unconfirmed, then high confirmed: the throttle lets a more
            # severe alert through) tells the desk what it had not been told, that the story is now so: news, not a
            # repeat, although its events were told (outside trial 17, M3: every corroborated rule scored <= 0.5).
            told_as = [r for e in events if (r := raised.get((*gkey, e))) is not None]
            escalates = bool(told_as) and rank > max(told_as)
            for e in events:
                raised[(*gkey, e)] = max(rank, raised.get((*gkey, e), rank))
            repeat = with_events and events <= told[a.rule] and not escalates
            if repeat:
                counts.repeat_alerts += 1  # it retold events told before: no news for the desk
            verdict = "repeat" if repeat else "true"
            verdicts.append(AlertVerdict(a.id, a.rule, verdict if inside else "unscored", tuple(cited), 0, not inside))
            told[a.rule] |= events
            for eid in a.repeats:
                # with events, only a repeat of a story it told: a new event it held back was not told
                if eid in mine and about(eid, a) and (not with_events or event_of(eid, a.rule) in events):
                    repeat_of.setdefault((eid, a.rule), a)

    def time_of(item_id: str) -> tuple[datetime | None, str | None]:
        """The item's time as scores give it: the label's, else its published_at (None: never seen)."""
        labelled = labels.items[item_id]
        if labelled.time is not None:
            return labelled.time, "label"
        if seen is not None and item_id in seen:
            return seen[item_id], "published_at"
        if item_id in evidence_time:
            return evidence_time[item_id], "published_at"
        return None, None

    outside_items: set[str] = set()
    if window is not None:  # positives dated outside the window are not scored (an item of unknown time is)
        for rule in scored:
            for item_id in list(positives[rule]):
                t_item = time_of(item_id)[0]
                if t_item is not None and t_item not in window:
                    del positives[rule][item_id]
                    outside_items.add(item_id)
            per_rule[rule].positives = len(positives[rule])
    outcomes: list[Outcome] = []
    # Overall, each story and each item once, whatever number of rules answer its label (outside trial 53, HIGH-1:
    # "3 of 3 events" for a labels file naming 2, as one event counted once per rule).
    all_events: set[str] = set()
    all_caught_events: set[str] = set()
    caught_items: set[str] = set()
    # event -> its first report's time / its first alert's time, over every rule (the overall event lead)
    all_first_report: dict[str, datetime] = {}
    all_first_alert: dict[str, datetime] = {}
    for rule in sorted(scored):
        counts = per_rule[rule]
        counts.events = len({event_of(i, rule) for i in positives[rule]})
        all_events |= {event_of(i, rule) for i in positives[rule]}
        caught_events: set[str] = set()
        first_report: dict[str, datetime] = {}
        first_told: dict[str, datetime] = {}
        for item_id, item_labels in sorted(positives[rule].items()):
            labelled = labels.items[item_id]
            t, t_from = time_of(item_id)
            caught = first_alert.get((item_id, rule))
            story = event_of(item_id, rule)
            event = None if story.startswith("\x00") else story  # (an item without an event is its own story)
            if caught is not None or (item_id, rule) in repeat_of:
                caught_events.add(story)
            if event is not None:
                if t is not None and (story not in first_report or t < first_report[story]):
                    first_report[story] = t
                # a covered item's alert (the true alert that held it back) told its event too
                told_by = caught if caught is not None else repeat_of.get((item_id, rule))
                if told_by is not None and (story not in first_told or told_by.fired_at < first_told[story]):
                    first_told[story] = told_by.fired_at
            if caught is None and (held := repeat_of.get((item_id, rule))) is not None:
                counts.tp += 1
                counts.covered += 1
                outcomes.append(
                    Outcome(
                        item_id,
                        rule,
                        tuple(sorted(item_labels)),
                        "covered",
                        t,
                        t_from,
                        held.id,
                        held.fired_at,
                        labelled.label_key,
                        event=event,
                        group=labelled.group_text,
                    )
                )
                continue
            if caught is None:
                counts.fn += 1
                outcomes.append(
                    Outcome(
                        item_id,
                        rule,
                        tuple(sorted(item_labels)),
                        "fn",
                        t,
                        t_from,
                        label_key=labelled.label_key,
                        event=event,
                        group=labelled.group_text,
                    )
                )
                continue
            counts.tp += 1
            o = Outcome(
                item_id,
                rule,
                tuple(sorted(item_labels)),
                "tp",
                t,
                t_from,
                caught.id,
                caught.fired_at,
                labelled.label_key,
                event=event,
                group=labelled.group_text,
            )
            if o.lead_time_s is not None:
                counts.lead_times.append(o.lead_time_s)
            outcomes.append(o)
        counts.events_caught = len(caught_events)
        all_caught_events |= caught_events
        counts.event_lead_times = [
            (first_told[e] - first_report[e]).total_seconds() for e in sorted(first_told) if e in first_report
        ]
        for e, t in first_report.items():
            all_first_report[e] = min(t, all_first_report.get(e, t))
        for e, t in first_told.items():
            all_first_alert[e] = min(t, all_first_alert.get(e, t))
        caught_items |= {i for i in positives[rule] if (i, rule) in first_alert or (i, rule) in repeat_of}
        counts.items, counts.items_caught = counts.positives, counts.tp
    overall = Counts()
    overall.events, overall.events_caught = len(all_events), len(all_caught_events)
    overall.items = len(set().union(*(positives[r] for r in scored)) if scored else set())
    overall.items_caught = len(caught_items)
    overall.event_lead_times = [
        (all_first_alert[e] - all_first_report[e]).total_seconds()
        for e in sorted(all_first_alert)
        if e in all_first_report
    ]
    for rule in absent:
        per_rule.pop(rule, None)
    outcomes = [o for o in outcomes if o.rule not in absent]
    for c in per_rule.values():
        overall.repeat_alerts += c.repeat_alerts
        overall.tp += c.tp
        overall.fp += c.fp
        overall.fn += c.fn
        overall.covered += c.covered
        overall.alerts += c.alerts
        overall.positives += c.positives
        overall.lead_times.extend(c.lead_times)
    return Scores(
        per_rule=per_rule,
        overall=overall,
        outcomes=outcomes,
        false_positives=false_positives,
        unscored_rules=unscored,
        ignored_items=ignored,
        labels_source=labels.path,
        map_source=label_map.source,
        with_events=with_events,
        verdicts=verdicts,
        window=window,
        unscored_alerts=outside_alerts,
        positives_outside_window=len(outside_items),
        absent_rules=sorted(absent),
    )


def evaluate_timeline(
    timeline: Timeline, alerts: Iterable[AlertRef], window: timedelta, *, false: Collection[str] = frozenset()
) -> list[TimelineOutcome]:
    """Per expected event: found when an alert of its rule fired within `window` of its time and has its group
    (each `name=value` the alert's group value or one of its attributes' values; a bare value any of them),
    else missed. One to one: an alert counts for at most one expected event. `false`: the ids of the alerts the
    labels' scores count as false; a true alert is preferred to a false one at every step, a false one finds an
    event only when no true one is left that fits it (outside trial 47, M3: a false alert four days early was shown
    instead of the true one of the same afternoon). Pairs are made nearest in time first, true alerts before
    false ones (ties: the earlier alert, then the event first in the file); then a found event takes, of the
    alerts no event counts, the earliest true one that fits it and came before its own (its first warning), or
    any true one when its own is false, else the earliest false one before a false own. Last, as many events as
    can be are found: when an event is left without an alert though moving others to alerts that also fit them
    frees one for it (augmenting paths), they are moved."""
    events = list(timeline.events)
    by_rule: dict[str, list[AlertRef]] = {}
    for a in sorted(alerts, key=lambda a: (a.fired_at, a.id)):
        by_rule.setdefault(a.rule, []).append(a)
    fits: dict[int, list[AlertRef]] = {}
    pairs: list[tuple[bool, float, datetime, int, AlertRef]] = []
    for n, ev in enumerate(events):
        fits[n] = [
            a
            for a in by_rule.get(ev.rule, ())
            if abs(a.fired_at - ev.time) <= window and ev.matches_alert(a.group, a.attributes, timeline.names)
        ]
        pairs.extend((a.id in false, abs((a.fired_at - ev.time).total_seconds()), a.fired_at, n, a) for a in fits[n])
    pairs.sort(key=lambda p: (p[0], p[1], p[2], p[3], p[4].id))
    paired: dict[int, AlertRef] = {}
    used: set[str] = set()
    for _f, _d, _t, n, a in pairs:
        if n in paired or a.id in used:
            continue
        paired[n] = a
        used.add(a.id)

    def first_warning(n: int) -> None:
        own = paired[n]
        free = [a for a in fits[n] if a.id not in used]  # in time order
        better = next((a for a in free if a.id not in false and (own.id in false or a.fired_at < own.fired_at)), None)
        if better is None and own.id in false:
            better = next((a for a in free if a.fired_at < own.fired_at), None)
        if better is not None:
            used.discard(own.id)
            used.add(better.id)
            paired[n] = better

    for n in sorted(paired, key=lambda n: (events[n].time, n)):
        first_warning(n)
    for n in range(len(events)):  # an alert given up for an earlier one may serve another event
        if n not in paired:
            free = sorted(
                (a for a in fits[n] if a.id not in used),
                key=lambda a: (a.id in false, abs(a.fired_at - events[n].time), a.fired_at),
            )
            if free:
                paired[n] = free[0]
                used.add(free[0].id)
    _augment(events, fits, paired, false)
    used = {a.id for a in paired.values()}
    for n in sorted(paired, key=lambda n: (events[n].time, n)):  # the moves may have freed a true alert
        if paired[n].id in false:
            first_warning(n)
    out: list[TimelineOutcome] = []
    for n, ev in enumerate(events):
        group = dict(ev.group)
        if ev.any_group_value is not None:
            group["*"] = ev.any_group_value
        found = paired.get(n)
        if found is None:
            out.append(TimelineOutcome(ev.event, ev.rule, group, ev.time, "missed"))
            continue
        # a false alert that fits and came before the true one, no other event's: the desk was told first wrongly
        earlier = next((a for a in fits[n] if a.id in false and a.id not in used and a.fired_at < found.fired_at), None)
        out.append(
            TimelineOutcome(
                ev.event,
                ev.rule,
                group,
                ev.time,
                "found",
                found.id,
                found.fired_at,
                false_alert=found.id in false,
                earlier_false_at=earlier.fired_at if earlier is not None and found.id not in false else None,
            )
        )
    return out


def _augment(
    events: list[Any],
    fits: dict[int, list[AlertRef]],
    paired: dict[int, AlertRef],
    false: Collection[str] = frozenset(),
) -> None:
    """Make `paired` a maximum matching: while an event has no alert, look (breadth first: the fewest moves)
    for a chain event -> alert that fits it -> that alert's event -> another alert that fits it ... ending
    at an alert no event counts, and shift every alert along it. Events already found stay found (perhaps
    by another alert); the greedy pairing is kept where nothing is gained. Each event's alerts are tried
    true ones (not in `false`) first, nearest in time first, then earlier."""
    owner: dict[str, int] = {a.id: n for n, a in paired.items()}
    order = {
        n: sorted(fits[n], key=lambda a: (a.id in false, abs(a.fired_at - events[n].time), a.fired_at, a.id))
        for n in fits
    }
    for start in range(len(events)):
        if start in paired or not fits[start]:
            continue
        came: dict[str, tuple[int, AlertRef]] = {}  # alert id -> (the event reaching it, the alert)
        queue = [start]
        end: AlertRef | None = None
        for n in queue:  # grows as it goes
            for a in order[n]:
                if a.id in came:
                    continue
                came[a.id] = (n, a)
                if a.id not in owner:
                    end = a
                    break
                queue.append(owner[a.id])
            if end is not None:
                break
        while end is not None:  # shift along the chain, back to `start`
            n, a = came[end.id]
            before = paired.get(n)
            paired[n] = a
            owner[a.id] = n
            end = before if n != start else None


def format_lead(seconds: float | None) -> str:
    """-5400 -> '1h 30m before', 93784 -> '1d 2h after', 0 -> 'at once'."""
    if seconds is None:
        return "—"
    if abs(seconds) < 60:
        return "at once"
    s = int(abs(seconds))
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m = rem // 60
    parts = [f"{d}d"] if d else []
    if h:
        parts.append(f"{h}h")
    if m and not d:
        parts.append(f"{m}m")
    return " ".join(parts) + (" before" if seconds < 0 else " after")


def format_lead_short(seconds: float | None) -> str:
    """-5400 -> '1h30m before', 93784 -> '1d2h after', 0 -> 'at once': format_lead without its spaces, for narrow
    table columns. Said in words, as the HTML report says it: a signed '+4h50m' under "lead" read as 4h50m early
    (outside trial 53, LOW-7)."""
    if seconds is None:
        return "—"
    if abs(seconds) < 60:
        return "at once"
    amount, when = format_lead(seconds).rsplit(" ", 1)
    return f"{amount.replace(' ', '')} {when}"


def signed_change(d: float) -> str:
    """A change of a rate with its sign, in two decimals, or as many more as it takes not to round to zero: a
    blank cell says "unchanged", and a -0.004 printed "-0.00" read as no change too (outside trial 53, MED-3)."""
    for places in (2, 3, 4):
        if round(abs(d), places) >= 10**-places:
            return f"{d:+.{places}f}"
    return f"{d:+.1e}"
