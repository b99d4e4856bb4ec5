"""A correlate partition whose state passes Kafka's 1 MB defaults: a REAL broker, a Faust worker subprocess.

Before the state was compressed and the limits raised, the worker died on its first state write
(MessageSizeTooLargeError: aiokafka's max_request_size, then "Cannot flush: Producer not Running"). Here 400
rules each keep an observation of every filler document (an all_of whose second signal comes last), ~1.4 MB of
JSON per partition: the worker keeps running, a restarted worker reads the big state back from the changelog
(a record per group since the per-group layout, statecodec), and the detections equal the embedded runner's on
the same documents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

import tests.functional.test_distributed_equivalence as eq
from tests.fixtures.harbour_state import (
    changelog,
    changelog_topic,
    closer,
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
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.kafka import statecodec

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(420)]

RULES = 400  # x FILLER observations: ~1.5 MB of state JSON per correlate partition (3 partitions)


def changelog_states(table: dict[bytes, bytes]) -> dict[int, dict[str, Any]]:
    """Each partition's state as its records in the changelog hold it (statecodec's layout)."""
    out: dict[int, dict[str, Any]] = {}
    for p in range(3):
        got = statecodec.read(p, table.items())
        if got is None:
            continue
        assert not got[1].whole, f"partition {p}: not a head of the per-group layout"
        out[p] = got[0]
    return out


def test_a_state_over_1mb_is_written_restored_and_agrees(
    cluster: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    first = first_batch(cluster, harbour_pack(tmp_path / "harbour.yaml", RULES))
    expected_first = embedded_detections(first, cluster.rules)
    expected_all = embedded_detections([*first, closer()], cluster.rules)
    assert len(expected_all) == len(expected_first) + RULES  # the closer completes every harbour rule
    documents = Topics(cluster.prefix).documents
    topic = changelog_topic(cluster)

    w1 = cluster.worker("w1").start()
    cluster.wait("the worker to own the documents partitions", lambda: shared([w1], documents))
    publish(cluster, first)
    wait_alerts(cluster, expected_first)

    def big_state_written() -> bool:
        states = changelog_states(newest(changelog(cluster.bootstrap, topic)))
        return len(states) == 3 and all(len(orjson.dumps(st)) > 1_300_000 for st in states.values())

    cluster.wait("every partition's state (over 1.3 MB of JSON) in the changelog", big_state_written)
    stored = newest(changelog(cluster.bootstrap, topic))
    # Compressed, one record per group (the head of a partition's first write carries its groups too), and a small
    # pointer per partition.
    kinds = (statecodec.HEAD, statecodec.PART, statecodec.MOVED)
    assert all(v[:1] in kinds and len(v) < 400_000 for v in stored.values()), {
        k: len(v) for k, v in stored.items() if len(v) >= 400_000
    }
    assert w1.alive()

    # A restart (in-memory table store) rebuilds the state from the changelog: the observations it holds are
    # what the closer completes.
    w1.stop()
    w1.start()
    cluster.wait("the restarted worker to own the documents partitions", lambda: shared([w1], documents))
    publish(cluster, [closer()])
    wait_alerts(cluster, expected_all)
    eq.settle(cluster)  # what would arrive more is in the store by then
    assert sorted(map(key, stored_detections(cluster.store_url))) == sorted(map(key, expected_all))
    assert w1.alive()
