"""A batch that fails every time: attempts counted across restarts, backoff, poison dead-lettered (no broker).

The count lives in a file (the worker restarts by os.execv, or is started again by a supervisor after exit 4), so
these tests start a fresh FailureCounts and fresh agents on the same file for each "process"."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, NoReturn

import orjson
import pytest

from tests.fixtures.correlate_agent import Message, Outputs, Record
from watchfloor.schemas.events import Event
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.kafka.agents import BatchRetry, Notify
from watchfloor.stream_processors.kafka.codec import encode_event
from watchfloor.stream_processors.kafka.failed_batches import (
    TRANSIENT_NAMES,
    FailureCounts,
    NotAttributable,
    RetryPolicy,
    split_poison,
    transient,
)
from watchfloor.web.activity import reason_class

# ---- bookkeeping ---------------------------------------------------------------------------------------------------


def test_backoff_none_after_the_first_failure_then_doubling_up_to_the_cap() -> None:
    p = RetryPolicy(isolate_after=5, backoff=1.0, backoff_max=60.0)
    assert [p.wait(n) for n in range(1, 10)] == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert p.wait(10_000) == 60.0  # no overflow


def test_counts_survive_a_new_process_and_reset_on_success(tmp_path: Path) -> None:
    path = tmp_path / "failed-batches.json"
    c = FailureCounts(path)
    assert c.attempts("extract") == 0
    assert c.failed("extract", ["kafka:t.documents[0]@7"], "ValueError: x") == 1
    assert FailureCounts(path).failed("extract", ["kafka:t.documents[0]@7"], "ValueError: x") == 2  # after execv
    again = FailureCounts(path)
    assert again.attempts("extract") == 2 and again.attempts("correlate") == 0
    assert again.succeeded("extract") == {"attempts": 2, "at": ["kafka:t.documents[0]@7"], "error": "ValueError: x"}
    assert FailureCounts(path).attempts("extract") == 0
    assert again.succeeded("extract") is None


def test_an_unreadable_count_file_counts_as_none(tmp_path: Path, caplog: Any) -> None:
    path = tmp_path / "failed-batches.json"
    path.write_text("{half")
    assert FailureCounts(path).attempts("extract") == 0
    assert "cannot read the failed batches' count" in caplog.text


def test_transient_failures_are_the_brokers_or_the_networks() -> None:
    class KafkaTimeoutError(Exception):
        pass

    class Retriable(Exception):
        retriable = True

    assert transient(ConnectionResetError("reset"))
    assert transient(TimeoutError())
    assert transient(KafkaTimeoutError("flush"))
    assert transient(Retriable())
    try:
        try:
            raise ConnectionRefusedError("db")
        except ConnectionRefusedError as e:
            raise RuntimeError("write failed") from e
    except RuntimeError as wrapped:
        assert transient(wrapped)
    assert not transient(ValueError("bad record"))
    assert not transient(KeyError("x"))


def test_the_unreachable_names_are_one_list_of_real_kafka_errors_that_both_read() -> None:
    """clients and failed_batches read one list of names (review D7: a copy could drift), each the name of a
    kafka-python error class, and a batch failing with any of them is retried, never dead-lettered."""
    import kafka.errors

    from watchfloor.stream_processors.kafka import clients, unreachable

    assert clients.UNREACHABLE is unreachable.UNREACHABLE
    assert set(unreachable.UNREACHABLE) <= TRANSIENT_NAMES
    major = int(kafka.__version__.split(".")[0])
    names = [n for n in unreachable.UNREACHABLE if major == 2 or n not in unreachable.ONLY_2X]
    assert unreachable.ONLY_2X <= set(unreachable.UNREACHABLE) and len(names) >= len(unreachable.UNREACHABLE) - 1
    missing = [n for n in names if not isinstance(getattr(kafka.errors, n, None), type)]
    assert missing == [], f"not kafka-python {kafka.__version__} error classes: {missing}"
    assert set(clients.unreachable_errors()) == {getattr(kafka.errors, n) for n in names} | {
        clients.KafkaNotABroker,
        clients.KafkaNoSuchHost,
    }
    assert (
        unreachable.OWN == (clients.KafkaNotABroker.__name__, clients.KafkaNoSuchHost.__name__)
        and set(unreachable.OWN) <= TRANSIENT_NAMES
    )
    for name in names:
        assert transient(getattr(kafka.errors, name)("broker away")), name


def _split(events: list[tuple[int, str]], bad: set[str], error: type[Exception] = ValueError) -> Any:
    done: list[str] = []

    async def process(batch: list[tuple[int, str]]) -> None:
        (_p, name) = batch[0]
        assert len(batch) == 1
        if name in bad:
            raise error(f"{name} is poison")
        done.append(name)

    got = asyncio.run(split_poison(events, process, lambda e: e[0]))
    return [e for e, _ in got], done


def test_split_poison_dead_letters_the_record_that_fails_alone() -> None:
    poison, done = _split([(0, "a"), (0, "b"), (1, "c"), (0, "d")], {"b"})
    assert poison == [(0, "b")] and done == ["a", "c", "d"]
    poison, done = _split([(0, "a"), (1, "b"), (2, "c")], {"a", "c"})  # one per partition
    assert poison == [(0, "a"), (2, "c")]


def test_split_poison_retries_when_more_than_one_record_of_a_partition_fails() -> None:
    with pytest.raises(NotAttributable, match="2 records of 0 failed one at a time"):
        _split([(0, "a"), (0, "b"), (0, "c"), (1, "d")], {"a", "c"})


def test_split_poison_raises_a_transient_failure_as_it_is() -> None:
    with pytest.raises(ConnectionError):
        _split([(0, "a"), (1, "b")], {"a"}, ConnectionError)


# ---- agents --------------------------------------------------------------------------------------------------------


class Restarted(BaseException):
    pass


def _bad_records(names: TopicNames, n: int) -> list[Record]:
    from datetime import UTC, datetime

    def bad(i: int) -> Event:  # a signal on the detections topic: dead-lettered for its type
        return Event(id=f"rec-{i}", type="signal", time=datetime(2024, 1, 1, tzinfo=UTC), key="k", payload={})

    return [Record(Message(names.detections, 0, i), encode_event(bad(i)), None) for i in range(n)]


class PoisonOutputs(Outputs):
    """Dead-lettering the records of `poison` (offsets) raises (what the notify agent does with these records): a
    record that fails every time, alone or not."""

    def __init__(self, names: TopicNames, poison: set[int]) -> None:
        super().__init__(names)
        self.poison = poison

    async def send(
        self, topic: str, key: bytes | None, value: bytes, partition: Any = None, headers: Any = None
    ) -> Any:
        letter = orjson.loads(value)
        for i in self.poison:
            if letter["reason"].startswith("event type") and f'"id":"rec-{i}"' in letter["raw"]:
                raise ValueError(f"record {i} cannot be written")
        return await super().send(topic, key, value, partition, headers)


class Process:
    """One worker process on a shared count file: Notify over one batch, restart recorded, waits noted."""

    def __init__(self, monkeypatch: Any, path: Path, poison: set[int], policy: RetryPolicy) -> None:
        self.names = TopicNames("t")
        self.out = PoisonOutputs(self.names, poison)
        self.waits: list[float] = []
        self.restarted = False
        proc = self

        async def take_batches(stream: Any, max_: int, within: float) -> Any:
            for batch in stream:
                yield batch

        async def sleep(s: float) -> None:
            proc.waits.append(s)

        monkeypatch.setattr("asyncio.sleep", sleep)  # the backoff's wait, noted instead
        self.agent = Notify(
            None,
            self.out,  # type: ignore[arg-type]
            batch_within=0.01,
            batches=take_batches,
            restart=self.restart,
            counts=FailureCounts(path),
            policy=policy,
        )

    def restart(self) -> NoReturn:
        self.restarted = True
        raise Restarted

    def run(self, batch: list[Record]) -> None:
        try:
            asyncio.run(self.agent.run([batch]))
        except Restarted:
            pass


def test_a_poison_record_restarts_with_backoff_then_is_dead_lettered_and_the_rest_goes_on(
    monkeypatch: Any, tmp_path: Path, caplog: Any
) -> None:
    path = tmp_path / "failed-batches.json"
    policy = RetryPolicy(isolate_after=3, backoff=1.0, backoff_max=60.0)
    records = _bad_records(TopicNames("t"), 4)
    waits: list[float] = []
    for attempt in (1, 2, 3):
        p = Process(monkeypatch, path, {2}, policy)
        p.run(records)
        assert p.restarted, attempt
        waits.append(sum(p.waits))
        assert FailureCounts(path).attempts("notify") == attempt
    assert waits == [0.0, 1.0, 2.0]  # none after the first failure
    assert len([r for r in caplog.records if r.exc_info]) == 1  # the first failure's traceback; then a line each
    assert "notify: the batch at kafka:t.detections[0]@0 failed again, attempt 3 (ValueError: record 2" in caplog.text
    assert "restarting the worker in 2.0s, to read it one record at a time" in caplog.text
    p = Process(monkeypatch, path, {2}, policy)  # the 4th start: one record at a time
    p.run(records)
    assert not p.restarted
    letters = [orjson.loads(v) for t, _k, v in p.out.sent if t == p.names.dead_letters]
    ours = [d for d in letters if "failed alone" in d["reason"]]
    assert [d["origin"] for d in ours] == ["kafka:t.detections[0]@2"]
    assert ours[0]["stage"] == "notify"
    assert ours[0]["reason"].startswith(
        "poison record: the notify batch failed 3 times in a row, and this record failed alone: ValueError: record 2"
    )
    assert reason_class(ours[0]["reason"]) == "poison record"  # its label in /metrics
    # the other records went through: each dead-lettered for its wrong type, as a good batch does
    # named by partition and offset, as every other stage's are, and said in the log (outside trial 60, LOW-1)
    assert sorted(d["origin"] for d in letters if d["reason"].startswith("event type")) == [
        "kafka:t.detections[0]@0",
        "kafka:t.detections[0]@1",
        "kafka:t.detections[0]@3",
    ]
    assert "notify: kafka:t.detections[0]@3 rejected: event type" in caplog.text
    assert FailureCounts(path).attempts("notify") == 0  # reset by the batch that went through
    assert "went through after 3 failed attempt(s) in a row" in caplog.text


def test_a_failure_of_every_record_is_retried_not_dead_lettered(monkeypatch: Any, tmp_path: Path) -> None:
    path = tmp_path / "failed-batches.json"
    policy = RetryPolicy(isolate_after=2, backoff=1.0, backoff_max=4.0)
    records = _bad_records(TopicNames("t"), 3)
    waits: list[float] = []
    for _ in range(6):
        p = Process(monkeypatch, path, {0, 1, 2}, policy)
        p.run(records)
        assert p.restarted
        waits.append(sum(p.waits))
        assert not [t for t, *_ in p.out.sent if t == p.names.dead_letters]
    assert waits == [0.0, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert FailureCounts(path).counts["notify"]["error"].startswith("NotAttributable: 3 records of")


def test_batch_retry_without_a_file_counts_in_memory() -> None:
    retry = BatchRetry("extract", "extract", Outputs(TopicNames("t")), None)  # type: ignore[arg-type]
    assert retry.counts.path is None and retry.policy == RetryPolicy()


def test_a_rebalance_cuts_the_backoff_short(monkeypatch: Any, tmp_path: Path, caplog: Any) -> None:
    """Faust's revocation waits for every record taken to be acked: a worker waiting out its backoff would hold the
    group's rebalance up for as long, so it restarts at once instead."""
    path = tmp_path / "failed-batches.json"
    FailureCounts(path).failed("notify", ["kafka:t.detections[0]@0"], "ValueError: x")
    policy = RetryPolicy(isolate_after=9, backoff=30.0, backoff_max=30.0)
    p = Process(monkeypatch, path, {0}, policy)

    class App:
        rebalancing = False

    app = App()
    p.out.app = app  # type: ignore[attr-defined]
    steps = 0

    async def sleep(s: float) -> None:
        nonlocal steps
        steps += 1
        p.waits.append(s)
        if steps == 3:
            app.rebalancing = True

    monkeypatch.setattr("asyncio.sleep", sleep)
    p.run(_bad_records(TopicNames("t"), 1))
    assert p.restarted and p.waits == [0.5, 0.5, 0.5]
    assert "notify: a rebalance began; restarting the worker now" in caplog.text
