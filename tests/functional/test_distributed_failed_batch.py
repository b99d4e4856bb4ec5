"""A correlate batch that fails is read again, on a REAL broker (Faust worker subprocesses, a fault injected).

The first detection the correlate agent sends raises (tests/fixtures/faust_fault WF_FAULT_DETECTIONS_SEND: a
producer that timed out). faust-streaming 0.15.3 restarts an agent whose body raised in place, on the same stream:
it went on with the next records, the failed batch's records were never processed, the commits stopped before them,
and at the next start of the worker they were read again after later batches had moved the partition's `seen` past
them, so they were dropped as replays and their alerts never raised (review13 F4). Now the worker restarts at once
without committing (agents.batch_failed): every embedded alert stands in the store, also after a later restart.
"""

from __future__ import annotations

import pytest

from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster is a fixture)
    Cluster,
    assignment,
    cluster,
    embedded_detections,
    key,
    load_docs,
    stored_detections,
    wait_processed,
)
from watchfloor.schemas.events import document_event
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(400)]


def test_a_failed_correlate_batch_is_processed_again_and_no_alert_is_lost(cluster: Cluster) -> None:  # noqa: F811
    marker = cluster.tmp / "fault-fired"
    cluster.inject_fault("WF_FAULT_DETECTIONS_SEND", str(marker))
    docs = load_docs()
    expected = sorted(map(key, embedded_detections(docs)))
    half = len(docs) // 2
    w = cluster.worker("w1").start()
    cluster.wait("the worker to own its partitions", lambda: bool(assignment(w)))
    with KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl") as pub:
        pub.publish([document_event(d) for d in docs[:half]])
        cluster.wait("the fault to fire", marker.exists)
        # Later records of every documents partition: batches after the failed one (an agent restarted in place
        # took them, and moved each correlate partition's `seen` past the failed batch's records).
        pub.publish([document_event(d) for d in docs[half:]])
    wait_processed(cluster, Topics(cluster.prefix).documents)
    # The next start of the worker (a deploy, a rebalance): the records not committed are read again.
    w.stop()
    w.start()
    cluster.wait(
        f"the {len(expected)} embedded alerts in the store",
        lambda: sorted(map(key, stored_detections(cluster.store_url))) == expected,
    )
    assert w.alive()
    log = w.log.read_text(errors="replace")
    assert "fault injected: a detections send fails" in log
    assert "correlate: a batch failed (RuntimeError: fault injected: the detections send failed)" in log, log[-6000:]
    assert "Restarting dead <Agent" not in log, log[-6000:]  # Faust's restart of the agent in place
