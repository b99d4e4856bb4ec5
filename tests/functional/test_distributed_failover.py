"""Failover: of two Faust workers, the one delivering alerts is SIGKILLed and never comes back. The survivor
takes its partitions (after the broker's session timeout), recovers their correlate state from the changelog
topic, and the detections and Slack messages are exactly those of the embedded runner, each once. Again
with the survivor's recovery stalled by an injected fault (its consumer's flow stopped): its RecoveryWatch
restarts the recovery, and the alerts are the same."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster is a fixture)
    Cluster,
    all_posted,
    assignment,
    check_posts,
    cluster,
    embedded_detections,
    key,
    load_docs,
    settle,
    shared,
    stored_detections,
)
from watchfloor.schemas.events import document_event
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.mark.parametrize("stall", [False, True], ids=["plain", "stalled-recovery"])
def test_survivor_takes_over_the_partitions_and_the_alerts(
    cluster: Cluster,  # noqa: F811
    slack_server: Any,
    stall: bool,
) -> None:
    if stall:
        cluster.inject_fault("WF_FAULT_STOP_FLOW")
    docs = load_docs()
    expected = embedded_detections(docs)
    first, rest = docs[:12], docs[12:]
    before = {d.id for d in embedded_detections(first)}
    t = Topics(cluster.prefix)

    workers = [cluster.worker(f"w{i}", slack=slack_server).start() for i in (1, 2)]

    cluster.wait("both workers to share the documents partitions", lambda: shared(workers, t.documents))

    with KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl") as pub:
        pub.publish([document_event(d) for d in first])
        cluster.wait(f"{len(before)} alerts posted", lambda: all_posted(slack_server, cluster.store_url, before))

        # The worker that owns the detections partition delivers the alerts: kill that one.
        owners = [w for w in workers if assignment(w).get(t.detections)]
        assert len(owners) == 1
        victim = owners[0]
        survivor = next(w for w in workers if w is not victim)
        victim_docs = assignment(victim).get(t.documents, [])
        victim.kill()
        killed_at = time.monotonic()

        pub.publish([document_event(d) for d in rest])  # some land on the dead worker's partitions
        every = {d.id for d in expected}
        cluster.wait(f"{len(expected)} alerts posted", lambda: all_posted(slack_server, cluster.store_url, every))
        took_over = time.monotonic() - killed_at
    settle(cluster, slack_server)  # anything extra, detection or post, is in by then

    got = stored_detections(cluster.store_url)
    assert sorted(map(key, got)) == sorted(map(key, expected))
    check_posts(slack_server, expected, cluster.store_url)

    assert survivor.alive()
    only = assignment(survivor)
    assert only[t.documents] == [0, 1, 2] and only[t.correlate] == [0, 1, 2] and only[t.detections] == [0]
    if stall:
        log = survivor.log.read_text(errors="replace")
        assert "fault injected" in log
        assert "table recovery: no changelog record read" in log and "restarting it (1 of 3)" in log
    print(
        f"failover: killed the alert-delivering worker (documents partitions {victim_docs}); "
        f"survivor delivered the rest {took_over:.1f}s later"
    )
