"""Correlate: signals -> detections per detection and group, as a function of the set of observations, not of
the order they arrived in. State is JSON values (tuples where the JSON has arrays: `restore` on load).

Per (detection, group) the observations are kept sorted by a canonical key (effective time, document id,
sentence index, signal name, ref index). The group's detections are DEFINED as what one pass over that list
in order yields, each point seeing only the observations before it (patterns.py) and the throttle state
(`realert`) of the detections before it: exactly what a backtest in canonical order computes.

* An observation after the group's last one (the usual case) is appended and evaluated once, at once.
* An observation that belongs earlier is inserted at its place, and the group is evaluated again from there,
  starting from the throttle state recorded just before it. What changed against the detections already
  raised comes out as new detections (`revises`: the one each replaces) and `Retraction`s (alerts that
  would not exist and have no replacement), numbered by the group's change count (`revision`).
* The watermark W is set by the caller (engine.py: per origin; the Kafka runtime: per upstream partition).
  It closes absence windows and drops what no on-time observation can still affect: observations before
  W - lateness - the detection's horizon (its window, or its corroboration window), and the detections
  raised before them, whose throttle state is kept. So dropping state never changes a result. A group left with its
  throttle state alone is kept dormant (at most MAX_DORMANT of them), for the reports beyond the lateness it still
  holds back (sweep.py).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from watchfloor.schemas.events import SEVERITY_RANK, Detection, Retraction, Severity, Signal, stable_id
from watchfloor.schemas.timefmt import utc_text

from . import patterns as P
from .compiled import cue_excepted
from .compiler import CompiledDetection, CompiledRef, CompiledRules
from .compose import compose
from .corrections import Said, item_of, restated, restatement_reason, restatements, withdraw_superseded
from .evidence import EvidenceOf, Plan, build_detection, plan_of, point_time, revised
from .late import explained, later_windows
from .sweep import (
    EXPIRY_STEP,
    F_ID,
    F_LF,
    F_LS,
    MAX_DORMANT,
    STATE_VERSION,
    held_by_gate,
    restore,
    schedule,
    sweep,
    throttle_before,
    wake,
)

State = dict[str, Any]
"""{"wm": watermark (epoch s) or None, "xp": W at the last sweep, "xc": W - lateness at the last sweep,
"g": {group key: group state}, "q": heap of [due, group key] (sweeps), "dq": heap of [last fired, group key] of
the dormant groups and "dn" how many there are (sweep.py; both absent until a group falls dormant)}.

