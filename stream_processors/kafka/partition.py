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
from ..engine.compiled import ALERT, CompiledRules
from ..engine.compose import feed, group_of_alert
from ..engine.correlate import Correlator
from ..engine.patterns import group_key
from ..engine.sweep import EXPIRY_STEP
from .codec import Rejected, decode_alert_change, decode_correction, decode_signal

DONE_MARGIN_S = 86400.0  # keep applied-signal ids this long past the allowed lateness (dedup of re-sends)


def detection_of_group_key(group_key: str) -> str:
    return group_key.split("\x1f", 1)[0]


NEEDS_PARTITIONS = (
    "rules with detections over detections need the number of correlate partitions (their input alerts are raised "
    "in other partitions than their own groups: they are sent to them)"
)
# A detection over an absence's alerts or over another detection over detections takes input alerts raised by a sweep
# (when a partition's watermark passes) or in a partition that got them from a third one: one low for every level
# (to_forward) bounds neither, so such packs run with one state and one low per level of derivation (LEVELS below).
ONE_LEVEL = (
    "needs one correlator state per level of derivation (PartitionCorrelator levels=True): its input alerts are "
    "raised by a sweep, or by a detection over detections, which one low for every level does not bound"
)


def needing_levels(rules: CompiledRules) -> list[str]:
    """The detections over an absence's alerts or over another detection over detections: those that make a partition
    keep a state per level of derivation (`levels`)."""
    by_id = {d.id: d for d in rules.detections}
    out: list[str] = []
    for det in rules.detections:
        inputs = {r.detection for r in det.refs if r.detection is not None}
        if any(
            i in by_id and (by_id[i].kind == "absence" or any(r.detection is not None for r in by_id[i].refs))
            for i in inputs
        ):
            out.append(det.id)
    return out


ALERT_CHANGES = (EventType.DETECTION.value, EventType.RETRACTION.value)  # on the correlate topic: to derived groups
FROM_CORRELATE = "c"  # a correlate partition upstream of another: its "seen" and "src" keys are "c<partition>"


def forwarded_watermark(partition: int, t: float, level: int = 0) -> Event:
    """How far the documents partitions' watermarks correlate partition `partition` has applied go (`t`), told to every
    correlate partition: the alert changes it raised before this record are all on their way (one producer keeps its
    order per partition). `level` > 0 (`levels` mode only): how far it swept the groups of detections of that depth
    (the alerts of those are on their way too); level 0 is the documents' and says no level, as before."""
    payload: dict[str, Any] = {"partition": partition, "time": t, "idle": False, "correlate": True}
    if level:
        payload["level"] = level
    return Event(
        id=f"wm-{FROM_CORRELATE}{partition}-{t}" + (f"-l{level}" if level else ""),
        type=EventType.WATERMARK.value,
        time=datetime.fromtimestamp(t, UTC),
        payload=payload,
    )


