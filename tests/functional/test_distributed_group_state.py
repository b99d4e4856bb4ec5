"""A correlate partition's state as one table record per detection group (statecodec): a REAL broker, Faust
worker subprocesses.

* The detections equal the embedded runner's, with the state restored from the changelog by a restarted
  worker; the changelog holds a head per partition and a record per group.
* A batch that touches one group writes a small fraction of the state to the changelog (the bytes of the
  records produced, against the state's size), where the whole partition was rewritten before.
* An upgrade: a changelog that workers before this layout wrote (the whole partition in one value) is read by a
  new worker, which goes on with the embedded runner's detections and writes the new layout.
* A zombie's late heads (review13 F7): heads written again after the worker's later heads change no detection
  (heads are kept under their input position; the restore takes the highest).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from kafka import KafkaProducer

import tests.functional.test_distributed_equivalence as eq
from tests.fixtures.harbour_state import (
    FILLER,
    START,
    changelog,
    changelog_ends,
    changelog_topic,
    closer,
    doc,
    first_batch,
    harbour_pack,
    newest,
    publish,
    wait_alerts,
)
from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster is a fixture)
    Cluster,
    cluster,
    embedded_detections,
    key,
    shared,
    stored_detections,
)
from watchfloor.schemas.events import Document
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.kafka import statecodec

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(600)]

RULES = 200  # harbour rules, each one group holding an observation of every filler document


def pack(path: Path) -> Path:
    """RULES all_of detections over every harbour report (big_state's), and one detection of its own group that
    a lighthouse report raises alone."""
    return harbour_pack(path, RULES, lighthouse=True)


def lighthouse() -> Document:
    """Two hours after the filler (an hour of applied ids of its own); touches the lighthouse group only."""
    d = doc(500, "Lighthouse out", "The lighthouse went dark at dawn.")
    assert d.published_at > START + timedelta(minutes=10 * 40)
    return d


def closer_again() -> Document:
    """After the closer: a harbour report and "strike ended" again (the harbour rules have fired already)."""
    return doc(
        FILLER + 1, "Dockers out again", "Word came that the strike ended, then a new one began. Harbour cranes idle."
    )


def test_per_group_records_restored_after_a_restart_and_a_one_group_batch_writes_little(
    cluster: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    first = first_batch(cluster, pack(tmp_path / "harbour.yaml"))
    expected_first = embedded_detections(first, cluster.rules)
    expected_lit = embedded_detections([*first, lighthouse()], cluster.rules)
    expected_all = embedded_detections([*first, lighthouse(), closer()], cluster.rules)
    assert len(expected_lit) == len(expected_first) + 1
    assert len(expected_all) == len(expected_lit) + RULES  # the closer completes every harbour rule
    documents = Topics(cluster.prefix).documents
    topic = changelog_topic(cluster)

    w1 = cluster.worker("w1").start()
    cluster.wait("the worker to own the documents partitions", lambda: shared([w1], documents))
    publish(cluster, first)
    wait_alerts(cluster, expected_first)
    eq.settle(cluster)  # the workers' commits: every state write of these documents is in the changelog
    table = newest(changelog(cluster.bootstrap, topic))
    state_bytes = sum(len(k) + len(v) for k, v in table.items())

    # One document that touches one group: what the changelog gets for it (its signal, the watermarks it moves).
    before = changelog_ends(cluster.bootstrap, topic)
    publish(cluster, [lighthouse()])
    wait_alerts(cluster, expected_lit)
    eq.settle(cluster)
    written = changelog(cluster.bootstrap, topic, before)
    written_bytes = sum(len(k) + len(v or b"") for _p, k, v in written)
    touched = {k for _p, k, _v in written}
    # Its group's record under the batch's position (and the tombstone of the version it replaces), no other group.
    groups = {statecodec.split_record_key(k)[0] for k in touched if b"/g/" in k}
    assert groups == {k for k in groups if k.endswith(b"/g/lighthouse\x1f")} and groups, touched
    print(f"one-group batch: {written_bytes:,} B in {len(written)} changelog records; state {state_bytes:,} B")
    assert written_bytes * 20 < state_bytes, (written_bytes, state_bytes, len(written))
    groups = [k for k in table if b"/g/harbour-" in k]
    assert len(groups) == RULES, sorted(table)[:10]  # a record per group, not one per partition
    assert all(table[k].startswith(statecodec.MOVED) for k in (b"0", b"1", b"2"))  # the pointers
    assert all(sum(statecodec.is_head_key(p, k) for k in table) == 1 for p in range(3))  # one head each

    # A restart (in-memory table store): the state comes back from the changelog's records; the harbour
    # observations it holds are what the closer completes.
    w1.stop()
    w1.start()
    cluster.wait("the restarted worker to own the documents partitions", lambda: shared([w1], documents))
    publish(cluster, [closer()])
    wait_alerts(cluster, expected_all)
    eq.settle(cluster)
    assert sorted(map(key, stored_detections(cluster.store_url))) == sorted(map(key, expected_all))
    assert w1.alive()


def test_a_changelog_of_the_old_layout_is_read_by_a_new_worker_and_written_out_per_group(
    cluster: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    first = first_batch(cluster, pack(tmp_path / "harbour.yaml"))
    expected_first = embedded_detections(first, cluster.rules)
    expected_all = embedded_detections([*first, lighthouse(), closer()], cluster.rules)
    documents = Topics(cluster.prefix).documents
    topic = changelog_topic(cluster)

    # A worker that writes the old layout (tests/fixtures/faust_fault: what workers before this change wrote).
    cluster.inject_fault("WF_FAULT_OLD_STATE_LAYOUT")
    old = cluster.worker("old").start()
    cluster.wait("the old worker to own the documents partitions", lambda: shared([old], documents))
    publish(cluster, first)
    wait_alerts(cluster, expected_first)
    eq.settle(cluster)
    table = newest(changelog(cluster.bootstrap, topic))
    assert sorted(table) == [b"0", b"1", b"2"] and all(v.startswith(b"z") for v in table.values()), sorted(table)
    old.stop()

    # The upgrade in place: a new worker on the same changelog.
    del cluster.env["WF_FAULT_OLD_STATE_LAYOUT"]
    new = cluster.worker("new").start()
    cluster.wait("the new worker to own the documents partitions", lambda: shared([new], documents))
    publish(cluster, [lighthouse(), closer()])
    wait_alerts(cluster, expected_all)
    eq.settle(cluster)
    assert sorted(map(key, stored_detections(cluster.store_url))) == sorted(map(key, expected_all))
    table = newest(changelog(cluster.bootstrap, topic))
    assert all(table[k].startswith(statecodec.MOVED) for k in (b"0", b"1", b"2"))  # old values replaced
    assert all(sum(statecodec.is_head_key(p, k) for k in table) == 1 for p in range(3))  # by a head each
    assert len([k for k in table if b"/g/harbour-" in k]) == RULES  # written out per group
    assert new.alive()


def test_a_zombies_head_landing_after_the_owners_later_head_changes_no_detection(
    cluster: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    """review13 F7 on the real changelog: each partition's head as of the first documents (and its pointer) is
    written again after the worker's later heads, as a worker that lost its partitions but still writes would
    land it (no transactions fence it). The restarted worker restores from the changelog, takes the head of the
    highest position, goes on with the embedded runner's detections, and tombstones the late heads. (With the head
    under the partition's key, before, the late head replaced the newer one: its redo put the harbour groups back
    as they were before the closer, and a second "strike ended" raised them all again: 404 alerts for 216.)"""
    first = first_batch(cluster, pack(tmp_path / "harbour.yaml"))
    expected_first = embedded_detections(first, cluster.rules)
    expected_closed = embedded_detections([*first, closer()], cluster.rules)
    expected_all = embedded_detections([*first, closer(), closer_again()], cluster.rules)
    assert len(expected_all) == len(expected_closed) == len(expected_first) + RULES  # fired once, not again
    documents = Topics(cluster.prefix).documents
    topic = changelog_topic(cluster)

    w1 = cluster.worker("w1").start()
    cluster.wait("the worker to own the documents partitions", lambda: shared([w1], documents))
    publish(cluster, first)
    wait_alerts(cluster, expected_first)
    eq.settle(cluster)
    early = newest(changelog(cluster.bootstrap, topic))
    late: dict[int, list[tuple[bytes, bytes]]] = {
        p: [(k, v) for k, v in early.items() if statecodec.is_head_key(p, k) or k == statecodec.pointer_key(p)]
        for p in range(3)
    }
    assert all(len(recs) == 2 for recs in late.values()), {p: [k for k, _v in r] for p, r in late.items()}

    publish(cluster, [closer()])
    wait_alerts(cluster, expected_closed)
    eq.settle(cluster)
    w1.stop()
    newer = newest(changelog(cluster.bootstrap, topic))
    assert all(k not in newer for recs in late.values() for k, _v in recs if b"/h/" in k)  # replaced since

    producer = KafkaProducer(bootstrap_servers=cluster.bootstrap, acks="all")
    try:
        for p, recs in late.items():
            for k, v in recs:
                producer.send(topic, key=k, value=v, partition=p)
        producer.flush()
    finally:
        producer.close()
    table = newest(changelog(cluster.bootstrap, topic))
    assert all(sum(statecodec.is_head_key(p, k) for k in table) == 2 for p in range(3))  # the late one beside

    w1.start()
    cluster.wait("the restarted worker to own the documents partitions", lambda: shared([w1], documents))
    publish(cluster, [closer_again()])
    wait_alerts(cluster, expected_all)
    eq.settle(cluster)
    assert sorted(map(key, stored_detections(cluster.store_url))) == sorted(map(key, expected_all))
    table = newest(changelog(cluster.bootstrap, topic))
    assert all(sum(statecodec.is_head_key(p, k) for k in table) == 1 for p in range(3))  # the late ones tombstoned
    assert all(table[statecodec.pointer_key(p)] != v for p, recs in late.items() for k, v in recs if b"/h/" not in k)
    assert w1.alive()