Group state: {"i": observations (tuples, patterns.py), "f": detections raised and standing, each a tuple
(key..., detection id, last fired t, last severity rank) (the throttle state after it), "lf"/"ls": the
throttle state before the first of them (what dropped observations left), "n": changes so far, "w": ids
withdrawn and not raised again, "q": the due of its live entry in the sweep heap, None for a dormant group: one
with nothing but its throttle state, kept for a report beyond the lateness, "z" (when there are any): the
throttle states [last fired, rank] of the dormant group it woke from far from them, its gates (sweep.wake)}. JSON
values, so the same state lives in a SQL checkpoint, a Faust table or memory; the observations and records are
tuples, which the garbage collector stops tracking (patterns.py), and a state read back from JSON holds arrays:
`restore` makes them tuples again."""

Output = Detection | Retraction

MAX_WITHDRAWN = 64  # withdrawn ids remembered per group (to give an alert raised again an event of its own)


def new_state() -> State:
    return {"v": STATE_VERSION, "wm": None, "g": {}}


def _ref_matches(ref: CompiledRef, sig: Signal) -> bool:
    if ref.signal != sig.name or sig.modality not in ref.modalities:
        return False
    if ref.except_cues and cue_excepted(ref.except_cues, sig.cue):
        return False
    return all(sig.captures.get(k) == v for k, v in ref.where)


class Correlator:
    """Applies detections to signals. Mutates and returns the state it is given; never reads a clock."""

    def __init__(self, rules: CompiledRules) -> None:
        self.rules = rules
        self.lateness = rules.lateness.total_seconds()
        self.max_dormant = MAX_DORMANT  # dormant groups kept (sweep.py); tests set a smaller bound
        self.by_id = {d.id: d for d in rules.detections}
        self.plans = {d.id: plan_of(d) for d in rules.detections}
        self.derived = rules.derived  # some detection takes alerts as input (compose.py)
        # With detections over detections, sweep at every whole step the watermark passes, not once at the step it
        # lands in: an absence's alert is raised at the first step past its window and fed on after that step's
        # sweep of the groups over it, whatever steps the watermark jumped (the distributed workers' partitions,
        # whose watermarks move otherwise, raise and feed it at the same step: kafka/partition.py, `levels`).
        self.step_sweeps = rules.derived
        self._evidence = EvidenceOf()
        # Per signal name, in the order detections and refs are tried: (detection, ref index, ref, group key if
        # the detection has no group_by). Computed once: this is looked up for every signal.
        self._routes: dict[str, tuple[tuple[CompiledDetection, int, CompiledRef, str | None], ...]] = {
            name: tuple(
                (det, ri, ref, None if det.group_by else det.id + "\x1f")
                for det in dets
                for ri, ref in enumerate(det.refs)
                if ref.signal == name
            )
            for name, dets in rules.detections_by_signal.items()
        }

    def restore(self, state: State) -> State:
        """A saved state brought up to this version (sweep.restore)."""
        return restore(self, state)

    # -- signals -------------------------------------------------------------------------------------------
    def routes(self, sig: Signal) -> list[tuple[str, str]]:
        """(detection id, group key) pairs this signal feeds: the partitioning key in distributed mode,
        so that everything one detection groups on is correlated in one place."""
        out: list[tuple[str, str]] = []
        for det in self.rules.detections_by_signal.get(sig.name, ()):
            if any(_ref_matches(ref, sig) for ref in det.refs):
                group = self._group(det, sig)
                if group is not None:
                    out.append((det.id, P.group_key(det.id, group)))
        return out

    def on_signal(
        self,
        state: State,
        sig: Signal,
        only: str | None = None,
        at: float | None = None,
        published: float | None = None,
    ) -> list[Output]:
        """Correlate one signal observed at effective time `at` (default: its published_at). `only` restricts
        it to one detection id (a partitioned runtime sends each (detection, group) to its own partition).
        `published`: its published_at as a timestamp, when the caller has it. Never moves the watermark: the
        caller does (advance_to)."""
        routes = self._routes.get(sig.name)
        if not routes:
            return []
        out: list[Output] = []
        t = sig.published_at.timestamp() if at is None else at
        ev: P.EvidenceRecord | None = None
        modality, captures = sig.modality, sig.captures
        edited = item_of(sig.document_id)  # an edition of a feed item (corrections.py), else None
        for det, ri, ref, gkey in routes:  # _ref_matches, inlined (this runs for every signal)
            if modality not in ref.modalities or (only is not None and det.id != only):
                continue
            if ref.except_cues and cue_excepted(ref.except_cues, sig.cue):
                continue  # a reading its `except_cues` leaves out ("threatens to")
            if ref.where and not all(captures.get(k) == v for k, v in ref.where):
                continue
            if gkey is None:
                group = self._group(det, sig)
                if group is None:
                    continue
            else:
                group = {}
            if edited is not None:
                key = gkey if gkey is not None else P.group_key(det.id, group)
                gs = state["g"].get(key)
                if restated(gs, sig, edited, t):
                    continue  # an earlier version of the item says so already: the same report, not a new one
                # (An absence is decided when its window closes: a correction withdraws from it, as before.)
                places = (
                    [] if self.plans[det.id].kind == "absence" else restatements(gs, sig, edited, ri, state.get("xc"))
                )
                if gs is not None and places:  # said again with another modality the rule takes: in their place
                    out.extend(self._restate(det, group, gs, places, sig, ri, t, published))
                    continue
            if ev is None:  # built once, shared by every group it feeds (never mutated)
                ev = self._evidence(sig, t, published)
            # The observation's source, what `distinct: source` and stories count, is the configured source when the
            # document has one (Signal.feed): a feed renaming itself stays one source. Evidence keeps the name shown.
            item = (t, sig.document_id, sig.sentence_index, sig.name, ri, sig.feed or sig.source, ev, 0)
            out.extend(self._observe(state, det, group, item, gkey))
        return compose(self, state, out) if self.derived and out else out

    def on_edition(self, state: State, doc_id: str, item: str, made: list[Said], t: float, source: str) -> list[Output]:
        """An edition `doc_id` of feed item `item` (effective time `t`, from `source`) whose text says `made`
        (its signals: corrections.said_of): the item's earlier observations it contradicts are withdrawn
        (corrections.py). Called before the edition's own signals are observed."""
        out = withdraw_superseded(self, state, doc_id, item, made, t, source)
        return compose(self, state, out) if self.derived and out else out

    # -- time ----------------------------------------------------------------------------------------------
    def advance_to(self, state: State, t: float) -> list[Output]:
        """The watermark is now t (it never goes back): sweep when it moved EXPIRY_STEP since the last one."""
        if state["wm"] is None or t > state["wm"]:
            state["wm"] = t
            out = self._maybe_expire(state)
            if self.step_sweeps:
                return out  # (fed on step by step: _sweep_steps)
            return compose(self, state, out) if self.derived and out else out
        return []

    def advance(self, state: State, until: datetime) -> list[Output]:
        """Move the watermark to `until` and sweep now (the end of a replay, or a quiet clock tick)."""
        t = until.timestamp()
        if state["wm"] is None or t > state["wm"]:
            if self.step_sweeps:
                return self._sweep_steps(state, t)
            state["wm"] = t
        out = sweep(self, state)
        return compose(self, state, out) if self.derived and out else out

    def _sweep_steps(self, state: State, t: float) -> list[Output]:
        """`step_sweeps`: a sweep at each whole step after the last swept one up to t's, then at t, each sweep's
        alerts fed on (compose) before the next."""
        out: list[Output] = []
        xp = state.get("xp")
        if xp is not None:
            step = xp + EXPIRY_STEP
            top = t - t % EXPIRY_STEP
            while step < top:
                state["wm"] = step
                got = sweep(self, state)
                out.extend(compose(self, state, got) if self.derived and got else got)
                step += EXPIRY_STEP
        state["wm"] = t
        got = sweep(self, state)
        out.extend(compose(self, state, got) if self.derived and got else got)
        return out

    def note_time(self, state: State, when: datetime) -> list[Output]:
        """An in-order stream without origins: every event moves the watermark to its time."""
        return self.advance_to(state, when.timestamp())

    def note_timestamp(self, state: State, t: float) -> list[Output]:
        """note_time with the time as a POSIX timestamp (advance_to, inlined: this runs for every document)."""
        wm = state["wm"]
        if wm is None or t > wm:
            state["wm"] = t
            if wm is None or t - state.get("xp", float("-inf")) >= EXPIRY_STEP:
                if self.step_sweeps:
                    return self._sweep_steps(state, t)
                out = sweep(self, state)
                return compose(self, state, out) if self.derived and out else out
        return []

    def note_timestamps(self, state: State, times: Iterable[float]) -> list[Output]:
        """note_timestamp for each time in turn, in one tight loop (a backtest's documents that no rule
        can match are most of it): exactly the same sweeps at the same event times."""
        out: list[Output] = []
        if self.step_sweeps:
            for t in times:
                out.extend(self.note_timestamp(state, t))
            return out
        wm = state["wm"]
        xp = state.get("xp", float("-inf"))
        for t in times:
            if wm is None or t > wm:
                wm = t
                if wm - xp >= EXPIRY_STEP:
                    state["wm"] = wm
                    out.extend(sweep(self, state))
                    xp = state["xp"]
        state["wm"] = wm
        return compose(self, state, out) if self.derived and out else out

    def _maybe_expire(self, state: State) -> list[Output]:
        # Sweeping every group on every event would cost O(groups) per event; sweep once per EXPIRY_STEP of
        # event time instead, at whole steps (xp below), so what has closed by a watermark does not depend
        # on which events came before it: the alerts are the same whichever event triggers the sweep.
        if state["wm"] - state.get("xp", float("-inf")) < EXPIRY_STEP:
            return []
        if self.step_sweeps:
            t = state["wm"]
            state["wm"] = state.get("xp")  # (_sweep_steps moves it, from the last swept step)
            return self._sweep_steps(state, t)
        return sweep(self, state)

    # -- observing -----------------------------------------------------------------------------------------
    def _group(self, det: CompiledDetection, sig: Signal) -> dict[str, str] | None:
        group: dict[str, str] = {}
        for g in det.group_by:
            value = sig.source if g == "source" else sig.captures.get(g)
            if value is None:
                return None  # the signal cannot say which group it belongs to
            group[g] = value
        return group

    def _observe(
        self, state: State, det: CompiledDetection, group: dict[str, str], item: P.Item, gkey: str | None = None
    ) -> list[Output]:
        if gkey is None:
            gkey = P.group_key(det.id, group) if group else det.id + "\x1f"
        gs = state["g"].get(gkey)
        if gs is None:
            gs = state["g"][gkey] = {"i": [], "f": [], "lf": None, "ls": -1, "n": 0, "w": [], "q": None}
        elif (gs["q"] is None or ("z" in gs and item[P.T] < state.get("xc", float("inf")))) and wake(
            state, gs, self.plans[det.id], item[P.T]
        ):
            return []  # held back by what the sweeps left of the group's earlier alerts (sweep.py)
        items: list[P.Item] = gs["i"]
        # After the last (compared by time first: most observations are later than the group's last one).
        t = item[P.T]
        last_t = items[-1][P.T] if items else None
        if last_t is None or last_t < t or (last_t == t and items[-1][: P.KEY_LEN] < item[: P.KEY_LEN]):
            items.append(item)
            pos, in_order = len(items) - 1, True
        else:
            key = item[: P.KEY_LEN]
            pos = bisect_left(items, key, key=lambda o: o[: P.KEY_LEN])
            if pos < len(items) and items[pos][: P.KEY_LEN] == key:
                return []  # the same observation again (a re-sent signal)
            items.insert(pos, item)
            in_order = False
        if (pos > 0 and items[pos - 1][P.DOC] == item[P.DOC]) or not in_order:
            P.mark_duplicates(items, pos)
            item = items[pos]  # with its duplicate mark (a tuple: marking replaces it)
        plan = self.plans[det.id]
        if pos == 0:  # a new oldest observation: the group is due for a sweep sooner
            schedule(state, gkey, gs, plan)
        if plan.kind == "absence":
            # Decided when its window closes (sweeps). A closed window is final: the `then_not` that could
            # cancel it would be beyond the lateness. A `first` beyond it is decided at once, on what is held.
            closed = state.get("xc")
            if item[P.RI] == 0 and closed is not None and item[P.T] < closed - plan.within:
                return self._point_only(det, plan, gs, group, pos, item, append=in_order)
            return []
        if in_order:
            if plan.fast_any:  # throttled (most repeats of a story): nothing to evaluate (as `point` would say)
                firings = gs["f"]
                last = firings[-1] if firings else None
                lf, ls = (last[F_LF], last[F_LS]) if last is not None else (gs["lf"], gs["ls"])
                lf, ls = throttle_before(gs, plan, lf, ls, t)
                if lf is not None and abs(t - lf) < plan.realert and plan.rank <= ls:
                    return []
            return self._point_only(det, plan, gs, group, pos, item, append=True)  # evaluated once, at its point
        closed = state.get("xc")
        if closed is not None and item[P.T] < closed:
            # Beyond the lateness (earlier than what the last sweep may have dropped): at its own point and in the
            # windows of the later points still held, against what is still held. It can add an alert or make one
            # fuller, never withdraw one raised with a fuller history than is left.
            if plan.fast_any and self._holds_back_a_later_alert(plan, gs, item):
                # Its alert depends on nothing but the throttle state, and the held points after it on nothing
                # else either: evaluated again from it, its realert holds back the later alert it would have held
                # back in event time (replaced by it, not a second alert). The throttle state it starts from is
                # the one `_point_only` uses, and each point after it meets the latest firing dropped before it
                # (`sweep.throttle_before`), so a point held back by a dropped firing stays held back.
                start_key = item[: P.KEY_LEN]
                end = _throttle_converges(plan, gs, pos)
                return self.replay_from(det, plan, gs, group, pos, start_key, item, end=end)
            before = explained(self, det, plan, gs, group, pos)
            out = self._point_only(det, plan, gs, group, pos, item, append=False)
            return out + later_windows(self, det, plan, gs, group, pos, item, before)
        return self._replay(det, plan, gs, group, pos, item)

    @staticmethod
    def _holds_back_a_later_alert(plan: Plan, gs: dict[str, Any], item: P.Item) -> bool:
        """Whether the `any` report `item` (without corroboration) fires at its point and a held alert of its group
        follows it within `realert`. Only then does evaluating the group again from it change more than its own
        point: the replay's cost (every held point after it) is paid for that case alone, not by each report of a
        backfill read in reverse that its group's throttle holds back or that lies far from the next alert."""
        firings: list[P.Firing] = gs["f"]
        t = item[P.T]
        fi = bisect_left(firings, item[: P.KEY_LEN], key=lambda f: f[: P.KEY_LEN])
        lf, ls = (firings[fi - 1][F_LF], firings[fi - 1][F_LS]) if fi > 0 else (gs["lf"], gs["ls"])
        lf, ls = throttle_before(gs, plan, lf, ls, t)
        if lf is not None and abs(t - lf) < plan.realert and plan.rank <= ls:
            return False  # throttled at its own point (as `point` would say): the throttle state after it is as before
        return fi < len(firings) and firings[fi][P.T] - t < plan.realert

    def _point_only(
        self,
        det: CompiledDetection,
        plan: Plan,
        gs: dict[str, Any],
        group: dict[str, str],
        pos: int,
        item: P.Item,
        *,
        append: bool,
    ) -> list[Output]:
        """Evaluate the observation at items[pos] alone, from the throttle state just before it."""
        firings: list[P.Firing] = gs["f"]
        key = item[: P.KEY_LEN]
        fi = len(firings) if append else bisect_left(firings, key, key=lambda f: f[: P.KEY_LEN])
        lf, ls = (firings[fi - 1][F_LF], firings[fi - 1][F_LS]) if fi > 0 else (gs["lf"], gs["ls"])
        lf, ls = throttle_before(gs, plan, lf, ls, item[P.T])
        got = self.point(det, plan, group, gs["i"], pos, lf, ls)
        if got is None:
            return []
        d, lf, ls = got
        if "z" in gs and held_by_gate(gs, plan, item[P.T] + (plan.within if plan.kind == "absence" else 0.0), ls):
            return []  # a report beyond the lateness near an alert the sweeps dropped: held back as it was then
        if not append and any(f[F_ID] == d.id for f in firings):
            return []  # that very alert stands already
        firings.insert(fi, (*key, d.id, lf, ls))
        if append and d.id not in gs["w"]:
            return [d]
        # Raised before and withdrawn since, or raised by a report beyond the lateness: an event of its own.
        return self.changes(det, gs, group, [], [d], item)

    def _restate(
        self,
        det: CompiledDetection,
        group: dict[str, str],
        gs: dict[str, Any],
        places: list[int],
        sig: Signal,
        ri: int,
        t: float,
        published: float | None,
    ) -> list[Output]:
        """The edition's `sig` takes the place of the observations at `places` (corrections.restatements): one
        observation of it at the first of their times, and the group evaluated again from there, so what they
        raised is revised in place (corrections.py)."""
        items: list[P.Item] = gs["i"]
        removed = P.remove_observations(items, places)
        first = removed[0]
        when = first[P.T]
        # Its evidence stands at the report's first time (E_AT: fired_at), cited with the edition's own date.
        item = (
            when,
            sig.document_id,
            sig.sentence_index,
            sig.name,
            ri,
            sig.feed or sig.source,
            self._evidence(sig, when, published),
            0,
        )
        pos = bisect_left(items, item[: P.KEY_LEN], key=lambda o: o[: P.KEY_LEN])
        items.insert(pos, item)
        P.mark_duplicates(items, pos)
        start_key = min(first[: P.KEY_LEN], item[: P.KEY_LEN])
        start = bisect_left(items, start_key, key=lambda o: o[: P.KEY_LEN])
        # (The group's oldest time is unchanged, the first removed's: its sweep stays as scheduled.)
        edited = item_of(sig.document_id) or sig.document_id
        seen = datetime.fromtimestamp(t, UTC)
        reason = restatement_reason(sig.source, edited, seen, first[P.EV][P.E_MODALITY], sig.modality)
        # Only its time and document are read.
        cause: P.Item = (t, sig.document_id, 0, "", 0, sig.feed or sig.source, None, 0)
        return self.replay_from(det, self.plans[det.id], gs, group, start, start_key, cause, reason=reason)

    # -- evaluating ------------------------------------------------------------------------------------------
    def _replay(
        self,
        det: CompiledDetection,
        plan: Plan,
        gs: dict[str, Any],
        group: dict[str, str],
        pos: int,
        cause: P.Item,
    ) -> list[Output]:
        """Evaluate the group again from items[pos] on, from the throttle state just before it, and report
        what changed against the detections raised so far."""
        items: list[P.Item] = gs["i"]
        start_key = items[pos][: P.KEY_LEN] if pos < len(items) else (float("inf"),)
        return self.replay_from(det, plan, gs, group, pos, start_key, cause)

    def replay_from(
        self,
        det: CompiledDetection,
        plan: Plan,
        gs: dict[str, Any],
        group: dict[str, str],
        pos: int,
        start_key: tuple[Any, ...],
        cause: P.Item,
        *,
        reason: str | None = None,
        decided: float | None = None,
        end: int | None = None,
    ) -> list[Output]:
        """`_replay` with the firings taken from `start_key` on: a withdrawn observation (composition, a
        correction) is no longer among the items, but a firing at its point must still be replaced. `reason`:
        the retractions' (default: a late report's); `decided` (absences): only the firsts before it are
        evaluated, those whose windows have closed; `end`: the points from items[end] on are not evaluated again
        (their detections and throttle state are known to be as before)."""
        items: list[P.Item] = gs["i"]
        firings: list[P.Firing] = gs["f"]
        fi = bisect_left(firings, start_key, key=lambda f: f[: P.KEY_LEN])
        lf, ls = (firings[fi - 1][F_LF], firings[fi - 1][F_LS]) if fi > 0 else (gs["lf"], gs["ls"])
        raised: list[Detection] = []
        records: list[P.Firing] = []
        stop = len(items) if end is None else end
        fe = len(firings)
        if end is not None:
            fe = bisect_left(firings, items[end][: P.KEY_LEN], key=lambda f: f[: P.KEY_LEN])
        for i in range(pos, stop):
            if decided is not None and (items[i][P.RI] != 0 or items[i][P.T] >= decided):
                continue
            lf, ls = throttle_before(gs, plan, lf, ls, items[i][P.T])
            got = self.point(det, plan, group, items, i, lf, ls)
            if got is not None:
                d, lf, ls = got
                raised.append(d)
                records.append((*items[i][: P.KEY_LEN], d.id, lf, ls))
        old = firings[fi:fe]
        gs["f"] = firings[:fi] + records + firings[fe:]
        # Compared as (point, id): two firings of a group can share an id (their evidence, capped at
        # MAX_EVIDENCE, is the same), and one that moved to another point is a change too.
        kept = {(*f[: P.KEY_LEN], f[F_ID]) for f in old}
        now = {(*r[: P.KEY_LEN], r[F_ID]) for r in records}
        gone = [f for f in old if (*f[: P.KEY_LEN], f[F_ID]) not in now]
        removed = list(dict.fromkeys(f[F_ID] for f in gone))
        new = [(d, r) for d, r in zip(raised, records, strict=True) if (*r[: P.KEY_LEN], r[F_ID]) not in kept]
        if not removed and not new:
            return []
        new_records = [r for _d, r in new]
        # Of the firings before the replay, only those a sweep cannot have dropped (within the horizon of its
        # point, which is on time): what came before decides the same whatever else moved the watermark meanwhile
        # (review of 877f8a2, finding 2).
        replaces = _replaced(gone, new_records, plan.open, gs["f"][:fi], plan.horizon)
        # A report of the very time of every firing it moved (a feed stamping a day's items 12:00, read in a later
        # poll with a smaller id): not dated before them, only taken first among reports of one time
        # (Detection.same_time)
        t = cause[P.T]
        same_time = reason is None and all(f[P.T] == t for f in gone) and all(r[P.T] == t for r in new_records)
        return self.changes(
            det,
            gs,
            group,
            removed,
            [d for d, _r in new],
            cause,
            replaces,
            _superseding(gone, new_records, replaces, plan.open),
            reason,
            same_time=same_time,
        )

    def changes(
        self,
        det: CompiledDetection,
        gs: dict[str, Any],
        group: dict[str, str],
        removed: list[str],
        added: list[Detection],
        cause: P.Item,
        replaces: list[str | None] | None = None,
        superseded: dict[str, str] | None = None,
        reason: str | None = None,
        *,
        same_time: bool = False,
    ) -> list[Output]:
        """One change of the group's history: new detections, each replacing the withdrawn one `replaces` names
        (default: the withdrawn ones in order, while there are any), and retractions of the withdrawn ones left
        over, each `superseded_by` the new alert `superseded` names for it (none when it names none)."""
        gs["n"] += 1
        n = gs["n"]
        if replaces is None:
            replaces = [removed[j] if j < len(removed) else None for j in range(len(added))]
        out: list[Output] = []
        # The revisions, then the withdrawals, then the new alerts: a new alert of the change never finds one this
        # same change withdraws still standing, so it is not taken for a follow-up in that alert's story, a thread
        # the next event marks "Withdrawn" (review of 877f8a2, finding 1); it joins a story as if the withdrawn one
        # had never been raised, as in event time. (A revision is in the story of the alert it revises whatever
        # stands: it goes first, as a correction's revision before the withdrawal that names it.)
        raised = [revised(d, old, n, reason, same_time) for d, old in zip(added, replaces, strict=True)]
        out.extend(d for d in raised if d.revises is not None)
        at = datetime.fromtimestamp(cause[P.T], UTC)
        for alert_id in [r for r in removed if r not in replaces]:
            out.append(
                Retraction(
                    alert_id=alert_id,
                    rule=det.id,
                    group=dict(group),
                    reason=reason or late_report_reason(str(cause[P.DOC]), at),
                    superseded_by=superseded.get(alert_id) if superseded is not None else None,
                    revision=n,
                    at=at,
                )
            )
        out.extend(d for d in raised if d.revises is None)
        withdrawn: list[str] = gs["w"]
        back = {d.id for d in added}
        withdrawn[:] = [w for w in withdrawn if w not in back] + [r for r in removed if r not in back]
        del withdrawn[:-MAX_WITHDRAWN]
        return out

    def point(
        self,
        det: CompiledDetection,
        plan: Plan,
        group: dict[str, str],
        items: list[P.Item],
        i: int,
        lf: float | None,
        ls: int,
    ) -> tuple[Detection, float, int] | None:
        """What fires at items[i], seeing items[:i + 1] and the throttle state (lf, ls) before it."""
        item = items[i]
        t = item[P.T]
        kind = plan.kind
        if plan.fast_any:
            # Needs no history: throttle before building anything (most repeats of a story stop here).
            if lf is not None and abs(t - lf) < plan.realert and plan.rank <= ls:
                return None
            return self._fire(det, plan, group, items, i + 1, t, [item[P.EV]], point_time(item), lf, ls)
        if kind == "absence":
            if P.absence_cancelled(items, i, plan.within):
                return None
            t_end = t + plan.within
            fired_at = datetime.fromtimestamp(t_end, UTC)
            return self._fire(det, plan, group, items, 0, t_end, [item[P.EV]], fired_at, lf, ls)
        if det.definition.corroborate is None and lf is not None and abs(t - lf) < plan.realert and plan.rank <= ls:
            # Throttled whatever the evidence (without corroboration the severity is fixed): `_fire` would
            # say so after the pattern's search, which at a long `count` window is most of the work.
            return None
        chosen: list[P.EvidenceRecord] | None
        if kind == "any":
            chosen = [item[P.EV]]
        elif kind == "count":
            cp = det.definition.pattern.count
            assert cp is not None
            chosen = P.count_evidence(items, i + 1, plan.within, cp.at_least, cp.distinct)
        elif kind == "all_of":
            chosen = P.all_of_evidence(items, i + 1, plan.nrefs, plan.within)
        elif kind == "sequence":
            chosen = P.sequence_evidence(items, i + 1, plan.nrefs, plan.within)
        else:
            raise AssertionError(kind)
        if chosen is None:
            return None
        return self._fire(det, plan, group, items, i + 1, t, chosen, point_time(item), lf, ls)

    def _fire(
        self,
        det: CompiledDetection,
        plan: Plan,
        group: dict[str, str],
        items: list[P.Item],
        end: int,
        t: float,
        evidence: list[P.EvidenceRecord],
        fired_at: datetime,
        lf: float | None,
        ls: int,
    ) -> tuple[Detection, float, int] | None:
        d = det.definition
        severity: Severity = d.severity
        confidence: Literal["confirmed", "unconfirmed"] | None = None
        own = len(evidence)  # the pattern's own reports; corroborating ones follow
        if d.corroborate is not None:
            field = P.SRC if d.corroborate.distinct == "source" else P.DOC
            best = P.corroborating(items, end, t, d.corroborate.within.total_seconds(), field, det.corroborating)
            if len(best) >= d.corroborate.at_least:
                severity = d.corroborate.severity
                confidence = "confirmed"
                seen = {e[P.E_ID] for e in evidence}
                for o in sorted(best.values(), key=lambda o: o[P.T]):
                    if o[P.EV][P.E_ID] not in seen:
                        evidence.append(o[P.EV])
                        seen.add(o[P.EV][P.E_ID])
            else:
                confidence = "unconfirmed"
        rank = SEVERITY_RANK[severity]
        if lf is not None and abs(t - lf) < plan.realert and rank <= ls:
            return None  # throttled: this group fired recently at this severity or higher
        # Its own time, not the later of it and the throttle state it met: that one is later only for a report beyond
        # the lateness older than the group's dropped history (sweep.throttle_before keeps both apart).
        lf = t
        feeds = _feeds(items, end, evidence)
        # A pack that names a shared entity its own way shows its own name in its titles (compiler._title_names).
        names = self.rules.title_names.get(det.pack) or self.rules.entity_names
        detection = build_detection(
            names, det, plan, group, fired_at, severity, confidence, evidence, own, feeds, self.rules.title_cases
        )
        return detection, lf, rank


