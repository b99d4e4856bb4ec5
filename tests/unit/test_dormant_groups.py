"""Dormant groups (sweep.py): a group the sweeps would drop keeps its throttle state, so a report beyond the lateness
that lands in it later is held back as before the drop, not alerted a second time (outside tester's S3); at most
`max_dormant` of them per state, the one that fired longest ago forgotten first."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.fixtures.correlate_agent import Outputs, Record, correlate_record
from tests.unit.test_correlate_agent import PARTS, run, states_of
from watchfloor.schemas.events import (
    SEVERITY_RANK,
    DeadLetter,
    Detection,
    Document,
    Event,
    signal_event,
    watermark_event,
)
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.sweep import MAX_DORMANT, dormant_index, is_dormant
from watchfloor.stream_processors.kafka import statecodec as sc
from watchfloor.stream_processors.kafka.agents import Correlate
from watchfloor.stream_processors.kafka.codec import origin_header
from watchfloor.stream_processors.kafka.partition import PartitionCorrelator
from watchfloor.stream_processors.replay import replay

from .engine_helpers import doc, engine_for

# A desk watching treaties: one group, a 30-day realert, 12h of lateness.
TREATY = """\
version: 2
name: treaty-desk
language: en
settings: {lateness: 12h}
signals:
  treaty_signed:
    match: {all: [treaty, signed]}
detections:
  - id: treaty-signed
    title: "A treaty was signed"
    severity: high
    pattern: {any: treaty_signed}
    realert: 30d
"""

# One group per source (the bound's tests): any strike, a day's realert, 12h of lateness.
PER_SOURCE = """\
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
    group_by: [source]
    realert: 1d
