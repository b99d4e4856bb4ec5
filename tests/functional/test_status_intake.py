"""`watchfloor status` with a broker counts the detections in the store that no `notify` has taken in (trial 45,
MED-2: `status --wait` said "caught up, none outstanding", exit 0, while `notify` had the last detections still to
take in and 46 deliveries still to make, so it was no deploy or backfill gate). Caught up means: the workers have
processed everything, the notifier's intake checkpoint is at the log's end, and no delivery is outstanding."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watchfloor.alerts.dispatcher import PROCESSOR
from watchfloor.cli import app
from watchfloor.schemas.events import Detection, detection_event
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.kafka.topics import ensure_topics
from watchfloor.stream_processors.ports import Checkpoint
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.functional
runner = CliRunner()


@pytest.fixture
def prefix(kafka_bootstrap: str, kafka_admin: Any) -> Iterator[str]:
    """A pipeline of its own on the test broker, caught up: every topic there and empty (the workers have nothing
    to read, the archive never ran)."""
    name = f"wf-intake-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, name, partitions=1)
    try:
        yield name
    finally:
        try:
            kafka_admin.delete_topics(TopicNames(name).all(), timeout_ms=30_000)
        except Exception as exc:  # best effort
            print(f"could not delete topics of {name}: {exc!r}")


def detections(n: int) -> list[Any]:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    return [
        detection_event(
            Detection(id=f"d{i}", rule="r", title=f"t{i}", severity="high", group={"g": str(i)}, fired_at=at)
        )
        for i in range(n)
    ]


def test_status_is_behind_while_notify_has_detections_to_take_in(
    tmp_path: Path, kafka_bootstrap: str, prefix: str
) -> None:
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    st = SqlStore(url)
    try:
        st.append(detections(3))  # the archive stored them; no notify ran yet
    finally:
        st.close()
    args = ["status", "--broker", kafka_bootstrap, "--prefix", prefix, "--store", url]
    # no notify ever ran on this store: it delivers nothing from it (detections kept for analysis, or a first start),
    # so the gate is not held forever, and the detections are noted
    res = runner.invoke(app, [*args, "--wait", "1"])
    said = " ".join(res.output.split())
    assert res.exit_code == 0, res.output
    assert "note: 3 detections not yet taken in for delivery by `notify` (none ever" in said, said
    got = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert got["kafka_caught_up"] is True and got["caught_up"] is True
    assert got["deliveries"]["detections_not_taken_in"] == 3

    st = SqlStore(url)
    try:
        head = st.head()
        st.commit(PROCESSOR, Checkpoint(head - 1, None), [])  # a notify runs, and took in two of three
    finally:
        st.close()
    res = runner.invoke(app, [*args, "--wait", "1"])
    assert res.exit_code == 1, res.output  # not caught up within the wait: notify has one to take in
    res = runner.invoke(app, args)
    said = " ".join(res.output.split())
    assert res.exit_code == 3 and "behind (1 detection not yet taken in for delivery by `notify`)" in said, said

    st = SqlStore(url)
    try:
        st.commit(PROCESSOR, Checkpoint(st.head(), None), [])  # and the last: its checkpoint at the log's end
    finally:
        st.close()
    res = runner.invoke(app, [*args, "--wait", "5"])
    said = " ".join(res.output.split())
    assert res.exit_code == 0 and f"pipeline {prefix}: caught up" in said, said


def test_status_says_a_member_of_this_host_whose_process_is_gone(
    tmp_path: Path, kafka_bootstrap: str, prefix: str
) -> None:
    """Trial 45, LOW-1: a worker killed with SIGKILL stays a member until the broker's session timeout (30 s), and
    `status` listed it as one without a hint. A worker's client id names its host and pid (rules_guard.client_id):
    one of this host whose pid runs no process is said."""
    import socket
    import subprocess
    import sys

    from kafka import KafkaAdminClient, KafkaConsumer

    from watchfloor.stream_processors.kafka.rules_guard import client_id

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(done.stdout)  # a pid that ran and is gone (reaped)
    host = socket.gethostname()
    group = f"{prefix}-worker"
    # the workers' group on the broker, its members named as workers name themselves (rules_guard.client_id): one of
    # this host whose process is gone, one of this process, one of another host (all three connect from here)
    ids = [client_id(group, host, dead, "abc123"), client_id(group, host, os.getpid(), "abc123")]
    ids.append(client_id(group, "another-host", dead, "abc123"))
    gone, alive, elsewhere = (f"{cid}@127.0.0.1" for cid in ids)
    members = [
        KafkaConsumer(TopicNames(prefix).documents, bootstrap_servers=kafka_bootstrap, group_id=group, client_id=cid)
        for cid in ids
    ]
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, client_id=f"{prefix}-test")
    # each member polls in its own thread, as each worker does in its own process: polled one after another from one
    # thread, a loaded CI run's group never settled with all three in 240 s (a member's join waits on the others')
    stop = threading.Event()

    def keep_polling(member: KafkaConsumer) -> None:
        while not stop.is_set():
            member.poll(timeout_ms=200)

    pollers = [threading.Thread(target=keep_polling, args=(m,), daemon=True) for m in members]
    for t in pollers:
        t.start()
    try:
        joined: list[str] = []
        deadline = time.monotonic() + 240  # (a bound on a broken broker, not a timing assertion)
        while sorted(joined) != sorted([gone, alive, elsewhere]) and time.monotonic() < deadline:
            time.sleep(0.5)
            info: Any = admin.describe_groups([group])[group]
            if str(info.get("group_state") or info.get("state")) == "Stable":
                joined = [f"{x['client_id']}@{str(x['client_host']).lstrip('/')}" for x in info["members"]]
        assert sorted(joined) == sorted([gone, alive, elsewhere]), joined
        url = f"sqlite:///{tmp_path / 'wf.db'}"
        SqlStore(url).close()
        args = ["status", "--broker", kafka_bootstrap, "--prefix", prefix, "--store", url]
        res = runner.invoke(app, args, env={"COLUMNS": "250"})
        lines = [" ".join(line.split()) for line in res.output.splitlines() if f"member {group}" in line]
        said = {line.split()[1]: line for line in lines}
        assert f"(may have stopped: pid {dead} on this host is not running;" in said[gone], res.output
        assert "kafka.session_timeout" in said[gone]
        assert "may have stopped" not in said[alive] and "may have stopped" not in said[elsewhere]
        got = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
        assert got["members_not_running"] == {group: [gone]}
    finally:
        stop.set()
        for t in pollers:
            t.join(timeout=30)
        for m in members:
            m.close()
        admin.close()


def test_status_with_a_broker_says_the_sources_produce_has_not_read(
    tmp_path: Path, kafka_bootstrap: str, prefix: str
) -> None:
    """Trial 50 (left from MED-1): embedded, `status` names a configured JSON Lines file never read or not read to
    its end, and is not caught up; with a broker it said "caught up", exit 0, whatever `produce` had left. It reads
    `produce`'s positions in its outbox (the store) the same way now."""
    story = (Path(__file__).resolve().parents[1] / "data" / "events" / "treaty_story.jsonl").read_text("utf-8")
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text(story, encoding="utf-8")
    second.write_text(story.replace('"id": "', '"id": "second-'), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'wf.db'}"

    def config(*paths: Path) -> str:
        cfg = tmp_path / f"wf{len(paths)}.yaml"
        cfg.write_text(
            f"store: {url}\nsources: [{', '.join(f'{{kind: jsonl, path: {p}}}' for p in paths)}]\n"
            f"kafka: {{spool_dir: {tmp_path / 'spool'}}}\n",
            encoding="utf-8",
        )
        return str(cfg)

    broker = ["--broker", kafka_bootstrap, "--prefix", prefix]
    produce = ["produce", *broker, "--partitions", "1", "--once"]  # (the fixture's topics have one partition)
    res = runner.invoke(app, [*produce, "--config", config(first)])
    assert res.exit_code == 0, res.output
    status = ["status", *broker, "--store", url]
    got = json.loads(runner.invoke(app, [*status, "--config", config(first), "--json"]).stdout)
    assert got["sources_unread"] == {}, got  # (behind all the same: no worker has read the documents)

    # a source added to the config that no `produce` has read yet
    res = runner.invoke(app, [*status, "--config", config(first, second)], env={"COLUMNS": "250"})
    said = " ".join(res.output.split())
    assert res.exit_code == 3, res.output
    assert f"source {second}: never read (" in said and "1 source with lines not read yet" in said, said
    got = json.loads(runner.invoke(app, [*status, "--config", config(first, second), "--json"]).stdout)
    assert list(got["sources_unread"]) == [str(second)] and got["caught_up"] is False, got

    # a line appended to the one it read: not read to its end
    with first.open("a", encoding="utf-8") as f:
        f.write(story.splitlines()[0].replace('"id": "', '"id": "later-') + "\n")
    got = json.loads(runner.invoke(app, [*status, "--config", config(first), "--json"]).stdout)
    assert list(got["sources_unread"]) == [str(first)] and got["caught_up"] is False, got

    res = runner.invoke(app, [*produce, "--config", config(first, second)])
    assert res.exit_code == 0, res.output
    got = json.loads(runner.invoke(app, [*status, "--config", config(first, second), "--json"]).stdout)
    assert got["sources_unread"] == {}, got
    res = runner.invoke(app, [*status, "--config", config(first, second)], env={"COLUMNS": "250"})
    assert "not read yet" not in res.output and "never read" not in res.output, res.output


