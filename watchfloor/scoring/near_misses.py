"""Near misses: signals that no alert cites, each with why, from the replay's own outputs.

The reasons are the rules' explanations (`stream_processors.engine.explain_detections.Explainer`, the same
as `watchfloor rules explain`): for every detection that uses the signal, its modality and the cue that
decided it, a capture or group it lacks, lateness, a `realert` throttle, a count or corroboration short of
its distinct sources within the window, an all_of / sequence part missing, an absence open or answered. A
signal that no detection uses says so. The collector is shown each engine call's outputs as the replay
makes them (no second engine run, no re-extraction) and keeps a bounded number of candidates (`limit`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from watchfloor.schemas.events import DeadLetter, Detection, Retraction, Signal
from watchfloor.schemas.rules import format_duration
from watchfloor.stream_processors.engine import CompiledRules, Engine
from watchfloor.stream_processors.engine.explain import DetectionCheck
from watchfloor.stream_processors.engine.explain_detections import Explainer, group_of

from .evidence import FullEvidence

T = TypeVar("T")

_COUNTED = re.compile(r"(\d+) of \d+\b")  # a count check's reason: 'k of N (distinct …) within …'
# How a reason that opens with its detection's name goes on ('R for k=v alerted at …', 'R needs …'): a step's name
# may be a detection's too ('sanction must come first'), so the name alone is not enough.
_OPENS_WITH_NAME = re.compile(r"(?: for [^;:]+?)?(?: alerted at | fired at | needs | groups by | did not fire)")

REASON_KINDS = (
    "modality",
    "capture",
    "group",
    "late",
    "realert",
    "corroboration",
    "count",
    "all_of",
    "sequence",
    "absence",
    "unused",
)
"""What kept a signal from an alert (DetectionCheck kinds, plus `unused`: no detection uses the signal)."""


@dataclass(frozen=True)
class Reason:
    kind: str  # one of REASON_KINDS (or a pattern kind: "did not fire")
    detail: str
    detection: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"detection": self.detection, "kind": self.kind, "detail": self.detail}

    def clause(self) -> str:
        """The reason as one clause that starts with its detection's name: the detail as it is when it opens with
        the name ('wagner-mutiny alerted at …'), else 'NAME: detail'; a reason of no detection ('unused') as it is.
        Several detections' reasons, joined, each say whose they are (outside trial 34: a sequence's reason read as
        the reason of the corroborated detection before it)."""
        d = self.detection
        if not d or (self.detail.startswith(d) and _OPENS_WITH_NAME.match(self.detail, len(d))):
            return self.detail
        return f"{d}: {self.detail}"


def reason_lines(reasons: Sequence[Reason]) -> list[str]:
    """A near miss's reasons, one line per detection, each starting with its name (`Reason.clause`)."""
    return [r.clause() for r in reasons]


def by_report_and_reason(misses: Sequence[T], key: Callable[[T], Hashable]) -> list[list[T]]:
    """Near misses grouped by `key` (a report, its signal and the reasons), in the order of each group's first: two
    sentences of one report held back by one realert read as the same line twice (outside trial 63, LOW-5), so the
    views list such a report once, with how many sentences it stands for. The JSON keeps one entry per signal."""
    groups: dict[Hashable, list[T]] = {}
    for m in misses:
        groups.setdefault(key(m), []).append(m)
    return list(groups.values())


def near_miss_key(m: NearMiss) -> Hashable:
    """What makes two near misses the same line: the report, the signal, its modality and every reason."""
    s = m.signal
    return (s.document_id, s.name, s.modality, tuple(m.reasons))


@dataclass
class NearMiss:
    signal: Signal
    reasons: list[Reason] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        s = self.signal
        return {
            "signal": s.name,
            "document_id": s.document_id,
            "source": s.source,
            "url": s.url,
            "published_at": s.published_at.isoformat(),
            "sentence": s.sentence,
            "modality": s.modality,
            "cue": s.cue,
            "captures": dict(s.captures),
            "reasons": [r.to_json() for r in self.reasons],
        }


SignalKey = tuple[str, str, int]  # document id, signal name, sentence index


@dataclass(frozen=True)
class _Waiting:
    """A signal of a sequence's step before the last, waiting for the steps after it."""

    t: float
    document_id: str
    key: SignalKey
    reason: str  # what `rules explain` says of it, at its time: "waiting for B to follow"


