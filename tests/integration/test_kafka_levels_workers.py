"""Detections over an absence's alerts and a chain of detections over detections in the distributed workers, on a
REAL Kafka broker (a `watchfloor worker` subprocess).

Each correlate partition keeps a correlator state per level of derivation, forwards each level's low, and sends an
alert change with the step its partition had swept when it raised it (kafka/partition.py, LEVELS). The alerts that
stand in the store must be the embedded runner's and the backtest's, for `composed.yaml` (an `any` over an absence),
an `all_of` and a `sequence` over the absence and a chain of three levels; with the worker stopped by SIGTERM
mid-stream and started again: no alert lost or doubled, and `replay-workers` gives the store's events exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("kafka")
pytest.importorskip("faust")

from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster: a fixture)
    Cluster,
    assignment,
    cluster,
    embedded_detections,
    engine,
    key,
    settle,
    stored_detections,
)
from tests.integration.test_kafka_compose_workers import publish, raised_ids
from tests.unit.test_partition_compose import documents
from tests.unit.test_partition_levels import packs
from watchfloor.cli import app
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.replay import replay

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

OVER_ABSENCES = {"still-closed-alert", "lasting-then-reopened", "both-lasting"}
CHAIN = {"both-closed-again", "lasting-both"}  # levels 2 and 3


def test_detections_over_absences_and_chains_survive_a_worker_restart_as_embedded_and_backtest_raise_them(
    cluster: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    cluster.rules = packs(tmp_path)
    docs = documents(1, 48)
    expected = sorted(map(key, embedded_detections(docs, cluster.rules)))
    backtest = sorted(map(key, replay(docs, engine(cluster.rules)).detections))
    assert expected == backtest
    assert OVER_ABSENCES | CHAIN <= {k[1] for k in expected}, {k[1] for k in expected}

    t = TopicNames(cluster.prefix)
    spool = tmp_path / "spool.jsonl"
    w1 = cluster.worker("w1").start()
    cluster.wait("the worker's partitions", lambda: assignment(w1).get(t.correlate) == [0, 1, 2])
    publish(cluster, docs[:24], spool)
    cluster.wait(
        "an absence's alert before the stop",
        lambda: any(d.rule == "still-closed" for d in stored_detections(cluster.store_url)),
    )
    w1.stop()  # SIGTERM mid-stream: what it had not committed is read again by the next start
    publish(cluster, docs[24:36], spool)
    w1.start()
    cluster.wait("the worker's partitions again", lambda: assignment(w1).get(t.correlate) == [0, 1, 2])
    publish(cluster, docs[36:], spool)
    cluster.wait(
        "the alerts the embedded runner leaves standing",
        lambda: sorted(map(key, stored_detections(cluster.store_url))) == expected,
    )
    settle(cluster)
    assert sorted(map(key, stored_detections(cluster.store_url))) == expected
    ids = raised_ids(cluster.store_url)
    assert len(ids) == len(set(ids))

    # The correlate topic holds the alert changes (with their steps) each partition read: it replays the store.
    res = CliRunner().invoke(
        app,
        ["replay-workers", "--config", str(cluster.config()), "--broker", cluster.bootstrap, "--prefix", cluster.prefix,
         "--store", cluster.store_url],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert f"the same {len(ids)} detection and retraction events as the store" in res.output, res.output