"""

TREATY_KEY = "treaty-signed\x1f"


def pack(tmp_path: Path, text: str) -> Engine:
    path = tmp_path / "pack.yaml"
    path.write_text(text, encoding="utf-8")
    return engine_for(str(path))


def report(doc_id: str, at: str, title: str, source: str = "Wire A") -> Document:
    return parse_document({"type": "news.article", "id": doc_id, "published_at": at, "source": source, "title": title})


def feed(eng: Engine, state: dict[str, Any], d: Document) -> tuple[dict[str, Any], list[Detection], list[DeadLetter]]:
    state, outs = eng.process_document(state, d)
    return state, [o for o in outs if isinstance(o, Detection)], [o for o in outs if isinstance(o, DeadLetter)]


JUNE_13 = report("treaty-1300", "2024-06-19T13:00:00+00:00", "Russia and Vietnam signed a treaty in Hanoi")
JUNE_1213 = report("treaty-1213", "2024-06-19T12:13:00+00:00", "A treaty was signed by Russia and Vietnam")
DEC_17 = report("markets-1217", "2024-12-17T09:00:00+00:00", "Markets rose in Hanoi")


def test_a_report_beyond_the_lateness_of_a_group_the_sweep_dropped_is_not_alerted_twice(tmp_path: Path) -> None:
    """S3 in small: the 19 Jun 13:00 report of a treaty raises the alert; the 17 Dec report moves event time half a
    year on, and the sweep drops the group (30-day realert and all); then the 12:13 report of the same signing is
    read. It finds the group dormant, its throttle state 13:00: held back, as before the drop. (Before dormant
    groups it found no group and raised a second alert for the same event.)"""
    eng = pack(tmp_path, TREATY)
    state = eng.initial_state()
    state, first, _ = feed(eng, state, JUNE_13)
    assert [d.evidence[0].event_id for d in first] == ["treaty-1300"]
    state, none, _ = feed(eng, state, DEC_17)
    assert none == []
    gs = state["g"][TREATY_KEY]
    assert is_dormant(gs) and gs["lf"] == JUNE_13.published_at.timestamp() and gs["i"] == gs["f"] == []
    assert (state["dn"], state["dq"]) == (1, [[gs["lf"], TREATY_KEY]])
    state, again, late = feed(eng, state, JUNE_1213)
    assert [r.reason.split(":")[0] for r in late] == ["late"]  # beyond the lateness, reported
    assert again == [], "the same event alerted twice"
    assert [d.evidence[0].event_id for d in replay_alerts(eng)] == ["treaty-1213"]  # (the backtest's: the earlier)


def test_a_report_far_from_the_dormant_alert_wakes_the_group_as_a_new_one_and_keeps_the_alert_as_a_gate(
    tmp_path: Path,
) -> None:
    """Reports of another signing, months before the dormant 13:00 alert and read after it (a file read newest first),
    are throttled among themselves as in a new group (the first fires, the next day's is held back, an earlier one
    revises it), not against 13:00 (whose realert is far from them: with it as their throttle state the next day's
    report would alert again). The 13:00 alert's throttle state stays as a gate: the 12:13 report read after them
    is still held back."""
    eng = pack(tmp_path, TREATY)
    state = eng.initial_state()
    for d in (JUNE_13, DEC_17):
        state, _d, _l = feed(eng, state, d)
    got: list[list[str]] = []
    for d in (
        report("treaty-0301", "2024-03-01T10:00:00+00:00", "Russia and Laos signed a treaty"),
        report("treaty-0302", "2024-03-02T10:00:00+00:00", "A treaty was signed by Russia and Laos"),
        report("treaty-0301b", "2024-03-01T09:00:00+00:00", "Russia and Laos signed a treaty, officials said"),
        JUNE_1213,
    ):
        state, ds, _l = feed(eng, state, d)
        got.append([a.evidence[0].event_id + (" (revision)" if a.revises else "") for a in ds])
    assert got == [["treaty-0301"], [], ["treaty-0301b (revision)"], []]
    assert state["g"][TREATY_KEY]["z"] == [[JUNE_13.published_at.timestamp(), SEVERITY_RANK["high"]]]
    # The gate goes through a checkpoint, and the group falls dormant again keeping it.
    state = eng.restore(orjson.loads(orjson.dumps(state)))
    state, _d, _l = feed(eng, state, report("markets-1218", "2024-12-18T09:00:00+00:00", "Markets rose"))
    gs = state["g"][TREATY_KEY]
    assert is_dormant(gs) and gs["lf"] == report_time("2024-03-01T09:00:00+00:00") and len(gs["z"]) == 1
    again = report("treaty-1212", "2024-06-19T12:12:00+00:00", "Russia and Vietnam signed a treaty, TASS said")
    _s, ds, _l = feed(eng, state, again)
    assert ds == []


def report_time(at: str) -> float:
    return datetime.fromisoformat(at).timestamp()


def test_an_on_time_report_in_a_dormant_group_alerts_as_in_a_new_group(tmp_path: Path) -> None:
    """A dormant group changes nothing for a report within the lateness: its realert ran out before W - lateness."""
    eng = pack(tmp_path, TREATY)
    state = eng.initial_state()
    for d in (JUNE_13, DEC_17):
        state, _d, _l = feed(eng, state, d)
    later = report("treaty-1218", "2024-12-18T08:00:00+00:00", "Russia and Laos signed a treaty")
    state, got, late = feed(eng, state, later)
    assert late == [] and [d.evidence[0].event_id for d in got] == ["treaty-1218"]
    assert got[0].revision == 0 and got[0].revises is None
    assert not is_dormant(state["g"][TREATY_KEY])
    assert state["dn"] == 0


def replay_alerts(eng: Engine) -> list[Detection]:
    """The backtest's alerts of the three treaty reports (event-time order)."""
    return list(replay([JUNE_13, JUNE_1213, DEC_17], eng).alerts)


# The strike desk: sources fire at these hours (after T0); then event time jumps 3 days on and every group falls
# dormant in one sweep. Two fire at 5h: the tie goes by group key.
FIRED = {"Wire E": 1.0, "Wire B": 5.0, "Wire A": 5.0, "Wire C": 8.0, "Wire D": 10.0, "Wire F": 12.0}


def strike_desk(tmp_path: Path, order: list[str], bound: int = 3) -> tuple[Engine, dict[str, Any]]:
    eng = pack(tmp_path, PER_SOURCE)
    eng.correlator.max_dormant = bound
    state = eng.initial_state()
    for source in order:  # all within the lateness of each other: the same alerts in any order
        state, _d, _l = feed(eng, state, doc("A strike at the port.", at=FIRED[source], source=source, doc_id=source))
    state, _d, _l = feed(eng, state, doc("Markets rose.", at=80.0, source="Wire Z", doc_id="m80"))
    return eng, state


