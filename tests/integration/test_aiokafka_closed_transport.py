"""aiokafka on uvloop against a REAL broker: a write to a connection that the broker has just reset is a broken
connection (KafkaConnectionError, retried by every caller), not a RuntimeError that ends the consumer's fetch loop
(aio-libs/aiokafka#1038; compat.tolerate_closed_transport)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytestmark = pytest.mark.integration

uvloop = pytest.importorskip("uvloop")
pytest.importorskip("aiokafka")

from aiokafka.client import AIOKafkaClient  # noqa: E402
from aiokafka.errors import KafkaConnectionError  # noqa: E402
from aiokafka.protocol.metadata import MetadataRequest  # noqa: E402

from watchfloor.stream_processors.kafka.compat import tolerate_closed_transport  # noqa: E402


async def write_after_a_reset(bootstrap: str) -> tuple[BaseException | None, bool]:
    """Reset the client's connection the way a dying broker does (the loop closes the transport and hands the
    reader the error), write a request before aiokafka's read task has run; then ask again through the client.
    Returns what the write raised, and whether the client's next request was answered."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        node = next(iter(client.cluster.brokers())).nodeId
        conn: Any = await client._get_conn(node)
        transport = conn._writer.transport
        protocol = transport.get_protocol()
        lost = protocol.connection_lost
        protocol.connection_lost = lambda exc: lost(exc or ConnectionResetError(104, "Connection reset by peer"))
        transport.abort()
        await asyncio.sleep(0)  # the transport is closed; aiokafka still takes the connection for connected
        raised: BaseException | None = None
        try:
            await conn.send(MetadataRequest([]))
        except Exception as exc:
            raised = exc
        answered = await client.send(node, MetadataRequest([]))
        return raised, answered is not None
    finally:
        await client.close()


def test_a_write_to_a_reset_connection_is_a_broken_connection(kafka_bootstrap: str) -> None:
    tolerate_closed_transport()
    assert tolerate_closed_transport() is False  # in place once
    raised, answered = uvloop.run(write_after_a_reset(kafka_bootstrap))
    assert isinstance(raised, KafkaConnectionError), repr(raised)
    assert "broken: unable to perform operation on" in str(raised)
    assert answered  # the client connects again on its own
