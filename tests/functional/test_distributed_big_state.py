"""A correlate partition whose state passes Kafka's 1 MB defaults: a REAL broker, a Faust worker subprocess.

Before the state was compressed and the limits raised, the worker died on its first state write
(MessageSizeTooLargeError: aiokafka's max_request_size, then "Cannot flush: Producer not Running"). Here 400
rules each keep an observation of every filler document (an all_of whose second signal comes last), ~1.4 MB of
JSON per partition: the worker keeps running, a restarted worker reads the big state back from the changelog
(a record per group since the per-group layout, statecodec), and the detections equal the embedded runner's on
the same documents.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition

import tests.functional.test_distributed_equivalence as eq
from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster is a fixture)
    Cluster,
    cluster,
    embedded_detections,
    key,
    load_docs,
    shared,
    stored_detections,
)
from watchfloor.schemas.events import Document, document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.kafka import statecodec
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(420)]

RULES = 400  # x FILLER observations: ~1.5 MB of state JSON per correlate partition (3 partitions)
FILLER = 40
START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)  # after the sample's last document


def big_pack(path: Path) -> Path:
    """RULES detections, each all_of (its own signal on "harbour", then the shared "strike ended")."""
    pack = {
        "version": 2,
        "name": "harbour-watch",
        "description": "Test pack: many rules that each hold an observation of every harbour report.",
        "signals": {
            **{f"harbour_{i:04d}": {"match": {"any": ["harbour"]}} for i in range(RULES)},
            "strike_over": {"match": {"any": ["strike ended"]}},
        },
        "detections": [
            {
                "id": f"harbour-{i:04d}",
                "title": f"harbour watch {i}",
                "severity": "low",
                "pattern": {"all_of": [f"harbour_{i:04d}", "strike_over"]},
                "within": "30d",
            }
            for i in range(RULES)
        ],
    }
    path.write_bytes(orjson.dumps(pack))
    return path


def doc(n: int, title: str, body: str) -> Document:
    at = (START + timedelta(minutes=10 * n)).isoformat()
    raw = {"id": f"harbour-{n:03d}", "type": "news.article", "published_at": at, "source": "Quay Notes"}
    return parse_document({**raw, "title": title, "body": body})


def filler() -> list[Document]:
    return [doc(n, f"Cranes idle, shift {n}", f"Cranes at the harbour stood idle in shift {n}.") for n in range(FILLER)]


def closer() -> Document:
    return doc(FILLER, "Dockers back at work", "The dockers' strike ended on Friday night.")


def changelog_table(bootstrap: str, topic: str) -> dict[bytes, bytes]:
    """The table the changelog holds: each key's newest value (deleted keys left out)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        newest: dict[bytes, bytes | None] = {}
        deadline = time.monotonic() + eq.DEADLINE
        while any(consumer.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
            for _tp, records in consumer.poll(timeout_ms=500).items():
                for r in records:
                    newest[r.key] = r.value
        return {k: v for k, v in newest.items() if v is not None}
    finally:
        consumer.close()


def changelog_states(table: dict[bytes, bytes]) -> dict[int, dict[str, Any]]:
    """Each partition's state as its records in the changelog hold it (statecodec's layout)."""
    out: dict[int, dict[str, Any]] = {}
    for p in range(3):
        raw = table.get(statecodec.head_key(p))
        if raw is None:
            continue
        head, _whole = statecodec.decode_head(raw, p)
        assert head is not None, f"partition {p}: not a head of the per-group layout"
        out[p] = statecodec.assemble(p, head, table.items())[0]
    return out


def publish(c: Cluster, docs: list[Document]) -> None:
    with KafkaPublisher(c.bootstrap, c.prefix, spool_path=c.tmp / "spool.jsonl") as pub:
        result = pub.publish([document_event(d) for d in docs])
    assert result.sent == len(docs) and result.spooled == 0


def test_a_state_over_1mb_is_written_restored_and_agrees(
    cluster: Cluster,  # noqa: F811
    monkeypatch: Any,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(eq, "RULES", ["builtin:dprk_russia", str(big_pack(tmp_path / "harbour.yaml"))])
    first = load_docs() + filler()
    expected_first = embedded_detections(first)
    expected_all = embedded_detections([*first, closer()])
    assert len(expected_all) == len(expected_first) + RULES  # the closer completes every harbour rule
    documents = Topics(cluster.prefix).documents
    changelog = f"{cluster.app_id}-correlate-state-changelog"

    w1 = cluster.worker("w1").start()
    cluster.wait("the worker to own the documents partitions", lambda: shared([w1], documents))
    publish(cluster, first)
    cluster.wait(
        f"the {len(expected_first)} embedded alerts in the store",
        lambda: sorted(map(key, stored_detections(cluster.store_url))) == sorted(map(key, expected_first)),
    )

    def big_state_written() -> bool:
        states = changelog_states(changelog_table(cluster.bootstrap, changelog))
        return len(states) == 3 and all(len(orjson.dumps(st)) > 1_300_000 for st in states.values())

    cluster.wait("every partition's state (over 1.3 MB of JSON) in the changelog", big_state_written)
    stored = changelog_table(cluster.bootstrap, changelog)
    # Compressed, one record per group (the head of a partition's first write carries its groups too).
    assert all(v[:1] in (statecodec.HEAD, statecodec.PART) and len(v) < 400_000 for v in stored.values()), {
        k: len(v) for k, v in stored.items() if len(v) >= 400_000
    }
    assert w1.alive()

    # A restart (in-memory table store) rebuilds the state from the changelog: the observations it holds are
    # what the closer completes.
    w1.stop()
    w1.start()
    cluster.wait("the restarted worker to own the documents partitions", lambda: shared([w1], documents))
    publish(cluster, [closer()])
    cluster.wait(
        f"the {len(expected_all)} embedded alerts in the store",
        lambda: sorted(map(key, stored_detections(cluster.store_url))) == sorted(map(key, expected_all)),
    )
    eq.settle(cluster)  # what would arrive more is in the store by then
    assert sorted(map(key, stored_detections(cluster.store_url))) == sorted(map(key, expected_all))
    assert w1.alive()