def dormant_sources(state: dict[str, Any]) -> list[str]:
    return sorted(k.split("=", 1)[1] for k, gs in state["g"].items() if is_dormant(gs))


def test_beyond_the_bound_the_group_that_fired_longest_ago_is_forgotten_first(tmp_path: Path) -> None:
    """Six groups fall dormant at once, the bound is 3: Wire E (1h), then of the two at 5h Wire A (its key first),
    then Wire B are forgotten. A late report of a kept group is held back; one of a forgotten group alerts again
    (the bound's edge)."""
    eng, state = strike_desk(tmp_path, sorted(FIRED))
    assert dormant_sources(state) == ["Wire C", "Wire D", "Wire F"]
    assert state["dn"] == 3 and sorted(k for _lf, k in state["dq"]) == sorted(state["g"])
    state, got, _l = feed(eng, state, doc("A strike at the port.", at=9.0, source="Wire C", doc_id="c9"))
    assert got == []  # within the day after Wire C's 8h alert: held back (not kept: the group stays dormant)
    assert state["dn"] == 3 and state["g"]["strike\x1fsource=Wire C"]["i"] == []
    state, got, _l = feed(eng, state, doc("A strike at the port.", at=6.0, source="Wire A", doc_id="a6"))
    assert [d.group for d in got] == [{"source": "Wire A"}]  # forgotten: a second alert for Wire A


def test_the_same_reports_in_another_order_leave_the_same_dormant_groups(tmp_path: Path) -> None:
    _e1, a = strike_desk(tmp_path, sorted(FIRED))
    _e2, b = strike_desk(tmp_path, sorted(FIRED)[::-1])
    assert orjson.dumps(a["g"], option=orjson.OPT_SORT_KEYS) == orjson.dumps(b["g"], option=orjson.OPT_SORT_KEYS)
    assert sorted(a["dq"]) == sorted(b["dq"]) and a["dn"] == b["dn"]


def test_the_bound_is_a_thousand() -> None:
    assert MAX_DORMANT == 1000


def test_a_state_with_dormant_groups_survives_a_json_round_trip_and_carries_on(tmp_path: Path) -> None:
    eng = pack(tmp_path, TREATY)
    state = eng.initial_state()
    for d in (JUNE_13, DEC_17):
        state, _d, _l = feed(eng, state, d)
    back = eng.restore(orjson.loads(orjson.dumps(state)))
    assert back["dn"] == 1 and back["dq"] == state["dq"] and back["g"] == orjson.loads(orjson.dumps(state["g"]))
    back, again, _l = feed(eng, back, JUNE_1213)
    assert again == []


def test_a_state_saved_without_dormant_groups_loads_and_they_come(tmp_path: Path) -> None:
    """A state saved before dormant groups existed (no "dq"/"dn": what the code before saved, version 3) loads and
    carries on; one whose eviction heap was lost has it rebuilt from its groups."""
    eng = pack(tmp_path, TREATY)
    state = eng.initial_state()
    state, _d, _l = feed(eng, state, JUNE_13)
    saved = orjson.loads(orjson.dumps(state))
    assert "dq" not in saved and "dn" not in saved and saved["v"] == 3
    back = eng.restore(saved)
    assert "dn" not in back  # none dormant: as saved
    back, _d, _l = feed(eng, back, DEC_17)
    assert back["dn"] == 1
    lost = orjson.loads(orjson.dumps(back))
    del lost["dq"]
    lost = eng.restore(lost)
    assert lost["dn"] == 1 and lost["dq"] == [[JUNE_13.published_at.timestamp(), TREATY_KEY]]
    _s, again, _l = feed(eng, lost, JUNE_1213)
    assert again == []


def test_the_eviction_heap_drops_entries_of_groups_woken_since(tmp_path: Path) -> None:
    """A group that wakes and falls dormant again and again leaves entries behind: they are dropped once they
    outnumber the live ones, and the count stays the number of dormant groups."""
    eng = pack(tmp_path, PER_SOURCE)
    state = eng.initial_state()
    for day in range(80):  # one source, a strike every three days: dormant in between
        at = 72.0 * day
        state, _d, _l = feed(eng, state, doc("A strike at the port.", at=at, source="Wire A", doc_id=f"s{day}"))
        state, _d, _l = feed(eng, state, doc("Markets rose.", at=at + 60, source="Wire Z", doc_id=f"m{day}"))
    assert state["dn"] == 1 and len(state["dq"]) <= 2 * 1 + 64
    assert state["dn"] == dormant_index(state["g"])[1]


