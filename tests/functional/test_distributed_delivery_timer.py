"""`watchfloor worker --dispatch` retries an outstanding delivery with no further input: a real worker process,
a real Kafka broker, SQLite, and the local Slack server failing the first posts. Every document is published
once; after that nothing arrives, and the alerts still reach Slack, each once, when their backoff falls due."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster: a fixture)
    Cluster,
    all_posted,
    check_posts,
    cluster,
    embedded_detections,
    load_docs,
    settle,
)
from watchfloor.schemas.events import document_event
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(300)]


def test_worker_retries_outstanding_deliveries_with_no_new_detection(cluster: Cluster, slack_server: Any) -> None:  # noqa: F811
    docs = load_docs()
    expected = embedded_detections(docs)
    slack_server.channels = {"#dprk-russia"}
    slack_server.fail_next("chat.postMessage", status=200, body={"ok": False, "error": "ratelimited"}, times=3)
    cluster.worker("w1", slack=slack_server).start()
    pub = KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl")
    try:
        pub.publish([document_event(d) for d in docs])  # all the input there will be
    finally:
        pub.close()
    every = {d.id for d in expected}
    cluster.wait(f"{len(expected)} alerts posted", lambda: all_posted(slack_server, cluster.store_url, every))
    settle(cluster, slack_server)  # duplicates, if any, are posted by then
    check_posts(slack_server, expected, cluster.store_url)
    refused = [r for r in slack_server.requests_for("chat.postMessage") if r.response.get("ok") is False]
    assert len(refused) == 3
