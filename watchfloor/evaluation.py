"""Evaluate a backtest: load the ground truth, score the run (and a baseline) against it, diff the two, collect
near misses, and assemble everything into the backtest's JSON result (which the HTML report renders)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from watchfloor.schemas.events import Detection, Document, Retraction
from watchfloor.schemas.plural import noun
from watchfloor.schemas.spellings import close_hint
from watchfloor.scoring import (
    AlertDiff,
    AlertRef,
    Counts,
    LabelMap,
    Labels,
    Scores,
    Timeline,
    TruthError,
    diff_alerts,
    evaluate_timeline,
    label_map_from_packs,
    load_label_map,
    load_labels,
    load_timeline,
    rule_vocabulary,
    score,
    score_delta,
)
from watchfloor.scoring.diff import with_verdicts
from watchfloor.scoring.near_misses import NearMiss, NearMissCollector
from watchfloor.scoring.scores import Outcome, ScoreWindow
from watchfloor.scoring.truth import NEGATIVE_LABELS, LabelledItem, bad_lines_error
from watchfloor.stream_processors.engine import CompiledRules
from watchfloor.stream_processors.engine.explain import near_miss
from watchfloor.stream_processors.processing import EngineTally
from watchfloor.stream_processors.vocabulary import RuleVocabulary

from .backtest import LabelTap, ReadReport, result_json


@dataclass
class Truth:
    """Labels (with their label map) and/or a timeline, as given on the command line."""

    labels: Labels | None
    label_map: LabelMap | None
    timeline: Timeline | None
    warnings: list[str] = field(default_factory=list)
    seen: dict[str, datetime] = field(default_factory=dict)  # labelled document id -> published_at
    # The baseline rules' own map when the labels' map comes from the packs (no --label-map): a label edit in the
    # pack is then part of the comparison, not applied to both sides.
    baseline_label_map: LabelMap | None = None
    window: ScoreWindow | None = None  # --score-from / --score-until: the period the labels' scores count
    # The rules of --baseline-rules: a rule the map names that they lack is absent from the baseline's scores.
    baseline_rules: frozenset[str] | None = None

    @classmethod
    def load(
        cls,
        labels: Path | None,
        label_map: Path | None,
        timeline: Path | None,
        rules: CompiledRules,
        baseline: CompiledRules | None = None,
    ) -> Truth:
        """`baseline`: the rules compared against (--baseline-rules). A rule only they have is known: an edit that
        deletes a rule is scored (its labels become misses, its true positives lost), not refused."""
        known = [d.id for d in rules.detections]
        if baseline is not None:
            known += [d.id for d in baseline.detections if d.id not in known]
        lab = load_labels(labels) if labels is not None else None
        lmap: LabelMap | None = None
        if label_map is not None:
            lmap = load_label_map(label_map, known)
        elif lab is not None:
            lmap = label_map_from_packs({d.id: d.definition.labels for d in rules.detections})
            if not lmap.rules_by_label:
                raise TruthError(
                    f"{labels}: which rules answer which labels? Give --label-map MAP.yaml (LABEL: [rule-id]) "
                    "or declare `labels:` on the pack's detections"
                )
        vocab = rule_vocabulary(rules, baseline)
        if lab is not None and lmap is not None:
            lab = _labels_with_groups(lab, lmap, vocab)
        tl = load_timeline(timeline, vocab) if timeline is not None else None
        truth = cls(lab, lmap, tl)
        if baseline is not None:
            truth.baseline_rules = frozenset(d.id for d in baseline.detections)
        if label_map is None and lab is not None and baseline is not None:
            base_map = label_map_from_packs({d.id: d.definition.labels for d in baseline.detections})
            truth.baseline_label_map = replace(base_map, source="the baseline's rule packs")
        if lab is not None:
            truth.warnings.extend(lab.warnings)  # an id labelled both NONE and positive
        if lab is not None and lmap is not None:
            unmapped = sorted(set(lmap.rules_by_label) - lab.all_labels())
            if unmapped:
                truth.warnings.append(
                    f"{lmap.source}: no item in {lab.path} has the {noun(len(unmapped), 'label')} {', '.join(unmapped)}"
                )
            answered = set(lmap.rules_by_label)
            if truth.baseline_label_map is not None:
                answered |= set(truth.baseline_label_map.rules_by_label)
            misspelt = label_case_slips(lab, answered, lmap.source)
            if misspelt:
                raise bad_lines_error(lab.path, misspelt)
            truth.warnings.extend(unanswered_labels(lab, lmap))
        return truth

    def tap(self) -> LabelTap | None:
        return LabelTap(self.labels.items) if self.labels is not None else None

    def check_seen(self, tap: LabelTap | None) -> None:
        """After reading: labels keyed by URL become document ids; labels that match no event are an error
        (a wrong file), some that match none a warning (the label file may cover more than this replay)."""
        if self.labels is None or tap is None:
            return
        # (the tap may watch other keys too: the event ids of --expect entries)
        seen = {k: v for k, v in tap.seen.items() if k in self.labels.items}
        if not seen:
            sample = ", ".join(list(self.labels.items)[:3])
            raise TruthError(
                f"{self.labels.path}: none of its {len(self.labels.items)} ids matches an event (e.g. {sample}); "
                "label ids are the events' `id` (or, without one, their `url`)"
            )
        items = {}
        for key, item in self.labels.items.items():
            doc_id = seen[key][0] if key in seen else key
            items[doc_id] = replace(item, id=doc_id)  # keeps the key the file wrote (a URL) for reports
        self.seen = {doc_id: t for doc_id, t in seen.values()}
        missing = [item for key, item in self.labels.items.items() if key not in seen]
        if missing:
            sample = ", ".join(f"{m.label_key} (line {m.line})" for m in missing[:3])
            self.warnings.append(
                f"{self.labels.path}: {len(missing)} of {len(self.labels.items)} labelled ids are not among the "
                f"events (not scored), e.g. {sample}"
            )
        self.labels = replace(self.labels, items=items)  # (keeps the spellings its group cells compare in)

    def score(self, alerts: Iterable[AlertRef], window: timedelta, *, baseline: bool = False) -> Scores | None:
        """`baseline`: the alerts of --baseline-rules, scored with those rules' own labels when the map comes from
        the packs."""
        alerts = list(alerts)
        s: Scores | None = None
        label_map = self.baseline_label_map if baseline and self.baseline_label_map is not None else self.label_map
        absent: set[str] = set()
        if baseline and self.baseline_rules is not None and self.label_map is not None:
            # rules of this run's map the baseline's packs do not have: a rule the edit adds, not one it lost
            absent = set(self.label_map.labels_by_rule()) - self.baseline_rules
        if self.labels is not None and label_map is not None:
            s = score(alerts, self.labels, label_map, seen=self.seen, window=self.window, absent=absent)
        if self.timeline is not None:
            if s is None:
                s = Scores({}, Counts(), [], [], {})
            # A true alert finds an event before a false one (it said the truce *will* begin) that fits it; an event
            # found by a false alert only says so, or its lead reads as an early warning (outside trial 47, M3).
            # (an alert outside --score-from/--score-until citing no positive is no less false for the timeline)
            false = {a.id for a in s.false_positives} | {
                v.alert for v in s.verdicts if v.outside_window and not v.positives
            }
            s.timeline = evaluate_timeline(self.timeline, alerts, window, false=false)
        return s


@dataclass
class RuleSets:
    current: CompiledRules
    baseline: CompiledRules | None = None

    def collector(self, rules: CompiledRules, limit: int, keep: Iterable[str] = ()) -> NearMissCollector:
        """`keep`: the labels' keys, whose near misses are kept whatever `limit` (a missed one says why)."""
        return NearMissCollector(rules, limit=max(limit * 20, 1000) if limit else 0, keep=frozenset(keep))