def late_report_reason(doc: str, at: datetime) -> str:
    """Why a late report withdrew an alert (Retraction.reason), its time as the alert text shows times (utc_text:
    '2024-10-21 06:00 UTC'; it was an ISO time with its offset: outside trial 64's leftover). Made from the event
    alone, the same live and on replay."""
    return (
        f"a late report ({doc}, {utc_text(at)}) changed the history of this group: this alert would not have been "
        "raised"
    )


def _feeds(items: list[P.Item], end: int, evidence: list[P.EvidenceRecord]) -> dict[str, str] | None:
    """Report id -> a hash of the configured source it came through (Evidence.feed), for the evidence's reports
    that count by a feed (the observation's source is not the name shown): looked up in the group's observations
    before the point, latest first, until every report is found (they are within the window). Only an alert that
    is raised pays for it, not a throttled one."""
    wanted = {e[P.E_ID] for e in evidence}
    feeds: dict[str, str] = {}
    # (an absence fires at its first observation, at the start: then the rest are looked at too)
    for k in (*range(end - 1, -1, -1), *range(end, len(items))) if end == 0 else range(end - 1, -1, -1):
        o = items[k]
        doc = o[P.DOC]
        if doc in wanted:
            wanted.discard(doc)
            if o[P.SRC] != o[P.EV][P.E_SOURCE]:
                feeds[doc] = stable_id("feed", o[P.SRC], length=12)
            if not wanted:
                break
    return feeds or None


