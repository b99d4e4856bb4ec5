"""Near misses: signals that no alert cites, each with why, from the replay's own outputs.

The reasons are the rules' explanations (`stream_processors.engine.explain_detections.Explainer`, the same
as `watchfloor rules explain`): for every detection that uses the signal, its modality and the cue that
decided it, a capture or group it lacks, lateness, a `realert` throttle, a count or corroboration short of
its distinct sources within the window, an all_of / sequence part missing, an absence open or answered. A
signal that no detection uses says so. The collector is shown each engine call's outputs as the replay
makes them (no second engine run, no re-extraction) and keeps a bounded number of candidates (`limit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from watchfloor.schemas.events import DeadLetter, Detection, Signal
from watchfloor.stream_processors.engine import CompiledRules, Engine
from watchfloor.stream_processors.engine.explain import DetectionCheck
from watchfloor.stream_processors.engine.explain_detections import Explainer

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


class NearMissCollector:
    """Give it each engine call's outputs (`on_outputs`, replay's hook); ask `near_misses()` at the end."""

    def __init__(self, rules: CompiledRules, *, limit: int = 20_000) -> None:
        self.rules = rules
        self.limit = limit
        self._explainer = Explainer(Engine(rules))  # only its record of what the detections accepted is used
        self._candidates: dict[SignalKey, NearMiss] = {}
        self._cited: set[tuple[str, str]] = set()  # (document id, signal name) in some alert's evidence
        self.dropped = 0  # candidates not kept once `limit` was reached

    def on_outputs(self, outputs: Sequence[Signal | Detection | DeadLetter]) -> None:
        checks = self._explainer.observe(outputs) if self.limit else []
        by_signal: dict[tuple[str, int], list[DetectionCheck]] = {}
        for c in checks:
            by_signal.setdefault((c.signal, c.sentence_index), []).append(c)
        for o in outputs:
            if isinstance(o, Detection):
                for e in o.evidence:
                    self._cited.add((e.event_id, e.signal))
            elif isinstance(o, Signal) and self.limit:
                key = (o.document_id, o.name, o.sentence_index)
                if key in self._candidates:
                    continue
                if len(self._candidates) >= self.limit:
                    self.dropped += 1
                    continue
                mine = by_signal.get((o.name, o.sentence_index), [])
                if any(c.fired for c in mine):
                    continue  # an alert cites it
                reasons = [Reason(c.kind, c.reason, c.detection) for c in mine]
                if not reasons:
                    reasons = [Reason("unused", f"no detection uses the signal {o.name!r}")]
                self._candidates[key] = NearMiss(o, reasons)

    def near_misses(self) -> list[NearMiss]:
        """The candidates no alert ended up citing (a count or sequence may cite a signal later)."""
        out = [m for m in self._candidates.values() if (m.signal.document_id, m.signal.name) not in self._cited]
        out.sort(key=lambda m: (m.signal.published_at, m.signal.document_id, m.signal.name))
        return out
