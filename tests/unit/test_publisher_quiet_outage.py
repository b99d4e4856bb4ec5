"""A broker outage is said in one line by the publisher, not also by kafka-python's warning for each batch it
expires (outside trial 31, L1: 9 "Failed to produce messages … Expiring 15 record(s)" lines read as data loss)."""

from __future__ import annotations

import logging

import pytest

pytest.importorskip("kafka")
from kafka.errors import KafkaTimeoutError

import watchfloor.stream_processors.kafka.publisher  # noqa: F401  (installs the filter)


def test_expired_batches_are_not_logged_but_other_failures_are(caplog: pytest.LogCaptureFixture) -> None:
    lib = logging.getLogger("kafka.producer.producer_batch")  # the logger kafka-python's ProducerBatch warns on
    expired = KafkaTimeoutError("Expiring 15 record(s) for t31.documents-2: 15017 ms has passed since batch creation")
    with caplog.at_level(logging.WARNING, logger="kafka.producer.producer_batch"):
        lib.warning("Failed to produce messages to topic-partition %s with base offset %s: %s", "tp", None, expired)
        lib.warning("Failed to produce messages to topic-partition %s with base offset %s: %s", "tp", None, "Boom")
    assert [r.getMessage() for r in caplog.records] == [
        "Failed to produce messages to topic-partition tp with base offset None: Boom"
    ]
