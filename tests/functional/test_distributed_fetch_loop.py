"""A worker's consumer keeps fetching whatever ends one fetch, on a REAL broker with faults injected into aiokafka.

* The broker's connection closes just before a fetch is written to it (tests/fixtures/faust_fault
  WF_FAULT_CLOSE_UNDER_FETCH). On uvloop, aiokafka's write raised RuntimeError, its fetch loop ended, and the
  worker never read another record while staying in its group (CI, after a broker outage: the archive caught
  up, the worker's detections stopped). Now that write is a broken connection, which the fetcher retries in
  place: every detection arrives, the worker does not restart, and the log does not call the broker
  unreachable (one info line: a lone failed request is not an outage).
* The fetch loop ends on an error nobody expects (WF_FAULT_FETCH_LOOP_DIES): the worker notices within its
  watch period, restarts itself in the same process, and every detection still arrives, once.
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
)
from watchfloor.schemas.events import document_event
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(300)]


def run_with_fault(cluster: Cluster, fault: str) -> str:  # noqa: F811
    """One worker, the fault armed; the first documents, then the fault, then the rest; returns the worker's log
    once every embedded alert stands in the store."""
    marker = cluster.tmp / "fault-fired"
    cluster.inject_fault(fault, str(marker))
    docs = load_docs()
    expected = sorted(map(key, embedded_detections(docs)))
    w = cluster.worker("w1").start()
    cluster.wait("the worker to own its partitions", lambda: bool(assignment(w)))
    with KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl") as pub:
        pub.publish([document_event(d) for d in docs[:4]])
        cluster.wait("the fault to fire", marker.exists)
        pub.publish([document_event(d) for d in docs[4:]])
        cluster.wait(
            f"the {len(expected)} embedded alerts in the store",
            lambda: sorted(map(key, stored_detections(cluster.store_url))) == expected,
        )
    assert w.alive()
    return w.log.read_text(errors="replace")


def test_a_connection_closed_under_a_fetch_is_retried_in_place(cluster: Cluster) -> None:  # noqa: F811
    log = run_with_fault(cluster, "WF_FAULT_CLOSE_UNDER_FETCH")
    assert "fault injected: the connection is closed under a fetch" in log
    assert "Unexpected error in fetcher routine" not in log, log[-6000:]
    assert "restarting the worker" not in log, log[-6000:]
    # one request failed, on a broker that never went away: an info line, not an outage that never ends
    assert "one request failed (Failed fetch messages from" in log
    assert " unreachable (" not in log, log[-6000:]


def test_a_fetch_loop_that_ends_restarts_the_worker(cluster: Cluster) -> None:  # noqa: F811
    log = run_with_fault(cluster, "WF_FAULT_FETCH_LOOP_DIES")
    assert "fault injected: the fetch loop ends on an unexpected error" in log
    ended = "the consumer's fetch loop ended (ValueError: fault injected into the fetch loop); restarting the worker"
    assert ended in log
    assert log.count("restarting the worker") == 2, log[-6000:]  # the line above, and run_worker's before the exec
