"""The Kafka extract agents' late documents (stream_processors.kafka.late): the pure counting, the contract on the
in-memory log and on a store's row, and the extract agent counting what it passes over, once (no broker)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fixtures.correlate_agent import Message, Outputs, Record
from tests.late_log_contract import LateLogContract, PersistentLateLogContract, late
from watchfloor.retention import readers
from watchfloor.schemas.events import DeadLetter, Event, PassedOver, document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.kafka.agents import Extract
from watchfloor.stream_processors.kafka.codec import WATERMARK, encode_event
from watchfloor.stream_processors.kafka.late import (
    DEAD_LETTERED,
    PASSED_OVER,
    LateDocument,
    LateLog,
    MemoryLateLog,
    StoreLateLog,
    count_new,
    late_checkpoint,
    late_outcomes,
    totals,
)
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.sql import SqlStore


class TestMemoryLateLog(LateLogContract):
    @pytest.fixture
    def make_log(self) -> Callable[[], LateLog]:
        return MemoryLateLog


class TestStoreLateLogOnMemoryStore(PersistentLateLogContract):
    @pytest.fixture
    def make_log(self) -> Callable[[], LateLog]:
        store = MemoryStore()
        return lambda: StoreLateLog(lambda: store, "wf-worker")


class TestStoreLateLogOnSqliteFile(PersistentLateLogContract):
    @pytest.fixture
    def make_log(self, tmp_path: Path) -> Callable[[], LateLog]:
        url = f"sqlite:///{tmp_path / 'store.db'}"
        return lambda: StoreLateLog(lambda: SqlStore(url), "wf-worker")


def test_late_outcomes_are_counted_as_run_counts_them() -> None:
    """A PassedOver, a 'late: …' dead letter (one with no origin under ""), and no other report."""
    reports = [
        PassedOver("inbox/a.jsonl", "d1"),
        PassedOver(None, "d2"),
        DeadLetter(origin="inbox/a.jsonl", line=3, reason="late: 3 days behind", stage="event-time"),
        DeadLetter(origin="document:d4", reason="late: 2 days behind", stage="event-time"),
        DeadLetter(origin="inbox/a.jsonl", reason="dated in the future: clamped", stage="event-time"),
        DeadLetter(origin="inbox/a.jsonl", reason="late edit: document d5 edits …", stage="event-time"),
        DeadLetter(origin="https://user:secret@example.org/feed", reason="late: 1 day", stage="event-time"),
    ]
    got = late_outcomes(2, 40, reports)
    assert [(d.origin, d.outcome) for d in got] == [
        ("inbox/a.jsonl", PASSED_OVER),
        ("", PASSED_OVER),
        ("inbox/a.jsonl", DEAD_LETTERED),
        ("", DEAD_LETTERED),
        ("https://user:***@example.org/feed", DEAD_LETTERED),  # as shown (redact_url): no secret in a store row
    ]
    assert {(d.partition, d.offset) for d in got} == {(2, 40)}


def test_count_new_moves_each_partition_past_what_it_counted() -> None:
    state, added = count_new({}, [late(0, 5), late(1, 9)])
    assert added == 2
    assert {p: e["next"] for p, e in state["partitions"].items()} == {"0": 6, "1": 10}
    state, added = count_new(state, [late(0, 5), late(0, 6), late(1, 3)])
    assert added == 1 and state["partitions"]["0"]["next"] == 7 and state["partitions"]["1"]["next"] == 10


Records = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(["a", "b", ""]), st.sampled_from([PASSED_OVER, DEAD_LETTERED])),
    max_size=40,
)


@given(records=Records, cuts=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=12))
def test_any_redelivery_counts_each_record_once(records: list[tuple[int, str, str]], cuts: list[Any]) -> None:
    """Each partition's records in offset order, delivered as batches that may start anywhere before where the
    last one ended (a restart before a commit), overlapping: the totals are those of each record counted once."""
    docs = []
    nxt = [0, 0, 0]
    for p, origin, outcome in records:
        docs.append(LateDocument(p, nxt[p], origin, outcome))
        nxt[p] += 1 + len(docs) % 3  # (not every offset is a late document)
    state: dict[str, Any] = {}
    done = 0
    for back, size in cuts:
        start = max(done - back, 0)
        batch = docs[start : start + size]
        state, _ = count_new(state, batch)
        done = max(done, start + len(batch))
    state, _ = count_new(state, docs)  # and the rest, at last
    once: dict[str, dict[str, int]] = {}
    for d in docs:
        c = once.setdefault(d.origin, {PASSED_OVER: 0, DEAD_LETTERED: 0})
        c[d.outcome] += 1
    assert totals(state) == dict(sorted(once.items()))


def test_the_late_row_does_not_hold_a_prune_back() -> None:
    """Its position counts saves, not log positions: retention must not take it for a reader of documents."""
    assert readers({late_checkpoint("wf-worker"): 12, "engine": 40}) == {"engine": 40}


T0 = datetime(2024, 10, 21, 6, 0, tzinfo=UTC)
PARTS = 3


def _doc(i: int, at: datetime, title: str) -> bytes:
    d = parse_document(
        {
            "id": f"late-{i}",
            "type": "news.article",
            "published_at": at.isoformat(),
            "source": "Harbour Gazette",
            "title": title,
            "body": "Officials commented later in the day.",
        }
    )
    return encode_event(document_event(d).model_copy(update={"origin": "inbox/harbour.jsonl"}))


def _watermark(t: datetime) -> bytes:
    return encode_event(Event(id=f"wm-{t.timestamp()}", type=WATERMARK, time=t, payload={"time": t.timestamp()}))


def test_the_extract_agent_counts_a_late_document_once_though_its_batch_is_read_again() -> None:
    """Partition 0 at a watermark 30 days past two documents: one no detection reads (passed over) and one the
    treaty rule reads (dead-lettered). The same batch read again (a worker restarted before its commit) adds
    nothing, as `status --broker` and /metrics read the counts."""
    _packs, compiled = load_rules(["builtin:dprk_russia"])
    eng = Engine(compiled)
    names = TopicNames("t")
    old = T0 - timedelta(days=30)
    values = [
        _watermark(T0),
        _doc(1, old, "The city council approved a new budget plan"),
        _doc(2, old, "Russia's lower house ratifies the partnership treaty with North Korea"),
    ]
    batch = [Record(Message(names.documents, 0, o), v, None) for o, v in enumerate(values)]
    store = MemoryStore()
    out = Outputs(names)

    def agent() -> Extract:
        return Extract(
            None,
            eng,
            out,  # type: ignore[arg-type]
            partitions=PARTS,
            batch_within=0.01,
            late_log=StoreLateLog(lambda: store, "t-worker"),
        )

    asyncio.run(agent()._batch(batch))
    counted = {"inbox/harbour.jsonl": {PASSED_OVER: 1, DEAD_LETTERED: 1}}
    assert StoreLateLog(lambda: store, "t-worker").totals() == counted
    asyncio.run(agent()._batch(batch))  # a fresh process reads the uncommitted batch again
    assert StoreLateLog(lambda: store, "t-worker").totals() == counted


def test_the_extract_agent_waits_out_a_store_that_fails_then_counts() -> None:
    """The count is taken before the batch is acknowledged: a store that fails is tried again, not passed by."""

    class Flaky(MemoryStore):
        fails = 2

        def commit(self, *a: Any, **k: Any) -> int:
            if self.fails:
                self.fails -= 1
                raise OSError("disk I/O error")
            return super().commit(*a, **k)

    _packs, compiled = load_rules(["builtin:dprk_russia"])
    names = TopicNames("t")
    store = Flaky()
    values = [_watermark(T0), _doc(1, T0 - timedelta(days=30), "The city council approved a new budget plan")]
    batch = [Record(Message(names.documents, 1, o), v, None) for o, v in enumerate(values)]
    agent = Extract(
        None,
        Engine(compiled),
        Outputs(names),  # type: ignore[arg-type]
        partitions=PARTS,
        batch_within=0.01,
        late_log=StoreLateLog(lambda: store, "t-worker"),
        retry_s=0.01,
    )
    asyncio.run(agent._batch(batch))
    assert store.fails == 0
    assert totals(store.load_checkpoint(late_checkpoint("t-worker")).state) == {
        "inbox/harbour.jsonl": {PASSED_OVER: 1, DEAD_LETTERED: 0}
    }


def test_metrics_show_the_kafka_workers_late_documents_with_the_embedded_runs() -> None:
    """`serve` with a `kafka:` section reads the workers' row of its store (LogCollector's kafka_group) into
    `watchfloor_late_documents`, per source and outcome; a source both counted is their sum; without a group, the
    row is not read."""
    from prometheus_client import generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from watchfloor.alerts.control import ControlLog
    from watchfloor.web.activity import ActivityView, HeartbeatRecorder
    from watchfloor.web.metrics import LogCollector, registry_for

    store = MemoryStore()
    StoreLateLog(lambda: store, "wf-worker").add(
        [late(0, 1, "inbox/a.jsonl"), late(1, 1, "inbox/a.jsonl", DEAD_LETTERED), late(2, 8, "")]
    )
    hb = HeartbeatRecorder(store, every=0.0, sources=["inbox/a.jsonl"])
    hb.late({"inbox/a.jsonl": 3}, {})
    hb.cycle(T0, 1.0, {"inbox/a.jsonl": 0.1})

    def scraped(group: str | None) -> dict[tuple[str, str], float]:
        collector = LogCollector(store, ActivityView(store), ControlLog(store), kafka_group=group)
        return {
            (s.labels["source"], s.labels["outcome"]): s.value
            for fam in text_string_to_metric_families(generate_latest(registry_for(collector)).decode())
            for s in fam.samples
            if s.name == "watchfloor_late_documents_total"
        }

    assert scraped("wf-worker") == {
        ("(no origin)", PASSED_OVER): 1,
        ("(no origin)", DEAD_LETTERED): 0,
        ("inbox/a.jsonl", PASSED_OVER): 4,
        ("inbox/a.jsonl", DEAD_LETTERED): 1,
    }
    assert scraped(None) == {("inbox/a.jsonl", PASSED_OVER): 3, ("inbox/a.jsonl", DEAD_LETTERED): 0}


def test_the_status_page_shows_the_kafka_workers_late_documents_with_the_embedded_runs() -> None:
    """The status page of a `serve` with a broker lists the workers' late documents per source beside a `run`'s, as
    /metrics sums them (the page listed the embedded run's alone)."""
    from watchfloor.alerts.control import ControlLog
    from watchfloor.alerts.slackapp.commands import AppContext
    from watchfloor.web.activity import HeartbeatRecorder
    from watchfloor.web.broker import KafkaProbe
    from watchfloor.web.server import Services, create_app

    def away() -> Any:
        raise ConnectionError("no broker in this test")

    store = MemoryStore()
    StoreLateLog(lambda: store, "wf-worker").add([late(0, 1, "inbox/a.jsonl"), late(1, 1, "inbox/b.jsonl")])
    hb = HeartbeatRecorder(store, every=0.0, sources=["inbox/a.jsonl"])
    hb.late({"inbox/a.jsonl": 3}, {"inbox/a.jsonl": 1})
    hb.cycle(T0, 1.0, {"inbox/a.jsonl": 0.1})
    control = ControlLog(store)
    probe = KafkaProbe(away, bootstrap="127.0.0.1:9", prefix="wf", wait_s=0.0)
    services = Services(
        store=store, control=control, context=AppContext(control=control, rules={}), slack_app=None, kafka=probe
    )
    page = create_app(services).test_client().get("/").get_data(as_text=True)
    section = page.split('id="late"')[1].split("</section>")[0]

    def row(origin: str) -> list[str]:
        cells = section.split(f'data-source="{origin}"')[1].split("</tr>")[0]
        return [cell.split("</td>")[0] for cell in cells.split("<td>")[2:]]

    assert row("inbox/a.jsonl") == ["4", "1"] and row("inbox/b.jsonl") == ["1", "0"], section


def test_the_extract_agent_logs_the_dead_lettered_late_documents_beside_the_passed_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One line per batch says both outcomes: the dead-lettered ones are the late reports that can change an alert
    (outside trial 77, F3: the workers' logs counted only the passed-over ones, and a batch of dead-lettered ones
    alone left no line)."""
    _packs, compiled = load_rules(["builtin:dprk_russia"])
    names = TopicNames("t")
    old = T0 - timedelta(days=30)
    values = [
        _watermark(T0),
        _doc(1, old, "The city council approved a new budget plan"),
        _doc(2, old, "Russia's lower house ratifies the partnership treaty with North Korea"),
    ]
    agent = Extract(
        None,
        Engine(compiled),
        Outputs(names),  # type: ignore[arg-type]
        partitions=PARTS,
        batch_within=0.01,
        late_log=StoreLateLog(lambda: MemoryStore(), "t-worker"),
    )
    with caplog.at_level("INFO", logger="watchfloor"):
        asyncio.run(agent._batch([Record(Message(names.documents, 0, o), v, None) for o, v in enumerate(values)]))
        only_letter = [_watermark(T0), _doc(3, old, "Russia's upper house ratifies the treaty with North Korea")]
        asyncio.run(agent._batch([Record(Message(names.documents, 1, o), v, None) for o, v in enumerate(only_letter)]))
    lines = [r.getMessage() for r in caplog.records if "late document" in r.getMessage()]
    assert lines == [
        "extract: 2 late document(s): 1 passed over (no detection reads them), 1 dead-lettered (a detection reads "
        "them: 'late: …' reports) (this process so far: 1 passed over, 1 dead-lettered)",
        "extract: 1 late document(s): 0 passed over (no detection reads them), 1 dead-lettered (a detection reads "
        "them: 'late: …' reports) (this process so far: 1 passed over, 2 dead-lettered)",
    ], lines


def test_the_status_page_names_the_watermarks_holder_and_never_says_minus_zero_seconds() -> None:
    """Outside trial 77, F4: the page's Kafka section showed the watermark without the source holding it (`status`
    and /metrics name it), and "asked -0s ago" for an answer stamped a moment after the page's clock read."""
    from watchfloor.alerts.control import ControlLog
    from watchfloor.alerts.slackapp.commands import AppContext
    from watchfloor.producers.relay import KafkaRelay, target_checkpoint
    from watchfloor.schemas.events import CaughtUp, caught_up_event
    from watchfloor.stream_processors.kafka.status import PipelineStatus
    from watchfloor.web.broker import KafkaProbe
    from watchfloor.web.server import Services, create_app

    class Published:
        def append(self, events: list[Event]) -> int:
            return len(events)

    store = MemoryStore()
    at = datetime(2026, 12, 7, 17, 36, 36, tzinfo=UTC)

    def report(origin: str, published: datetime) -> Event:
        doc = {"id": origin, "type": "news.article", "published_at": published.isoformat(), "source": origin}
        return document_event(parse_document({**doc, "title": "Markets rose"}), origin=origin, received_at=at)

    # nyt's report a day behind bbc's: nyt holds the watermark (for event_time.idle_after, an hour, after `at`)
    store.append(
        [
            report("nyt", T0 - timedelta(days=1)),
            report("bbc", T0),
            caught_up_event(CaughtUp(at=at, origins=("nyt", "bbc"))),
        ]
    )
    KafkaRelay(store, Published(), target=target_checkpoint("", "wf")).run_once()  # type: ignore[arg-type]
    status = PipelineStatus(
        "b", "wf", {"wf.documents": 2}, [], [], watermarks={0: (T0 - timedelta(days=1)).timestamp()}
    )
    probe = KafkaProbe(
        lambda: status, bootstrap="b", prefix="wf", wait_s=30.0, now=lambda: at + timedelta(milliseconds=300)
    )
    control = ControlLog(store)
    services = Services(
        store=store,
        control=control,
        context=AppContext(control=control, rules={}),
        slack_app=None,
        kafka=probe,
        now=lambda: at,
    )
    page = create_app(services).test_client().get("/").get_data(as_text=True)
    section = page.split('id="kafka"')[1].split("</section>")[0]
    assert "asked 0s ago" in section and "-0s" not in section, section
    assert '<span id="held-by">held by source nyt: its newest report is dated 2024-10-20T06:00:00+00:00' in section