def _replaced(
    gone: list[P.Firing],
    new: list[P.Firing],
    period: float,
    kept: list[P.Firing] | None = None,
    lookback: float | None = None,
) -> list[str | None]:
    """For each new firing of a replay (in time order), the withdrawn alert it replaces: the withdrawn ones in
    time order, each to the first new firing within `period` of its point (the detection's window or realert,
    whichever is longer: the time its alert stays open for follow-ups); None for a new alert of its own. A
    withdrawn alert further away from every new one is retracted: a late corroboration of an earlier report is
    not a revision of an alert raised on a later report a day and more after it (its Slack thread is another).

    Nor is a new firing that continues the story of an alert that still stands (`kept`: the group's firings before
    the replay, in time order; `_earlier_story`) which the withdrawn one is not part of: in event time it joins
    that earlier story, and the withdrawn one, which started a story of its own, would never have been
    raised (outside trial 23, M2-1: three reports in one poll put a story's confirmation in a second thread, as
    the revision of a later alert, while the first message stayed "unconfirmed"; fed in event order, the same
    reports threaded it under the first). The withdrawn alert is then retracted, superseded by the new one. Only
    the firings of `kept` within `lookback` (default `period`) before the new one count."""
    left = list(dict.fromkeys(f[F_ID] for f in gone))
    at = {f[F_ID]: f[P.T] for f in reversed(gone)}  # each withdrawn alert's first point
    replaces: list[str | None] = []
    for r in new:
        t = r[P.T]
        old = next(
            (i for i in left if abs(at[i] - t) <= period and not _earlier_story(kept, t, at[i], period, lookback)),
            None,
        )
        if old is not None:
            left.remove(old)
        replaces.append(old)
    return replaces


