"""Sweeps: as the watermark passes, decide absences whose window closed and drop what no on-time observation
can affect any more (the observations before watermark - lateness - a detection's horizon, and the
detections raised before them, whose throttle state is kept). A group left with nothing but a throttle state
that no on-time report can meet any more is kept DORMANT (that throttle state alone, for a report beyond the
lateness), at most MAX_DORMANT of them. And bringing older saved states up to date."""

from __future__ import annotations

from bisect import bisect_left
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING, Any

from . import patterns as P
from .compiler import CompiledDetection
from .evidence import evidence_record

if TYPE_CHECKING:
    from .correlate import Correlator, Output, State
    from .evidence import Plan

EXPIRY_STEP = 3600.0  # seconds of event time between sweeps
STATE_VERSION = 3  # 3: evidence as arrays (patterns.E_*), not objects; 2: sorted observations
F_ID, F_LF, F_LS = 5, 6, 7  # in a detection record, after its point's key
# Dormant groups kept per correlator state (beyond it, the one that fired longest ago is forgotten). Each costs ~210
# bytes of checkpoint JSON (its key, empty lists, its throttle state, its gates, its eviction entry: 355 of them were
# 75 KB), so 1,000 add at most ~0.25 MB to each commit of the embedded runner (which writes the whole state's JSON),
# against the 0.8-1.3 MB the 2023 corpus holds with the bundled pack and a noisy rule. That year left 4 dormant groups
# with them, 355 with 1,000 generated rules more (BENCHMARKS.md, session 33): the bound keeps every group of such
# packs and bites on packs of many more groups (a `group_by` of many values), where the oldest go first.
MAX_DORMANT = 1000
# Throttle states a group keeps beside its own, of the alerts the sweeps dropped (`_keep_gates`) and the dormant states
# it woke from (`wake`), the newest: ~20 bytes of checkpoint JSON each.
MAX_GATES = 4


def sweep(correlator: Correlator, state: State) -> list[Output]:
    """Decide absences whose window closed, and drop what no on-time observation can affect any more.

    Only groups due are visited: each group has one live entry [due, group key] in the heap state["q"],
    `due` being the `closed` value past which it has something to do (its oldest observation leaves the
    horizon, or its throttle state runs out). Visiting every group at every sweep cost more than the rest
    of correlation on busy packs (BENCHMARKS.md)."""
    out: list[Output] = []
    wm = state["wm"]
    if wm is None:
        return out
    swept = wm - wm % EXPIRY_STEP  # the whole step the watermark is in: the same for every path to it
    state["xp"] = swept
    closed = swept - correlator.lateness
    was_closed = state.get("xc")
    state["xc"] = closed
    groups: dict[str, Any] = state["g"]
    heap: list[list[Any]] = state.setdefault("q", [])
    while heap and heap[0][0] < closed:
        due, gkey = heappop(heap)
        gs = groups.get(gkey)
        if gs is None or gs["q"] != due:
            continue  # a group dropped since, or an entry made stale by a newer one
        det = correlator.by_id.get(gkey.split("\x1f", 1)[0])
        if det is None:  # a detection no longer loaded (rules changed between runs)
            del groups[gkey]
            continue
        plan = correlator.plans[det.id]
        items: list[P.Item] = gs["i"]
        if plan.kind == "absence" and items and items[0][P.T] < closed - plan.within:
            out.extend(_close_absences(correlator, det, plan, gs, gkey, was_closed, closed))
        frontier = closed - plan.horizon
        if items and items[0][P.T] < frontier:
            if items[-1][P.T] < frontier:  # all of them (most groups of `any` detections, whose horizon is 0)
                items.clear()
            else:
                del items[: P.first_at_or_after(items, frontier, len(items))]
        firings: list[P.Firing] = gs["f"]
        if firings and firings[0][P.T] < frontier:
            gone = bisect_left(firings, frontier, key=_firing_time)
            lf, ls = firings[gone - 1][F_LF], firings[gone - 1][F_LS]
            if gs["lf"] is not None and (lf is None or lf < gs["lf"]):
                lf, ls = gs["lf"], gs["ls"]  # the dropped record is a late alert's, older than the dropped history
            _keep_gates(gs, plan, firings[max(0, gone - MAX_GATES - 1) : gone], lf, ls)
            gs["lf"], gs["ls"] = lf, ls
            del firings[:gone]
        lf = gs["lf"]
        if items:
            due = items[0][P.T] + (plan.within if plan.kind == "absence" else plan.horizon)
        elif firings:
            due = lf + plan.realert if lf is not None else float("-inf")
        elif lf is None and "z" not in gs:
            del groups[gkey]
            continue
        elif lf is None or lf < closed - plan.realert:  # (None: nothing fired since it woke, its gates are left)
            _fall_dormant(state, gkey, gs)
            continue
        else:
            due = lf + plan.realert
        # schedule(), inlined: the group's entry was just taken off the heap
        gs["q"] = due
        heappush(heap, [due, gkey])
    dq: list[list[Any]] | None = state.get("dq")
    if dq is not None:
        if state["dn"] > correlator.max_dormant:
            _evict_dormant(state, groups, dq, correlator.max_dormant)
        if len(dq) > 2 * state["dn"] + 64:  # mostly entries of groups woken since: only the live ones kept
            _compact_dormant(groups, dq)
    return out


