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
from datetime import UTC, datetime
from typing import Any

from watchfloor.schemas.events import DeadLetter, Detection, Event, EventType, Retraction, Signal

from ..engine import Engine
from ..engine.compiled import ALERT, CompiledRules, RuleError
from ..engine.compose import feed, group_of_alert
from ..engine.correlate import Correlator
from ..engine.patterns import group_key
from .codec import Rejected, decode_alert_change, decode_correction, decode_signal

DONE_MARGIN_S = 86400.0  # keep applied-signal ids this long past the allowed lateness (dedup of re-sends)


def detection_of_group_key(group_key: str) -> str:
    return group_key.split("\x1f", 1)[0]


NEEDS_PARTITIONS = (
    "rules with detections over detections need the number of correlate partitions (their input alerts are raised "
    "in other partitions than their own groups: they are sent to them)"
)
# Why the distributed workers do not run a detection over an absence's alerts or over another detection over
# detections: such an input alert is raised when a partition's watermark passes (a sweep), or in a partition that
# got it from a third one, and the forwarded watermark (to_forward) bounds neither: the derived group's partition may
# have swept past its time when it arrives, and its alerts would differ from the embedded runner's.
NOT_DISTRIBUTED = (
    "the distributed workers run detections over detections, but not over an absence's alerts or over another "
    "detection over detections (such an input alert can reach the derived group's partition after its watermark "
    "passed the alert's time, and the alerts would differ from `watchfloor run`'s)"
)


def not_distributed(rules: CompiledRules) -> list[RuleError]:
    """The detections the distributed workers cannot run exactly (over an absence's alerts, or over another detection
    over detections), each placed at its detection in its pack (`rules check` notes them, `watchfloor worker` and
    `replay-workers` refuse them at start with their place)."""
    by_id = {d.id: d for d in rules.detections}
    packs = {p.name: i for i, p in enumerate(rules.packs)}
    out: list[RuleError] = []
    for det in rules.detections:
        inputs = sorted({r.detection for r in det.refs if r.detection is not None})
        bad = [
            i
            for i in inputs
            if i in by_id and (by_id[i].kind == "absence" or any(r.detection is not None for r in by_id[i].refs))
        ]
        if not bad:
            continue
        pi = packs.get(det.pack, 0)
        di = next((i for i, d in enumerate(rules.packs[pi].detections) if d.id == det.id), 0) if rules.packs else 0
        said = ", ".join(repr(i) for i in bad)
        out.append(
            RuleError(
                ["detections", di],
                f"detection {det.id!r} is over detections (it takes the alerts of {said}): {NOT_DISTRIBUTED}",
                pack=pi,
            )
        )
    return out


ALERT_CHANGES = (EventType.DETECTION.value, EventType.RETRACTION.value)  # on the correlate topic: to derived groups
FROM_CORRELATE = "c"  # a correlate partition upstream of another: its "seen" and "src" keys are "c<partition>"


