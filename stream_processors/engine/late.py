"""Reports beyond the lateness (correlate.py): evaluated at their own point and in the windows of the later
points still held, against what is still held, when that history explains what was raised there."""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING, Any

from watchfloor.schemas.events import SEVERITY_RANK, Detection

from . import patterns as P
from .compiler import CompiledDetection
from .sweep import F_ID, F_LF, F_LS, throttle_before

if TYPE_CHECKING:
    from .correlate import Correlator, Output
    from .evidence import Plan

# A report beyond the lateness is also evaluated at the later points whose windows hold it, when there are at
# most this many (news groups hold a few reports per window); each costs three evaluations.
MAX_LATER_POINTS = 64


def later_points(plan: Plan, items: list[P.Item], pos: int) -> range:
    """The points after items[pos] whose windows can hold it (none for `any` without corroboration, whose group
    `Correlator._observe` evaluates again from the report, or for an absence, decided when its window closes; none
    past MAX_LATER_POINTS of them)."""
    if plan.fast_any or plan.kind == "absence":
        return range(0)
    end = P.first_at_or_after(items, items[pos][P.T] + plan.horizon, len(items))
    while end < len(items) and items[end][P.T] <= items[pos][P.T] + plan.horizon:
        end += 1
    if end - pos - 1 > MAX_LATER_POINTS:
        return range(0)  # a busy group: its windows are full without this report, and the cost would not be
    return range(pos + 1, end)


def held_alerts_after(plan: Plan, gs: dict[str, Any], pos: int, after: int) -> list[int]:
    """The points after items[after] of the alerts still held within `realert` of items[pos]: past the windows
    that can hold the report (`later_points`), its own alert's realert can still hold them back. (None for `any`
    without corroboration, whose group correlate evaluates again from the report, or for an absence.)"""
    if plan.fast_any or plan.kind == "absence":
        return []
    items: list[P.Item] = gs["i"]
    firings: list[P.Firing] = gs["f"]
    t = items[pos][P.T]
    out: list[int] = []
    for f in firings[bisect_left(firings, items[after][: P.KEY_LEN], key=lambda f: f[: P.KEY_LEN]) :]:
        if f[P.T] - t >= plan.realert:
            break
        if f[P.T] <= t + plan.horizon:
            continue  # within the report's windows: `later_points` has them, unless a busy group's are full
        i = bisect_left(items, f[: P.KEY_LEN], key=lambda o: o[: P.KEY_LEN])
        if after < i < len(items) and items[i][: P.KEY_LEN] == f[: P.KEY_LEN] and (not out or out[-1] != i):
            out.append(i)
    return out


def firing_at(
    gs: dict[str, Any], key: tuple[Any, ...], plan: Plan | None = None
) -> tuple[int, P.Firing | None, float | None, int]:
    """(index, the detection record at this point or None, throttle state just before it: with `plan`, the dropped
    history's when that is later, sweep.throttle_before)."""
    firings: list[P.Firing] = gs["f"]
    fi = bisect_left(firings, key, key=lambda f: f[: P.KEY_LEN])
    here = firings[fi] if fi < len(firings) and firings[fi][: P.KEY_LEN] == key else None
    lf, ls = (firings[fi - 1][F_LF], firings[fi - 1][F_LS]) if fi > 0 else (gs["lf"], gs["ls"])
    if plan is not None:
        lf, ls = throttle_before(gs, plan, lf, ls, key[P.T])
    return fi, here, lf, ls


def explained(
    corr: Correlator, det: CompiledDetection, plan: Plan, gs: dict[str, Any], group: dict[str, str], pos: int
) -> dict[int, tuple[float | None, int, str | None]]:
    """For the later points (of `later_points`, then `held_alerts_after` them), before the report at items[pos]
    changed anything: the throttle state just before each, and the alert the history still held gives there
    without the report (None: nothing). Compared with what was raised there, it says whether the held history
    is whole enough at that point to let the report change it."""
    items: list[P.Item] = gs["i"]
    points = list(later_points(plan, items, pos))
    points += held_alerts_after(plan, gs, pos, points[-1] if points else pos)
    if not points:
        return {}
    without = items[:pos] + items[pos + 1 :]
    out: dict[int, tuple[float | None, int, str | None]] = {}
    for i in points:
        _fi, _here, lf, ls = firing_at(gs, items[i][: P.KEY_LEN], plan)
        got = corr.point(det, plan, group, without, i - 1, lf, ls)
        out[i] = (lf, ls, got[0].id if got is not None else None)
    return out


def later_windows(
    corr: Correlator,
    det: CompiledDetection,
    plan: Plan,
    gs: dict[str, Any],
    group: dict[str, str],
    pos: int,
    cause: P.Item,
    before: dict[int, tuple[float | None, int, str | None]],
) -> list[Output]:
    """A report beyond the lateness, in the windows of the later points still held, where the held history
    explains what was raised there (`before`): a point that raised nothing raises what the report's
    presence in its window makes it raise; an alert is replaced by the one it gives now, and withdrawn when the
    realert of the report's own alert holds it back now. Only a change the report itself makes counts, not one of
    a throttle state that lost its history."""
    items: list[P.Item] = gs["i"]
    firings: list[P.Firing] = gs["f"]
    out: list[Output] = []
    own = firing_at(gs, items[pos][: P.KEY_LEN])[1]  # the report's own alert, if it raised one
    for i, (lf0, ls0, was) in before.items():
        key = items[i][: P.KEY_LEN]
        fi, here, lf, ls = firing_at(gs, key, plan)
        if (here[F_ID] if here is not None else None) != was:
            continue  # what was raised here is not what the history still held gives: it is partial here
        got = corr.point(det, plan, group, items, i, lf, ls)
        if got is None and here is not None and own is not None:
            if corr.point(det, plan, group, items, i, lf0, ls0) is not None:
                # Held back now by the realert of the report's own alert, before it: in event time this alert is
                # never raised (one alert, not two). Withdrawn, superseded by the report's alert when that lies
                # within the alert's open period (the thread it would have joined), as a replay withdraws one.
                del firings[fi]
                near_own = abs(here[P.T] - own[P.T]) <= plan.open  # as correlate._superseding
                superseded = {here[F_ID]: own[F_ID]} if near_own else {}
                out.extend(corr.changes(det, gs, group, [here[F_ID]], [], cause, superseded=superseded))
            continue
        if got is None or got[0].id == was:
            continue
        d, lf, ls = got
        if here is None:
            if corr.point(det, plan, group, items, i, lf0, ls0) is None or near(gs, plan, d, key[P.T]):
                continue  # only for the throttle state the report's own alert left, or one like it is near
            firings.insert(fi, (*key, d.id, lf, ls))
            out.extend(corr.changes(det, gs, group, [], [d], cause))
        else:
            firings[fi] = (*key, d.id, lf, ls)
            out.extend(corr.changes(det, gs, group, [here[F_ID]], [d], cause))
    return out


def near(gs: dict[str, Any], plan: Plan, d: Detection, t: float) -> bool:
    """Whether the group raised an alert at least as severe within `realert` of t, before or after it (the
    throttle a whole history would have applied is not known here: an alert so near stands for it)."""
    rank = SEVERITY_RANK[d.severity]
    if gs["lf"] is not None and abs(gs["lf"] - t) < plan.realert and gs["ls"] >= rank:
        return True
    return any(abs(f[P.T] - t) < plan.realert and f[F_LS] >= rank for f in gs["f"])