def _keep_gates(gs: dict[str, Any], plan: Plan, dropped: list[P.Firing], lf: float, ls: int) -> None:
    """The alerts a sweep drops (the newest MAX_GATES + 1 of them, in time order: no older one can be kept) and the
    throttle state they replace become gates of the group beside its new throttle state (lf, ls), the newest MAX_GATES
    kept: the throttle state alone is the newest dropped alert's, so a report beyond the lateness near an older
    one found nothing there and alerted a second time (outside trial 72, HIGH-1: a re-listed 1982 GDELT event met only
    its group's 2016 throttle state). A gate is [the time the alert throttles from, its severity rank]: its point's
    time, an absence's window end."""
    offset = plan.within if plan.kind == "absence" else 0.0
    found = [[f[P.T] + offset, f[F_LS]] for f in dropped]
    if gs["lf"] is not None:
        found.append([gs["lf"], gs["ls"]])
    gates = _newest_gates(found + gs.get("z", []), [lf, ls])
    if gates:
        gs["z"] = gates


def _newest_gates(found: list[list[Any]], but: list[Any] | None = None) -> list[list[Any]]:
    """The newest MAX_GATES of these gates, newest first (of one time, the most severe first), each once, `but` left
    out (the group's own throttle state)."""
    gates: list[list[Any]] = []
    for g in sorted(found, key=lambda g: (-g[0], -g[1])):
        if g != but and (not gates or gates[-1] != g):
            gates.append(g)
            if len(gates) == MAX_GATES:
                break
    return gates


def throttle_before(gs: dict[str, Any], plan: Plan, lf: float | None, ls: int, t: float) -> tuple[float | None, int]:
    """The throttle state just before a point at `t` (an absence's: its window's start), given the one its record
    before it left (lf, ls): the group's dropped history's (gs["lf"], gs["ls"]) when that alert is later than the
    record's and not after the point. A report beyond the lateness can raise an alert older than the dropped history;
    its record keeps its own time, so the reports after it within `realert` are held back by it as in event time,
    and the points after the dropped history are still held back by that (outside trial 77, F1: the record kept
    the later of the two, so a backfill's second report 3h after its first alert alerted too)."""
    dropped = gs["lf"]
    if (
        dropped is not None
        and (lf is None or lf < dropped)
        and dropped <= t + (plan.within if plan.kind == "absence" else 0.0)
    ):
        return dropped, gs["ls"]
    return lf, ls


def held_by_gate(gs: dict[str, Any], plan: Plan, t: float, rank: int) -> bool:
    """Whether a gate of the group holds back an alert of severity `rank` throttling from `t`: an alert the sweeps
    dropped (or a dormant throttle state the group woke from) within `realert` of it, at least as severe. Only a
    report beyond the lateness can be: the gates lie before W - lateness, and one within `realert` of an on-time
    report is older than the throttle state it meets, which holds it back then (a chain's alerts within `realert`
    of each other rise in severity)."""
    gates: list[list[Any]] | None = gs.get("z")
    return gates is not None and any(abs(t - g[0]) < plan.realert and rank <= g[1] for g in gates)


def is_dormant(gs: dict[str, Any]) -> bool:
    """A group that holds nothing but its throttle state, out of the sweep heap (`_fall_dormant`)."""
    return gs["q"] is None and gs["lf"] is not None and not gs["i"] and not gs["f"]


