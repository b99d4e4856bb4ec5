"""status reads a documents partition whose tail holds no watermark record further back (`_read_back`), and keeps
what it found for the next look (`_READ_BACK`): against a consumer that holds a partition in memory, no broker.

Review findings: the kept value outlived a reset of the partition (its topic recreated, its records deleted), the
read-back took the last watermark of a chunk where the tail read takes the newest, each chunk had the whole timeout,
and a beginning offset not told in time escaped as an exception."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pytest

from watchfloor.schemas.events import watermark_event
from watchfloor.stream_processors.kafka.codec import encode_event
from watchfloor.stream_processors.kafka.reader import RECALL_CHUNK
from watchfloor.stream_processors.kafka.status import WATERMARK_TAIL, _published_watermarks

DOC = b'{"not": "a watermark"}'


class TP(NamedTuple):
    topic: str
    partition: int


class Rec(NamedTuple):
    offset: int
    value: bytes


def mark(t: float) -> bytes:
    return encode_event(watermark_event(0, t, idle=False))


@dataclass
class Part:
    """A partition's records from `low` (its beginning offset) to its end, in a topic with id `topic_id`."""

    values: list[bytes]
    low: int = 0
    topic_id: str | None = "id-1"

    @property
    def end(self) -> int:
        return len(self.values)


@dataclass
class Consumer:
    """What status asks of kafka-python's KafkaConsumer, over partitions held in memory."""

    parts: dict[TP, Part]
    per_poll: int = 10_000  # records a poll brings at most (per partition)
    poll_takes: float = 0.0  # seconds each poll takes
    beginning_fails: set[TP] = field(default_factory=set)
    config: dict[str, Any] = field(default_factory=lambda: {"bootstrap_servers": ["broker:9092"]})
    assigned: list[TP] = field(default_factory=list)
    pos: dict[TP, int] = field(default_factory=dict)

    @property
    def _client(self) -> Any:
        parts = self.parts

        class Cluster:
            @staticmethod
            def topic_id(topic: str) -> str | None:
                return next((p.topic_id for tp, p in parts.items() if tp.topic == topic), None)

        class Client:
            cluster = Cluster()

        return Client()

    def beginning_offsets(self, tps: list[TP]) -> dict[TP, int]:
        if set(tps) & self.beginning_fails:
            from kafka.errors import KafkaTimeoutError

            raise KafkaTimeoutError("Failed to get offsets by timestamps in 1000.0 ms")
        return {tp: self.parts[tp].low for tp in tps}

    def assign(self, tps: list[TP]) -> None:
        self.assigned = list(tps)

    def seek(self, tp: TP, offset: int) -> None:
        self.pos[tp] = offset

    def position(self, tp: TP) -> int:
        return self.pos[tp]

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[TP, list[Rec]]:
        time.sleep(self.poll_takes)
        out = {}
        for tp in self.assigned:
            part = self.parts[tp]
            at = max(self.pos[tp], part.low)  # auto_offset_reset="earliest"
            upto = min(part.end, at + min(self.per_poll, max_records or self.per_poll))
            if upto > at:
                out[tp] = [Rec(o, part.values[o]) for o in range(at, upto)]
            self.pos[tp] = max(upto, at)
        return out


P0, P1 = TP("p.documents", 0), TP("p.documents", 1)


# What the read-backs found, for the next look: the tests' own, not the process's (status._READ_BACK)
KEPT: dict[tuple[str, str, int], Any] = {}


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    KEPT.clear()


def look(consumer: Consumer, timeout_s: float = 10.0) -> dict[int, float]:
    ends = {tp: part.end for tp, part in consumer.parts.items()}
    return _published_watermarks(consumer, ends, timeout_s, kept=KEPT)


def test_a_recreated_topic_does_not_report_the_watermark_of_the_one_before() -> None:
    c = Consumer({P0: Part([mark(100.0)] + [DOC] * (WATERMARK_TAIL + 4))})
    assert look(c) == {0: 100.0}  # read back past the tail, and kept
    # Deleted and made again, and already as long as it was (or longer): its offsets are consistent with what was
    # kept, only its id says it is another topic. None of its records is a watermark.
    c.parts[P0] = Part([DOC] * (WATERMARK_TAIL + 30), topic_id="id-2")
    assert look(c) == {}
    c.parts[P0] = Part([DOC] * (WATERMARK_TAIL + 40) + [mark(50.0)] + [DOC] * WATERMARK_TAIL, topic_id="id-2")
    assert look(c) == {0: 50.0}  # its own, lower than the old topic's


