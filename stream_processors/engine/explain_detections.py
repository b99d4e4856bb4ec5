"""Why each detection fired or not on each signal: an Engine run over documents, with reasons (pure).

The engine runs as in a replay; the Explainer watches its outputs and keeps, per detection and
group, the signals each detection accepted and when it last fired. A detection that did not fire on
a signal is explained from that record and the rule: the signal's modality or captures do not fit,
it names no group, it came late, the group was throttled by `realert`, a count or corroboration has
not enough distinct sources within its window, all_of / sequence parts are missing, an absence is
still open. The reasons are derived from the rules and the outputs, not from the correlator's
internal state, so they hold whatever the correlator's layout.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from math import comb
from typing import Any

from watchfloor.schemas import plural
from watchfloor.schemas.events import (
    SEVERITY_RANK,
    DeadLetter,
    Detection,
    Document,
    Signal,
    stable_id,
)
from watchfloor.schemas.inputs import CheckedInput
from watchfloor.schemas.rules import format_duration

from .compiled import ALERT, cue_excepted
from .compiler import CompiledDetection, CompiledRef, CompiledRules
from .compose import fits_ref, group_of_alert
from .engine import Engine, Output, received_time
from .explain import DetectionCheck, DocumentExplanation, capture_miss, explain_extraction
from .stories import report_groups

# event time, ref index, source (its feed's identity, else its name), document id, story signature, name shown
Seen = tuple[float, int, str, str, str | None, str, str]  # (…, the report's modality)

_SEVERITY_NAME = {rank: name for name, rank in SEVERITY_RANK.items()}  # a group's last alert's rank, said

_MAX_TRIES = 20_000
"""Hashes tried at most to find the reports an alert rests on beyond the ten it shows (Explainer._unshown)."""


def find_reports(
    rule: str, group_key: str, alert_id: str, shown: Sequence[str], total: int, pool: Sequence[str], max_tries: int
) -> tuple[str, ...] | None:
    """Every report an alert rests on, when it shows fewer: among `pool` (the document ids the detection took
    for the group near the alert, in time order, repeats allowed), the `total` ids whose hash with the rule
    and the group is `alert_id` (an alert's id hashes them all), in time order; None when no set tried
    hashes to it. The id decides: what is returned is exactly the engine's evidence, never a guess.

    Tried: contiguous runs in time order (of the distinct ids, then of all), only where a run can hold every
    shown id (starts between the last first position of a shown id less `total` and its first last
    position), found by a sliding count, so O(pool + total) before hashing; then the shown ones with
    combinations of the others, when there are at most `max_tries` less those already tried. Shared by
    scoring (scoring/evidence.py) and explain (Explainer._unshown)."""
    gkey = group_key
    length = len(alert_id)

    def is_it(ids: Sequence[str]) -> bool:
        return stable_id(rule, gkey, *sorted(ids), length=length) == alert_id

    must = set(shown)
    unique = list(dict.fromkeys(pool))
    tries = 0
    for seq in (unique, list(pool)):
        n = len(seq)
        if n < total or total <= 0 or (seq is not unique and n == len(unique)):
            continue  # (no repeats: the runs of all are those of the distinct ids, tried already)
        first: dict[str, int] = {}
        last: dict[str, int] = {}
        for i, x in enumerate(seq):
            if x in must:
                first.setdefault(x, i)
                last[x] = i
        if len(first) < len(must):
            continue  # a shown id is not in the pool: no run holds them all
        lo = max(max(first.values()) - total + 1, 0) if first else 0
        hi = min(min(last.values()), n - total) if last else n - total
        if lo > hi:
            continue
        counts: dict[str, int] = {}
        for x in seq[lo : lo + total]:
            if x in must:
                counts[x] = counts.get(x, 0) + 1
        for start in range(lo, hi + 1):
            if len(counts) == len(must):
                tries += 1
                run = seq[start : start + total]
                if is_it(run):
                    return tuple(run)
            if start < hi:  # slide: drop seq[start], take seq[start + total]
                out = seq[start]
                if out in must:
                    counts[out] -= 1
                    if not counts[out]:
                        del counts[out]
                into = seq[start + total]
                if into in must:
                    counts[into] = counts.get(into, 0) + 1
    rest = [x for x in unique if x not in must]
    need = total - len(must)
    if 0 < need <= len(rest) and comb(len(rest), need) <= max_tries - tries:
        base = list(dict.fromkeys(shown))
        for extra in combinations(rest, need):
            if is_it([*base, *extra]):
                order = {x: k for k, x in enumerate(unique)}
                return tuple(sorted([*base, *extra], key=lambda x: order.get(x, -1)))
    return None


def _when(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="minutes")


def _ref_text(ref: CompiledRef) -> str:
    where = "".join(f", {k}={v}" for k, v in ref.where)
    if ref.confidence is not None:  # an alert reference's own filters: what an input alert must be
        where += f", {ref.confidence}"
    if ref.min_rank > 0:
        where += f", {next(s for s, r in SEVERITY_RANK.items() if r == ref.min_rank)} or more"
    return f"{ref.signal}{where}"


def inputs_of(rules: CompiledRules, only: set[str] | None) -> dict[str, list[str]]:
    """Per detection asked for (`only`) that takes other detections' alerts: its input detections, transitively
    (the inputs of its inputs too), in the order its pattern names them. Explaining it is explaining them: what
    it fires on are their alerts, and their alerts come from their signals."""
    if not only:
        return {}
    by_id = {d.id: d for d in rules.detections}
    out: dict[str, list[str]] = {}
    for det_id in sorted(only):
        det = by_id.get(det_id)
        if det is None:
            continue
        found: list[str] = []
        todo = [r.detection for r in det.refs if r.detection is not None]
        while todo:
            nxt = todo.pop(0)
            if nxt in found or nxt == det_id or nxt not in by_id:
                continue
            found.append(nxt)
            todo.extend(r.detection for r in by_id[nxt].refs if r.detection is not None)
        if found:
            out[det_id] = found
    return out


def group_of(det: CompiledDetection, sig: Signal) -> dict[str, str] | None:
    """The group a signal falls in for a detection (its group_by over the signal's captures), None when it lacks
    one."""
    group: dict[str, str] = {}
    for g in det.group_by:
        value = sig.source if g == "source" else sig.captures.get(g)
        if value is None:
            return None
        group[g] = value
    return group


def _key(det_id: str, group: dict[str, str]) -> str:
    return det_id + "|" + "|".join(f"{k}={v}" for k, v in sorted(group.items()))


def _cites(d: Detection, sig: Signal) -> bool:
    """Whether the alert's evidence cites the signal (its document, signal name and sentence)."""
    return any(
        e.event_id == sig.document_id and e.signal == sig.name and e.sentence == sig.sentence for e in d.evidence
    )


def _alert(d: Detection) -> dict[str, Any]:
    return {
        "id": d.id,
        "rule": d.rule,
        "title": d.title,
        "severity": d.severity,
        "confidence": d.confidence,
        "group": dict(d.group),
        "fired_at": d.fired_at.isoformat(),
    }


class Explainer:
    """Feed documents in event-time order with `document()`; `finish()` moves event time to the end."""

    def __init__(
        self,
        engine: Engine,
        *,
        only: set[str] | None = None,
        find: Callable[[str, str, str, Sequence[str], int, Sequence[str], int], tuple[str, ...] | None] = find_reports,
    ) -> None:
        self.engine = engine
        self._find = find  # the search for an alert's unshown reports (find_reports; a test counts its calls)
        self.rules = engine.rules
        self.state = engine.initial_state()
        # A detection over detections asked for brings its input detections (transitively): the documents that can
        # feed them, their signals and why they fired or not are what explains it (outside trial 21, #11: alone, no
        # signal was "wanted", so every document read "no signal can match it" beside "fired 4").
        self.inputs = inputs_of(self.rules, only)
        self.only = (only | {i for ins in self.inputs.values() for i in ins}) if only is not None else None
        self._wanted = self._wanted_signals()
        self.seen: dict[str, list[Seen]] = {}
        # alert id -> (its unshown reports, None when not found; how many signals the record had then)
        self._unshown_cache: dict[str, tuple[tuple[str, ...] | None, int]] = {}
        self.fired: dict[str, tuple[float, int]] = {}  # group key -> last fired (event time, severity rank)
        self._miss_cache: tuple[tuple[str, str], str] = (("", ""), "")  # the last capture_miss said

    def _wanted_signals(self) -> set[str] | None:
        if self.only is None:
            return None
        names = {n for n in self.only if n in self.rules.signals}
        for det in self.rules.detections:
            if det.id in self.only:
                names.update(r.signal for r in det.refs)
        return names

    def document(self, doc: Document) -> DocumentExplanation:
        """The whole explanation of the next document, whatever it holds."""
        ok, _built = self.may_match(doc)
        self.state, outs = self.engine.process_document(self.state, doc)
        return self._explained(doc, outs, ok, detail=True)

    def step(
        self,
        item: Document | CheckedInput,
        *,
        screen: bool = True,
        detail: bool = True,
        every: bool = False,
        near: bool = False,
    ) -> DocumentExplanation | None:
        """The next input of a stream read in event-time order (a corpus), explained as `document()` explains it,
        or None when there is nothing to say of it: the engine's own screen (`may_match`) let it on for no signal,
        and it made no signal and no detection said anything on it (`every`: never None). With `screen`, such a
        document costs what it costs the engine (its raw gate and first pass, then its event time), not an
        explanation; the explanation of every other document is the same either way (tested). Without `detail`,
        an explanation without sentences: its signals and detections only (what a summary counts). With `near`,
        also the near misses the screen turns away: a document where some signal (asked for) has a phrase or name
        in a sentence but not all it needs ("ratified" without "treaty"), explained in full."""
        viable, ok, doc = self._screen(item)
        if screen and not viable and not every and not near:
            # As a backtest runs a line its gate ruled out: only its event time (Engine.process_input of an
            # EventTime), the document never built.
            t = item.ts if isinstance(item, CheckedInput) else item.published_at.timestamp()
            self.state, outs = self.engine.process_input(self.state, t)
            if not outs:
                return None  # nothing but its event time: what the engine made of it too
        else:
            outs = None
        if doc is None:
            doc = item if isinstance(item, Document) else item.build()
        if outs is None:
            self.state, outs = self.engine.process_document(self.state, doc)
        exp = self._explained(doc, outs, ok, detail=detail or (near and not ok))
        if every or ok or self.made(exp) or exp.detections or exp.late:
            return exp
        if near and any(sent.signals for sent in exp.sentences):  # (only the signals asked for are checked)
            return exp  # a near miss: what a rule author looks for when a signal did not match
        return None

    def made(self, exp: DocumentExplanation) -> list[str]:
        """The signals the document made, of those asked for (`only`)."""
        return [n for n in exp.made if self._wanted is None or n in self._wanted]

    def may_match(self, item: Document | CheckedInput) -> tuple[bool, Document | None]:
        """Whether the engine's own screen lets a document on: the raw gate on its title and body
        (Extractor.may_match), then the extractor's first pass (Extractor.scan: the signals whose phrases and
        names it holds; with `only`, one of the signals asked for). False: none of them can match it. Also the
        document, when it was built to tell."""
        _viable, ok, doc = self._screen(item)
        return ok, doc

    def _screen(self, item: Document | CheckedInput) -> tuple[bool, bool, Document | None]:
        """(whether some signal can match the document, whether one asked for can, the document if built). With
        no signal possible the engine makes nothing of it but its event time; a signal not asked for (`only`)
        still runs in the engine, whose other detections it may feed."""
        extractor = self.engine.extractor
        if not extractor.may_match(item.title, item.body):
            return False, False, None
        doc = item if isinstance(item, Document) else item.build()
        _scan, viable = extractor.scan(doc, native_screen=False)  # the same documents in every build
        if viable is None:
            return True, True, doc
        return bool(viable), bool(viable & self._wanted if self._wanted is not None else viable), doc

    def _explained(self, doc: Document, outs: list[Output], may_match: bool, *, detail: bool) -> DocumentExplanation:
        if detail:
            exp = explain_extraction(self.rules, doc, only=self._wanted)
        else:
            exp = DocumentExplanation(
                doc.id, doc.title, doc.source.name, doc.published_at.isoformat(), doc.language, "not explained"
            )
        exp.may_match = may_match
        exp.signals = [o.model_dump(mode="json") for o in outs if isinstance(o, Signal)]
        exp.late = [o.reason for o in outs if isinstance(o, DeadLetter) and o.origin == f"document:{doc.id}"]
        exp.detections = self.observe(outs)
        return exp

    def observe(self, outputs: Sequence[Output]) -> list[DetectionCheck]:
        """Why each detection fired or not on each signal among one engine call's outputs (one document's):
        what `document()` adds to an extraction, for callers that run the engine themselves (a backtest's
        near misses). It keeps its record from what it is shown, so show it every call's outputs, in order."""
        signals = [o for o in outputs if isinstance(o, Signal)]
        fired = [o for o in outputs if isinstance(o, Detection)]
        late = [o for o in outputs if isinstance(o, DeadLetter) and o.origin.startswith("document:")]
        checks: list[DetectionCheck] = []
        explained: set[str] = set()
        made: list[tuple[DetectionCheck, Signal]] = []
        for sig in signals:
            for det in self.rules.detections_by_signal.get(sig.name, ()):
                if self.only is not None and det.id not in self.only and sig.name not in self.only:
                    continue
                check = self._check(det, sig, fired, late)
                if check.alert is not None:
                    explained.add(check.alert["id"])
                made.append((check, sig))
        checks.extend(self._once_per_alert(made, fired))
        for d in fired:  # fired from other alerts (detections over detections), or as a window closed
            if d.id not in explained and (self.only is None or d.rule in self.only):
                inputs = [
                    f"{e.signal.removeprefix(ALERT)} (at {_when(e.published_at.timestamp())})"
                    for e in d.evidence
                    if e.signal.startswith(ALERT)
                ]
                own = next((x for x in self.rules.detections if x.id == d.rule), None)
                window = f" within {format_duration(own.within)}" if own is not None and own.within else ""
                why = f"from alerts of {', '.join(dict.fromkeys(inputs))}{window}" if inputs else "the window closed"
                checks.append(DetectionCheck(d.rule, "", -1, True, "fired", why, _alert(d)))
        raised = {d.rule for d in fired}
        for d in fired:  # an input alert: recorded by the detections over it, and said when it made none fire
            for det in self.rules.detections_by_signal.get(ALERT + d.rule, ()):
                if self.only is not None and det.id not in self.only:
                    continue
                check = self._input_alert(det, d)
                if det.id not in raised:
                    checks.append(check)
        checks.extend(self._no_input(checks, fired))
        for d in fired:
            self.fired[_key(d.rule, d.group)] = (d.fired_at.timestamp(), SEVERITY_RANK[d.severity])
        return checks

    def _input_alert(self, det: CompiledDetection, d: Detection) -> DetectionCheck:
        """Why an input alert did not make the detection over it fire (as compose feeds it: the reference's `where`,
        least severity and confidence, the group, then the pattern's window and the throttle), its observation
        recorded for the group as the correlator keeps it."""
        group_text = f" for {', '.join(f'{k}={v}' for k, v in d.group.items())}" if d.group else ""
        head = f"takes alerts of {d.rule}: this one ({d.severity}, {d.confidence or 'no confirmation'}){group_text}"
        head += f" at {_when(d.fired_at.timestamp())}"

        def out(kind: str, reason: str, alert: Detection | None = None) -> DetectionCheck:
            return DetectionCheck(det.id, ALERT + d.rule, -1, False, kind, f"{head} {reason}")

        refs = [(i, r) for i, r in enumerate(det.refs) if r.detection == d.rule]
        placed = [(i, r) for i, r in refs if all(d.group.get(k) == v for k, v in r.where)]
        if not placed:
            wants = " or ".join(", ".join(f"{k}={v}" for k, v in r.where) for _i, r in refs)
            return out("capture", f"is not taken: {det.id} needs {wants}")
        fitting = [(i, r) for i, r in placed if fits_ref(r, d)]
        if not fitting:
            needs = " or ".join(_ref_text(r) for _i, r in placed)
            return out("input", f"is not taken: {det.id} needs {needs}")
        group = group_of_alert(det, d)
        if group is None:
            missing = [g for g in det.group_by if g not in d.group]
            by = ", ".join(det.group_by)
            return out("group", f"gives no {', '.join(missing) or 'source'}: {det.id} groups by {by}")
        key = _key(det.id, group)
        t = d.fired_at.timestamp()
        source = d.evidence[0].source if d.evidence else d.rule
        for ri, _r in fitting:
            self.seen.setdefault(key, []).append((t, ri, source, d.id, None, source, "asserted"))

        def taken(kind: str, reason: str, alert: Detection | None = None) -> DetectionCheck:
            return out(kind, f"is taken; {reason}")

        check: DetectionCheck = self._why_quiet(det, key, group, t, fitting[0][0], taken)
        return check

    def _no_input(self, checks: list[DetectionCheck], fired: list[Detection]) -> list[DetectionCheck]:
        """Of a detection over detections asked for (--id), on a document whose signals its inputs judged: none of
        them fired here, so it had nothing to take (each input's own line says why)."""
        out: list[DetectionCheck] = []
        rules = {d.rule for d in fired}
        for det_id, inputs in self.inputs.items():
            if det_id in rules or any(c.detection == det_id for c in checks):
                continue  # it fired, or said why not of an input alert or a signal of its own
            kinds: dict[str, list[str]] = {}
            for c in checks:
                if c.detection in inputs and c.kind not in kinds.setdefault(c.detection, []):
                    kinds[c.detection].append(c.kind)
            judged = [f"{i} ({', '.join(k)})" for i, k in kinds.items()]
            if judged:
                det = next(x for x in self.rules.detections if x.id == det_id)
                direct = ", ".join(dict.fromkeys(r.detection for r in det.refs if r.detection is not None))
                why = f"no alert of {direct} on this document to take; its inputs here: {', '.join(judged)}"
                out.append(DetectionCheck(det_id, "", -1, False, "input", why))
        return out

    def _once_per_alert(
        self, made: list[tuple[DetectionCheck, Signal]], fired: list[Detection]
    ) -> list[DetectionCheck]:
        """One alert, one "fired": when several signals of a document (two sentences saying it) lead to the same
        alert, the one its evidence cites first says fired (else the first), and each other says why it raised
        nothing of its own: the group had just alerted on that one, and is quiet for `realert` unless more severe
        (cited as evidence of that alert too, when it is)."""
        by_id = {d.id: d for d in fired}
        firsts: dict[str, tuple[DetectionCheck, Signal]] = {}
        for check, sig in made:
            d = by_id.get(str(check.alert["id"])) if check.alert is not None and check.fired else None
            if d is None:
                continue
            chosen = firsts.get(d.id)
            if chosen is None or (not _cites(d, chosen[1]) and _cites(d, sig)):
                firsts[d.id] = (check, sig)
        out: list[DetectionCheck] = []
        for check, sig in made:
            d = by_id.get(str(check.alert["id"])) if check.alert is not None and check.fired else None
            if d is None or firsts[d.id][0] is check:
                out.append(check)
                continue
            first = firsts[d.id][0]
            det = next(x for x in self.rules.detections if x.id == check.detection)
            where = f" for {', '.join(f'{k}={v}' for k, v in d.group.items())}" if d.group else ""
            on = f"sentence {first.sentence_index}'s {first.signal}" if first.sentence_index >= 0 else first.signal
            cited = " (this signal is cited in it as evidence)" if _cites(d, sig) else ""
            realert = det.realert.total_seconds()
            until = _when(d.fired_at.timestamp() + realert)
            here = f"sentence {check.sentence_index}'s {check.signal}" if check.sentence_index >= 0 else "this signal"
            why = (
                f"{here}: the same alert as {on} of this document, on which {check.detection}{where} fired{cited}; "
                f"quiet for {format_duration(det.realert)} (until {until}) unless more severe"
            )
            out.append(DetectionCheck(check.detection, check.signal, check.sentence_index, False, "realert", why, None))
        return out

    def finish(self, until: datetime | None = None) -> list[DetectionCheck]:
        """Absences whose window is still open at the end of the stream: a backtest of these documents ends there
        (event time at the last report) and does not raise them; each says when it would fire, and why not yet.
        With `until`, event time moves to it first (as a quiet live system's would) and what fires is fired."""
        wm = self.state.get("wm")
        if wm is None:
            return []
        if until is not None:
            self.state, outs = self.engine.advance(self.state, until)
            return [
                DetectionCheck(d.rule, "", -1, True, "fired", f"its window closed by {until.isoformat()}", _alert(d))
                for d in outs
                if isinstance(d, Detection) and (self.only is None or d.rule in self.only)
            ]
        # What would fire if event time went on, worked out on a copy: the stream itself ends here.
        lateness = self.rules.lateness
        later = datetime.fromtimestamp(wm, UTC) + lateness + timedelta(days=3650)
        _state, outs = self.engine.advance(copy.deepcopy(self.state), later)
        closed = datetime.fromtimestamp(wm, UTC) - lateness
        return [
            DetectionCheck(
                d.rule,
                "",
                -1,
                False,
                "absence",
                f"window still open at the end of the stream: it would fire at {d.fired_at.isoformat()} unless its "
                f"follow-up comes, but event time (the newest report minus the lateness, {format_duration(lateness)}) "
                f"only reached {closed.isoformat()}; a backtest of these documents does not raise it (a report dated "
                f"after {(d.fired_at + lateness).isoformat()} would close it)",
                _alert(d),
            )
            for d in outs
            if isinstance(d, Detection) and (self.only is None or d.rule in self.only)
        ]

    def _unshown(self, det: CompiledDetection, d: Detection, key: str) -> tuple[str, ...]:
        """The reports `d` rests on beyond those it shows (() when it shows them all or they are not found):
        among the documents this record saw the detection take for the group, the set whose hash is the
        alert's id (its id hashes the rule, the group and every report), so exactly the engine's, never a
        guess. Tried: contiguous runs in time order, then the shown ones with a bounded number of others."""
        total = d.evidence_total
        if total <= len(d.evidence):
            return ()
        within = det.within.total_seconds() if det.within else 0.0
        c = det.definition.corroborate
        horizon = max(within, c.within.total_seconds() if c is not None else 0.0)
        at = d.fired_at.timestamp()
        seen = self.seen.get(key, [])
        cached = self._unshown_cache.get(d.id)
        if cached is not None and (cached[0] is not None or cached[1] == len(seen)):
            return cached[0] or ()  # found once is found; not found is tried again when the record grew
        pool = sorted((s[0], s[3]) for s in seen if not horizon or abs(s[0] - at) <= horizon)
        gkey = "|".join(f"{k}={v}" for k, v in d.group.items()) if d.group else ""
        shown = [e.event_id for e in d.evidence]
        found = self._find(d.rule, gkey, d.id, shown, total, [doc for _t, doc in pool], _MAX_TRIES)
        must = set(shown)
        unshown = tuple(x for x in found if x not in must) if found is not None else None
        self._unshown_cache[d.id] = (unshown, len(seen))
        return unshown or ()

    def _capture_miss(self, sig: Signal, cname: str) -> str:
        """Why the signal has no value for a capture (explain.capture_miss), once per signal and capture: every
        detection that groups or filters by it says the same."""
        key = (sig.id, cname)
        if self._miss_cache[0] != key:
            self._miss_cache = (key, capture_miss(self.rules, self.engine.extractor, sig, cname))
        return self._miss_cache[1]

    # -- one detection, one signal ---------------------------------------------------------------------
    def _check(
        self, det: CompiledDetection, sig: Signal, fired: list[Detection], late: list[DeadLetter]
    ) -> DetectionCheck:
        def out(kind: str, reason: str, alert: Detection | None = None) -> DetectionCheck:
            return DetectionCheck(
                det.id, sig.name, sig.sentence_index, alert is not None, kind, reason, _alert(alert) if alert else None
            )

        refs = [(i, r) for i, r in enumerate(det.refs) if r.signal == sig.name]
        fitting = [(i, r) for i, r in refs if sig.modality in r.modalities]
        if not fitting:
            takes = ", ".join(sorted(refs[0][1].modalities)) if refs else "?"
            cue = f" (cue {sig.cue!r})" if sig.cue else ""
            return out("modality", f"the signal is {sig.modality}{cue}; {det.id} takes {takes}")
        kept = [(i, r) for i, r in fitting if not (r.except_cues and cue_excepted(r.except_cues, sig.cue))]
        if not kept:
            names = ", ".join(" ".join(p) for p in fitting[0][1].except_cues)
            return out("modality", f"the signal is {sig.modality} by cue {sig.cue!r}, which {det.id} excepts ({names})")
        fitting = kept
        fitting = [(i, r) for i, r in fitting if all(sig.captures.get(k) == v for k, v in r.where)]
        if not fitting:
            wants = " or ".join(", ".join(f"{k}={v}" for k, v in r.where) for _i, r in refs)
            # A capture the sentence has no value for: whether it names none of its entities, or the grammar
            # took none of those it names, and why ("the agent of another verb").
            lacking = [k for k in dict.fromkeys(k for _i, r in refs for k, _v in r.where) if k not in sig.captures]
            if lacking:
                return out(
                    "capture",
                    f"{det.id} needs {wants}; {self._capture_miss(sig, lacking[0])}",
                )
            got = ", ".join(f"{k}={v}" for k, v in sig.captures.items())
            return out("capture", f"{det.id} needs {wants}; the sentence gives {got}")
        group = group_of(det, sig)
        if group is None:
            missing = [g for g in det.group_by if g != "source" and g not in sig.captures]
            why = self._capture_miss(sig, missing[0])
            return out("group", f"{det.id} groups by {', '.join(det.group_by)}; {why}")
        doc = sig.document_id
        key = _key(det.id, group)
        t = sig.published_at.timestamp()
        for dl in late:  # dated in the future: counted at its receive time
            arrived = received_time(dl)
            if arrived is not None and arrived[0] == doc:
                t = arrived[1]
        for ri, _r in fitting:
            seen = (t, ri, sig.feed or sig.source, doc, sig.story, sig.source, sig.modality)
            self.seen.setdefault(key, []).append(seen)
        # An alert cites the document when one of the reports it rests on is it: also beyond the ten it shows
        # (a late report completing a count of twelve sits among the reports in time order, not shown).
        mine = [
            d
            for d in fired
            if d.rule == det.id
            and d.group == group
            and (any(e.event_id == doc for e in d.evidence) or doc in self._unshown(det, d, key))
        ]
        if mine:
            best = max(mine, key=lambda d: SEVERITY_RANK[d.severity])
            return out("fired", "fired", best)
        # A late document is still correlated, against the state still held: said so when nothing fired.
        late_here = [dl.reason for dl in late if dl.reason.startswith(f"late: document {doc} ")]
        if late_here:
            return out("late", late_here[0])
        check: DetectionCheck = self._why_quiet(det, key, group, t, fitting[0][0], out)
        return check

    def _why_quiet(
        self,
        det: CompiledDetection,
        key: str,
        group: dict[str, str],
        t: float,
        ri: int,
        out: Callable[..., DetectionCheck],
    ) -> DetectionCheck:
        d = det.definition
        within = det.within.total_seconds() if det.within else 0.0
        seen = self.seen.get(key, [])
        where = f" for {', '.join(f'{k}={v}' for k, v in group.items())}" if group else ""
        last = self.fired.get(key)
        realert = det.realert.total_seconds()
        throttled = last is not None and abs(t - last[0]) < realert
        if det.kind == "any" and d.corroborate is None:
            if throttled and last is not None:
                return out(
                    "realert",
                    f"{det.id}{where} alerted at {_when(last[0])}; quiet for "
                    f"{format_duration(det.realert)} (until {_when(last[0] + realert)})",
                )
            return out("realert", f"{det.id}{where} did not fire again")
        if d.corroborate is not None:
            c = d.corroborate
            cw = c.within.total_seconds()
            within_cw = [s for s in seen if abs(s[0] - t) <= cw]
            near = [s for s in within_cw if s[6] in det.corroborating]
            # Reports the pattern took that do not count toward confirmation (hedged ones, by default): said
            left = sorted({s[6] for s in within_cw if s[6] not in det.corroborating})
            copies = (
                f" ({plural.counted(len(within_cw) - len(near), '/'.join(left) + ' report')} not counted: corroborate "
                f"counts {', '.join(sorted(det.corroborating))} ones)"
                if left
                else ""
            )
            if c.distinct == "source":
                # As the correlator counts them (in time order, as its window holds them): a copy counts with its
                # story's first report, and an outlet for each story it told first.
                ordered = sorted(near, key=lambda s: (s[0], s[3]))
                groups = report_groups([(s[2], s[4], s[5]) for s in ordered])
                n = len(set(groups))
                merged = len({s[2] for s in near}) - n
                if merged:
                    copies += (
                        " (1 outlet carried only a copy of another's story: counted with it)"
                        if merged == 1
                        else f" ({merged} outlets carried only copies of others' stories: counted with them)"
                    )
            else:
                n = len({s[3] for s in near})
            # Met, it says so with the count and what is needed ("6 of 2 distinct sources" read oddly: trial 17, L4)
            within_text = f"within {format_duration(c.within)}{copies}"
            extra = (
                f"; corroboration: met ({n} distinct {c.distinct}s {within_text}, {c.at_least} needed; then "
                f"{c.severity}, confirmed)"
                if n >= c.at_least
                else f"; corroboration: {n} of {c.at_least} distinct {c.distinct}s {within_text} (then {c.severity}, "
                "confirmed)"
            )
            if throttled and last is not None:
                if n >= c.at_least or last[1] >= SEVERITY_RANK[c.severity]:
                    # Nothing more severe can come of this report: its corroboration is met ('5 of 2', so the
                    # group's alert is already at the raised severity) or the group already alerted at it. The
                    # throttle held it back, not a short corroboration: `realert` is the setting to look at.
                    return out(
                        "realert",
                        f"{det.id}{where} alerted at {_when(last[0])} ({_SEVERITY_NAME[last[1]]}); quiet for "
                        f"{format_duration(det.realert)} (until {_when(last[0] + realert)}) unless more "
                        f"severe{extra}",
                    )
                return out(
                    "corroboration",
                    f"{det.id}{where} alerted at {_when(last[0])}, quiet for "
                    f"{format_duration(det.realert)} unless more severe{extra}",
                )
        else:
            extra = ""
        if det.kind == "count":
            cp = d.pattern.count
            assert cp is not None
            pick = 2 if cp.distinct == "source" else 3 if cp.distinct == "document" else None
            inside = [s for s in seen if abs(s[0] - t) <= within]
            n = len({s[pick] for s in inside}) if pick is not None else len(inside)
            what = f"distinct {cp.distinct}s" if cp.distinct else "signals"
            counted = (
                f"{n} of {cp.at_least} {what} within {format_duration(det.within)}{extra}"
                if det.within
                else f"{n} of {cp.at_least}{extra}"
            )
            if n >= cp.at_least and throttled and last is not None:
                # It had its reports: the throttle held it back, not a short count ('13 of 12 …').
                return out(
                    "realert",
                    f"{det.id}{where} alerted at {_when(last[0])}; quiet for {format_duration(det.realert)} "
                    f"(until {_when(last[0] + realert)}), though it had {counted}",
                )
            return out("count", counted)
        if det.kind == "all_of":
            have = {s[1] for s in seen if abs(s[0] - t) <= within}
            missing = [_ref_text(r) for i, r in enumerate(det.refs) if i not in have]
            if missing:
                return out(
                    "all_of",
                    f"waiting for {', '.join(missing)} within {format_duration(det.within)}"
                    if det.within
                    else f"waiting for {', '.join(missing)}",
                )
        if det.kind == "sequence":
            # (a step of the same time counts as before: patterns.sequence_evidence)
            before = [i for i in range(ri) if not any(s[1] == i and t - within <= s[0] <= t for s in seen)]
            if before:
                return out(
                    "sequence",
                    f"{_ref_text(det.refs[before[-1]])} must come first, within "
                    f"{format_duration(det.within) if det.within else '-'}",
                )
            if ri < len(det.refs) - 1:
                return out("sequence", f"waiting for {', '.join(_ref_text(r) for r in det.refs[ri + 1 :])} to follow")
            # The last step, its predecessors seen before it: the sequence is complete here. Only the throttle
            # (correlate.point: a group that alerted within `realert`, at this severity or higher) held it
            # back; there is nothing left to wait for (the list of refs after the last one is empty).
            steps = " then ".join(_ref_text(r) for r in det.refs)
            if throttled and last is not None:
                return out(
                    "realert",
                    f"{det.id}{where} alerted at {_when(last[0])}; quiet for {format_duration(det.realert)} "
                    f"(until {_when(last[0] + realert)}), though it had {steps}"
                    + (f" within {format_duration(det.within)}" if det.within else ""),
                )
            return out(
                "sequence",
                f"{steps} not in order within {format_duration(det.within) if det.within else '-'}",
            )
        if det.kind == "absence":
            if ri == 0:
                return out(
                    "absence",
                    f"fires at {_when(t + within)} unless {_ref_text(det.refs[1])} follows "
                    f"(once event time passes it by the lateness)",
                )
            return out("absence", f"answers {_ref_text(det.refs[0])}: an open absence{where} is closed")
        if throttled and last is not None:
            return out(
                "realert",
                f"{det.id}{where} alerted at {_when(last[0])}; quiet for "
                f"{format_duration(det.realert)} unless more severe{extra}",
            )
        return out(det.kind, f"did not fire{extra}")


def explain_documents(
    engine: Engine, docs: Iterable[Document], *, only: set[str] | None = None
) -> tuple[list[DocumentExplanation], list[DetectionCheck]]:
    """Explain documents in event-time order (as a backtest replays them), then the end of the stream."""
    ex = Explainer(engine, only=only)
    ordered = sorted(docs, key=lambda d: (d.published_at, d.id))
    out = [ex.document(d) for d in ordered]
    return out, ex.finish()


@dataclass
class CorpusSummary:
    """What `explain_corpus` read, by count: documents read, explained (a signal could match, one was made, or a
    detection said something on it), those no signal can match (the engine's screen); the signals made per
    name; per detection, how often it fired and how often it was held back, by reason (DetectionCheck.kind);
    the absences still open at the end of the stream. `inputs`: per detection over detections asked for, its input
    detections (transitively), whose signals `signals` counts (Explainer.inputs)."""

    read: int = 0
    explained: int = 0
    cannot_match: int = 0
    signals: dict[str, int] = field(default_factory=dict)
    fired: dict[str, int] = field(default_factory=dict)
    held_back: dict[str, dict[str, int]] = field(default_factory=dict)
    still_open: dict[str, int] = field(default_factory=dict)
    near_misses: bool = False  # whether near misses were explained too (explain_corpus's `near`)
    inputs: dict[str, list[str]] = field(default_factory=dict)

    def add(self, exp: DocumentExplanation, made: list[str]) -> None:
        for name in made:
            self.signals[name] = self.signals.get(name, 0) + 1
        self._checks(exp.detections)

    def _checks(self, checks: Iterable[DetectionCheck]) -> None:
        for c in checks:
            if c.fired:
                self.fired[c.detection] = self.fired.get(c.detection, 0) + 1
            else:
                kinds = self.held_back.setdefault(c.detection, {})
                kinds[c.kind] = kinds.get(c.kind, 0) + 1

    def closing(self, checks: Iterable[DetectionCheck]) -> None:
        for c in checks:
            if c.fired:  # (finish(until): fired as event time moved on)
                self.fired[c.detection] = self.fired.get(c.detection, 0) + 1
            else:
                self.still_open[c.detection] = self.still_open.get(c.detection, 0) + 1

    def to_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "explained": self.explained,
            "cannot_match": self.cannot_match,
            "signals": dict(sorted(self.signals.items())),
            "fired": dict(sorted(self.fired.items())),
            "held_back": {d: dict(sorted(k.items())) for d, k in sorted(self.held_back.items())},
            "still_open": dict(sorted(self.still_open.items())),
            "near_misses": self.near_misses,
            "inputs": {d: list(i) for d, i in sorted(self.inputs.items())},
        }


def event_time_order(items: Iterable[Document | CheckedInput]) -> list[Document | CheckedInput]:
    """Inputs by publication time, then document id, as explain_documents orders documents (a backtest without
    a receive time too). A checked input is not built for it: its id is worked out where times tie."""
    keyed = sorted(
        ((x.ts if isinstance(x, CheckedInput) else x.published_at.timestamp(), x) for x in items),
        key=lambda p: p[0],
    )
    out = [x for _t, x in keyed]
    i, n = 0, len(keyed)
    while i < n:
        j = i + 1
        while j < n and keyed[j][0] == keyed[i][0]:
            j += 1
        if j - i > 1:
            out[i:j] = sorted(out[i:j], key=_document_id)
        i = j
    return out


def _document_id(x: Document | CheckedInput) -> str:
    return x.document_id() if isinstance(x, CheckedInput) else x.id


def explain_corpus(
    engine: Engine,
    items: Iterable[Document | CheckedInput],
    *,
    only: set[str] | None = None,
    every: bool = False,
    screen: bool = True,
    detail: int | None = None,
    near: bool = False,
    on_item: Callable[[int], None] | None = None,
    documents: Collection[str] | None = None,
) -> tuple[list[DocumentExplanation], list[DetectionCheck], CorpusSummary]:
    """Explain a corpus in event-time order (Explainer.step): the documents with something to say of (all of
    them with `every`), the end of the stream, and a summary of it all. With `screen`, the documents no signal
    can match cost what they cost the engine. `detail`: how many explanations to keep (in full, with their
    sentences), None: all; past it documents are still run and counted, not explained. `on_item(n)`: n more
    inputs read (a progress bar). `near`: the near misses the screen turns away are explained too (Explainer.step;
    each costs a full explanation: for small corpora). `documents`: ids of the documents to explain, in full
    whatever they made (a backtest's missed item); every other document is still run, in order, for what the
    detections keep of it (windows, realert), and counted in the summary, not shown."""
    ex = Explainer(engine, only=only)
    summary = CorpusSummary(near_misses=near, inputs=ex.inputs)
    out: list[DocumentExplanation] = []
    for item in event_time_order(items):
        keep = detail is None or len(out) < detail
        chosen = every
        if documents is not None:
            item = item if isinstance(item, Document) else item.build()
            chosen = item.id in documents
            keep = keep and chosen
        exp = ex.step(item, screen=screen, detail=keep, every=chosen, near=near and (documents is None or chosen))
        summary.read += 1
        if on_item is not None and not summary.read % 1000:
            on_item(1000)  # (a thousand at a time: a progress bar's call costs more than a screened document)
        if exp is None:
            summary.cannot_match += 1
            continue
        if not exp.may_match:
            summary.cannot_match += 1
        summary.explained += 1
        summary.add(exp, ex.made(exp))
        if keep:
            out.append(exp)
    if on_item is not None and summary.read % 1000:
        on_item(summary.read % 1000)
    closing = ex.finish()
    summary.closing(closing)
    return out, closing, summary