def _fall_dormant(state: State, gkey: str, gs: dict[str, Any]) -> None:
    """Instead of dropping a group whose throttle state no on-time report can meet any more (its last firing
    `realert` before W - lateness), keep that throttle state: a report beyond the lateness that lands in the group
    is then held back as it was before the sweep (outside tester's S3: not a second alert for the same event). The
    rest is as a new group's (what an on-time report finds: the same as if the group had been dropped). Out of the
    sweep heap: a report wakes it (`wake`). A group that fired nothing since it woke keeps its newest gate's."""
    if gs["lf"] is None:
        gates: list[list[Any]] = gs["z"]
        gs["lf"], gs["ls"] = gates.pop(0)
        if not gates:
            del gs["z"]
    gs["q"] = None
    gs["n"] = 0
    gs["w"] = []
    heappush(state.setdefault("dq", []), [gs["lf"], gkey])
    state["dn"] = state.get("dn", 0) + 1


def wake(state: State, gs: dict[str, Any], plan: Plan, t: float) -> bool:
    """A report at `t` lands in a group that holds what the sweeps left of its earlier alerts: dormant (its throttle
    state), or awake with gates (``gs["z"]``: [last fired, severity rank] of up to MAX_GATES throttle states it woke
    from). True: the report is held back by one of them, for an `any` without corroboration (its severity is fixed,
    so the throttle decides alone): not kept, the group left as it is. Else a dormant group wakes: with its throttle
    state for a report within `realert` of it (`point` decides with it), else as a new group (what a dropped group
    was: the throttle of the chain that fired far from this report would hold back the reports near this one after
    it, as `_fire` kept the latest time before `throttle_before`), that throttle state set aside as a gate. An
    on-time report is never within `realert` of either (they lie `realert` before W - lateness), so it finds what a
    new group would."""
    gates: list[list[Any]] | None = gs.get("z")
    dormant = gs["q"] is None and is_dormant(gs)
    if plan.fast_any:
        if dormant and abs(t - gs["lf"]) < plan.realert and plan.rank <= gs["ls"]:
            return True
        if held_by_gate(gs, plan, t, plan.rank):
            return True
    if not dormant:
        return False
    state["dn"] -= 1
    if abs(t - gs["lf"]) >= plan.realert:
        gs["z"] = _newest_gates([[gs["lf"], gs["ls"]], *(gates or [])])
        gs["lf"], gs["ls"] = None, -1
    return False


def _live_dormant(groups: dict[str, Any], lf: float, gkey: str) -> bool:
    """Whether the eviction entry [lf, gkey] is its group's: the group is dormant with that throttle time."""
    gs = groups.get(gkey)
    return gs is not None and is_dormant(gs) and gs["lf"] == lf


def _evict_dormant(state: State, groups: dict[str, Any], dq: list[list[Any]], bound: int) -> None:
    """Forget the dormant groups over `bound` (MAX_DORMANT), the one that fired longest ago first (ties: by group
    key), so the same input gives the same state. Entries of groups woken or forgotten since are skipped."""
    while state["dn"] > bound and dq:
        lf, gkey = heappop(dq)
        if _live_dormant(groups, lf, gkey):
            del groups[gkey]
            state["dn"] -= 1


def _compact_dormant(groups: dict[str, Any], dq: list[list[Any]]) -> None:
    """The eviction heap with only its live entries, one per dormant group (what `dormant_index` would rebuild)."""
    seen: set[str] = set()
    keep: list[list[Any]] = []
    for lf, gkey in dq:
        if gkey not in seen and _live_dormant(groups, lf, gkey):
            seen.add(gkey)
            keep.append([lf, gkey])
    heapify(keep)
    dq[:] = keep


def dormant_index(groups: dict[str, Any]) -> tuple[list[list[Any]], int]:
    """The eviction heap of the dormant groups ([last fired, group key], the oldest first: sorted, so a heap) and
    how many there are, rebuilt from the groups (a state read back without them: `restore`, the Kafka changelog's
    `statecodec`). The heap pops the same groups in the same order as the one it replaces, whose other entries
    (of groups woken or forgotten since) the eviction skips."""
    dq = sorted([gs["lf"], gkey] for gkey, gs in groups.items() if is_dormant(gs))
    return dq, len(dq)


def index_dormant(state: State) -> None:
    """Give a state read back without its dormant groups' heap and count (saved before there were any, or a Kafka
    changelog's, which keeps neither) both, when it holds dormant groups (none: neither key, as a state that
    never had one)."""
    state.pop("dq", None)
    state.pop("dn", None)
    dq, n = dormant_index(state.get("g", {}))
    if n:
        state["dq"], state["dn"] = dq, n