def test_the_kafka_changelog_round_trip_keeps_a_dormant_group_and_rebuilds_its_heap(tmp_path: Path) -> None:
    eng = pack(tmp_path, TREATY)
    state = eng.initial_state()
    for d in (JUNE_13, DEC_17):
        state, _d, _l = feed(eng, state, d)
    cs = orjson.loads(orjson.dumps(state))
    st = {"cs": cs, "src": {}, "low": None, "seen": {}, "done": {}}
    w, _lay = sc.encode(0, st, sc.Layout(whole=True), None, None, 1 << 30) or pytest.fail("nothing written")
    head = sc.unpack(w.head, sc.HEAD, w.key)
    assert "dq" not in head["st"]["cs"] and "dn" not in head["st"]["cs"]  # not in the head: rebuilt
    table = dict(w.puts)
    table[w.key] = w.head
    got = sc.read(0, table.items())
    assert got is not None
    back = got[0]["cs"]
    assert back["g"] == cs["g"] and back["dq"] == cs["dq"] and back["dn"] == 1 and back["q"] == []
    restored = eng.restore(back)
    _s, again, _l = feed(eng, restored, JUNE_1213)
    assert again == []


def strike_records(eng: Engine, names: TopicNames) -> list[list[Record]]:
    """Correlate records of the strike desk, all for correlate partition 0: Wire k's report on day 3k (its group's
    only alert), then every documents partition's watermark: each group falls dormant three days later, in a batch
    of its own, and (bound 1) the one before it is forgotten then, a group that batch's sweep does not visit."""
    offsets = [0]
    out: list[list[Record]] = []
    for k in range(6):
        d = doc("A strike at the port.", at=72.0 * k, source=f"Wire {k}", doc_id=f"s{k}")
        batch = []
        for j, sig in enumerate(eng.extract(d)):
            sev = signal_event(sig)
            for r, (_det, gkey) in enumerate(eng.correlator.routes(sig)):
                routed = Event(id=sev.id, type=sev.type, time=d.published_at, key=gkey, payload=sev.payload)
                batch.append(correlate_record(names, offsets, 0, routed, origin_header(k % PARTS, k, j, r)))
        out.append(batch)
        wm = [watermark_event(up, d.published_at.timestamp()) for up in range(PARTS)]
        out.append([correlate_record(names, offsets, 0, ev, None) for ev in wm])
    return out


def test_the_correlate_agent_writes_what_the_eviction_forgot(tmp_path: Path) -> None:
    """The Kafka agent with a bound of 1 dormant group: the group a sweep forgets is among the batch's candidates
    (the audit compares every record, and reads the table back after each batch), so the table restores the state
    in memory, and an agent reading it at every batch gives the same alerts and state."""
    eng = pack(tmp_path, PER_SOURCE)
    eng.correlator.max_dormant = 1
    names = TopicNames("t")
    cut = strike_records(eng, names)
    kept_out, kept_table = Outputs(names), {}  # type: ignore[var-annotated]
    run([Correlate(kept_table, PartitionCorrelator(eng, PARTS), kept_out, batch_within=0.01, audit=True)], cut)
    turns_out, turns_table = Outputs(names), {}  # type: ignore[var-annotated]
    pc = PartitionCorrelator(eng, PARTS)
    run([Correlate(turns_table, pc, turns_out, batch_within=0.01, audit=True) for _ in range(2)], cut)
    assert len(kept_out.detections) == 6 and kept_out.sent == turns_out.sent
    states = states_of(eng, kept_table)
    assert states == states_of(eng, turns_table)
    cs = states[0]["cs"]
    assert cs["dn"] == 1 and dormant_sources(cs) == ["Wire 4"]  # (Wire 5's group is awake: its realert runs)
    assert sorted(cs["g"]) == ["strike\x1fsource=Wire 4", "strike\x1fsource=Wire 5"]
