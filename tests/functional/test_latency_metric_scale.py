"""The detection -> delivered histogram of /metrics costs what was sent since the last scrape, not the ledger's size:
it is observed from the log's `sent` delivery events as they are read (every dispatcher's, on one store), and only a
delivery whose raise time the log lacks (a digest) is looked up in the ledger, by key. The first version read every
`sent` row of the ledger at each scrape (limits of session 13, item 1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from watchfloor.alerts.control import ControlLog
from watchfloor.schemas.events import Delivery, Event, delivery_event
from watchfloor.stream_processors.ports import DeliveryRecord, Settlement
from watchfloor.stream_processors.stores.sql import SqlStore
from watchfloor.web.activity import ActivityView
from watchfloor.web.metrics import LogCollector, registry_for

pytestmark = pytest.mark.functional

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HIST = "watchfloor_detection_to_delivery_seconds"


class ReadCounting:
    """A store (real) that counts the ledger rows its `deliveries` reads return: what a scrape reads of the ledger."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.rows = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def deliveries(self, **kw: Any) -> list[DeliveryRecord]:
        got = self.store.deliveries(**kw)
        self.rows += len(got)
        return got


def send(store: SqlStore, key: str, channel: str, *, raised: float | None, sent: float, seq: int) -> None:
    """What a dispatcher does for one delivery: its detection in the log (with the receive time that raised it, unless
    `raised` is None: a digest has no detection), its row queued, claimed and settled `sent` with its event."""
    events = []
    if raised is not None:
        at = datetime.fromtimestamp(raised, UTC)
        events.append(Event(id=key, type="detection", time=at, key="g", received_at=at, payload={"rule": "r"}))
    queued = raised if raised is not None else sent - 1.0
    store.enqueue([DeliveryRecord(key, channel, seq=seq, created_at=queued)], events)
    owner = f"dispatcher-{id(store)}"
    [claimed] = store.claim_deliveries(owner, sent, 60)
    assert claimed.alert_id == key
    done = delivery_event(Delivery(alert_id=key, channel=channel, status="sent", at=datetime.fromtimestamp(sent, UTC)))
    assert store.settle_delivery(key, channel, owner, Settlement("sent", attempts=1), sent, [done])


def histogram(collector: LogCollector) -> dict[str, float]:
    text = generate_latest(registry_for(collector)).decode()
    [fam] = [f for f in text_string_to_metric_families(text) if f.name == HIST]
    return {s.labels.get("le", s.name.removeprefix(HIST + "_")): s.value for s in fam.samples}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wf.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def test_a_scrape_reads_only_what_was_sent_since_the_last(url: str) -> None:
    t = T0.timestamp()
    first, second, server = SqlStore(url), SqlStore(url), SqlStore(url)  # two dispatchers and `serve`, one store
    try:
        send(first, "d1", "desk", raised=t, sent=t + 2, seq=1)
        send(first, "d2", "desk", raised=t, sent=t + 40, seq=2)
        send(second, "d3", "wire", raised=t, sent=t + 400, seq=3)
        send(second, "dg-1", "desk", raised=None, sent=t + 101, seq=4)  # a digest: from its row's creation, 1 s
        counting = ReadCounting(server)
        collector = LogCollector(counting, ActivityView(server), ControlLog(server))  # type: ignore[arg-type]
        h = histogram(collector)
        # every dispatcher's sends, each once (an in-process histogram would see none of them from `serve`)
        assert (h["count"], h["sum"]) == (4, 2 + 40 + 400 + 1)
        assert (h["1.0"], h["2.5"], h["30.0"], h["60.0"], h["300.0"], h["3600.0"], h["+Inf"]) == (1, 2, 2, 3, 3, 4, 4)
        assert counting.rows == 1  # the digest's row, for its creation: no sent row else
        for i in range(5, 105):  # a bigger ledger: nothing of it is read again
            send(first, f"d{i}", "desk", raised=t + i, sent=t + i + 0.5, seq=i)
        counting.rows = 0
        assert histogram(collector)["count"] == 104
        assert counting.rows == 0
        assert histogram(collector)["count"] == 104 and counting.rows == 0  # nothing new: nothing read
        # A redelivery of a sent row makes it outstanding: the histogram is of deliveries sent, and its counts
        # never go down (a Prometheus histogram's are counters; the ledger's sent rows used to be counted anew).
        assert server.redeliver(t + 500, alert_ids={"d1"}, statuses=("sent",)) == 1
        again = histogram(collector)
        assert (again["count"], again["1.0"]) == (104, 1 + 100)
        fresh = LogCollector(server, ActivityView(server), ControlLog(server))  # a restarted server: the same
        assert histogram(fresh) == again
    finally:
        for st in (first, second, server):
            st.close()