def depths(rules: CompiledRules) -> dict[str, int]:
    """Each detection's level of derivation: 0 over signals alone, 1 + the deepest of its inputs over alerts."""
    by_id = {d.id: d for d in rules.detections}
    out: dict[str, int] = {}

    def depth(det_id: str, seen: frozenset[str]) -> int:
        if det_id in out:
            return out[det_id]
        det = by_id.get(det_id)
        inputs = [r.detection for r in det.refs if r.detection is not None] if det is not None else []
        d = 0
        for i in inputs:
            if i in by_id and i not in seen:  # (the compiler refuses cycles: the guard only stops a loop)
                d = max(d, 1 + depth(i, seen | {det_id}))
        out[det_id] = d
        return d

    for det in rules.detections:
        depth(det.id, frozenset())
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
        levels: bool | None = None,
    ) -> None:
        if engine.rules.derived and correlate_partitions is None:
            raise ValueError(NEEDS_PARTITIONS)
        deep = needing_levels(engine.rules) if engine.rules.derived else []
        if levels is None:
            levels = bool(deep)  # what one low for every level cannot run exactly; other packs as before
        if deep and not levels:
            raise ValueError(f"detection {deep[0]!r} {ONE_LEVEL}")
        self.engine = engine
        self.composes = engine.rules.derived  # alert changes go through the topic: alert_routes, on_alert, to_forward
        self.correlator = engine.correlator
        if self.composes:
            # A correlator of its own with compose off (the engine's feeds alert changes on within its one state).
            self.correlator = Correlator(engine.rules)
            self.correlator.derived = False
            self.correlator.step_sweeps = levels  # (each level swept step by step, as one state is: _advance_level)
            self.correlator.max_dormant = engine.correlator.max_dormant
        self.upstream = upstream_partitions
        self.correlate_partitions = (correlate_partitions or 0) if self.composes else 0
        self.lateness = self.correlator.lateness
        self.lease = lease
        self.clock = clock
        self._idle_seen: dict[tuple[int, str], float] = {}  # (partition, upstream partition) -> clock()
        # `levels`: one correlator state and one watermark per level of derivation (see LEVELS below). Off, every
        # group is in one state swept at one low (the layout the workers write: statecodec keeps one state).
        self.levels = levels and self.composes
        self.depth = depths(engine.rules) if self.levels else {}
        self.top = max(self.depth.values(), default=0)
        self._stamps: dict[int, float | None] = {}  # id(output) -> stamp_of, for the outputs of the last call
        self.resent_dropped = 0  # re-sent signals (`produce --resend`) dropped as applied before (on_signal)

    @staticmethod
    def new_state() -> dict[str, Any]:
        return {"cs": Engine.initial_state(), "src": {}, "low": None, "seen": {}, "done": {}}

    def restore(self, st: dict[str, Any]) -> dict[str, Any]:
        """A state read from the table, brought up to this version: the correlator's state (Correlator.restore),
        and signals an older worker buffered until the watermark passed them, applied now."""
        st["cs"] = self.engine.restore(st["cs"])
        for k, ls in st.get("cl", {}).items():
            st["cl"][k] = self.correlator.restore(ls)
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
        self._stamps.clear()
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
        self,
        st: dict[str, Any],
        ev: Event,
        origin: Sequence[int] | None = None,
        groups: set[str] | None = None,
        swept: float | None = None,
    ) -> list[Detection | Retraction | DeadLetter]:
        """An alert change (a detection or retraction event) routed to derived group `ev.key` by correlate partition
        origin[0] (origin = (correlate partition, offset of the record that raised it, output index, route index)):
        fed to that derived detection (compose.feed). A record re-sent by a partition that crashed before its state
        was written comes again with the same origin, and is dropped as the signals' re-sends are. `groups` gets the
        derived group's key."""
        if not self.composes:
            raise Rejected("an alert change on the correlate topic, and these rules have no detection over detections")
        self._stamps.clear()
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
        cs = self.level_state(st, det.id)
        if swept is None and origin is not None and len(origin) >= 5:
            swept = float(origin[4])  # (codec.origin_header)
        if self.levels and swept is not None and swept > cs.get("xp", float("-inf")):
            # Raised after its partition swept `swept` (`stamp_of`): `watchfloor run` feeds it after this group's
            # sweep of that step too, so it waits for it (fed in `advance`, in arrival order).
            st.setdefault("ab", []).append([swept, self.depth[det.id], ev.model_dump(mode="json")])
            return []
        return list(feed(self.correlator, cs, det, o))

    def to_forward(self, st: dict[str, Any], partition: int = 0) -> float | None:
        """What to tell every correlate partition after a batch (`forwarded_watermark`): how far the documents
        partitions' watermarks this partition has applied go, when that moved since last told (None: nothing to tell).
        The documents' low, not the partition's own (which waits for the others' forwarded ones: each would wait for
        the other). Kept in the state, so it is told again only if the state that told it was lost."""
        if not self.composes or self.levels:
            return None  # (`levels`: to_forward_levels)
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
        self._stamps.clear()
        c = decode_correction(ev)
        said: list[tuple[str, str, dict[str, str]]] = [(s.name, s.modality, dict(s.captures)) for s in c.said]
        out: list[Detection | Retraction | DeadLetter] = []
        for cs in [st["cs"], *(st.get("cl", {}).values() if self.levels else ())]:
            out += self._stamped(
                self.correlator.on_edition(cs, c.document_id, c.item, said, c.at.timestamp(), c.source), cs
            )
        return out

    def on_watermark(
        self, st: dict[str, Any], ev: Event, partition: int = 0
    ) -> list[Detection | Retraction | DeadLetter]:
        """A watermark from upstream partition ev.payload["partition"] (a correlate partition's forwarded low when
        it says `correlate`), received on `partition`."""
        self._stamps.clear()
        p = (FROM_CORRELATE if ev.payload.get("correlate") else "") + str(int(ev.payload["partition"]))
        if ev.payload.get("correlate") and ev.payload.get("level"):
            p += f"/{int(ev.payload['level'])}"  # a level above the documents' (`levels`)
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
        if self.levels:
            lows = self.level_lows(st, partition)
            return low if lows[-1] is None else lows[-1] if low is None else max(low, lows[-1])
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
        out: list[Detection | Retraction | DeadLetter] = []
        if self.levels:
            lows = self.level_lows(st, partition)
            for k, lk in enumerate(lows):
                if lk is None:
                    break
                st.setdefault("lows", {})[str(k)] = lk
                out += self._advance_level(st, k, lk)
            low = lows[-1]
        else:
            low = self.low_watermark(st, partition)
            if low is not None:
                out += self.correlator.advance_to(st["cs"], low)
        if low is None:
            return out
        st["low"] = low
        horizon = low - self.lateness - DONE_MARGIN_S
        if any(v < horizon for v in st["done"].values()):
            st["done"] = {k: v for k, v in st["done"].items() if v >= horizon}
        return out

    # LEVELS (`levels=True`: a detection over an absence's alerts, or a chain of detections over detections). A
    # group of a detection of depth k (0: over signals alone; 1 + its deepest input's) is in the correlator state of
    # level k (`cs` for 0, `cl[k]` above), swept at that level's low: level 0 at the documents' low, level k at the
    # least of the level k-1 lows every correlate partition forwarded (`to_forward_levels`, after the batch's alert
    # changes) and its own. An input alert of a level-k group is raised in a level k-1 group, by a signal, an
    # alert fed to it or a sweep (an absence) at or before that partition's level k-1 low, and is sent before that
    # low is forwarded: no level-k sweep passes an input alert still on its way, as with one state in `watchfloor run`.
    def state_of_level(self, st: dict[str, Any], level: int) -> dict[str, Any]:
        if level == 0:
            cs: dict[str, Any] = st["cs"]
            return cs
        got: dict[str, Any] = st.setdefault("cl", {}).setdefault(str(level), Engine.initial_state())
        return got

    def level_state(self, st: dict[str, Any], det_id: str) -> dict[str, Any]:
        """The correlator state that holds the groups of detection `det_id` (`cs` unless `levels`)."""
        return self.state_of_level(st, self.depth.get(det_id, 0)) if self.levels else st["cs"]

    def level_lows(self, st: dict[str, Any], partition: int = 0) -> list[float | None]:
        """Each level's low (`levels`), never back from the one applied: level 0 the documents', level k no further
        than level k-1's here nor than any correlate partition's forwarded level k-1 low (None: not known yet)."""
        applied: dict[str, float] = st.get("lows", {})
        out: list[float | None] = []
        cand = self.documents_low(st, partition)
        for k in range(self.top + 1):
            if k and cand is not None:
                told = [v[0] for p, v in st["src"].items() if p.startswith(FROM_CORRELATE) and _level_of(p) == k - 1]
                if len(told) < self.correlate_partitions or any(t is None for t in told):
                    cand = None  # a partition has not told how far its level k-1 is: its alerts may be on their way
                else:
                    cand = min(cand, *told)
            was = applied.get(str(k))
            lk = was if cand is None else cand if was is None else max(was, cand)
            out.append(lk)
            cand = lk if cand is not None else None
        return out

    def _advance_level(self, st: dict[str, Any], level: int, t: float) -> list[Detection | Retraction | DeadLetter]:
        """Level `level`'s state swept up to `t` a whole step at a time (each step's alerts stamped with it), the
        alerts held for a step (`on_alert`) fed right after its sweep, in arrival order."""
        cs = self.state_of_level(st, level)
        out: list[Detection | Retraction | DeadLetter] = []
        held = [h for h in st.get("ab", ()) if h[1] == level]
        top = t - t % EXPIRY_STEP
        xp = cs.get("xp")
        step = top if xp is None else xp + EXPIRY_STEP
        while step <= top:
            if cs["wm"] is None or step > cs["wm"]:
                out += self._stamped(self.correlator.advance_to(cs, step), cs)
            for h in held:
                if h[0] <= step:
                    ev = Event.model_validate(h[2])
                    o = decode_alert_change(ev)
                    det = self.correlator.by_id[detection_of_group_key(ev.key or "")]
                    out += self._stamped(list(feed(self.correlator, cs, det, o)), cs)
            if held:
                st["ab"] = [h for h in st["ab"] if not (h[1] == level and h[0] <= step)]
                held = [h for h in held if h[0] > step]
            step += EXPIRY_STEP
        return out + self._stamped(self.correlator.advance_to(cs, t), cs)

    def _stamped(self, outs: list[Any], cs: dict[str, Any]) -> list[Any]:
        if self.levels:
            for o in outs:
                self._stamps[id(o)] = cs.get("xp")
        return outs

    def stamp_of(self, o: Detection | Retraction) -> float | None:
        """The step its state had swept when alert change `o` (an output of the last call) was raised (`levels`): sent
        with it, so the partition of a group over it feeds it after sweeping that step, as one state does."""
        return self._stamps.get(id(o))

    def to_forward_levels(self, st: dict[str, Any]) -> list[tuple[int, float]]:
        """(level, low) of each level below the top whose applied low moved since last told (`levels`): what to tell
        every correlate partition after a batch (`forwarded_watermark(partition, low, level)`), kept in the state."""
        if not self.levels:
            return []
        told: dict[str, float] = st.setdefault("fwl", {})
        out: list[tuple[int, float]] = []
        for k in range(self.top):
            lk = st.get("lows", {}).get(str(k))
            if lk is not None and (told.get(str(k)) is None or lk > told[str(k)]):
                told[str(k)] = lk
                out.append((k, float(lk)))
        return out

    def _apply(self, st: dict[str, Any], item: list[Any]) -> list[Detection | Retraction | DeadLetter]:
        t, _doc, _name, _idx, det_id, sig, key = item
        if not isinstance(sig, Signal):
            sig = Signal.model_validate(sig)
        st["done"][key] = t
        cs = self.level_state(st, det_id)
        return list(self.correlator.on_signal(cs, sig, only=det_id, at=t))


def _level_of(src: str) -> int:
    """The level of a correlate partition's forwarded low, from its key in `src` ("c<p>": 0, "c<p>/<k>": k)."""
    return int(src.split("/", 1)[1]) if "/" in src else 0
