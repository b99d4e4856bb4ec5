"""A backfill beyond the lateness, read after a group's older alerts were dropped, alerts as the backtest does: the
alert its first report raises holds back the next report within `realert` (outside trial 77, F1: with 4 or more
alerts in the group, the dropped history's throttle state, later than the backfill, was kept in the late alert's
record instead of the alert's own time, so the second report 3h on alerted too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from watchfloor.schemas.events import Detection, Document, Retraction
from watchfloor.stream_processors.engine import Engine

from .engine_helpers import doc
from .test_dormant_groups import PER_SOURCE, pack
from .test_dropped_firings import CONFIRMED, backtest

LIVE_START = 1000.0  # hours after T0: the live alerts, one every 30 h (a day and more apart: each an alert)


def strike(at: float, doc_id: str, source: str = "Wire A") -> Document:
    return doc("A strike at the port.", at=at, source=source, doc_id=doc_id)


def standing(eng: Engine, docs: list[Document]) -> list[str]:
    """The report ids of the alerts that stand after the documents are read in this order, one at a time."""
    state = eng.initial_state()
    alerts: dict[str, str] = {}
    for d in docs:
        state, outs = eng.process_document(state, d)
        for o in outs:
            if isinstance(o, Retraction):
                alerts.pop(o.alert_id, None)
            elif isinstance(o, Detection):
                if o.revises is not None:
                    alerts.pop(o.revises, None)
                alerts[o.id] = o.evidence[0].event_id
    return sorted(alerts.values())


@pytest.mark.parametrize("rules", [CONFIRMED, PER_SOURCE], ids=["corroborated", "any"])
@pytest.mark.parametrize("n", [1, 3, 4, 5, 10])
@pytest.mark.parametrize("newest_first", [False, True], ids=["in-order", "newest-first"])
def test_a_late_backfill_after_n_live_alerts_alerts_as_the_backtest(
    tmp_path: Path, rules: str, n: int, newest_first: bool
) -> None:
    """N live alerts of one group, then two reports of that group 3h apart, weeks earlier: one alert, the first
    report's (the backtest names the second a near miss), whatever N and in either order of the two."""
    eng = pack(tmp_path, rules)
    live = [strike(LIVE_START + 30.0 * k, f"live{k}") for k in range(n)]
    late = [strike(0.0, "late0"), strike(3.0, "late3")]
    expected = sorted(backtest(eng, late + live))
    assert "late0" in expected and "late3" not in expected
    got = standing(eng, live + (late[::-1] if newest_first else late))
    assert got == expected, f"N={n}: live {got} vs backtest {expected}"


@pytest.mark.parametrize("n", [4, 10])
def test_the_live_alerts_after_a_late_alert_are_still_held_back_by_the_dropped_history(tmp_path: Path, n: int) -> None:
    """A late alert's record keeps its own time now, not the dropped history's: an on-time report within `realert`
    of the newest dropped alert is still held back by it (the live alerts are a day and more apart; a report 20h
    after the newest, Wire A, is read after the backfill)."""
    eng = pack(tmp_path, PER_SOURCE)
    live = [strike(LIVE_START + 30.0 * k, f"live{k}") for k in range(n)]
    late = [strike(0.0, "late0"), strike(3.0, "late3")]
    near = strike(LIVE_START + 30.0 * (n - 1) + 20.0, "near")
    docs = [*live, *late, near, doc("Markets rose.", at=LIVE_START + 30.0 * n + 100, source="Wire Z", doc_id="m")]
    assert standing(eng, docs) == sorted(backtest(eng, sorted(docs, key=lambda d: d.published_at)))


def test_the_state_of_a_group_after_a_long_backfill_stays_bounded(tmp_path: Path) -> None:
    """A backfill of 200 reports one every 13h (each an alert): the group keeps at most a handful of gates, however
    long the backfill (bounded by time reach, not by how many alerts the group raised)."""
    eng = pack(tmp_path, PER_SOURCE)
    state = eng.initial_state()
    for k in range(5):
        state, _o = eng.process_document(state, strike(LIVE_START + 30.0 * k, f"live{k}"))
    for k in range(200):
        state, _o = eng.process_document(state, strike(13.0 * k - 3000.0, f"old{k}"))
    state, _o = eng.process_document(state, doc("Markets rose.", at=LIVE_START + 400, source="Wire Z", doc_id="m"))
    gs: dict[str, Any] = state["g"]["strike\x1fsource=Wire A"]
    assert len(gs.get("z", [])) <= 4