def _earlier_story(
    kept: list[P.Firing] | None, t: float, old: float, period: float, lookback: float | None = None
) -> bool:
    """Whether a firing at `t` continues a story an alert of `kept` (the standing firings before the replay, in time
    order, all at or before `t` and `old`) started, which the withdrawn alert at `old` is not part of: the latest
    of them within `period` before `t` that starts a story (no firing within `period` before it) has `old` more
    than `period` after it. Only firings within `lookback` (default `period`) before `t` are looked at, what a sweep
    cannot have dropped, so a firing counts as a story's start only when the `period` before it is within that
    too; where that cannot be told, False (the withdrawn alert is revised, as before). Review of 877f8a2, findings
    1 and 2: a follow-up taken for a story's start put the new alert in no earlier story, and a sweep that had
    dropped firings changed the answer."""
    if not kept:
        return False
    floor = t - (period if lookback is None else lookback)  # every firing from here on is still held
    for i in range(len(kept) - 1, -1, -1):  # latest first
        ft: float = kept[i][P.T]
        if t - ft > period or ft < floor:
            return False
        if ft - period < floor:
            return False  # an earlier firing that would make it a follow-up may be gone: cannot be told
        if i == 0 or ft - kept[i - 1][P.T] > period:  # it starts a story (of those that stand)
            return old - ft > period
    return False


