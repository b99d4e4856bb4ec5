"""`status` never shows a negative lag: it reads the groups' commits before the end offsets (outside trial 67, LOW-1).

During a `produce --resend` the archive's row read `records 17,183, committed 17,245, lag -62`: the end offsets were
read first, and the archive committed past them before its commits were read. Real broker and a real group commit;
the commit is made, deterministically, at the moment the status reads the group's commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.kafka import topic_prefix

pytest.importorskip("kafka")

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.kafka import status
from watchfloor.stream_processors.kafka.topics import ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture
def prefix(kafka_admin: Any) -> Iterator[str]:
    with topic_prefix(kafka_admin, "wf-neglag") as p:
        yield p


def test_a_commit_made_while_status_looks_reads_no_negative_lag(kafka_bootstrap: str, prefix: str) -> None:
    ensure_topics(kafka_bootstrap, prefix, partitions=1)
    documents = TopicNames(prefix).documents
    archive = f"{prefix}-archive"
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    committer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=archive, enable_auto_commit=False)
    tp = TopicPartition(documents, 0)

    def write_and_commit(n: int) -> None:
        for _ in range(n):
            producer.send(documents, b"{}", partition=0)
        producer.flush()
        end = committer.end_offsets([tp])[tp]
        committer.commit({tp: OffsetAndMetadata(end, None, -1)})

    write_and_commit(3)
    real = status._committed

    def committed_while_looking(admin: Any, group: str) -> dict[tuple[str, int], int]:
        if group == archive:  # the archive takes in more records, and commits them, as the status looks
            write_and_commit(5)
        return real(admin, group)

    try:
        st = status.pipeline_status(kafka_bootstrap, prefix, read_committed=committed_while_looking)
    finally:
        committer.close()
        producer.close()
    (row,) = [t for g in st.groups if g.group == archive for t in g.topics if t.topic == documents]
    assert (row.end, row.committed, row.lag) == (8, 8, 0)
