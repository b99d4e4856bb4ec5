"""The worker's state table on RocksDB (``--table-store rocksdb://``): a worker SIGKILLed and restarted on the
same data directory reads its correlate state from local disk, reads only the changelog written since, and
still gives exactly the embedded runner's detections."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("rocksdict")

from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster is a fixture)
    Cluster,
    cluster,
    embedded_detections,
    key,
    load_docs,
    settle,
    stored_detections,
    wait_processed,
)
from watchfloor.schemas.events import document_event
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(300)]

ROW = re.compile(r"^\|\s*(?P<topic>\S+)\s*\|\s*(?P<partition>\d+)\s*\|\s*(?P<offset>-?\d+)\s*\|\s*$")


def reading_starts_at(log_text: str) -> dict[int, int]:
    """Faust's "active offsets at start of reading" table of the last recovery in `log_text`: partition -> offset.

    -1 means the local store had nothing for that changelog partition (read it all); N means it had
    everything up to offset N (read only what follows)."""
    block = log_text.rsplit("active offsets at start of reading", 1)[1].split("standby offsets", 1)[0]
    out: dict[int, int] = {}
    for line in block.splitlines():
        m = ROW.match(line.strip())
        if m:
            out[int(m["partition"])] = int(m["offset"])
    return out


def test_restart_on_rocksdb_reads_the_state_from_disk(cluster: Cluster, tmp_path: Path) -> None:  # noqa: F811
    docs = load_docs()
    expected = embedded_detections(docs)
    first, rest = docs[:16], docs[16:]
    n_first = len(embedded_detections(first))
    assert 0 < n_first < len(expected)

    datadir = tmp_path / "faust-rocks"
    worker = cluster.worker("rocks", extra=["--table-store", "rocksdb://", "--datadir", str(datadir)]).start()
    with KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl") as pub:
        pub.publish([document_event(d) for d in first])
        cluster.wait(f"{n_first} alerts", lambda: len(stored_detections(cluster.store_url)) >= n_first)
        # The last batch's state write follows its detections: killed before it, the worker leaves RocksDB without
        # the changelog offsets the restart is to start from. Wait until the documents are committed (extract's
        # correlate records are flushed by then), then the correlate records they made (their state is written).
        names = TopicNames(cluster.prefix)
        wait_processed(cluster, names.documents)
        wait_processed(cluster, names.correlate)
        assert list(datadir.rglob("CURRENT")), f"no RocksDB database under {datadir}"
        worker.kill()

        pub.publish([document_event(d) for d in rest])  # arrives while the worker is down
        worker.start()
        cluster.wait(
            f"the {len(expected)} embedded alerts",
            lambda: sorted(map(key, stored_detections(cluster.store_url))) == sorted(map(key, expected)),
        )
        settle(cluster)  # anything extra (a duplicate, a detection too many) is in the store by then

    got = stored_detections(cluster.store_url)
    assert sorted(map(key, got)) == sorted(map(key, expected)), "a detection is missing, extra or differs"

    # The restart found the state on disk: recovery started past the beginning of some changelog partition
    # that the first run wrote (with memory:// every partition reads from -1, the beginning).
    starts = reading_starts_at(worker.log.read_text(errors="replace"))
    assert starts, "no recovery table in the worker log"
    assert any(offset >= 0 for offset in starts.values()), f"recovery read every changelog from the start: {starts}"