def test_status_of_a_config_with_another_partition_count_than_its_topics_is_not_caught_up(
    tmp_path: Path, kafka_bootstrap: str, prefix: str
) -> None:
    """Outside trial 55, L3: `status --config` of a config whose `kafka.partitions` differs from the topics said
    "caught up", exit 0, while that config's workers and `produce` refuse to start (topic layout mismatch)."""
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    SqlStore(url).close()

    def config(partitions: int) -> str:
        cfg = tmp_path / f"wf{partitions}.yaml"
        cfg.write_text(
            f"store: {url}\nkafka: {{bootstrap: '{kafka_bootstrap}', prefix: {prefix}, partitions: {partitions}}}\n",
            encoding="utf-8",
        )
        return str(cfg)

    res = runner.invoke(app, ["status", "--config", config(1)], env={"COLUMNS": "250"})
    assert res.exit_code == 0 and "partitions" not in res.stderr, res.output  # (the fixture's topics: 1 partition)
    res = runner.invoke(app, ["status", "--config", config(4)], env={"COLUMNS": "250"})
    said = " ".join(res.output.split())
    assert res.exit_code == 3, res.output
    assert f"the config's kafka.partitions is 4, but {prefix}.documents has 1" in said, said
    got = json.loads(runner.invoke(app, ["status", "--config", config(4), "--json"]).stdout)
    assert got["ok"] is False and "kafka.partitions is 4" in got["layout_mismatch"], got
