"""Every alert the sweeps dropped holds back a report beyond the lateness within its `realert`, not only the newest
one of its group (outside trial 72, HIGH-1: a re-listed GDELT copy of a 1982 event, read after the group's 1979, 1982
and 2016 alerts were dropped, met only the 2016 throttle state and raised the 1982 alert a second time, where the
backtest in event time holds it back)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from watchfloor.schemas.events import Detection, Document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.sweep import MAX_GATES, is_dormant
from watchfloor.stream_processors.replay import replay

from .engine_helpers import doc
from .test_dormant_groups import PER_SOURCE, pack

# One group per source, any strike, a day's realert, 12h of lateness (the dormant groups' bound pack).
STRIKES = PER_SOURCE

# The same, confirmed HIGH by a second source within 6h (not an `any` the throttle alone decides).
CONFIRMED = """\
version: 2
name: strike-desk
language: en
settings: {lateness: 12h}
signals:
  strike:
    match: {any: [strike]}
detections:
  - id: strike
    title: "A strike"
    severity: medium
    pattern: {any: strike}
    realert: 1d
    corroborate: {distinct: source, at_least: 2, within: 6h, severity: high}
"""

WIRE_A = "strike\x1fsource=Wire A"


def strike(at: float, doc_id: str, source: str = "Wire A") -> Document:
    return doc("A strike at the port.", at=at, source=source, doc_id=doc_id)


def feed(eng: Engine, state: dict[str, Any], *docs: Document) -> tuple[dict[str, Any], list[str]]:
    """The documents in this order; the report ids of the alerts they raised."""
    fired: list[str] = []
    for d in docs:
        state, outs = eng.process_document(state, d)
        fired += [o.evidence[0].event_id for o in outs if isinstance(o, Detection)]
    return state, fired


def backtest(eng: Engine, docs: list[Document]) -> list[str]:
    return [d.evidence[0].event_id for d in replay(docs, eng).alerts]


def test_a_late_report_near_an_older_dropped_alert_of_a_dormant_group_is_held_back(tmp_path: Path) -> None:
    """Wire A alerts at 0h and at 30h (a day and more apart: two alerts); a report at 200h moves event time on and
    the sweep leaves the group dormant. Then Wire A's 1h report is read: within the day after the 0h alert, which
    the backtest in event time holds it back by. (It met only the 30h throttle state, far from it, and alerted.)"""
    eng = pack(tmp_path, STRIKES)
    first, second, late = strike(0, "a0"), strike(30, "a30"), strike(1, "a1")
    markets = doc("Markets rose.", at=200, source="Wire Z", doc_id="m200")
    state, fired = feed(eng, eng.initial_state(), first, second, markets)
    assert fired == ["a0", "a30"] and is_dormant(state["g"][WIRE_A])
    state, again = feed(eng, state, late)
    assert again == [], "a report within the realert of an alert the sweep dropped alerted a second time"
    assert backtest(eng, [first, late, second, markets]) == ["a0", "a30"]  # live == replay
    # The dropped alert's throttle state goes through a checkpoint.
    state = eng.restore(orjson.loads(orjson.dumps(state)))
    _s, again = feed(eng, state, strike(2, "a2"))
    assert again == []


def test_a_late_report_near_an_older_dropped_alert_of_a_group_still_awake_is_held_back(tmp_path: Path) -> None:
    """The group still holds its 160h alert (awake) when the sweep at 165h drops the 0h and 30h ones: a report at 1h
    is held back by the 0h alert, one at 31h by the 30h one, one at 80h (a day and more from each) alerts, as in
    event time."""
    eng = pack(tmp_path, STRIKES)
    on_time = [strike(0, "a0"), strike(30, "a30"), strike(160, "a160"), strike(165, "b165", source="Wire B")]
    state, fired = feed(eng, eng.initial_state(), *on_time)
    assert fired == ["a0", "a30", "a160", "b165"]
    gs = state["g"][WIRE_A]
    assert not is_dormant(gs) and [f[0] for f in gs["f"]] == [on_time[2].published_at.timestamp()]
    late = [strike(1, "a1"), strike(31, "a31"), strike(80, "a80")]
    state, again = feed(eng, state, *late)
    assert again == ["a80"]
    assert backtest(eng, on_time + late) == ["a0", "a30", "a80", "a160", "b165"]


def test_a_corroborated_rule_late_report_near_an_older_dropped_alert_is_held_back(tmp_path: Path) -> None:
    """A rule whose severity depends on corroboration: its late report of the same severity within the realert of an
    older dropped alert is held back too (the gates held back only an `any` without corroboration)."""
    eng = pack(tmp_path, CONFIRMED)
    first, second, late = strike(0, "a0"), strike(30, "a30"), strike(1, "a1")
    markets = doc("Markets rose.", at=200, source="Wire Z", doc_id="m200")
    state, fired = feed(eng, eng.initial_state(), first, second, markets)
    assert fired == ["a0", "a30"]
    state, again = feed(eng, state, late)
    assert again == []
    assert backtest(eng, [first, late, second, markets]) == ["a0", "a30"]


def test_the_dropped_alerts_kept_per_group_are_bounded_the_newest_kept(tmp_path: Path) -> None:
    """A group that alerted every two days for longer than the bound keeps the newest MAX_GATES alerts' throttle
    states beside its last one: a late report near the oldest alerts again (the bound's edge), one near a kept one
    does not."""
    eng = pack(tmp_path, STRIKES)
    n = MAX_GATES + 4
    reports = [strike(48.0 * k, f"a{k}") for k in range(n)]
    state, fired = feed(eng, eng.initial_state(), *reports, doc("Markets rose.", at=48.0 * n + 100, doc_id="m"))
    assert len(fired) == n
    gs = state["g"][WIRE_A]
    assert is_dormant(gs) and len(gs["z"]) == MAX_GATES
    assert [g[0] for g in gs["z"]] == sorted((g[0] for g in gs["z"]), reverse=True)  # newest first
    state, again = feed(eng, state, strike(48.0 * (n - 3) + 1, "kept"))
    assert again == []
    _s, again = feed(eng, state, strike(1, "forgotten"))
    assert again == ["forgotten"]