def forwarded_watermark(partition: int, t: float) -> Event:
    """How far the documents partitions' watermarks correlate partition `partition` has applied go (`t`), told to every
    correlate partition: the alert changes it raised before this record are all on their way (one producer keeps its
    order per partition)."""
    return Event(
        id=f"wm-{FROM_CORRELATE}{partition}-{t}",
        type=EventType.WATERMARK.value,
        time=datetime.fromtimestamp(t, UTC),
        payload={"partition": partition, "time": t, "idle": False, "correlate": True},
    )


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
    `lease=None` (the default, for tests) never expires them.

    Detections over detections (`correlate_partitions`, the number of correlate partitions; None refuses a pack with
    one). A derived detection's group lives in the correlate partition of its own group key, like any group; its
    signal references are routed there by the extract agent as usual, and its input alerts are raised in the
    partitions of their own groups. So this correlator does not feed alert changes on locally (its correlator's
    `derived` is off); the agent sends each change of an input detection's alert to the correlate topic, keyed by each
    derived detection's group it feeds (`alert_routes`), where `on_alert` feeds it as compose.py does in the embedded
    engine. Every correlate partition is then an upstream of every other: after each batch it tells them how far the
    documents' watermarks it has applied go (`to_forward`, `forwarded_watermark`), sent after that batch's alert
    changes, and a partition's low watermark goes no further than those. A derived group's
    sweeps therefore never pass an input alert still on its way, and the alerts are the embedded engine's."""

    def __init__(
        self,
        engine: Engine,
        upstream_partitions: int,
        *,
        correlate_partitions: int | None = None,
        lease: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if engine.rules.derived and correlate_partitions is None:
            raise ValueError(NEEDS_PARTITIONS)
        refused = not_distributed(engine.rules)
        if refused:  # (the commands say it first, placed in the packs: wiring.worker_engine)
            raise ValueError("; ".join(e.message for e in refused))
        self.engine = engine
        self.composes = engine.rules.derived  # alert changes go through the topic: alert_routes, on_alert, to_forward
        self.correlator = engine.correlator
        if self.composes:
            # A correlator of its own with compose off (the engine's feeds alert changes on within its one state).
            self.correlator = Correlator(engine.rules)
            self.correlator.derived = False
            self.correlator.max_dormant = engine.correlator.max_dormant
        self.upstream = upstream_partitions
        self.correlate_partitions = (correlate_partitions or 0) if self.composes else 0
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

    def alert_routes(self, o: Detection | Retraction) -> list[tuple[str, str]]:
        """(derived detection id, group key) of every derived group an alert change feeds: where the agent sends it
        (keyed by the group key, as a routed signal). Empty unless this pack has detections over detections."""
        if not self.composes:
            return []
        out: list[tuple[str, str]] = []
        for det in self.correlator.rules.detections_by_signal.get(ALERT + o.rule, ()):
            if not any(r.detection == o.rule and all(o.group.get(k) == v for k, v in r.where) for r in det.refs):
                continue
            group = group_of_alert(det, o)
            if group is not None and (det.id, gk := group_key(det.id, group)) not in out:
                out.append((det.id, gk))
        return out

    def on_alert(
        self, st: dict[str, Any], ev: Event, origin: Sequence[int] | None = None, groups: set[str] | None = None
    ) -> list[Detection | Retraction | DeadLetter]:
        """An alert change (a detection or retraction event) routed to derived group `ev.key` by correlate partition
        origin[0] (origin = (correlate partition, offset of the record that raised it, output index, route index)):
        fed to that derived detection (compose.feed). A record re-sent by a partition that crashed before its state
        was written comes again with the same origin, and is dropped as the signals' re-sends are. `groups` gets the
        derived group's key."""
        if not self.composes:
            raise Rejected("an alert change on the correlate topic, and these rules have no detection over detections")
        o = decode_alert_change(ev)
        det = self.correlator.by_id.get(detection_of_group_key(ev.key or ""))
        if det is None or not any(r.detection == o.rule for r in det.refs):
            raise Rejected(f"an alert of {o.rule!r} routed to {ev.key!r}, no detection over it of these rules", "key")
        if origin is not None and len(origin) >= 2:
            src, pos = FROM_CORRELATE + str(origin[0]), [int(x) for x in origin[1:]]
            last = st.setdefault("seen", {}).get(src)
            if last is not None and pos <= last:
                return []  # re-sent by its partition (at-least-once): taken already
            st["seen"][src] = pos
        if groups is not None and (group := group_of_alert(det, o)) is not None:
            groups.add(group_key(det.id, group))
        return list(feed(self.correlator, st["cs"], det, o))

    def to_forward(self, st: dict[str, Any], partition: int = 0) -> float | None:
        """What to tell every correlate partition after a batch (`forwarded_watermark`): how far the documents
        partitions' watermarks this partition has applied go, when that moved since last told (None: nothing to tell).
        The documents' low, not the partition's own (which waits for the others' forwarded ones: each would wait for
        the other). Kept in the state, so it is told again only if the state that told it was lost."""
        if not self.composes:
            return None
        cand = self.documents_low(st, partition)
        told = st.get("fw")
        if cand is None or (told is not None and cand <= told):
            return None
        st["fw"] = cand
        return float(cand)

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
        """A watermark from upstream partition ev.payload["partition"] (a correlate partition's forwarded low when
        it says `correlate`), received on `partition`."""
        p = (FROM_CORRELATE if ev.payload.get("correlate") else "") + str(int(ev.payload["partition"]))
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
        """Min over active upstream partitions of their watermark; the max when all are idle. Never goes back.
        With detections over detections, no further than any correlate partition's forwarded one either."""
        low: float | None = st["low"]
        cand = self.documents_low(st, partition)
        if cand is not None and self.correlate_partitions:
            told = [v[0] for p, v in st["src"].items() if p.startswith(FROM_CORRELATE)]
            if len(told) < self.correlate_partitions:
                return low  # some correlate partition has not told how far it is: its alerts may be on their way
            cand = min(cand, *told)
        if cand is None:
            return low
        return cand if low is None else max(low, cand)

    def documents_low(self, st: dict[str, Any], partition: int = 0) -> float | None:
        """The low watermark of the documents partitions alone (None until each has reported)."""
        srcs: dict[str, list[Any]] = st["src"]
        if self.correlate_partitions:
            srcs = {p: v for p, v in srcs.items() if not p.startswith(FROM_CORRELATE)}
        if len(srcs) < self.upstream:
            return None  # some upstream partition has not reported yet: wait for it
        active: list[float | None] = [v[0] for p, v in srcs.items() if not self._idle(partition, p, v[1])]
        if active:
            return None if any(t is None for t in active) else min(t for t in active if t is not None)
        known = [float(v[0]) for v in srcs.values() if v[0] is not None]
        return max(known) if known else None

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
