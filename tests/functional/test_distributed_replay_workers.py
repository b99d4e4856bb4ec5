"""`watchfloor replay-workers`: what the workers raised, revisions included, replayed from the correlate topic.

Outside trial 11, M2: an alert raised live before an earlier-dated report reached its correlate partition, then
revised, is not raised by a replay of the producer's store (its log has the order `produce` wrote, the earlier
report first). Here the later-dated report reaches the worker first (another producer published it), and the
earlier one comes with it in a second `produce` pass: live, the alert is raised by the later report and revised
by the earlier. The producer's store replays only the final form; the correlate topic, replayed partition by
partition, gives the store's detection records exactly (ids, revisions, content), with a worker killed and
restarted in between (its partitions read again from the changelog and the committed offsets).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.functional.test_distributed_equivalence import (  # noqa: F401  (cluster is a fixture)
    ALERT_EVENTS,
    Cluster,
    assignment,
    cluster,
)
from watchfloor.cli import app
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.stores import open_store

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(300)]

DATA = Path(__file__).resolve().parents[1] / "data" / "distributed" / "dprk_russia.jsonl"


def lines(*ids: str) -> str:
    return "".join(ln + "\n" for ln in DATA.read_text().splitlines() if json.loads(ln)["id"] in ids)


def raised(store_url: str) -> list[dict[str, object]]:
    """The store's detection and retraction events, as the workers' notify agent wrote them."""
    st = open_store(store_url)
    try:
        return [{"id": s.event.id, **s.event.payload} for s in st.read(0, types=ALERT_EVENTS, limit=10_000)]
    finally:
        st.close()


def produce(c: Cluster, path: Path, store: Path) -> None:
    args = [
        "produce",
        str(path),
        "--broker",
        c.bootstrap,
        "--prefix",
        c.prefix,
        "--once",
        "--store",
        f"sqlite:///{store}",
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output


def replay_workers(c: Cluster, *args: str) -> Any:
    base = ["replay-workers", "--config", str(c.config()), "--broker", c.bootstrap, "--prefix", c.prefix]
    return CliRunner().invoke(app, [*base, *args])


def test_the_correlate_topic_replays_the_raises_and_revisions_the_store_log_does_not(
    cluster: Cluster,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(cluster.tmp)  # produce keeps its spool under var/ of the working directory
    t = TopicNames(cluster.prefix)
    later, both = cluster.tmp / "later.jsonl", cluster.tmp / "both.jsonl"
    later.write_text(lines("dist-003"))  # 19 June 14:40: the treaty signed
    both.write_text(lines("dist-002", "dist-003"))  # and 09:15 the same day, which the producer's log has first
    producer = cluster.tmp / "producer.db"

    w1 = cluster.worker("w1").start()
    cluster.wait("the worker's partitions", lambda: assignment(w1).get(t.correlate) == [0, 1, 2])
    produce(cluster, later, cluster.tmp / "elsewhere.db")  # another producer, its own store
    cluster.wait("the alert of the later report", lambda: len(raised(cluster.store_url)) >= 1)
    w1.kill()  # its successor reads the changelog and the committed offsets
    w2 = cluster.worker("w2").start()
    cluster.wait("the successor's partitions", lambda: assignment(w2).get(t.correlate) == [0, 1, 2])
    produce(cluster, both, producer)
    cluster.wait("the revision by the earlier report", lambda: len(raised(cluster.store_url)) >= 2)

    live = raised(cluster.store_url)
    revised = [d for d in live if d.get("revision")]
    assert len(live) == 2 and len(revised) == 1, live  # raised at 14:40, revised to 09:15 (the trial's case)
    assert {d["id"] for d in live} != {revised[0]["id"]}

    # The producer's store in log order has the earlier report first: it raises the final form only.
    out = cluster.tmp / "from_store.json"
    res = CliRunner().invoke(
        app, ["backtest", "--from-store", f"sqlite:///{producer}", "--order", "log", "--json", str(out)]
    )
    assert res.exit_code == 0, res.output
    result = json.loads(out.read_text())
    assert len(result["alerts"]) == 1 and "raised" not in result, result  # (`raised` is there when one was revised)
    assert "note: `watchfloor produce` fed this store" in res.output, res.output

    # The correlate topic, replayed partition by partition: what the workers raised, exactly.
    replayed = cluster.tmp / "replayed.jsonl"
    res = replay_workers(cluster, "--store", cluster.store_url, "--json", str(replayed))
    assert res.exit_code == 0, res.output
    assert "the same 2 detection and retraction events as the store" in res.output, res.output
    said = "2 alerts raised (1 revising an earlier one) and 0 retractions; 1 alert stands at the end"
    assert said in res.output, res.output
    got = [json.loads(ln) for ln in replayed.read_text().splitlines()]
    assert [{"id": e["id"], **e["payload"]} for e in got] == live  # in the order raised


def test_replay_workers_says_where_the_store_differs(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.chdir(cluster.tmp)  # produce keeps its spool under var/ of the working directory
    """A store that holds what the workers did not raise (here: nothing the topic says) is reported, exit 1."""
    t = TopicNames(cluster.prefix)
    later = cluster.tmp / "later.jsonl"
    later.write_text(lines("dist-003"))
    w1 = cluster.worker("w1").start()
    cluster.wait("the worker's partitions", lambda: assignment(w1).get(t.correlate) == [0, 1, 2])
    produce(cluster, later, cluster.tmp / "producer.db")
    cluster.wait("the alert", lambda: len(raised(cluster.store_url)) >= 1)
    other = f"sqlite:///{cluster.tmp / 'other.db'}"
    open_store(other).close()
    res = replay_workers(cluster, "--store", other)
    assert res.exit_code == 1, res.output
    assert "1 raised here and not live" in res.output, res.output
    assert f"replay only: {raised(cluster.store_url)[0]['id']}" in res.output, res.output


def test_replay_workers_says_a_missing_store_or_an_unreachable_broker_in_one_line(tmp_path: Path) -> None:
    existing = f"sqlite:///{tmp_path / 'there.db'}"
    open_store(existing).close()
    cases = [
        (f"sqlite:///{tmp_path / 'absent.db'}", "no store at"),  # before any look at the broker
        (existing, "Kafka broker 127.0.0.1:1 unreachable"),
    ]
    for store, said in cases:
        res = CliRunner().invoke(app, ["replay-workers", "--broker", "127.0.0.1:1", "--prefix", "p", "--store", store])
        assert res.exit_code == 1, res.output
        assert said in res.output and "Traceback" not in res.output, res.output
    assert not (tmp_path / "absent.db").exists()


def test_replay_workers_reads_detections_an_older_release_wrote_as_this_one_does(
    cluster: Cluster,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside trial 15, M1: after an upgrade the store holds the old workers' detections, whose evidence items
    lack `story` (a field added since, null here): compared as this release reads them, they are the replay's."""
    import sqlite3

    monkeypatch.chdir(cluster.tmp)  # produce keeps its spool under var/ of the working directory
    t = TopicNames(cluster.prefix)
    later = cluster.tmp / "later.jsonl"
    later.write_text(lines("dist-003"))
    w1 = cluster.worker("w1").start()
    cluster.wait("the worker's partitions", lambda: assignment(w1).get(t.correlate) == [0, 1, 2])
    produce(cluster, later, cluster.tmp / "producer.db")
    cluster.wait("the alert", lambda: len(raised(cluster.store_url)) >= 1)
    w1.stop()

    db = sqlite3.connect(cluster.store_url.removeprefix("sqlite:///"))
    aged = 0
    with db:
        for position, payload in db.execute("SELECT position, payload FROM events WHERE type = 'detection'").fetchall():
            d = json.loads(payload)
            for item in d["evidence"]:
                if "story" in item and item["story"] is None:
                    del item["story"]  # as a release of before the field wrote it
                    aged += 1
            db.execute("UPDATE events SET payload = ? WHERE position = ?", (json.dumps(d), position))
    db.close()
    assert aged, "no evidence item without a story: the test would show nothing"

    res = replay_workers(cluster, "--store", cluster.store_url)
    assert res.exit_code == 0, res.output
    assert "the same 1 detection and retraction events as the store" in res.output, res.output
    assert "other content" not in res.output and "not exact" not in res.output, res.output
