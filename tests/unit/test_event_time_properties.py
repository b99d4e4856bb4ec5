"""Arrival order does not change the alerts: generated arrival orders (hypothesis) always end with the alerts of
the canonical backtest, in the engine and in the embedded runner.

The generated world: reports about two countries' border, talks and strikes (tests/data/rules/eventtime.yaml
has every pattern kind, lateness 12h) happen over four days. Each comes from one of three origins (a file or
feed as configured), whose clock may be skewed (up to 2h behind, or 3h ahead: more than the 1h skew allowed,
so such items are clamped to their receive time), and is published 0-6h before it can be read. A poller reads
every origin at random poll times, each origin's new items in any order (feeds list newest first), and records
a CaughtUp mark after each poll: exactly what `watchfloor run` writes to the log, until the input is quiet.
Some items are dated 2099.
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchfloor.schemas.events import (
    CaughtUp,
    Detection,
    Event,
    EventType,
    Retraction,
    caught_up_event,
    document_event,
)
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.replay import detection_to_json, replay
from watchfloor.stream_processors.runner import EmbeddedRunner
from watchfloor.stream_processors.stores.sql import SqlStore

from .engine_helpers import DATA, T0, doc, engine_for

ENGINE = engine_for(str(DATA / "rules" / "eventtime.yaml"))
LATENESS_H = 12
TEXTS = [
    "Alphaland closed the border.",
    "Betastan shut the border.",
    "Alphaland reopened the border.",
    "Betastan reopened the border.",
    "Talks between Alphaland and Betastan opened.",
    "A strike hit Port Gamma.",
    "Markets rose.",
    "Alphaland could close the border next week.",
    "Alphaland closed the border. Alphaland closed the border again.",
    "Talks between Alphaland and Betastan opened. Betastan shut the border.",
]
SOURCES = ["Wire A", "Wire B", "Wire C"]
ORIGINS = ("inbox/a.jsonl", "https://example.org/b.xml", "inbox/c.jsonl")
LAST_POLL_H = 110.0  # after every report could be read (96h + 6h)

report = st.tuples(
    st.integers(0, 192),  # when it happened, in half hours
    st.integers(0, 2),  # origin
    st.sampled_from(TEXTS),
    st.sampled_from(SOURCES),
    st.integers(0, 12),  # half hours before it can be read
    st.integers(0, 19),  # 0: dated 2099 by mistake
)


@st.composite
def logs(draw: Any) -> list[Event]:
    """The event log of a live run: documents as each poll read them, and a CaughtUp mark after each poll."""
    reports = draw(st.lists(report, min_size=1, max_size=32))
    skews = draw(st.lists(st.sampled_from([-2.0, 0.0, 0.5, 3.0]), min_size=3, max_size=3))
    polls = sorted({p / 2 for p in draw(st.lists(st.integers(0, 220), max_size=10))} | {LAST_POLL_H})
    shuffle = draw(st.randoms(use_true_random=False))
    items = []
    for i, (half, origin, text, source, delay, typo) in enumerate(reports):
        published = 24 * 365 * 74 if typo == 0 else half / 2 + skews[origin]  # 2099
        d = doc(text, at=published, source=source, doc_id=f"r{i:02d}")
        items.append((half / 2 + delay / 2, origin, d))
    events: list[Event] = []
    pending = sorted(items, key=lambda x: x[0])
    for at in polls:
        ready, pending = [x for x in pending if x[0] <= at], [x for x in pending if x[0] > at]
        received = T0 + timedelta(hours=at)
        for origin in range(3):
            batch = [d for _r, o, d in ready if o == origin]
            shuffle.shuffle(batch)  # any order within what one poll of one source reads
            events += [document_event(d, origin=ORIGINS[origin], received_at=received) for d in batch]
        events.append(caught_up_event(CaughtUp(at=received, origins=ORIGINS)))
    assert not pending
    # Then the input is quiet: a later poll finds nothing new, and every origin has been idle (silent for over
    # idle_after, 1h) by then, so event time reaches the newest report, as in the backtest (absences close).
    quiet = T0 + timedelta(hours=LAST_POLL_H + 1.5)
    events.append(caught_up_event(CaughtUp(at=quiet, origins=ORIGINS)))
    return events


def norm(alerts: list[Detection]) -> list[str]:
    """An alert as the backtest reports it (rule, group, severity, evidence, time); not how it got there."""
    out = []
    for d in alerts:
        js = detection_to_json(d)
        js.pop("revision", None)
        js.pop("revises", None)
        out.append(json.dumps(js, sort_keys=True))
    return sorted(out)


def canonical(events: list[Event]) -> list[str]:
    result = replay(events, ENGINE, order="event-time")
    assert not result.retractions and not any(d.revision for d in result.detections)  # in order: no changes
    return norm(result.alerts)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
def test_any_arrival_order_gives_the_canonical_backtests_alerts(events: list[Event]) -> None:
    live = replay(events, ENGINE, order="log")
    assert norm(live.alerts) == canonical(events)
    assert not [r for r in live.late if r.reason.startswith("late")]  # nothing here is beyond the lateness
    future = {
        e.payload["id"]
        for e in events
        if e.received_at is not None and e.time > e.received_at + timedelta(hours=1)  # the skew allowed
    }
    assert {r.reason.split()[5] for r in live.late} == future  # each item dated in the future reported
    again = replay(events, ENGINE, order="log")  # the same run twice: the same outputs, in the same order
    assert [o.model_dump() for o in again.history] == [o.model_dump() for o in live.history]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), st.lists(st.integers(0, 40), max_size=6))
def test_a_json_round_trip_of_the_state_anywhere_changes_nothing(events: list[Event], cuts: list[int]) -> None:
    whole = replay(events, ENGINE, order="log").history
    state = ENGINE.initial_state()
    history: list[Detection | Retraction] = []
    for i, ev in enumerate(events):
        if i in cuts:  # a checkpoint, then a restart from it
            state = ENGINE.restore(orjson.loads(orjson.dumps(state)))
        state, outs = ENGINE.process(state, ev)
        history += [o for o in outs if isinstance(o, Detection | Retraction)]
    assert [o.model_dump() for o in history] == [o.model_dump() for o in whole]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(report, min_size=1, max_size=32), st.randoms(use_true_random=False))
def test_a_stream_without_origins_within_the_lateness_gives_the_canonical_alerts(
    reports: list[tuple[int, int, str, str, int, int]], rnd: random.Random
) -> None:
    """Documents without an origin (logs from before origins existed, a JSONL file replayed in file order) are
    one in-order stream: each may arrive up to the lateness after any newer one."""
    docs = [
        doc(text, at=half / 2, source=source, doc_id=f"r{i:02d}")
        for i, (half, _o, text, source, *_) in enumerate(reports)
    ]
    arrival = sorted(docs, key=lambda d: d.published_at + timedelta(hours=rnd.uniform(0, LATENESS_H)))
    events = [document_event(d) for d in arrival]
    assert norm(replay(events, ENGINE, order="log").alerts) == canonical(events)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), st.lists(st.integers(1, 12), min_size=1, max_size=8), st.integers(1, 25))
def test_the_embedded_runner_with_restarts_gives_the_canonical_alerts(
    events: list[Event], chunks: list[int], batch_size: int
) -> None:
    """The log arrives in chunks; after each a new runner (a restart) resumes from the SQL checkpoint (its
    state through JSON) in batches of `batch_size`. The alerts that stand in the store are the backtest's, and
    a backtest of the store in log order gives exactly what the runner raised."""
    store = SqlStore("sqlite:///:memory:")
    try:
        i = 0
        sizes = itertools.cycle(chunks)
        while i < len(events):
            n = next(sizes)
            store.append(events[i : i + n])
            EmbeddedRunner(store, ENGINE, batch_size=batch_size).run_once()
            i += n
        raised = [se.event for se in store.read(types={EventType.DETECTION.value, EventType.RETRACTION.value})]
        assert norm(list(current_alerts(raised).values())) == canonical(events)
        logged = [se.event for se in store.read(types={EventType.CAUGHT_UP.value, "news.article"}, limit=10_000)]
        again = replay(logged, ENGINE, order="log")
        assert [o.model_dump() for o in again.history] == [
            (Detection if e.type == EventType.DETECTION.value else Retraction).model_validate(e.payload).model_dump()
            for e in raised
        ]
    finally:
        store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), st.randoms(use_true_random=False))
def test_an_archive_without_marks_replayed_in_log_order_gives_the_canonical_alerts(
    events: list[Event], rnd: random.Random
) -> None:
    """`watchfloor archive` copies the distributed runtime's documents (with origins and receive times) into a
    store, in whatever order it reads the partitions, and no CaughtUp marks (Kafka carries watermark records).
    `backtest --from-store --order log` over it holds event time until the end, then ends as a quiet system
    does: the canonical alerts, absences included."""
    archived = [e for e in events if e.type != EventType.CAUGHT_UP.value]
    rnd.shuffle(archived)
    assert norm(replay(archived, ENGINE, order="log").alerts) == canonical(events)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(80, 103), max_size=8, unique=True),
    st.lists(st.integers(40, 79), min_size=1, max_size=12, unique=True),
    st.randoms(use_true_random=False),
)
def test_reports_beyond_the_lateness_of_an_any_group_nothing_dropped_give_the_canonical_alerts(
    on_time: list[int], late: list[int], rnd: random.Random
) -> None:
    """The tests above keep every report within the lateness: that is the promise. An `any` without corroboration
    (`closure`, realert 6h) depends on nothing but its group's throttle, so reports beyond the lateness, in any order,
    give the canonical alerts too while the sweeps dropped nothing of the group: closures at 40-51.5h in order, event
    time moved to 52.5h (what is before 40h is beyond the lateness), then closures of 20-39.5h in any order. (A late
    report dated just before an alert its realert holds back in event time once raised a second alert.)"""
    arrival = [doc("Alphaland closed the border.", at=h / 2, doc_id=f"on{h}") for h in sorted(on_time)]
    arrival.append(doc("Markets rose.", at=52.5, doc_id="markets"))
    rnd.shuffle(late)
    arrival += [doc("Alphaland closed the border.", at=h / 2, doc_id=f"late{h}") for h in late]
    events = [document_event(d) for d in arrival]
    live = replay(events, ENGINE, order="log")
    assert [r for r in live.late if r.reason.startswith("late")]  # beyond the lateness indeed
    closures = [a for a in canonical(events) if json.loads(a)["rule"] == "closure"]
    assert [a for a in norm(live.alerts) if json.loads(a)["rule"] == "closure"] == closures


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(80, 103), min_size=1, max_size=8, unique=True), st.data())
def test_reports_beyond_the_lateness_near_an_alert_of_a_group_the_sweep_dropped_raise_nothing(
    on_time: list[int], data: st.DataObject
) -> None:
    """Beyond the lateness after the sweeps dropped the group, what is held is the throttle state of its last
    alert and its earlier alerts as gates (a dormant group, sweep.py): closures at 40-51.5h in order, event time moved
    to 80h (the group's realert ran out before W - lateness: dropped, its throttle states kept), then, in any order,
    closures within the realert (6h) of one of its alerts and closures further from every one of them. None of the
    near ones raises an alert, whether in event time it would have replaced that one or been held back by it (outside
    tester's S3: a second alert for the same event; outside trial 72, HIGH-1: near an alert older than the last), even
    after a far one woke the group; the far ones give what they give alone, in event time (a new group then, as a
    dropped group was: not throttled against the alerts, whose realert is far from them)."""
    fired: list[int] = []
    for h in sorted(on_time):  # the closure alerts in event time: 6h apart at least
        if not fired or h - fired[-1] >= 12:
            fired.append(h)
    last = fired[-1]
    near = data.draw(
        st.lists(
            st.integers(fired[0] - 11, last + 11).filter(
                lambda h: h not in on_time and any(abs(h - a) < 12 for a in fired)
            ),
            min_size=1,
            max_size=6,
        )
    )
    far = data.draw(
        st.lists(st.integers(0, last - 12).filter(lambda h: all(abs(h - a) >= 12 for a in fired)), max_size=6)
    )
    late = [("near", h) for h in near] + [("far", h) for h in far]
    data.draw(st.randoms(use_true_random=False)).shuffle(late)
    arrival = [doc("Alphaland closed the border.", at=h / 2, doc_id=f"on{h}") for h in sorted(on_time)]
    arrival.append(doc("Markets rose.", at=80.0, doc_id="markets"))
    before = [document_event(d) for d in arrival]
    arrival += [
        doc("Alphaland closed the border.", at=h / 2, doc_id=f"{kind}{k}-{h}") for k, (kind, h) in enumerate(late)
    ]
    live = replay([document_event(d) for d in arrival], ENGINE, order="log")
    assert len([r for r in live.late if r.reason.startswith("late")]) == len(late)  # beyond the lateness indeed

    def closures(alerts: list[str], prefix: str) -> list[str]:
        return [
            a
            for a in alerts
            if json.loads(a)["rule"] == "closure" and json.loads(a)["evidence"][0]["event_id"].startswith(prefix)
        ]

    alone = [document_event(d) for d in arrival if d.id.startswith("far")]
    got = norm(live.alerts)
    assert closures(got, "on") == closures(canonical(before), "on")
    assert closures(got, "near") == []
    assert closures(got, "far") == (closures(canonical(alone), "far") if alone else [])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 10),
    st.lists(
        st.tuples(st.integers(0, 79), st.sampled_from(SOURCES[:2])), min_size=1, max_size=10, unique_by=lambda r: r[0]
    ),
    st.sampled_from(["newest first", "oldest first", "shuffled"]),
    st.randoms(use_true_random=False),
)
def test_a_backfill_beyond_the_lateness_after_the_sweeps_dropped_older_alerts_gives_the_canonical_alerts(
    n: int, backfill: list[tuple[int, str]], order: str, rnd: random.Random
) -> None:
    """A group still awake whose older alerts the sweeps dropped (closures alerting every 7h from 60h, n of them: at
    the last one, W - lateness is past all but the newest), then a backfill of closures at 0-39.5h, far before them,
    read after the live ones in any order (a feed lists newest first): the closure alerts are the canonical
    backtest's. (With 4 and more alerts dropped, the dropped history's throttle state, later than the backfill, was
    kept as the backfill alert's own, so a second report within its realert alerted too: outside trial 77, F1.)"""
    arrival = [doc("Alphaland closed the border.", at=60.0 + 7.0 * k, doc_id=f"on{k}") for k in range(n)]
    late = [doc("Alphaland closed the border.", at=h / 2, source=source, doc_id=f"late{h}") for h, source in backfill]
    late.sort(key=lambda d: d.published_at, reverse=order == "newest first")
    if order == "shuffled":
        rnd.shuffle(late)
    events = [document_event(d) for d in arrival + late]
    live = replay(events, ENGINE, order="log")
    if n > 1:
        assert [r for r in live.late if r.reason.startswith("late")]  # beyond the lateness indeed
    closures = [a for a in canonical(events) if json.loads(a)["rule"] == "closure"]
    assert [a for a in norm(live.alerts) if json.loads(a)["rule"] == "closure"] == closures