def _superseding(
    gone: list[P.Firing], new: list[P.Firing], replaces: list[str | None], period: float
) -> dict[str, str]:
    """For each withdrawn alert that no new one replaces (it is retracted), the new alert of the same change
    that supersedes it: one within `period` of its point (the time an alert stays open for follow-ups, as in
    _replaced), the latest at or before that point, else the earliest after it, as a follow-up joins a
    thread. None farther: an alert raised a day after the retracted one is in another thread, not its
    replacement."""
    out: dict[str, str] = {}
    if not new:
        return out
    at = {f[F_ID]: f[P.T] for f in reversed(gone)}  # each withdrawn alert's first point
    for alert_id, t in at.items():
        if alert_id in replaces:
            continue
        before: str | None = None
        after: str | None = None
        for r in new:  # (in time order)
            rt = r[P.T]
            if rt <= t:
                if t - rt <= period:
                    before = r[F_ID]
            elif rt - t <= period:
                after = r[F_ID]
                break
            else:
                break
        got = before if before is not None else after
        if got is not None:
            out[alert_id] = got
    return out


def _throttle_converges(plan: Plan, gs: dict[str, Any], pos: int) -> int | None:
    """For an `any` without corroboration, whose points depend on nothing but the throttle state: the first point
    after items[pos] that fires again with the throttle state it had before the report at pos was there, from
    which on nothing changes (None: none, evaluate to the end). The throttle is followed without building alerts,
    so a late report near the start of a long held history costs the alerts up to there, not all of them."""
    items: list[P.Item] = gs["i"]
    firings: list[P.Firing] = gs["f"]
    fi = bisect_left(firings, items[pos][: P.KEY_LEN], key=lambda f: f[: P.KEY_LEN])
    lf, ls = (firings[fi - 1][F_LF], firings[fi - 1][F_LS]) if fi > 0 else (gs["lf"], gs["ls"])
    for i in range(pos, len(items)):
        t = items[i][P.T]
        lf, ls = throttle_before(gs, plan, lf, ls, t)
        if lf is not None and abs(t - lf) < plan.realert and plan.rank <= ls:
            continue  # held back (as `Correlator.point` says)
        lf, ls = t, plan.rank
        while fi < len(firings) and firings[fi][: P.KEY_LEN] < items[i][: P.KEY_LEN]:
            fi += 1
        if i > pos and fi < len(firings) and firings[fi][: P.KEY_LEN] == items[i][: P.KEY_LEN]:
            if (firings[fi][F_LF], firings[fi][F_LS]) == (lf, ls):
                return i  # fired before too, leaving the same throttle state: the rest is as it was
    return None
