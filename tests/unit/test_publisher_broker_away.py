"""Once a try of the broker has missed, the publisher spools at disk speed and probes it at a bounded interval
(outside trial 72, LOW-2: each batch of ~500 documents waited the full publish_timeout for the dead broker, ~30
documents/s, and no "still unreachable" line came at 30 s). No broker here: a closed port, an injected clock and
probe; the real broker's outage is tests/integration/test_produce_broker_away.py."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("kafka")
from kafka.errors import KafkaConnectionError

from watchfloor.schemas.events import Document, SourceRef, document_event
from watchfloor.stream_processors.kafka.publisher import PROBE_EVERY_S, KafkaPublisher

T0 = datetime(2024, 11, 4, 6, 0, tzinfo=UTC)


def batch(n: int, first: int = 0) -> list:
    return [
        document_event(
            Document(
                id=f"kursk-{i:04d}",
                type="news.article",
                published_at=T0 + timedelta(minutes=i),
                source=SourceRef(name="Border Wire"),
                title=f"Report {i} from the Kursk front",
                body="Units were said to move north of the border overnight.",
            )
        )
        for i in range(first, first + n)
    ]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ClockedStop(threading.Event):
    """A stop whose waits pass on the test's clock, not the wall's."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        self.clock.now += timeout or 0.0
        return self.is_set()


def away_publisher(tmp_path: Path, clock: Clock, probes: list[float]) -> KafkaPublisher:
    def probe() -> None:  # the broker still away
        probes.append(clock.now)
        raise KafkaConnectionError("127.0.0.1: [Errno 111] Connection refused")

    return KafkaPublisher(
        f"127.0.0.1:{closed_port()}", "wf-away", spool_path=tmp_path / "spool.jsonl", clock=clock, probe=probe
    )


def test_after_a_miss_every_batch_is_spooled_without_a_try_until_a_probe_is_due(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock, probes = Clock(), []
    pub = away_publisher(tmp_path, clock, probes)
    with caplog.at_level(logging.WARNING, logger="watchfloor.stream_processors.kafka.publisher"):
        pub.missed(KafkaConnectionError("socket disconnected"))  # a try missed: the broker is away
        for k in range(40):  # 20,000 documents in batches of 500, as the relay sends a GDELT day
            result = pub.publish(batch(500, 500 * k))
            assert (result.sent, result.spooled) == (0, 500)
        assert pub.tries == 0 and pub.probes == 0  # no batch waited for the broker
        assert pub.spooled() == 20_000 and pub.away
        clock.now += PROBE_EVERY_S
        assert pub.publish(batch(1, 20_000)).spooled == 1
        assert (pub.tries, pub.probes) == (0, 1)  # one probe, due, and nothing tried after it missed
        assert pub.probe_in() == PROBE_EVERY_S
    said = [r.getMessage() for r in caplog.records]
    assert (
        len(said) == 1
        and " unreachable (KafkaConnectionError: " in said[0]
        and "socket disconnected); spooling" in said[0]
    ), said
    pub.close()


def test_between_passes_a_broker_away_is_probed_and_reminded_of_after_30s_then_every_5_minutes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock, probes = Clock(), []
    pub = away_publisher(tmp_path, clock, probes)
    stop = ClockedStop(clock)
    with caplog.at_level(logging.WARNING, logger="watchfloor.stream_processors.kafka.publisher"):
        pub.missed(KafkaConnectionError("socket disconnected"))
        pub.publish(batch(3))
        assert pub.rest(stop, 400.0) is False  # a produce's interval of 400 s, the broker away all along
    assert probes == [1000.0 + PROBE_EVERY_S * k for k in range(1, 81)]  # every 5 s, none more
    assert pub.tries == 0 and max(stop.waits) <= PROBE_EVERY_S
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 3, said
    assert said[1].startswith(f"Kafka broker {pub.bootstrap} still unreachable after 30s; spooling events to"), said
    assert said[2].startswith(f"Kafka broker {pub.bootstrap} still unreachable after 5m;"), said
    pub.close()


def test_a_rest_with_the_broker_there_only_waits(tmp_path: Path) -> None:
    clock, probes = Clock(), []
    pub = away_publisher(tmp_path, clock, probes)
    stop = ClockedStop(clock)
    assert pub.rest(stop, 60.0) is False
    assert stop.waits == [60.0] and probes == [] and pub.tries == 0
    stop.set()
    assert pub.rest(stop, 60.0) is True
    pub.close()
