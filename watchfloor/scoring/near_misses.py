"""Near misses: signals that no alert cites, each with why, as far as the engine's outputs and the rules say.

Signal level: the modality and the cue that decided it (a hedged "could sign" is not an asserted signing),
a capture a detection requires, a group the sentence cannot name, lateness (the correlator's dead letter).
Detection level, read from the rules and the alerts of the run: a throttle (`realert`: the group alerted
shortly before), a count not reached within its window, parts of an all_of/sequence missing from the window,
an absence that was answered. The collector sees the replay's outputs as they come and keeps a bounded
number of candidates (`limit`), so a long backtest does not keep every signal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from watchfloor.schemas.events import DeadLetter, Detection, Signal
from watchfloor.schemas.rules import format_duration
from watchfloor.stream_processors.engine import CompiledRules
from watchfloor.stream_processors.engine.compiler import CompiledDetection, CompiledRef

REASON_KINDS = (
    "modality",
    "capture",
    "group",
    "lateness",
    "realert",
    "corroboration",
    "count",
    "window",
    "absence",
    "unused",
)


@dataclass(frozen=True)
class Reason:
    kind: str  # one of REASON_KINDS
    detail: str
    detection: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"detection": self.detection, "kind": self.kind, "detail": self.detail}


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


@dataclass(frozen=True)
class _Seen:
    """A signal a detection accepted (modality, captures and group all fit): what its window counts."""

    t: float
    ref: int
    source: str
    document: str


def _ref_problem(det: CompiledDetection, ref: CompiledRef, sig: Signal) -> Reason | None:
    if sig.modality not in ref.modalities:
        cue = f" (cue “{sig.cue}”)" if sig.cue else ""
        takes = ", ".join(sorted(ref.modalities))
        return Reason("modality", f"{sig.modality}{cue}; {det.id} takes {takes} only", det.id)
    for k, v in ref.where:
        if sig.captures.get(k) != v:
            got = sig.captures.get(k) or "nothing"
            return Reason("capture", f"{det.id} needs {k}={v}; the sentence gives {got}", det.id)
    return None


def _group(det: CompiledDetection, sig: Signal) -> dict[str, str] | None:
    out: dict[str, str] = {}
    for g in det.group_by:
        value = sig.source if g == "source" else sig.captures.get(g)
        if value is None:
            return None
        out[g] = value
    return out


def _group_text(group: dict[str, str]) -> str:
    return (" for " + ", ".join(f"{k}={v}" for k, v in group.items())) if group else ""


class NearMissCollector:
    """Feed it every replay output (`on_output`); ask `near_misses()` at the end."""

    def __init__(self, rules: CompiledRules, *, limit: int = 20_000) -> None:
        self.rules = rules
        self.limit = limit
        self._candidates: dict[tuple[str, str, int], Signal] = {}
        self._late: dict[tuple[str, str, int], str] = {}
        self._cited: set[tuple[str, str]] = set()  # (document id, signal name) in some alert's evidence
        self._alerts: dict[tuple[str, tuple[tuple[str, str], ...]], list[Detection]] = {}
        self._accepted: dict[tuple[str, tuple[tuple[str, str], ...]], list[_Seen]] = {}
        self._last: Signal | None = None
        self.dropped = 0  # candidates not kept once `limit` was reached

    def on_output(self, o: Signal | Detection | DeadLetter) -> None:
        if isinstance(o, Signal):
            self._last = o
            key = (o.document_id, o.name, o.sentence_index)
            if len(self._candidates) < self.limit:
                self._candidates[key] = o
            else:
                self.dropped += 1
            self._note_accepted(o)
        elif isinstance(o, Detection):
            self._alerts.setdefault((o.rule, tuple(sorted(o.group.items()))), []).append(o)
            for e in o.evidence:
                self._cited.add((e.event_id, e.signal))
        elif o.stage == "correlate" and self._last is not None and o.origin == f"document:{self._last.document_id}":
            last = self._last
            self._late[(last.document_id, last.name, last.sentence_index)] = o.reason

    def _note_accepted(self, sig: Signal) -> None:
        t = sig.published_at.timestamp()
        for det in self.rules.detections_by_signal.get(sig.name, ()):
            if det.kind == "any" and det.definition.corroborate is None:
                continue  # a plain `any` needs no window history to explain
            for ri, ref in enumerate(det.refs):
                if ref.signal == sig.name and _ref_problem(det, ref, sig) is None:
                    group = _group(det, sig)
                    if group is not None:
                        seen = self._accepted.setdefault((det.id, tuple(sorted(group.items()))), [])
                        if len(seen) < self.limit:
                            seen.append(_Seen(t, ri, sig.source, sig.document_id))

    def near_misses(self) -> list[NearMiss]:
        out: list[NearMiss] = []
        for key, sig in self._candidates.items():
            if (sig.document_id, sig.name) in self._cited:
                continue
            late = self._late.get(key)
            reasons = [Reason("lateness", late)] if late is not None else self.explain(sig)
            out.append(NearMiss(sig, reasons))
        out.sort(key=lambda m: (m.signal.published_at, m.signal.document_id, m.signal.name))
        return out

    # -- why a signal made no alert --------------------------------------------------------------
    def explain(self, sig: Signal) -> list[Reason]:
        dets = self.rules.detections_by_signal.get(sig.name, ())
        if not dets:
            return [Reason("unused", f"no detection uses the signal {sig.name!r}")]
        reasons: list[Reason] = []
        for det in dets:
            refs = [(ri, ref) for ri, ref in enumerate(det.refs) if ref.signal == sig.name]
            problems = [_ref_problem(det, ref, sig) for _ri, ref in refs]
            fitting = [ri for (ri, _ref), p in zip(refs, problems, strict=True) if p is None]
            if not fitting:
                reasons.append(next(p for p in problems if p is not None))
                continue
            group = _group(det, sig)
            if group is None:
                missing = [g for g in det.group_by if g != "source" and g not in sig.captures]
                reasons.append(
                    Reason("group", f"{det.id} groups by {', '.join(missing)}; the sentence names none", det.id)
                )
                continue
            reasons.append(self._detection_reason(det, group, fitting[0], sig))
        return reasons

    def _detection_reason(self, det: CompiledDetection, group: dict[str, str], ri: int, sig: Signal) -> Reason:
        gkey = (det.id, tuple(sorted(group.items())))
        t = sig.published_at.timestamp()
        realert = det.realert.total_seconds()
        earlier = [a for a in self._alerts.get(gkey, ()) if abs(a.fired_at.timestamp() - t) < realert]
        within = det.within.total_seconds() if det.within else 0.0
        w = format_duration(det.within) if det.within else ""
        if det.kind == "absence":
            if ri == 1:
                return Reason("absence", f"answers {det.id}: the follow-up that cancels its alert", det.id)
            later = [s for s in self._accepted.get(gkey, ()) if s.ref == 1 and t <= s.t <= t + within]
            if later:
                return Reason("absence", f"{det.refs[1].signal} followed within {w}: {det.id} stays silent", det.id)
            return Reason("window", f"{det.id}'s {w} window had not closed when the replay ended", det.id)
        if earlier and det.definition.corroborate is not None:
            corr = det.definition.corroborate
            cw = corr.within.total_seconds()
            near = [s for s in self._accepted.get(gkey, ()) if abs(s.t - t) <= cw]
            distinct = sorted({s.source if corr.distinct == "source" else s.document for s in near})
            if len(distinct) < corr.at_least:
                what = "sources" if corr.distinct == "source" else "documents"
                return Reason(
                    "corroboration",
                    f"{det.id} stays unconfirmed: it needs {corr.at_least} distinct {what} within "
                    f"{format_duration(corr.within)} and has {len(distinct)} ({', '.join(distinct)}); "
                    f"another report from them is throttled by realert {format_duration(det.realert)}",
                    det.id,
                )
        if earlier:
            a = min(earlier, key=lambda a: abs(a.fired_at.timestamp() - t))
            return Reason(
                "realert",
                f"{det.id} alerted{_group_text(group)} at {_when(a.fired_at)}; quiet for "
                f"{format_duration(det.realert)} unless more severe",
                det.id,
            )
        seen = [s for s in self._accepted.get(gkey, ()) if t - within <= s.t <= t + within]
        if det.kind == "count":
            cp = det.definition.pattern.count
            assert cp is not None
            if cp.distinct == "source":
                n, what = len({s.source for s in seen}), "distinct sources"
            elif cp.distinct == "document":
                n, what = len({s.document for s in seen}), "distinct documents"
            else:
                n, what = len(seen), "signals"
            return Reason("count", f"{det.id}: {n} of {cp.at_least} {what} within {w}", det.id)
        if det.kind in ("all_of", "sequence"):
            have = {s.ref for s in seen}
            missing = [det.refs[k].signal for k in range(len(det.refs)) if k not in have]
            if missing:
                return Reason("window", f"{det.id}: no {', '.join(missing)} within {w} of it", det.id)
            return Reason("window", f"{det.id}: its parts were not in order within {w}", det.id)
        return Reason("realert", f"{det.id}: throttled or superseded by a nearby alert", det.id)


def _when(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M %z")


def near_misses_json(misses: Iterable[NearMiss], limit: int) -> list[dict[str, Any]]:
    return [m.to_json() for m in list(misses)[:limit]]