def test_a_failing_ledger_look_up_keeps_the_unraised_sends_for_the_next_scrape(tmp_path: Path) -> None:
    t = T0.timestamp()
    store = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        send(store, "dg-1", "desk", raised=None, sent=t + 10, seq=1)
        view = ActivityView(store)
        view.refresh()

        def down(keys: object) -> dict[tuple[str, str], float]:
            raise RuntimeError("the store went away")

        with pytest.raises(RuntimeError):
            view.latencies(down)
        got = view.latencies(lambda keys: {(r.alert_id, r.channel): r.created_at for r in store.deliveries()})
        assert (got.n, got.total) == (1, 1.0)
    finally:
        store.close()


def ledger_statements(store: SqlStore, call: Any) -> list[str]:
    """The SQL statements on the deliveries table that `call` runs on `store`."""
    from sqlalchemy import event

    seen: list[str] = []

    def heard(conn: object, cursor: object, statement: str, *rest: object) -> None:
        if "deliveries" in statement:
            seen.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", heard)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", heard)
    return seen


def test_neither_a_scrape_nor_an_idle_dispatcher_cycle_reads_the_whole_ledger(url: str) -> None:
    """Every statement on the ledger that a scrape with nothing new and a dispatcher cycle with nothing to do run is
    narrowed by a key, a state or a channel: the counts of the open states (/metrics' gauges, the cycle's report)
    were a grouped pass over every row, which the sent rows make ever longer."""
    from watchfloor.alerts.dispatcher import AlertDispatcher
    from watchfloor.schemas.config import parse_throttle

    t = T0.timestamp()
    store = SqlStore(url)
    try:
        for i in range(1, 6):
            send(store, f"d{i}", "desk", raised=t, sent=t + i, seq=i)
        collector = LogCollector(store, ActivityView(store), ControlLog(store))
        histogram(collector)
        scrape = ledger_statements(store, lambda: histogram(collector))
        dispatcher = AlertDispatcher(store, {}, throttles={"desk": parse_throttle("2 per 1h")})
        dispatcher.cycle()
        cycle = ledger_statements(store, dispatcher.cycle)
    finally:
        store.close()
    assert scrape and cycle
    for sql in scrape + cycle:
        assert " WHERE " in sql.upper(), sql


def test_healthz_counts_the_outstanding_deliveries_by_the_status_index(url: str) -> None:
    from watchfloor.schemas.config import AppConfig, ConsoleChannel
    from watchfloor.web.build import build_services
    from watchfloor.web.health import health_report
    from watchfloor.wiring import EmbeddedPipeline

    t = T0.timestamp()
    pipeline = EmbeddedPipeline(AppConfig(store=url, sources=[], channels=[ConsoleChannel(name="desk")]), env={})
    try:
        store = pipeline.store
        assert isinstance(store, SqlStore)
        for i in range(1, 4):
            send(store, f"d{i}", "desk", raised=t, sent=t + i, seq=i)
        store.enqueue([DeliveryRecord("late", "desk", seq=9, created_at=t)])
        services = build_services(pipeline.cfg, store, pipeline.control, pipeline.rules, env={})
        body: dict[str, Any] = {}
        statements = ledger_statements(store, lambda: body.update(health_report(services)[0]))
        assert body["deliveries_outstanding"] == {"desk": 1}
        assert statements and all(" WHERE " in sql.upper() for sql in statements), statements
    finally:
        pipeline.close()
