"""A correlate state record over 1 MB on the real broker: the worker's changelog takes it and a consumer with
Faust's default fetch size (1 MiB per partition) still reads it whole, so a restore needs no fetch setting."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.integration

pytest.importorskip("aiokafka")

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # noqa: E402

from watchfloor.stream_processors.kafka.topics import STATE_RECORD_MAX_BYTES, ensure_changelog  # noqa: E402

FAUST_FETCH = 1024**2  # faust's consumer_max_fetch_size default, left as it is by app.build_app


async def write_then_read(bootstrap: str, topic: str, value: bytes) -> list[int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=STATE_RECORD_MAX_BYTES, acks=-1)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=b"0", partition=0)
        await producer.send_and_wait(topic, b"{}", key=b"1", partition=0)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, max_partition_fetch_bytes=FAUST_FETCH, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        sizes: list[int] = []
        while len(sizes) < 2:
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 60)
            sizes += [len(r.value or b"") for records in batch.values() for r in records]
        return sizes
    finally:
        await consumer.stop()


def test_a_3mb_state_record_is_written_and_read_back(kafka_bootstrap: str, kafka_admin: Any) -> None:
    group = f"wf-test-{uuid.uuid4().hex[:8]}-worker"
    ensure_changelog(kafka_bootstrap, group, 1)
    topic = f"{group}-correlate-state-changelog"
    try:
        value = os.urandom(3 * 1024**2)  # incompressible: what a big state is after zlib
        assert asyncio.run(write_then_read(kafka_bootstrap, topic, value)) == [len(value), 2]
    finally:
        kafka_admin.delete_topics([topic], timeout_ms=30_000)