class NearMissCollector:
    """Give it each engine call's outputs (`on_outputs`, replay's hook); ask `near_misses()` at the end."""

    def __init__(self, rules: CompiledRules, *, limit: int = 20_000, keep: frozenset[str] = frozenset()) -> None:
        self.rules = rules
        self.limit = limit
        # Documents (by id or URL: the labels' keys) whose near misses are kept whatever `limit`: a labelled one
        # that is missed says why (scores' `why`), also with --near-misses 0.
        self.keep = keep
        self._explainer = Explainer(Engine(rules))  # only its record of what the detections accepted is used
        self._candidates: dict[SignalKey, NearMiss] = {}
        self._cited: set[tuple[str, str]] = set()  # (document id, signal name) in some alert's evidence
        self.dropped = 0  # candidates not kept once `limit` was reached
        # Every report an alert rests on, also beyond the ten it shows (kept whatever `limit`: scores use it).
        self.evidence = FullEvidence(rules)
        self._detections = {d.id: d for d in rules.detections}
        self._last_fired: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}  # (rule, group) -> time
        self._last_alert: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}  # (rule, group) -> alert id
        # alert id -> the documents whose signals its `realert` held back (repeats of what it told, in its group):
        # scores count a labelled one as covered by the alert when the alert is true (whatever `limit`). Also, of
        # a sequence, the earlier steps its alert told without citing them (_Waiting).
        self.repeats: dict[str, list[str]] = {}
        # document id -> why the rules that read its signals did not fire, of signals an alert of another rule
        # cites (so not near misses): a missed item's reason for its rule (evaluation._with_reasons)
        self.other_reasons: dict[str, list[Reason]] = {}
        # (sequence rule, group) -> the signals of an earlier step left waiting for the steps after it
        self._waiting: dict[tuple[str, tuple[tuple[str, str], ...]], list[_Waiting]] = {}

    def on_outputs(self, outputs: Sequence[Signal | Detection | Retraction | DeadLetter]) -> None:
        self.evidence.observe(outputs)
        checks = self._explainer.observe(outputs)
        by_signal: dict[tuple[str, int], list[DetectionCheck]] = {}
        for c in checks:
            by_signal.setdefault((c.signal, c.sentence_index), []).append(c)
        for o in outputs:  # this call's alerts first: a later sentence of the document may repeat one
            if isinstance(o, Detection):
                self._last_alert[(o.rule, tuple(sorted(o.group.items())))] = o.id
        for o in outputs:
            if isinstance(o, Signal):
                self._note_waiting(o, by_signal.get((o.name, o.sentence_index), []))
        # (rule, group) -> the documents its alert of this call cites, shown or not
        fired_now: dict[tuple[str, tuple[tuple[str, str], ...]], set[str]] = {}
        for o in outputs:
            if isinstance(o, Detection):
                cites = fired_now.setdefault((o.rule, tuple(sorted(o.group.items()))), set())
                cites.update(e.event_id for e in o.evidence)
                cites.update(self.evidence.ids(o))
        for o in outputs:
            if isinstance(o, Signal):
                self._note_repeats(o, by_signal.get((o.name, o.sentence_index), []), fired_now)
        for o in outputs:
            if isinstance(o, Detection):
                self._told_steps(o)
        for o in outputs:
            if isinstance(o, Detection):
                for e in o.evidence:
                    self._cited.add((e.event_id, e.signal))
                shown = {e.event_id for e in o.evidence}
                det = self._detections.get(o.rule)
                names = {r.signal for r in det.refs} if det is not None else set()
                for doc in self.evidence.ids(o):
                    if doc not in shown:  # an unshown report: cited under the signals the rule takes
                        self._cited.update((doc, n) for n in names)
            elif isinstance(o, Signal):
                kept = bool(self.keep) and (o.document_id in self.keep or (o.url is not None and o.url in self.keep))
                if not self.limit and not kept:
                    continue
                key = (o.document_id, o.name, o.sentence_index)
                if key in self._candidates:
                    continue
                if len(self._candidates) >= self.limit and not kept:
                    self.dropped += 1
                    continue
                mine = by_signal.get((o.name, o.sentence_index), [])
                if any(c.fired for c in mine):
                    # An alert cites it; why the other rules that read it did not fire is kept for scores (outside
                    # trial 32, L1: a `count` rule's miss read "its signals went to an alert of pow-swap", not
                    # "count 1 of 2", which `rules explain` says)
                    for c in mine:
                        if not c.fired and c.detection:
                            self.other_reasons.setdefault(o.document_id, []).append(self._reason(c, o))
                    continue
                reasons = [self._reason(c, o) for c in mine]
                if not reasons:
                    reasons = [Reason("unused", f"no detection uses the signal {o.name!r}")]
                self._candidates[key] = NearMiss(o, reasons)
        for o in outputs:
            if isinstance(o, Detection):
                k = (o.rule, tuple(sorted(o.group.items())))
                self._last_fired[k] = max(self._last_fired.get(k, 0.0), o.fired_at.timestamp())

    def _note_repeats(
        self,
        sig: Signal,
        checks: list[DetectionCheck],
        fired_now: dict[tuple[str, tuple[tuple[str, str], ...]], set[str]],
    ) -> None:
        """The alerts whose `realert` held this signal back (a `count` that had its reports counts too)."""
        for c in checks:
            if c.fired or c.detection is None:
                continue
            # a realert hold: of a plain or count detection ("realert"), or of a corroborated one, whose check says
            # its corroboration too ("corroboration": "R alerted at T, quiet for 3d unless more severe; …")
            held_back = c.kind == "realert" or (c.kind == "corroboration" and "quiet for" in c.reason)
            if not held_back and self._reason(c, sig).kind != "realert":
                continue
            det = self._detections.get(c.detection)
            group = group_of(det, sig) if det is not None else None
            key = (c.detection, tuple(sorted(group.items()))) if group is not None else None
            if key is not None and sig.document_id in fired_now.get(key, ()):
                # The detection fired for this group on this very document, and its alert cites it: the check is
                # "the same alert as sentence N's … of this document" (one alert, one "fired"). Nothing was held
                # back: not a repeat of the alert, and of a sequence `_told_steps` says what the alert told
                # (outside trial 34: a report 19 hours before such an alert read "its sequence was completed by …
                # and held back: … quiet for 1d" after it).
                continue
            alert = self._last_alert.get(key) if key is not None else None
            if alert is not None:
                held = self.repeats.setdefault(alert, [])
                if sig.document_id not in held:
                    held.append(sig.document_id)
                # A sequence whose last step this signal is, held back whole by the throttle: its earlier steps,
                # left waiting for it, are repeats of what the alert told as much as this step is.
                if det is not None and det.kind == "sequence" and group is not None:
                    t = sig.published_at.timestamp()
                    then = (
                        f"it followed later in the stream, in {self._doc_ref(sig.document_id)} at {_minutes(t)}, "
                        f"which completed the sequence and was held back there: {c.reason}"
                    )
                    self._cover_waiting(det.id, group, alert, t, {sig.document_id}, "realert", then)

    def _note_waiting(self, sig: Signal, checks: list[DetectionCheck]) -> None:
        """A step of a sequence before its last, left waiting for the steps after it: the sequence's alert, when it
        comes, cites only the latest report of each step (correlate keeps one), so this one may be told uncited."""
        for c in checks:
            det = self._detections.get(c.detection) if c.detection else None
            if det is None or det.kind != "sequence" or c.fired or c.kind != "sequence":
                continue
            if not c.reason.startswith("waiting for"):  # (explain_detections: a step whose predecessors came)
                continue
            group = group_of(det, sig)
            if group is None:
                continue
            t = sig.published_at.timestamp()
            within = det.within.total_seconds() if det.within else 0.0
            waiting = self._waiting.setdefault((det.id, tuple(sorted(group.items()))), [])
            if within:  # what no window reaching `t` holds cannot be told by a later alert
                waiting[:] = [w for w in waiting if w.t >= t - within]
            waiting.append(_Waiting(t, sig.document_id, (sig.document_id, sig.name, sig.sentence_index), c.reason))

    def _told_steps(self, d: Detection) -> None:
        """A sequence's alert told the steps left waiting in its group within its window, also those it does not
        cite (an earlier report of a step it cites a later report of): they are its repeats."""
        det = self._detections.get(d.rule)
        if det is None or det.kind != "sequence":
            return
        where = f" for {', '.join(f'{k}={v}' for k, v in d.group.items())}" if d.group else ""
        # The report it fired on completed the sequence: the latest report of its last step it cites.
        last = det.refs[-1].signal
        completing = max((e for e in d.evidence if e.signal == last), key=lambda e: e.published_at, default=None)
        on = f" on {self._doc_ref(completing.event_id)}" if completing is not None else ""
        then = f"it followed later in the stream: {d.rule}{where} fired at {_minutes(d.fired_at.timestamp())}{on}"
        cited = {e.event_id for e in d.evidence} | set(self.evidence.ids(d))
        self._cover_waiting(d.rule, d.group, d.id, d.fired_at.timestamp(), cited, "sequence", then, d)

    def _cover_waiting(
        self,
        rule: str,
        group: dict[str, str],
        alert: str,
        t: float,
        cited: set[str],
        kind: str,
        then: str,
        fired: Detection | None = None,
    ) -> None:
        """The steps of `rule`'s sequence in `group` left waiting within its window before `t` become repeats of
        `alert` (but those in `cited`), their near miss saying so: what `rules explain` said of the step at its time
        (it sees the stream up to the report: "waiting for B to follow"), then what came of it later (`then`: the
        alert `fired`, which cites a later report of the step, or the completion the throttle held back)."""
        waiting = self._waiting.get((rule, tuple(sorted(group.items()))))
        if not waiting:
            return
        det = self._detections[rule]
        within = det.within.total_seconds() if det.within else 0.0
        told = [w for w in waiting if w.t <= t and (not within or w.t >= t - within)]
        waiting[:] = [w for w in waiting if w not in told]
        held = self.repeats.setdefault(alert, [])
        for w in told:
            if w.document_id in cited:
                continue
            if w.document_id not in held:
                held.append(w.document_id)
            m = self._candidates.get(w.key)
            if m is None:
                continue
            why = f"{w.reason} at this report's time (what `rules explain` says of it); {then}"
            if fired is not None:
                step = [e.event_id for e in fired.evidence if e.signal == w.key[1] and e.event_id != w.document_id]
                if step:
                    why += f", citing a later report of this step ({', '.join(dict.fromkeys(step))})"
                why += ": the alert told this one too"
            reason = Reason(kind, why, rule)
            m.reasons = [reason if r.detection == rule else r for r in m.reasons]
        if not held:
            del self.repeats[alert]

    @staticmethod
    def _doc_ref(document_id: str) -> str:
        """A document `_cover_waiting` names: always another than the near miss's own (it names the report that
        completed the sequence, which `cited` holds, and covers only reports outside `cited`), so never "this
        document", which reads as the near miss's (outside trial 34)."""
        return f"that document ({document_id})"

    def _reason(self, c: DetectionCheck, sig: Signal) -> Reason:
        """The check's reason; a `count` that had its reports but whose group had just alerted is `realert`
        (it was held back by the throttle, not short of reports: '13 of 12 … within 30d')."""
        det = self._detections.get(c.detection) if c.detection else None
        if c.kind != "count" or det is None or det.definition.pattern.count is None:
            return Reason(c.kind, c.reason, c.detection)
        m = _COUNTED.match(c.reason)
        if m is None or int(m.group(1)) < det.definition.pattern.count.at_least:
            return Reason(c.kind, c.reason, c.detection)
        group = group_of(det, sig)
        if group is None:
            return Reason(c.kind, c.reason, c.detection)
        last = self._last_fired.get((det.id, tuple(sorted(group.items()))))
        realert = det.realert.total_seconds()
        t = sig.published_at.timestamp()
        if last is None or abs(t - last) >= realert:
            return Reason(c.kind, c.reason, c.detection)
        where = f" for {', '.join(f'{k}={v}' for k, v in group.items())}" if group else ""
        until = datetime.fromtimestamp(last + realert, UTC).isoformat(timespec="minutes")
        since = datetime.fromtimestamp(last, UTC).isoformat(timespec="minutes")
        return Reason(
            "realert",
            f"{det.id}{where} alerted at {since}; quiet for {format_duration(det.realert)} (until {until}), "
            f"though it had {c.reason}",
            c.detection,
        )

    def near_misses(self) -> list[NearMiss]:
        """The candidates no alert ended up citing (a count or sequence may cite a signal later)."""
        out = [m for m in self._candidates.values() if (m.signal.document_id, m.signal.name) not in self._cited]
        out.sort(key=lambda m: (m.signal.published_at, m.signal.document_id, m.signal.name))
        return out


def _minutes(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="minutes")
