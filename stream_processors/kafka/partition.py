"""The correlate step of one correlate partition, pure: (state, signal or watermark record) -> detections.

Signals are applied on arrival. Documents are spread over partitions by id, so two signals for one group can
reach the correlate partition in either order; the correlator's result does not depend on it (it keeps each
group's observations in canonical order and revises what a late one changes: engine/correlate.py), so no
signal waits for a watermark and no first alert is delayed by one.

The low watermark -- the minimum over upstream partitions of the newest watermark record each has sent (the
publisher's, which follows the per-origin rule of engine/eventtime.py) -- only closes absence windows and
lets the correlator drop state no on-time signal can affect. A signal is never late here for being behind
another partition: the extract agent reports documents that are late for the publisher's watermark.

State: the correlator's state is more than its groups: its watermark belongs to the stream, not to a group,
and the per-source watermarks and dedup sets are per partition too. The worker keeps it in a Faust table as a
head (all that is partition-wide) and a record per group and per hour of applied ids (``statecodec``); the
head of each batch's write carries the batch's changes, so after recovery state, watermarks and dedup set
always agree, as when the partition was one value.

No Kafka and no Faust here (an import-linter contract keeps it so): the unit tests drive it with every
arrival order (tests/unit/test_partition_correlator.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from watchfloor.schemas.events import DeadLetter, Detection, Event, Retraction, Signal

from ..engine import Engine
from ..engine.compiled import CompiledRules, RuleError
from ..engine.patterns import group_key
from .codec import decode_correction, decode_signal

DONE_MARGIN_S = 86400.0  # keep applied-signal ids this long past the allowed lateness (dedup of re-sends)


def detection_of_group_key(group_key: str) -> str:
    return group_key.split("\x1f", 1)[0]


# Why the distributed worker does not run a detection over detections: its input alerts are correlated in the
# partitions of their own groups, which are not its groups' (`compose` feeds them on within one correlator's state).
NOT_DISTRIBUTED = (
    "the distributed worker does not run detections over detections yet (their input alerts are raised in other "
    "partitions than their own groups)"
)


def not_distributed(rules: CompiledRules) -> list[RuleError]:
    """The detections the distributed worker cannot run (detections over detections), each placed at its detection in
    its pack (`rules check` notes them, `watchfloor worker` refuses them at start with their place: outside trial
    75, F1, where the walkthrough pack ended every worker in a traceback that named neither)."""
    packs = {p.name: i for i, p in enumerate(rules.packs)}
    out: list[RuleError] = []
    for det in rules.detections:
        inputs = sorted({r.detection for r in det.refs if r.detection is not None})
        if not inputs:
            continue
        pi = packs.get(det.pack, 0)
        di = next((i for i, d in enumerate(rules.packs[pi].detections) if d.id == det.id), 0) if rules.packs else 0
        said = ", ".join(repr(i) for i in inputs)
        out.append(
            RuleError(
                ["detections", di],
                f"detection {det.id!r} is over detections (it takes the alerts of {said}): {NOT_DISTRIBUTED}",
                pack=pi,
            )
        )
    return out


class PartitionCorrelator:
    """The correlate step for one partition, as a pure function of (state, record) -> outputs.

    State (plain JSON, the Faust table value): {"cs": correlator state, "src": {upstream partition:
    [watermark, idle]}, "low": low watermark, "seen": {upstream partition: origin of the newest record
    taken}, "done": {signal id|detection id: t}}.

    Duplicates are dropped twice over. Records re-sent by an upstream agent that crashed or lost its
    partition (at least once) repeat an upstream partition's sequence from an earlier point; their origin
    (documents partition, offset, signal index, route index: the ``wf-origin`` header) is then not after
    ``seen`` for that partition, which is exact and costs one entry per upstream partition. A document
    published twice has new offsets: its signals are caught by ``done`` (applied signal ids, kept for the
    allowed lateness plus a day; an older repeat finds its observation still held, or, past that, counts again
    as the late report it is: its detection has the id it had, which the store already holds).

    Idleness is a lease. An upstream partition marked idle keeps counting as idle only while its idle
    markers keep coming (the owner re-sends them as heartbeats); `lease` seconds after the last one it holds
    the watermark back again. So a partition whose worker died is waited for (absences do not close and no
    state is dropped until a new owner catches up) instead of being skipped for good. Lease times live in this object's
    memory, not in the state: a restarted worker trusts no idle marker until it has seen a fresh one.
    `lease=None` (the default, for tests) never expires them."""

    def __init__(
        self,
        engine: Engine,
        upstream_partitions: int,
        *,
        lease: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        refused = not_distributed(engine.rules)
        if refused:  # (the commands say it first, placed in the packs: wiring.worker_engine)
            raise ValueError("; ".join(e.message for e in refused))
        self.engine = engine
        self.correlator = engine.correlator
        self.upstream = upstream_partitions
        self.lateness = self.correlator.lateness
        self.lease = lease
        self.clock = clock
        self._idle_seen: dict[tuple[int, str], float] = {}  # (partition, upstream partition) -> clock()
        self.resent_dropped = 0  # re-sent signals (`produce --resend`) dropped as applied before (on_signal)

    @staticmethod
    def new_state() -> dict[str, Any]:
        return {"cs": Engine.initial_state(), "src": {}, "low": None, "seen": {}, "done": {}}

    def restore(self, st: dict[str, Any]) -> dict[str, Any]:
        """A state read from the table, brought up to this version: the correlator's state (Correlator.restore),
        and signals an older worker buffered until the watermark passed them, applied now."""
        st["cs"] = self.engine.restore(st["cs"])
        for item in sorted(st.pop("buf", ()), key=lambda b: (b[0], b[1], b[2], b[3], b[4])):
            self._apply(st, item)
        return st

    def on_signal(
        self,
        st: dict[str, Any],
        ev: Event,
        origin: Sequence[int] | None = None,
        groups: set[str] | None = None,
        resent: bool = False,
    ) -> list[Detection | Retraction | DeadLetter]:
        """A signal routed to (detection, group) `ev.key`, observed at the envelope's time (its effective
        time: the extract agent clamps future dates); `origin` = (documents partition, offset, ...).

        `groups`, when given, gets the key of every group the signal may have changed. That is the group the
        correlator files it under, worked out from the signal and the rules loaded here, which is not always
        `ev.key`: a record routed by a worker with other rules (a `group_by` edited) names another group,
        and only its detection id is used.

        `resent`: the signal is of a document `produce --resend` sent again (the wf-resent header). One older than
        the applied ids this state still holds (the low watermark minus the lateness and DONE_MARGIN_S) was applied
        here before, when its document was first sent: dropped, and counted in `resent_dropped` (applied again, it
        would revise the alert it raised then, revising nothing). A newer one is dropped by `done` if applied, and
        applied if not. A state that has no watermark yet (lost, or new) takes every one as new."""
        sig = decode_signal(ev)
        if origin is not None and len(origin) >= 2:
            src, pos = str(origin[0]), [int(x) for x in origin[1:]]
            last = st.setdefault("seen", {}).get(src)
            if last is not None and pos <= last:
                return []  # upstream replayed this record (at-least-once): taken already
            st["seen"][src] = pos
        det_id = detection_of_group_key(ev.key or "")
        key = f"{sig.id}|{det_id}"
        if key in st["done"]:
            return []  # a re-sent signal (at-least-once upstream): already applied
        if resent and st["low"] is not None and ev.time.timestamp() < st["low"] - self.lateness - DONE_MARGIN_S:
            self.resent_dropped += 1
            return []
        if groups is not None:
            # The group as the correlator works it out (Correlator.routes for this detection alone: routes() over
            # every detection of the signal, once per record of it, grew with the square of their number).
            det = self.correlator.by_id.get(det_id)
            group = self.correlator._group(det, sig) if det is not None else None
            if group is not None:
                groups.add(group_key(det_id, group))
        return self._apply(st, [ev.time.timestamp(), sig.document_id, sig.name, sig.sentence_index, det_id, sig, key])

    def on_correction(self, st: dict[str, Any], ev: Event) -> list[Detection | Retraction | DeadLetter]:
        """A feed item edited in place (schemas.events.Correction, sent to every partition): what its earlier
        versions said here and the edition contradicts is withdrawn (engine/corrections.py). Applying it again
        (a re-sent record) finds nothing left to withdraw."""
        c = decode_correction(ev)
        said: list[tuple[str, str, dict[str, str]]] = [(s.name, s.modality, dict(s.captures)) for s in c.said]
        return list(self.correlator.on_edition(st["cs"], c.document_id, c.item, said, c.at.timestamp(), c.source))

    def on_watermark(
        self, st: dict[str, Any], ev: Event, partition: int = 0
    ) -> list[Detection | Retraction | DeadLetter]:
        """A watermark from upstream partition ev.payload["partition"], received on `partition`."""
        p = str(int(ev.payload["partition"]))
        t = ev.payload.get("time")
        idle = bool(ev.payload.get("idle"))
        if idle:
            self._idle_seen[(partition, p)] = self.clock()
        prev = st["src"].get(p)
        if prev is not None and prev[0] is not None and (t is None or t < prev[0]):
            t = prev[0]  # a source's watermark never goes back (re-sent or re-started upstream)
        st["src"][p] = [t, idle]
        return self.advance(st, partition)

    def _idle(self, partition: int, p: str, flagged: bool) -> bool:
        if not flagged:
            return False
        if self.lease is None:
            return True
        seen = self._idle_seen.get((partition, p))
        return seen is not None and self.clock() - seen <= self.lease

    def low_watermark(self, st: dict[str, Any], partition: int = 0) -> float | None:
        """Min over active upstream partitions of their watermark; the max when all are idle. Never goes back."""
        srcs: dict[str, list[Any]] = st["src"]
        low: float | None = st["low"]
        if len(srcs) < self.upstream:
            return low  # some upstream partition has not reported yet: wait for it
        active: list[float | None] = [v[0] for p, v in srcs.items() if not self._idle(partition, p, v[1])]
        cand: float | None
        if active:
            cand = None if any(t is None for t in active) else min(t for t in active if t is not None)
        else:
            known = [float(v[0]) for v in srcs.values() if v[0] is not None]
            cand = max(known) if known else None
        if cand is None:
            return low
        return cand if low is None else max(low, cand)

    def advance(self, st: dict[str, Any], partition: int = 0) -> list[Detection | Retraction | DeadLetter]:
        low = self.low_watermark(st, partition)
        if low is None:
            return []
        st["low"] = low
        out: list[Detection | Retraction | DeadLetter] = list(self.correlator.advance_to(st["cs"], low))
        horizon = low - self.lateness - DONE_MARGIN_S
        if any(v < horizon for v in st["done"].values()):
            st["done"] = {k: v for k, v in st["done"].items() if v >= horizon}
        return out

    def _apply(self, st: dict[str, Any], item: list[Any]) -> list[Detection | Retraction | DeadLetter]:
        t, _doc, _name, _idx, det_id, sig, key = item
        if not isinstance(sig, Signal):
            sig = Signal.model_validate(sig)
        st["done"][key] = t
        return list(self.correlator.on_signal(st["cs"], sig, only=det_id, at=t))
