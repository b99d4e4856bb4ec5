"""Two workers of different releases started at the same moment into an empty group, on a REAL Kafka broker: both
pass the check at start (neither sees the other yet) and join; once each looks at its group after its assignment,
exactly one stops, naming the other (host, pid, release), and the other goes on alone (outside trial 86, F5: both
ran on, sharing the partitions, and `status` said "an upgrade is under way", exit 0)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("faust")

from tests.fixtures.kafka import topic_prefix
from watchfloor.stream_processors.fingerprint import release
from watchfloor.stream_processors.kafka.rules_guard import MIXED_GROUP_EXIT
from watchfloor.stream_processors.kafka.status import group_members
from watchfloor.stream_processors.kafka.topics import ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
REPO = Path(__file__).resolve().parents[2]
RELEASES = ("0.1.0+aaaaaaaaaa", "0.1.0+bbbbbbbbbb")  # the second's fingerprint sorts last: it goes on


@pytest.fixture
def prefix(kafka_admin: Any, kafka_bootstrap: str) -> Iterator[str]:
    with topic_prefix(kafka_admin, "wf-mixed") as p:
        ensure_topics(kafka_bootstrap, p, 2)
        yield p


def test_two_releases_started_together_into_one_group_leave_one_running(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")}
    env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", WATCHFLOOR_NATIVE="0")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.fixtures.release_worker", kafka_bootstrap, prefix, str(tmp_path / v), v],
            env=env,
            cwd=REPO,
            stdout=(tmp_path / f"{v}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for v in RELEASES
    ]
    old, new = procs
    try:
        deadline = time.monotonic() + 150
        while old.poll() is None and time.monotonic() < deadline:
            time.sleep(1.0)
        said = (tmp_path / f"{RELEASES[0]}.log").read_text()
        assert old.returncode == MIXED_GROUP_EXIT, said[-4000:]
        flat = " ".join(said.split())
        assert f"worker group {prefix}-worker is mixed" in flat, flat[-4000:]
        assert f"pid {new.pid} release {RELEASES[1]}" in flat and f"this worker stops (exit {MIXED_GROUP_EXIT})" in flat
        assert "Traceback" not in said, said[-4000:]  # said once, as an error: not a crash
        # The other goes on alone: the group ends with its one member.
        while time.monotonic() < deadline:
            members = group_members(kafka_bootstrap, f"{prefix}-worker") or []
            if len(members) == 1:
                break
            time.sleep(1.0)
        assert new.poll() is None, (tmp_path / f"{RELEASES[1]}.log").read_text()[-4000:]
        assert [m for m in members if f"-{new.pid}-rules-" in m], members
        # its start line names the release the process runs (outside trial 86, F3)
        started = f" · watchfloor {release()}"
        while started not in (tmp_path / f"{RELEASES[1]}.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert started in (tmp_path / f"{RELEASES[1]}.log").read_text()
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


@contextmanager
def members_named(bootstrap: str, group: str, topic: str, ids: list[str]) -> Iterator[list[str]]:
    """Consumers in `group` named as workers name themselves, each polling in its own thread (as each worker does in
    its own process), until the broker lists them all in a Stable group; their `client id @ host`."""
    from kafka import KafkaConsumer

    members = [KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, client_id=cid) for cid in ids]
    stop = threading.Event()

    def keep_polling(member: Any) -> None:
        while not stop.is_set():
            member.poll(timeout_ms=200)

    pollers = [threading.Thread(target=keep_polling, args=(m,), daemon=True) for m in members]
    for t in pollers:
        t.start()
    try:
        want = sorted(f"{cid}@127.0.0.1" for cid in ids)
        joined: list[str] | None = []
        deadline = time.monotonic() + 200  # (a bound on a broken broker, not a timing assertion)
        while joined != want and time.monotonic() < deadline:
            time.sleep(0.5)
            joined = group_members(bootstrap, group)
        assert joined == want, joined
        yield want
    finally:
        stop.set()
        for t in pollers:
            t.join(timeout=30)
        for m in members:
            m.close()


def test_status_of_a_mixed_group_is_not_caught_up(kafka_bootstrap: str, prefix: str, tmp_path: Path) -> None:
    """`status` said "the workers' releases differ (…): an upgrade is under way …", `caught up`, exit 0 of a group
    whose workers ran two releases: a `status --wait` deploy gate passed it. It is behind (exit 3) while mixed."""
    from typer.testing import CliRunner

    from watchfloor.cli import app
    from watchfloor.schemas.topics import TopicNames
    from watchfloor.stream_processors.kafka.rules_guard import client_id

    group, host = f"{prefix}-worker", socket.gethostname()
    fingerprints = [f"5ee9db9e6365-v{v}" for v in RELEASES]
    ids = [client_id(group, host, os.getpid(), fp) for fp in fingerprints]
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    args = ["status", "--broker", kafka_bootstrap, "--prefix", prefix, "--store", url]
    runner = CliRunner()
    with members_named(kafka_bootstrap, group, TopicNames(prefix).documents, ids):
        res = runner.invoke(app, args, env={"COLUMNS": "250"})
        flat = " ".join(res.output.split())
        assert res.exit_code == 3, res.output
        assert f"pipeline {prefix}: behind (group {group} is mixed)" in flat, flat
        assert f"group {group} is mixed: its workers run 2 rule sets or releases" in flat, flat
        assert "every worker of a group must run the same rules on the same release" in flat, flat
        assert "an upgrade is under way" not in flat, flat
        got = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
        assert got["mixed_groups"] == {group: sorted(fingerprints)}
        assert (got["caught_up"], got["ok"]) == (False, False) and "is mixed" in got["mixed_note"]
    # one rule set: caught up again
    with members_named(kafka_bootstrap, group, TopicNames(prefix).documents, ids[:1]):
        res = runner.invoke(app, args, env={"COLUMNS": "250"})
        assert res.exit_code == 0 and "is mixed" not in res.output, res.output
