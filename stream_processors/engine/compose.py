"""Detections over detections: every change of an alert (raised, revised, retracted) is fed to the detections
that take that rule's alerts as input, as an observation of theirs (pure; the correlator calls it).

A derived detection sees an input alert as an observation at the alert's fired_at, in the group its own
`group_by` reads from the input alert's group, if the reference's filters hold (`where` on the group, least
`severity`, `confidence`). When an input alert is revised (a late report changed its history) its old
observation is swapped for the new one; when it is retracted, its observation is withdrawn. Either way the
derived group is evaluated again from that point, as the correlator does for a late report, so a derived
alert is revised or retracted in turn: a detection over detections is a function of its inputs' current
alerts, whatever order they changed in.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING, Any

from watchfloor.schemas.events import SEVERITY_RANK, Detection, Retraction

from . import patterns as P
from .compiled import ALERT, CompiledDetection, CompiledRef
from .sweep import schedule

if TYPE_CHECKING:
    from .correlate import Correlator, Output, State


def compose(corr: Correlator, state: State, outputs: list[Output]) -> list[Output]:
    """`outputs` and what they cause in the detections built on them (and on those, in turn)."""
    out = list(outputs)
    by_input = corr.rules.detections_by_signal
    i = 0
    while i < len(out):
        o = out[i]
        i += 1
        if not isinstance(o, Detection | Retraction):
            continue
        for det in by_input.get(ALERT + o.rule, ()):
            out.extend(feed(corr, state, det, o))
    return out


def feed(corr: Correlator, state: State, det: CompiledDetection, o: Detection | Retraction) -> list[Output]:
    """One alert change `o` fed to one detection `det` over it (the distributed workers feed each derived
    detection in the correlate partition of its own group: kafka/partition.py)."""
    res: list[Output] = []
    for ri, ref in enumerate(det.refs):
        if ref.detection != o.rule or any(o.group.get(k) != v for k, v in ref.where):
            continue
        group = group_of_alert(det, o)
        if group is None:
            continue
        if isinstance(o, Retraction):
            why = f"its input alert {o.alert_id} ({o.rule}) was withdrawn: {o.reason}"
            res.extend(_swap(corr, state, det, group, o.alert_id, None, why))
            continue
        item = _item(o, ri) if fits_ref(ref, o) else None
        if o.revises is not None:
            res.extend(_swap(corr, state, det, group, o.revises, item))
        elif item is not None:
            res.extend(corr._observe(state, det, group, item))
    return res


def fits_ref(ref: CompiledRef, d: Detection) -> bool:
    """Whether an input alert passes an alert reference's least severity and confidence."""
    if SEVERITY_RANK[d.severity] < ref.min_rank:
        return False
    return ref.confidence is None or d.confidence == ref.confidence


def group_of_alert(det: CompiledDetection, o: Detection | Retraction) -> dict[str, str] | None:
    """The derived detection's group of an input alert (its `group_by` read from the alert's group), None if none."""
    group: dict[str, str] = {}
    for g in det.group_by:
        if g == "source":
            value = o.evidence[0].source if isinstance(o, Detection) and o.evidence else None
        else:
            value = o.group.get(g)
        if value is None:
            return None
        group[g] = value
    return group


def _item(d: Detection, ri: int) -> P.Item:
    """An input alert as an observation: at its fired_at, its id standing for the document."""
    first = d.evidence[0] if d.evidence else None
    source = first.source if first is not None else d.rule
    ev = (
        d.id,
        ALERT + d.rule,
        source,
        first.url if first is not None else None,
        d.fired_at.isoformat(),
        d.title,
        "asserted",
        P.flat_pairs(d.group),
        (),
        None,
        None,
        None,  # E_FIRST_SEEN: an alert is dated (without it, a restored state differs from the one in memory)
    )
    return (d.fired_at.timestamp(), d.id, 0, ALERT + d.rule, ri, source, ev, 0)


def _swap(
    corr: Correlator,
    state: State,
    det: CompiledDetection,
    group: dict[str, str],
    old_id: str,
    new: P.Item | None,
    reason: str | None = None,
) -> list[Output]:
    """Withdraw the observation of alert `old_id` (and put `new` in its place), then evaluate the group again
    from the earlier of the two points: what changed comes out as revisions and retractions."""
    gkey = P.group_key(det.id, group)
    gs = state["g"].get(gkey)
    items: list[P.Item] = gs["i"] if gs is not None else []
    pos = next((k for k, it in enumerate(items) if it[P.DOC] == old_id), None)
    if gs is None or pos is None:  # never observed (filtered out), or dropped as too old since
        return corr._observe(state, det, group, new) if new is not None else []
    removed = items.pop(pos)
    start_key = removed[: P.KEY_LEN]
    if new is not None:
        key = new[: P.KEY_LEN]
        at = bisect_left(items, key, key=lambda it: it[: P.KEY_LEN])
        items.insert(at, new)
        start_key = min(start_key, key)
        if at == 0:
            schedule(state, gkey, gs, corr.plans[det.id])
    return _replay_from(corr, det, gs, group, start_key, new if new is not None else removed, reason)


def _replay_from(
    corr: Correlator,
    det: CompiledDetection,
    gs: dict[str, Any],
    group: dict[str, str],
    start_key: tuple[Any, ...],
    cause: P.Item,
    reason: str | None = None,
) -> list[Output]:
    """As Correlator._replay, from a key rather than a position (the withdrawn observation may have been
    the last one). `reason`: the retractions' (an input alert withdrawn says why)."""
    pos = bisect_left(gs["i"], start_key, key=lambda it: it[: P.KEY_LEN])
    return corr.replay_from(det, corr.plans[det.id], gs, group, pos, start_key, cause, reason=reason)
