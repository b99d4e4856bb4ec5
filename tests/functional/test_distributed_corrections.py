"""Corrections in distributed mode, end to end: a REAL Kafka broker and a Faust worker (a subprocess).

A feed item's claim raises an alert that a second source confirms; then the publisher's edition denies it. The
edition's Correction reaches every correlate partition before its signals (kafka/agents.py), so the alerts that
stand in the store are the embedded runner's: the confirmed alert withdrawn, the first revised to rest on the
second source (tests/unit/test_corrections.py has the same cases under every arrival order).
"""

from __future__ import annotations

import pytest

pytest.importorskip("kafka")
pytest.importorskip("faust")

from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster: a fixture)
    Cluster,
    cluster,
    dead_letters,
    embedded_detections,
    key,
    stored_detections,
)
from tests.unit.test_corrections import DENIAL, RADIO, TYPO_FIXED, V1, doc, edit
from watchfloor.schemas.events import document_event
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(300)]


def test_a_denial_edited_in_reaches_the_partitions_of_the_claim(cluster: Cluster) -> None:  # noqa: F811
    other = doc("wire-9", "Hundreds of North Korean troops killed or wounded in Kursk, a second desk says", hours=1)
    first = [V1, RADIO, other]
    corrected = [edit(V1, DENIAL, 5), edit(other, TYPO_FIXED, 30)]
    cluster.worker("w1").start()
    with KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl") as pub:
        assert pub.publish([document_event(d) for d in first]).sent == len(first)
        before = sorted(map(key, embedded_detections(first)))
        cluster.wait("the claim's alerts", lambda: sorted(map(key, stored_detections(cluster.store_url))) == before)
        assert pub.publish([document_event(d) for d in corrected]).sent == len(corrected)
    expected = sorted(map(key, embedded_detections(first + corrected)))
    assert expected != before
    cluster.wait(
        "the alerts the embedded runner leaves standing",
        lambda: sorted(map(key, stored_detections(cluster.store_url))) == expected,
    )
    # The denied report carries no alert any more; the typo fix raised nothing (past realert, it would have).
    standing = stored_detections(cluster.store_url)
    assert standing and all(e.event_id not in ("wire-1",) and "#edition-" not in e.event_id
                            for d in standing for e in d.evidence)  # fmt: skip


def test_a_late_edit_reaches_no_partition_and_is_reported(cluster: Cluster) -> None:  # noqa: F811
    """An edit seen 5 days after its item's date (the bundled pack's lateness is 2 days) changes no alert: the
    extract agent sends no Correction and routes its signals nowhere, and reports it as a late edit (outside trial
    12, H1: embedded and distributed decide it alike, from the edition alone)."""
    other = doc("wire-9", "Hundreds of North Korean troops killed or wounded in Kursk, a second desk says", hours=1)
    first = [V1, other]
    later = doc("radio-8", "Kyiv says North Korean soldiers were killed in fighting in Kursk", 121, "Radio Example")
    late = [edit(V1, DENIAL, 120), later]
    cluster.worker("w1").start()
    with KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl") as pub:
        assert pub.publish([document_event(d) for d in first]).sent == len(first)
        before = sorted(map(key, embedded_detections(first)))
        cluster.wait("the claim's alerts", lambda: sorted(map(key, stored_detections(cluster.store_url))) == before)
        assert pub.publish([document_event(d) for d in late]).sent == len(late)
    expected = sorted(map(key, embedded_detections(first + late)))
    assert set(before) < set(expected)  # the claim's alerts stand; the later report adds its own
    cluster.wait(
        "the alerts the embedded runner leaves standing",
        lambda: sorted(map(key, stored_detections(cluster.store_url))) == expected,
    )

    [letter] = dead_letters(cluster.bootstrap, Topics(cluster.prefix).dead_letters, 1)
    assert letter["payload"]["stage"] == "event-time", letter
    assert letter["payload"]["reason"].startswith("late edit: document wire-1#edition-"), letter
