"""An agent's batch that raises restarts the worker with nothing of it acked and no later batch taken (no broker).

Faust restarts an agent whose body raised in place, on the same stream, which goes on past the failed batch: its
records are then read again only at a later worker start, behind records that moved on (review13 F4). The agents
call `restart` (the worker's: the same command in this process) instead, or exit when they have none."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from typing import Any, NoReturn

import pytest

from tests.fixtures.correlate_agent import Message, Outputs, Record
from tests.unit.test_correlate_agent import PARTS, batches, engine
from watchfloor.schemas.events import Event, document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.kafka import agents
from watchfloor.stream_processors.kafka.agents import Correlate, Extract, Notify
from watchfloor.stream_processors.kafka.codec import encode_event
from watchfloor.stream_processors.kafka.partition import PartitionCorrelator


class Restarted(BaseException):
    pass


class Harness:
    """take_batches as the worst case: acks a batch after the body whatever way it ended; and a restart (which
    replaces the process: what was acked when it was called is all that ever is)."""

    def __init__(self, monkeypatch: Any) -> None:
        self.taken: list[list[Any]] = []
        self.acked: list[Any] = []
        self.restarts = 0
        self.exits: list[int] = []
        self.acked_then: list[Any] = []  # what was acked when the process was replaced (nothing runs after it)
        harness = self

        async def take_batches(stream: Any, max_: int, within: float) -> Any:
            for batch in stream:
                harness.taken.append(batch)
                try:
                    yield batch
                finally:
                    harness.acked.extend(batch)

        self.batches = take_batches  # the agents' `batches`

        def exit_(status: int) -> None:
            self.exits.append(status)
            self.acked_then = list(self.acked)
            raise Restarted

        monkeypatch.setattr(os, "_exit", exit_)  # (os._exit: the process is not ended under pytest)

    def restart(self) -> NoReturn:
        self.restarts += 1
        self.acked_then = list(self.acked)
        raise Restarted


class FailingOutputs(Outputs):
    """The producer refuses the `fail_on`-th send to `topic` (a send that timed out)."""

    def __init__(self, names: TopicNames, topic: str, fail_on: int = 1) -> None:
        super().__init__(names)
        self.topic, self.left = topic, fail_on

    async def send(
        self, topic: str, key: bytes | None, value: bytes, partition: Any = None, headers: Any = None
    ) -> Any:
        if topic == self.topic:
            self.left -= 1
            if self.left == 0:
                raise RuntimeError("KafkaTimeoutError: the send timed out")
        return await super().send(topic, key, value, partition, headers)


def test_a_failed_correlate_batch_restarts_the_worker_before_any_later_batch(monkeypatch: Any) -> None:
    eng = engine()
    names = TopicNames("t")
    cut = batches(eng, names)
    h = Harness(monkeypatch)
    out = FailingOutputs(names, names.detections)
    table: dict[bytes, bytes] = {}
    agent = Correlate(
        table, PartitionCorrelator(eng, PARTS), out, batch_within=0.01, restart=h.restart, batches=h.batches
    )
    with pytest.raises(Restarted):
        asyncio.run(agent.run(cut))
    assert h.restarts == 1 and h.exits == []
    failed = h.taken[-1]
    assert len(h.taken) < len(cut), "the send fails mid-run"
    assert not any(r in h.acked_then for r in failed)  # restarted inside the body: nothing of the batch acked
    assert sum(len(b) for b in h.taken[:-1]) == len(h.acked_then)  # and nothing after it taken


def test_without_a_restart_the_worker_exits(monkeypatch: Any) -> None:
    eng = engine()
    names = TopicNames("t")
    h = Harness(monkeypatch)
    out = FailingOutputs(names, names.detections)
    agent = Correlate({}, PartitionCorrelator(eng, PARTS), out, batch_within=0.01, batches=h.batches)
    with pytest.raises(Restarted):
        asyncio.run(agent.run(batches(eng, names)))
    assert h.exits == [agents.BATCH_FAILED_EXIT]


def test_a_failed_extract_batch_restarts_the_worker(monkeypatch: Any) -> None:
    eng = engine()
    names = TopicNames("t")
    docs = [
        parse_document(
            {
                "id": f"doc-{i}",
                "type": "news.article",
                "published_at": datetime(2024, 1, 1 + i, tzinfo=UTC).isoformat(),
                "source": "Wire",
                "title": "North Korean soldiers have been sent to Russia's Kursk region, NATO says",
                "body": "Officials commented later in the day.",
            }
        )
        for i in range(6)
    ]
    cut = [[Record(Message(names.documents, 0, i), encode_event(document_event(d)), None)] for i, d in enumerate(docs)]
    h = Harness(monkeypatch)
    out = FailingOutputs(names, names.correlate, fail_on=3)
    agent = Extract(
        None,
        eng,
        out,  # type: ignore[arg-type]
        partitions=PARTS,
        batch_within=0.01,
        restart=h.restart,
        batches=h.batches,
    )
    with pytest.raises(Restarted):
        asyncio.run(agent.run(cut))
    assert h.restarts == 1 and len(h.taken) < len(cut)
    assert not any(r in h.acked_then for r in h.taken[-1])


def test_a_failed_notify_batch_restarts_the_worker(monkeypatch: Any) -> None:
    names = TopicNames("t")
    bad = Event(id="x", type="signal", time=datetime(2024, 1, 1, tzinfo=UTC), key="k", payload={})
    cut = [[Record(Message(names.detections, 0, i), encode_event(bad), None)] for i in range(3)]
    h = Harness(monkeypatch)
    out = FailingOutputs(names, names.dead_letters)
    agent = Notify(None, out, batch_within=0.01, restart=h.restart, batches=h.batches)
    with pytest.raises(Restarted):
        asyncio.run(agent.run(cut))
    assert h.restarts == 1 and len(h.taken) == 1 and h.acked_then == []