def schedule(state: State, gkey: str, gs: dict[str, Any], plan: Plan) -> None:
    """Give the group its heap entry for the next sweep that has something to do for it."""
    items = gs["i"]
    if items:
        due = items[0][P.T] + (plan.within if plan.kind == "absence" else plan.horizon)
    elif gs["lf"] is not None:
        due = gs["lf"] + plan.realert
    else:
        due = float("-inf")
    if gs["q"] is not None and gs["q"] <= due:
        return  # its entry is due no later already
    gs["q"] = due
    heappush(state.setdefault("q", []), [due, gkey])


def _close_absences(
    correlator: Correlator,
    det: CompiledDetection,
    plan: Plan,
    gs: dict[str, Any],
    gkey: str,
    was_closed: float | None,
    closed: float,
) -> list[Output]:
    """Firsts whose window closed since the last sweep, in order: fire unless a then_not followed."""
    items: list[P.Item] = gs["i"]
    lo = float("-inf") if was_closed is None else was_closed - plan.within
    hi = closed - plan.within
    start = P.first_at_or_after(items, lo, len(items))
    out: list[Output] = []
    firings: list[P.Firing] = gs["f"]
    group = P.group_from_key(gkey)
    for i in range(start, len(items)):
        item = items[i]
        if item[P.T] >= hi:
            break
        if item[P.RI] != 0:
            continue
        lf, ls = (firings[-1][F_LF], firings[-1][F_LS]) if firings else (gs["lf"], gs["ls"])
        lf, ls = throttle_before(gs, plan, lf, ls, item[P.T])
        got = correlator.point(det, plan, group, items, i, lf, ls)
        if got is None:
            continue
        d, lf, ls = got
        firings.append((*item[: P.KEY_LEN], d.id, lf, ls))
        out.extend(correlator.changes(det, gs, group, [], [d], item) if d.id in gs["w"] else [d])
    return out


def restore(correlator: Correlator, state: State) -> State:
    """A saved state, brought up to this version: version 1 (before event-time revisions) kept the
    observations per group unsorted and absences' firsts apart; they become sorted observations (the
    sentence index was not kept: 0), so a checkpoint taken before an upgrade carries on. A checkpoint read
    back from JSON holds lists where the engine keeps tuples (observations, detection records, places):
    they become tuples again (the same values, and the collector can stop tracking them)."""
    version = state.get("v")
    if isinstance(version, int) and version > STATE_VERSION:
        # An older engine reading a newer state would take it for version 1 and drop its observations.
        raise ValueError(
            f"the saved correlator state is version {version}, newer than this engine's ({STATE_VERSION}): "
            "run the newer watchfloor on it (every worker of a deployment on the same version)"
        )
    if version in (2, STATE_VERSION):  # version 2 kept evidence as objects: made records here
        _tuples_again(state)
        state["v"] = STATE_VERSION
        if "dn" not in state or "dq" not in state:  # saved before dormant groups (none then) or without their heap
            index_dormant(state)
        return state
    groups: dict[str, Any] = state.get("g", {})
    for gkey, old in list(groups.items()):
        items: list[P.Item] = [
            (o[0], o[3], 0, o[4]["signal"], o[1], o[2], evidence_record(o[4]), 0) for o in old.get("o", ())
        ]
        items += [
            (p[0], p[1]["event_id"], 0, p[1]["signal"], 0, p[1]["source"], evidence_record(p[1]), 0)
            for p in old.get("p", ())
        ]
        items.sort(key=lambda o: o[: P.KEY_LEN])
        for pos in range(len(items)):
            P.mark_duplicates(items, pos)
        groups[gkey] = {"i": items, "f": [], "lf": old.get("lf"), "ls": old.get("ls", -1), "n": 0, "w": []}
        groups[gkey]["q"] = None
        det = correlator.by_id.get(gkey.split("\x1f", 1)[0])
        if det is not None:
            schedule(state, gkey, groups[gkey], correlator.plans[det.id])
    state["v"] = STATE_VERSION
    index_dormant(state)
    if state.get("xp") is not None:  # sweeps are at whole steps now
        state["xp"] -= state["xp"] % EXPIRY_STEP
        state.setdefault("xc", state["xp"] - correlator.lateness)
    return state


def _tuples_again(state: State) -> None:
    for gs in state.get("g", {}).values():
        items: list[Any] = gs["i"]
        if items and type(items[0]) is not tuple:
            items[:] = [(*o[: P.EV], evidence_record(o[P.EV]), *o[P.EV + 1 :]) for o in items]
        firings: list[Any] = gs["f"]
        if firings and type(firings[0]) is not tuple:
            firings[:] = [tuple(f) for f in firings]


def _firing_time(f: P.Firing) -> float:
    return float(f[P.T])