@dataclass
class BaselineResult:
    """A previous `backtest --json` result: its alerts, and what it replayed (its `stats.documents` and
    `stats.rules`; None when it does not say)."""

    alerts: list[AlertRef]
    documents: int | None = None
    rules: str | None = None
    repeats_known: bool = True  # written by a release that records the repeats its alerts held back

    def mismatch(self, path: Path | str, documents: int, rules: str) -> str | None:
        """A warning when this run replayed other inputs than the baseline did (the diff then shows alerts added and
        removed by that, not only by the edit), naming both, and the rules when they differ too; None when the
        inputs agree (other rules over the same documents is what a baseline is for)."""
        other_docs = self.documents is not None and self.documents != documents
        other_rules = self.rules is not None and self.rules != rules
        if other_docs and other_rules:
            return (
                f"the baseline {path} is of {self.documents:,} documents and rules {self.rules}, this run of "
                f"{documents:,} documents and rules {rules}: the diff compares other inputs and other rules"
            )
        if other_docs:
            return (
                f"the baseline {path} is of {self.documents:,} documents, this run of {documents:,} (rules {rules} "
                "both): the diff compares other inputs"
            )
        # Other rules over the same documents is what a baseline is for (a pack against its last release's result).
        return None


def load_baseline_result(path: Path) -> BaselineResult:
    """A previous `backtest --json` result: its alerts and what it replayed."""
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise TruthError(f"{path}: no such baseline result") from None
    except (OSError, orjson.JSONDecodeError) as e:
        raise TruthError(f"{path}: not a backtest JSON result ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("alerts"), list):
        raise TruthError(f"{path}: not a backtest JSON result (no 'alerts' list); write one with backtest --json")
    try:
        alerts = [AlertRef.from_json(a) for a in data["alerts"]]
    except (KeyError, TypeError, ValueError) as e:
        raise TruthError(f"{path}: an alert lacks {e} (not a backtest --json result?)") from None
    stats = data.get("stats")
    documents, rules = (stats.get("documents"), stats.get("rules")) if isinstance(stats, dict) else (None, None)
    return BaselineResult(
        alerts,
        documents if isinstance(documents, int) and not isinstance(documents, bool) else None,
        rules if isinstance(rules, str) else None,
        isinstance(stats, dict) and stats.get("repeats_recorded") is True,
    )


@dataclass
class Evaluated:
    data: dict[str, Any]
    scores: Scores | None = None
    baseline_scores: Scores | None = None
    diff: AlertDiff | None = None
    near_misses: list[NearMiss] = field(default_factory=list)


def assemble(
    result: EngineTally,
    report: ReadReport,
    specs: list[str],
    *,
    collector: NearMissCollector | None = None,
    near_miss_limit: int = 200,
    truth: Truth | None = None,
    timeline_window: timedelta = timedelta(days=7),
    baseline: EngineTally | list[AlertRef] | None = None,
    baseline_label: str | None = None,
    sort: dict[str, Any] | None = None,
    order: str = "event-time",
    baseline_collector: NearMissCollector | None = None,
    documents: Mapping[str, Document] | None = None,
) -> Evaluated:
    """`collector` / `baseline_collector`: the runs' replay hooks; besides near misses they recover every report
    an alert rests on beyond the ten it shows, which scores and the diff count (scoring.evidence). `documents`: the
    positive labelled items' documents by label key (backtest.LabelTap.kept), which a missed one is read again from
    for the condition that alone kept its signal."""
    # what each alert's realert held back, a derived alert's also what its input alerts' did (scoring.evidence), and
    # what the alerts late reports revised into it told (carried_repeats)
    repeats = collector.evidence.repeats_of(collector.repeats) if collector else None
    if repeats is not None and collector is not None:
        repeats = carried_repeats(result.history, repeats, collector.evidence.ids)
    data = result_json(result, report, specs, collector.evidence.all_ids() if collector else None, repeats)
    stats = data["stats"]
    stats["order"] = order
    if sort is not None:
        stats["sort"] = sort
    ev = Evaluated(data)
    if collector is not None:
        # Alerts showing fewer reports than they rest on whose full set was not found (scored on what they show)
        stats["evidence_unresolved"] = len(collector.evidence.unresolved)
    alerts = [
        AlertRef.from_detection(
            d, collector.evidence.ids(d) if collector else None, repeats.get(d.id) if repeats is not None else None
        )
        for d in result.detections
    ]
    if collector is not None and near_miss_limit:
        ev.near_misses = collector.near_misses()
        stats["near_misses"] = len(ev.near_misses)
        data["near_misses"] = [m.to_json() for m in ev.near_misses[:near_miss_limit]]
    if truth is not None:
        ev.scores = truth.score(alerts, timeline_window)
        if ev.scores is not None:
            if collector is not None:
                verdicts = {v.alert: v.verdict for v in ev.scores.verdicts}
                ev.scores.outcomes = _with_reasons(
                    ev.scores.outcomes,
                    collector,
                    alerts,
                    verdicts,
                    truth.labels.items if truth.labels else {},
                    documents,
                )
            data["scores"] = ev.scores.to_json()
    if baseline is not None:
        base_repeats = (
            baseline_collector.evidence.repeats_of(baseline_collector.repeats) if baseline_collector else None
        )
        if base_repeats is not None and baseline_collector is not None and isinstance(baseline, EngineTally):
            base_repeats = carried_repeats(baseline.history, base_repeats, baseline_collector.evidence.ids)
        base_alerts = (
            [
                AlertRef.from_detection(
                    d,
                    baseline_collector.evidence.ids(d) if baseline_collector else None,
                    base_repeats.get(d.id) if base_repeats is not None else None,
                )
                for d in baseline.detections
            ]
            if isinstance(baseline, EngineTally)
            else baseline
        )
        ev.diff = diff_alerts(base_alerts, alerts)
        diff = ev.diff.to_json()
        data["baseline"] = {"source": baseline_label, "alerts": len(base_alerts)}
        if truth is not None:
            ev.baseline_scores = truth.score(base_alerts, timeline_window, baseline=isinstance(baseline, EngineTally))
            if ev.scores is not None and ev.baseline_scores is not None and truth.labels is not None:
                diff["scores"] = score_delta(ev.baseline_scores, ev.scores)
                with_verdicts(diff, ev.baseline_scores, ev.scores)
                data["baseline"]["scores"] = ev.baseline_scores.to_json()
        data["diff"] = diff
    return ev


def _folded_label(label: str) -> str:
    return label.casefold().replace("-", "_")


LABEL_SLIP_LINES = 5
"""The lines of one misspelt label named in its error; the rest are counted."""


def label_case_slips(lab: Labels, answered: Iterable[str], source: str) -> list[str]:
    """An error per label of the file that no rule answers but one it does is, but for case and `-`/`_`
    (`wagner_mutiny` for `WAGNER_MUTINY`): labels match exactly, so its items would be scored as negatives and a
    true alert as a false one, with a warning and exit 0 that a gate never saw (outside trial 53, LOW-4). A label
    no rule answers at all stays a warning (the file may hold other packs' labels): see `unanswered_labels`."""
    exact = set(answered)
    by_fold: dict[str, str] = {}
    for a in sorted(exact):
        by_fold.setdefault(_folded_label(a), a)
    lines = {
        label: lab.label_lines.get(label) or sorted(it.line for it in lab.items.values() if label in it.labels)
        for label in lab.all_labels()
        if label not in exact and _folded_label(label) in by_fold
    }
    out: list[str] = []
    for label, at in sorted(lines.items(), key=lambda kv: kv[1][0]):
        also = ", ".join(str(n) for n in at[1 : LABEL_SLIP_LINES + 1])
        more = len(at) - 1 - LABEL_SLIP_LINES
        also += f" and {more} more" if more > 0 else ""
        meant = by_fold[_folded_label(label)]
        out.append(
            f"{lab.path}:{at[0]}: the label {label!r} differs from {meant}, which a rule answers, only in case or "
            f"'-'/'_'; labels match exactly (its items would be scored as negatives): write {meant}"
            + (f" (also on {noun(len(at) - 1, 'line')} {also})" if also else "")
            + f" (which rules answer which labels: {source})"
        )
    return out


def unanswered_labels(lab: Labels, lmap: LabelMap) -> list[str]:
    """A warning per label of the file that no rule answers but one it does is spelt close to (`POW_SWP` for
    `POW_SWAP`: its items scored as negatives, a true alert as a false one, and nothing said: outside trial 32, M2;
    one that differs only in case or '-'/'_' is an error, `label_case_slips`),
    and one line naming the other labels no rule answers (their items are negatives for every rule)."""
    answered = set(lmap.rules_by_label)
    out: list[str] = []
    others: list[str] = []
    for label in sorted(lab.all_labels() - answered - NEGATIVE_LABELS):
        # (only a near spelling: a label file may hold labels of other packs, TROOP_DEPLOYMENT_DENIED beside
        # TROOP_DEPLOYMENT_REPORT, which a looser hint would take for a typo)
        near = difflib.get_close_matches(label.casefold(), [a.casefold() for a in answered], n=1, cutoff=0.85)
        hint = close_hint(label, [a for a in answered if near and a.casefold() == near[0]])
        if hint:
            line = min(it.line for it in lab.items.values() if label in it.labels)
            out.append(
                f"{lab.path}:{line}: no rule answers the label {label!r}{hint}: its items are scored as negatives "
                f"(which rules answer which labels: {lmap.source})"
            )
        else:
            others.append(label)
    if others:
        out.append(
            f"{lab.path}: no rule answers the {noun(len(others), 'label')} {', '.join(others)}: "
            f"{'its' if len(others) == 1 else 'their'} items are scored as negatives for "
            f"every rule (which rules answer which labels: {lmap.source})"
        )
    return out


def carried_repeats(
    history: Sequence[Detection | Retraction],
    repeats: dict[str, list[str]],
    reports_of: Callable[[Detection], tuple[str, ...]],
) -> dict[str, list[str]]:
    """`repeats` (alert id -> what its realert held back) with, for each alert a late report's revision raised, the
    reports and repeats of the alert it revised, down its chain: a late report that moved an alert to an earlier
    report leaves the reports the alert had told standing, as repeats of the revised alert (the desk was told them;
    the thread keeps them: alerts.notice.reports_told_before). So scoring what a live run raised, in log order, counts
    them as caught, as the same reports in event time are (outside trial 32, H1: "missed … no signal" for the report
    the desk had been sent an alert of, and recall 0.67 against 0.92 for the same alerts). A revision for a
    correction (`Detection.cause`) carries nothing: the report it dropped may be the corrected one."""
    raised: dict[str, list[Detection]] = {}
    for d in history:
        if isinstance(d, Detection):
            raised.setdefault(d.id, []).append(d)
    out = dict(repeats)
    for d in history:
        if not isinstance(d, Detection) or d.revises is None or d.cause is not None:
            continue
        carried: dict[str, None] = {}
        seen: set[tuple[str, int]] = set()
        now: Detection | None = d
        while now is not None and now.revises is not None and now.cause is None:
            # the alert it revised: the latest raising of that id by an earlier change (ids can come back)
            before = [x for x in raised.get(now.revises, ()) if x.revision < now.revision]
            prev = max(before, key=lambda x: x.revision) if before else None
            if prev is None or (prev.id, prev.revision) in seen:
                break
            seen.add((prev.id, prev.revision))
            carried.update(dict.fromkeys(reports_of(prev)))
            carried.update(dict.fromkeys(out.get(prev.id, ()) if prev.id != d.id else ()))
            now = prev
        own = set(reports_of(d))
        extra = [i for i in carried if i not in own]
        if extra:
            out[d.id] = list(dict.fromkeys([*out.get(d.id, ()), *extra]))
    return out


def _labels_with_groups(lab: Labels, lmap: LabelMap, vocab: RuleVocabulary) -> Labels:
    """The labels with the packs' spellings to compare their `group` cells in, each cell checked as a timeline's is:
    a name no rule its labels map to can carry (`plce=KURSK`), or a value none can take, is an error naming
    FILE:LINE, not a positive no alert could ever catch."""
    problems: list[str] = []
    for item in lab.items.values():
        if not item.group:
            continue
        rules = sorted({r for label in item.labels for r in lmap.rules_by_label.get(label, ())})
        if not rules:
            # A negative (or a label no rule answers): its group decides nothing, but a name no rule's alerts can
            # carry is a slip all the same (outside trial 63, LOW-3: accepted silently on a negative row).
            every = {k for ks in vocab.keys.values() if ks is not None for k in ks}
            if every and not any(ks is None for ks in vocab.keys.values()):
                for k, _v in item.group:
                    if k not in every:
                        problems.append(
                            f"{lab.path}:{item.line}: column 'group': no rule's alerts carry {k!r} "
                            f"(they can carry: {', '.join(sorted(every))})"
                        )
            continue
        for k, v in item.group:
            allowed = [vocab.keys.get(r) for r in rules]
            if all(a is not None and k not in a for a in allowed):
                can = sorted({x for a in allowed if a is not None for x in a})
                problems.append(
                    f"{lab.path}:{item.line}: column 'group': the alerts of {', '.join(rules)} carry no {k!r} "
                    f"(they can carry: {', '.join(can) or 'nothing'})"
                )
            elif (wrong := vocab.value_problem(rules, k, v)) is not None:
                problems.append(f"{lab.path}:{item.line}: column 'group': {wrong}")
    if problems:
        raise TruthError("\n".join(problems))
    return replace(lab, names=vocab.spellings)


def _false_holders(
    o: Outcome, held_by: Mapping[str, list[str]], rule_of: Mapping[str, str], verdicts: Mapping[str, str]
) -> list[str]:
    """The alerts of the outcome's rule whose realert held its report back and that the scores count false."""
    return [a for a in held_by.get(o.item, ()) if rule_of.get(a) == o.rule and verdicts.get(a) == "false"]


def _single_miss(rules: CompiledRules, o: Outcome, documents: Mapping[str, Document] | None) -> str | None:
    """Of a missed item no signal of its rule was made of: the one condition that alone kept one of the signals the
    rule reads, as `rules explain` says it (engine.explain.near_miss), from its document (`documents`, by label
    key); None when the document is not at hand or no signal came that close."""
    doc = (documents or {}).get(o.item) or (documents or {}).get(o.label_key)
    det = next((d for d in rules.detections if d.id == o.rule), None)
    names = {r.signal for r in det.refs if r.detection is None} if det is not None else set()
    if doc is None or not names:
        return None
    got = near_miss(rules, doc, names)
    return f"{got[0]} missed it on one condition alone — {got[1]}" if got else None


# How far a reading got toward an alert, by what held it back (DetectionCheck.kind): throttled after every condition
# held, then short of reports, then waiting for another step, then late, then the group or a capture, then the
# reading itself, then an input alert not taken.
_FURTHEST_ORDER: tuple[tuple[str, ...], ...] = (
    ("realert",),
    ("corroboration", "count"),
    ("sequence", "all_of", "absence"),
    ("late",),
    ("group", "capture"),
    ("modality",),
    ("input",),
)
_FURTHEST = {k: i for i, ks in enumerate(_FURTHEST_ORDER) for k in ks}


def _with_reasons(
    outcomes: list[Outcome],
    collector: NearMissCollector,
    alerts: list[AlertRef],
    verdicts: Mapping[str, str] | None = None,
    labelled: Mapping[str, LabelledItem] | None = None,
    documents: Mapping[str, Document] | None = None,
) -> list[Outcome]:
    """Each missed positive with what kept it from an alert of its rule: its near miss's reason for that rule
    (a modality, a realert of a false alert, a count short of reports), else the alert of another rule that
    rests on it (then the rules made a signal of it: outside trial 17, H3), else that the rules made no signal of
    it; unknown (left blank) when the collector dropped candidates past its bound. A realert held back by an alert
    the scores count false (`verdicts`: alert id -> verdict) says so: a false alert silencing the real event is
    what the analyst must see (outside trial 61, M5: "realert: R alerted at T; quiet for 30d" alone, 74 times)."""
    reasons: dict[str, list[Any]] = {}
    for m in collector.near_misses():
        reasons.setdefault(m.signal.document_id, []).extend(m.reasons)
    resting: dict[str, list[AlertRef]] = {}  # report id -> the alerts that rest on it, in the order they fired
    for a in sorted(alerts, key=lambda a: (a.fired_at, a.id)):
        for eid in dict.fromkeys(a.reports):
            resting.setdefault(eid, []).append(a)
    held_by: dict[str, list[str]] = {}  # report id -> the alerts whose realert held it back
    for alert_id, held in collector.repeats.items():
        for eid in held:
            held_by.setdefault(eid, []).append(alert_id)
    rule_of = {a.id: a.rule for a in alerts}
    # a detection over detections -> the rules whose alerts it reads
    reads = {d.id: sorted({r.detection for r in d.refs if r.detection is not None}) for d in collector.rules.detections}
    out: list[Outcome] = []
    for o in outcomes:
        if o.status != "fn":
            out.append(o)
            continue
        theirs = reasons.get(o.item, [])
        mine = [r for r in theirs if r.detection == o.rule] or [
            r for r in collector.other_reasons.get(o.item, []) if r.detection == o.rule
        ]
        # Of several readings of the item, the one that got furthest says what kept it: a sanctions report held back
        # by the rule's realert, not its background "after last week's coup" read as recap (outside trial 68, MED-1:
        # the reason pointed at the modality, the wrong setting to change).
        mine.sort(key=lambda r: _FURTHEST.get(r.kind, len(_FURTHEST)))
        inputs = reads.get(o.rule) or []
        others = [a for a in resting.get(o.item, []) if a.rule != o.rule]
        own = [a for a in resting.get(o.item, []) if a.rule == o.rule]
        item = (labelled or {}).get(o.item)
        if own and o.group:
            # An alert of its rule rests on it, about another party (the labels' `group`): that is why it is missed,
            # not "no signal" (outside trial 63, HIGH-1: the rules made a signal and an alert citing it).
            a = own[0]
            carried = ";".join(f"{k}={v}" for k, v in sorted(a.group.items())) or "no group"
            line = f", line {item.line}" if item is not None and item.line else ""
            out.append(
                replace(
                    o,
                    why=f"no alert of {o.rule} carries {o.group}: {a.id} ({carried}) cites it in vain (the labels' "
                    f"group{line})",
                )
            )
            continue
        if mine:
            why = f"{mine[0].kind}: {mine[0].detail}"
            if mine[0].kind == "realert" and (held := _false_holders(o, held_by, rule_of, verdicts or {})):
                why += (
                    f" — held back by a false alert ({', '.join(held)}: it cites no report labelled for {o.rule}), "
                    "so a false alert silenced this report"
                )
            elif (
                mine[0].kind == "realert"
                and o.group
                and (holders := [h for h in held_by.get(o.item, ()) if rule_of.get(h) == o.rule])
            ):
                # Held back by an alert about another party: it does not cover it (outside trial 63, HIGH-1).
                why += (
                    f" — the alert that held it back ({', '.join(holders)}) does not carry {o.group} (the labels' "
                    "group), so it does not cover it"
                )
        elif others:
            # Its signal made another rule's alert: "no signal" would be untrue. A detection over detections reads
            # alerts, so one of its inputs' alerts resting on the item is said as such.
            a = next((a for a in others if a.rule in inputs), others[0])
            when = a.fired_at.strftime("%Y-%m-%d %H:%M")
            if a.rule in inputs:
                why = (
                    f"no alert of {o.rule} rests on it: it is in the evidence of its input {a.rule}'s alert of {when} "
                    f"({a.id}), which no alert of {o.rule} took (`watchfloor rules explain --id {o.rule} FILE` says "
                    "why)"
                )
            else:
                why = (
                    f"no alert of {o.rule} rests on it: its signals went to an alert of {a.rule} at {when} ({a.id})"
                    + (f"; {o.rule} reads alerts of {', '.join(inputs)}" if inputs else "")
                    + f" (`watchfloor rules explain --id {o.rule} FILE` says why)"
                )
        elif not (collector.limit or o.item in collector.keep or o.label_key in collector.keep) or collector.dropped:
            why = ""
        elif theirs and inputs:
            other = theirs[0]
            why = (
                f"no alert of {o.rule} rests on it: {o.rule} reads alerts of {', '.join(inputs)}, and this item's "
                f"signals made none that it took ({other.detection or 'other rules'}, {other.kind}: {other.detail}; "
                f"`watchfloor rules explain --id {o.rule} FILE` says why)"
            )
        elif theirs:
            # Another rule's near miss is no reason for this one (outside trial 8, M1): this rule read no signal of
            # the item; what the item's signals did elsewhere is said as such.
            other = theirs[0]
            near = _single_miss(collector.rules, o, documents)
            why = (
                f"no signal for {o.rule}: the rules made none of this item that {o.rule} reads"
                + (f"; {near}" if near else "")
                + f" (its signals went to {other.detection or 'other rules'}, {other.kind}: {other.detail}; "
                f"`watchfloor rules explain --id {o.rule} FILE` says why)"
            )
        elif near := _single_miss(collector.rules, o, documents):
            why = f"no signal: the rules made none of this item; {near} (`watchfloor rules explain --id {o.rule} FILE`)"
        else:
            why = "no signal: the rules made none of this item (`watchfloor rules explain --id RULE FILE` says why)"
        out.append(replace(o, why=why))
    return out
