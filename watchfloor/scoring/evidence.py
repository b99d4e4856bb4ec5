"""Every report an alert rests on, beyond the ten it shows: recovered from the replay's own signals.

A Detection shows at most MAX_EVIDENCE (10) reports and says how many there were (`evidence_total`); its
id hashes the rule, the group and *all* of them (engine/evidence.py build_detection). Scoring must see all
of them: a labelled report among the unshown ones is caught, not missed, and no near miss. This index is
shown every engine call's outputs (the replay's hook, as near misses are): it keeps, per detection that can
rest on more than ten reports (a `count`, a `corroborate`) and group, the documents whose signals the
detection takes, and when an alert shows fewer reports than it rests on, finds the set among them whose
hash is the alert's id. The id decides: a set is only ever taken when it hashes to the id, so what is
recovered is exactly the engine's evidence, never a guess; when no candidate set within the search's
bounds hashes to it, the alert keeps what it shows (`unresolved` counts those).

A detection over detections cites its input alerts (their ids, signal `alert:RULE`), not reports: its reports are
those its input alerts rest on, in turn (resolved as each alert is raised, the inputs coming first), so it is
scored on the reports it was built from (trial 17, H3: it cited the labelled report's alert and was scored false).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from watchfloor.schemas.events import DeadLetter, Detection, Signal
from watchfloor.stream_processors.engine import CompiledRules
from watchfloor.stream_processors.engine.compiled import ALERT, CompiledDetection
from watchfloor.stream_processors.engine.engine import received_time
from watchfloor.stream_processors.engine.explain_detections import find_reports

MAX_TRIES = 20_000
"""Hashes tried per alert at most (combinations of candidates beyond the contiguous runs)."""

MAX_KEPT = 200_000
"""Candidates kept per detection and group at most (a `count` without a window keeps everything)."""


def _group_key(group: dict[str, str]) -> str:
    return "|".join(f"{k}={v}" for k, v in group.items()) if group else ""


class FullEvidence:
    """`observe(outputs)` for each engine call, in order; `ids(detection)` is every report it rests on."""

    def __init__(self, rules: CompiledRules, *, max_kept: int | None = None) -> None:
        self.rules = rules
        # Candidates kept per detection and group: MAX_KEPT unless a test asks fewer (read here, not at import: the
        # CLI test of an unresolved alert, which cannot pass it, lowers MAX_KEPT; tests/unit/test_no_patched_globals)
        self._max_kept = MAX_KEPT if max_kept is None else max_kept
        # the detections whose alerts can rest on more reports than they show
        self._wide: dict[str, CompiledDetection] = {
            d.id: d for d in rules.detections if d.kind == "count" or d.definition.corroborate is not None
        }
        self._horizon: dict[str, float] = {}
        for d in self._wide.values():
            within = d.within.total_seconds() if d.within else 0.0
            c = d.definition.corroborate
            self._horizon[d.id] = max(within, c.within.total_seconds() if c is not None else 0.0)
        self._by_signal: dict[str, list[CompiledDetection]] = {}
        for d in self._wide.values():
            for ref in d.refs:
                if ref.signal in rules.signals:
                    self._by_signal.setdefault(ref.signal, []).append(d)
        # (rule, group key) -> (time, doc id), in arrival (log) order: a deque bounded by MAX_KEPT, whose
        # stale front is popped one at a time, so each signal costs O(1) amortised however busy the group
        self._seen: dict[tuple[str, str], deque[tuple[float, str]]] = {}
        self._ids: dict[str, tuple[str, ...]] = {}  # alert id -> all its reports (only those showing fewer)
        self.unresolved: list[str] = []  # alert ids whose full evidence was not found
        # The rules whose alerts feed a detection over detections: their alerts' reports are kept (by alert id,
        # revised ones too: an input may be replaced after its derived alert was raised) to resolve those.
        self._inputs = {r.detection for d in rules.detections for r in d.refs if r.detection is not None}
        self._input_reports: dict[str, tuple[str, ...]] = {}
        # derived alert id -> the input alerts it cites (for what their realert held back: `repeats_of`)
        self.composed: dict[str, tuple[str, ...]] = {}

    def observe(self, outputs: Sequence[Any]) -> None:
        # A report dated in the future is processed at its receive time (the engine says so with a DeadLetter
        # before its signals): its signals are kept at that time, where the engine counts them.
        received: dict[str, float] = {}
        for o in outputs:
            got = received_time(o) if isinstance(o, DeadLetter) else None
            if got is not None:
                received[got[0]] = got[1]
        for o in outputs:
            if isinstance(o, Signal):
                self._signal(o, received.get(o.document_id))
        for o in outputs:
            if not isinstance(o, Detection):
                continue
            if any(e.signal.startswith(ALERT) for e in o.evidence):
                self._compose(o)
            elif o.evidence_total > len(o.evidence):
                found = self._resolve(o)
                if found is None:
                    self.unresolved.append(o.id)
                else:
                    self._ids[o.id] = found
            if o.rule in self._inputs:
                self._input_reports[o.id] = self.ids(o)

    def ids(self, d: Detection) -> tuple[str, ...]:
        """Every report `d` rests on (its shown evidence when that is all, or when they were not found)."""
        return self._ids.get(d.id) or tuple(e.event_id for e in d.evidence)

    def all_ids(self) -> dict[str, tuple[str, ...]]:
        """Alert id -> every report, for the alerts that show fewer than they rest on and were resolved, and for the
        derived alerts (which cite alerts, not reports)."""
        return dict(self._ids)

    def repeats_of(self, repeats: dict[str, list[str]]) -> dict[str, list[str]]:
        """`repeats` (alert id -> what its realert held back) with, for each derived alert, what its input alerts
        held back besides: repeats of what it told through them (the law's second report, held back by the law
        alert's realert, is covered by the derived alert built on that alert)."""
        out = dict(repeats)
        for alert_id, inputs in self.composed.items():
            held = dict.fromkeys(out.get(alert_id, ()))
            for i in inputs:
                held.update(dict.fromkeys(out.get(i, ())))
            if held:
                out[alert_id] = list(held)
        return out

    # -- internals ------------------------------------------------------------------------------------
    def _compose(self, d: Detection) -> None:
        """A derived alert's reports: its input alerts' (themselves resolved when raised, before it)."""
        reports: dict[str, None] = {}
        inputs: list[str] = []
        for e in d.evidence:
            if e.signal.startswith(ALERT):
                inputs.append(e.event_id)
                # an input not seen (a run that began after it) stands for itself, as before
                reports.update(dict.fromkeys(self._input_reports.get(e.event_id, (e.event_id,))))
            else:
                reports[e.event_id] = None
        self._ids[d.id] = tuple(reports)
        self.composed[d.id] = tuple(inputs)

    def _signal(self, s: Signal, at: float | None = None) -> None:
        for det in self._by_signal.get(s.name, ()):
            if not any(
                r.signal == s.name and s.modality in r.modalities and all(s.captures.get(k) == v for k, v in r.where)
                for r in det.refs
            ):
                continue
            group: dict[str, str] = {}
            for g in det.group_by:
                value = s.source if g == "source" else s.captures.get(g)
                if value is None:
                    break
                group[g] = value
            else:
                t = s.published_at.timestamp() if at is None else at
                key = (det.id, _group_key(group))
                seen = self._seen.get(key)
                if seen is None:
                    seen = self._seen[key] = deque(maxlen=self._max_kept)
                seen.append((t, s.document_id))
                self._prune(det, seen, t)

    def _prune(self, det: CompiledDetection, seen: deque[tuple[float, str]], t: float) -> None:
        # max_kept (MAX_KEPT) is the deque's maxlen (the oldest arrival drops out as a new one comes in). Within a
        # window, the stale front is popped while it is stale: each entry is popped at most once. Inputs
        # come in log order, not time order: a stale entry behind a fresh one waits until it reaches the
        # front (the search filters by time anyway), which bounds nothing but the pool's size.
        if len(seen) < 256:
            return
        horizon = self._horizon[det.id]
        if horizon:
            keep_after = t - 2 * horizon - self.rules.lateness.total_seconds() - 86400.0
            while seen and seen[0][0] < keep_after:
                seen.popleft()

    def _resolve(self, d: Detection) -> tuple[str, ...] | None:
        det = self._wide.get(d.rule)
        if det is None:
            return None
        gkey = _group_key(dict(d.group))
        seen = self._seen.get((d.rule, gkey), ())
        at = d.fired_at.timestamp()
        horizon = self._horizon[d.rule]
        pool = sorted(x for x in seen if not horizon or at - horizon <= x[0] <= at + horizon)
        shown = [e.event_id for e in d.evidence]
        return find_reports(d.rule, gkey, d.id, shown, d.evidence_total, [i for _t, i in pool], MAX_TRIES)