def test_a_recreated_topic_shorter_than_before_reads_afresh() -> None:
    # (The code before this change did so already: kept here with the other resets.)
    c = Consumer({P0: Part([DOC] * 100 + [mark(100.0)] + [DOC] * (WATERMARK_TAIL + 4))})
    assert look(c) == {0: 100.0}
    c.parts[P0] = Part([DOC] * (WATERMARK_TAIL + 2), topic_id="id-2")  # a new (smaller) end
    assert look(c) == {}
    # Without topic ids (an old broker or client), a smaller end alone says it.
    KEPT.clear()
    c = Consumer({P0: Part([mark(100.0)] + [DOC] * (WATERMARK_TAIL + 40), topic_id=None)})
    assert look(c) == {0: 100.0}
    c.parts[P0] = Part([DOC] * (WATERMARK_TAIL + 2), topic_id=None)
    assert look(c) == {}


def test_records_deleted_past_the_watermark_found_are_read_afresh() -> None:
    values = [DOC] * 10 + [mark(100.0)] + [DOC] * (WATERMARK_TAIL + 20)
    c = Consumer({P0: Part(values)})
    assert look(c) == {0: 100.0}
    c.parts[P0] = Part(values + [DOC] * 5, low=11)  # the records up to the watermark deleted (kafka-delete-records)
    assert look(c) == {}  # as a look afresh says: the watermark record is gone
    values = values + [DOC] * 5 + [mark(120.0)] + [DOC] * (WATERMARK_TAIL + 1)
    c.parts[P0] = Part(values, low=len(values) - 10)  # deleted past the end read, too
    assert look(c) == {}


def test_the_kept_value_goes_on_while_the_partition_only_grows() -> None:
    values = [DOC] * 10 + [mark(100.0)] + [DOC] * (WATERMARK_TAIL + 20)
    c = Consumer({P0: Part(values)})
    assert look(c) == {0: 100.0}
    c.parts[P0] = Part(values + [DOC] * 3, low=5)  # older records deleted, not the watermark's
    assert look(c) == {0: 100.0}
    assert KEPT[("broker:9092", "p.documents", 0)].end == len(values) + 3  # read only the new ones


def test_the_read_back_takes_the_newest_watermark_as_the_tail_read_does() -> None:
    # Another producer's lower watermark after the relay's: the tail read takes the greatest; so does the read-back,
    # else the reported age jumps backwards when the tail no longer holds them.
    both = [mark(200.0), DOC, mark(150.0)]
    c = Consumer({P0: Part([DOC] * 5 + both), P1: Part([DOC] * 5 + both + [DOC] * (WATERMARK_TAIL + 1))})
    assert look(c) == {0: 200.0, 1: 200.0}
    # And a kept value is not replaced by a lower one written since.
    c.parts[P1].values += [mark(120.0)] + [DOC] * (WATERMARK_TAIL + 1)
    assert look(c) == {0: 200.0, 1: 200.0}


def test_one_deadline_bounds_the_whole_read_back() -> None:
    # A partition read slowly: each chunk within the timeout, all of them far beyond it. Each chunk had the whole
    # timeout (up to 30 s a chunk); now the read-back has what is left of the look's timeout (one second at least).
    values = [mark(100.0)] + [DOC] * (4 * RECALL_CHUNK)
    c = Consumer({P0: Part(values)}, per_poll=RECALL_CHUNK // 4, poll_takes=0.15)  # 0.6 s a chunk
    started = time.monotonic()
    assert look(c, timeout_s=0.5) == {}  # not read in time: left out of this look
    assert time.monotonic() - started < 1.5 + 0.2 * 2  # the tail, then a second at most (and a poll or two)
    assert not KEPT  # what was read is not kept


def test_a_beginning_offset_not_told_in_time_leaves_the_partition_out() -> None:
    pytest.importorskip("kafka")
    tail_less = [mark(100.0)] + [DOC] * (WATERMARK_TAIL + 1)
    c = Consumer({P0: Part(tail_less), P1: Part(list(tail_less))}, beginning_fails={P0})
    assert look(c) == {1: 100.0}
