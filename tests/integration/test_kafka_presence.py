"""On a real broker: a `worker` and a `produce` started for real keep presence records in their store, so `status
--broker` lists them with command, pid and release beside each worker member's release line; a SIGKILLed produce is
then named as gone (not forgotten), and a worker stopped cleanly leaves no record (outside trial 78)."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("faust")

from tests.fixtures.kafka import topic_prefix
from tests.functional.test_distributed_commands import cli, start, stop
from tests.integration.test_kafka_late_counts import RULES, T0, doc, publish, started
from watchfloor.stream_processors.fingerprint import release

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(400)]


@pytest.fixture
def prefix(kafka_admin: Any) -> Iterator[str]:
    with topic_prefix(kafka_admin, "wf-presence") as p:
        yield p


def status(cwd: Path, *args: str) -> tuple[dict[str, Any], str]:
    res = cli(cwd, "status", *args, "--json", timeout=200)
    assert res.stdout.strip(), res.stderr
    return json.loads(res.stdout), res.stderr


def until(cwd: Path, b: list[str], ok: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        st, err = status(cwd, *b)
        if ok(st):
            return st
        assert time.monotonic() < deadline, (st.get("processes"), st.get("processes_gone"), err)
        time.sleep(1)


def refreshed(p: dict[str, Any]) -> bool:
    return datetime.fromisoformat(p["last_seen"]) > datetime.fromisoformat(p["started_at"])


def test_worker_and_produce_are_listed_with_their_release_and_a_killed_one_is_named(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'wf.db'}"
    b = ["--broker", kafka_bootstrap, "--prefix", prefix, "--store", store]
    publish(kafka_bootstrap, prefix, tmp_path / "spool.jsonl", [doc(0, T0, "Officials met in the capital")])
    worker = started(tmp_path, tmp_path / "worker.log", *b, "--rules", str(RULES))
    produce = start(tmp_path, tmp_path / "produce.log", "produce", "--demo", "--interval", "3600", *b)
    try:
        st = until(tmp_path, b, lambda s: {"worker", "produce"} <= {p["command"] for p in s["processes"]})
        listed = {p["command"]: p for p in st["processes"]}
        ours = release()
        assert listed["worker"]["pid"] == str(worker.pid) and listed["worker"]["release"] == ours, listed
        assert listed["produce"]["pid"] == str(produce.pid) and listed["produce"]["release"] == ours, listed
        # the text: each worker member with its release (from its client id), and the processes line
        res = cli(tmp_path, "status", *b, timeout=200)
        said = " ".join(res.stderr.split()) + " " + " ".join(res.stdout.split())
        assert f"· release {ours}" in said and "member " in said, said
        assert f"pid {produce.pid}" in said and "`watchfloor produce`" in said, said

        # a live produce's record is refreshed by its own thread (PresenceBeat), not saved once at its start
        st = until(tmp_path, b, lambda s: any(refreshed(p) for p in s["processes"] if p["command"] == "produce"))
        assert str(produce.pid) in {p["pid"] for p in st["processes"] if p["command"] == "produce"}, st

        os.kill(produce.pid, signal.SIGKILL)  # no clean stop: its record outlives it, named as gone
        produce.wait(timeout=30)
        st = until(tmp_path, b, lambda s: any(g["command"] == "produce" for g in s["processes_gone"]))
        gone = next(g for g in st["processes_gone"] if g["command"] == "produce")
        assert gone["pid"] == str(produce.pid) and gone["pid_gone"] and gone["release"] == ours, gone
        assert [p["command"] for p in st["processes"]] == ["worker"], st["processes"]
    finally:
        if produce.poll() is None:
            stop(produce)
        assert stop(worker) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    # a clean stop removes the worker's record: neither listed nor named as gone
    st, _ = status(tmp_path, *b)
    assert not any(p["command"] == "worker" for p in st["processes"] + st["processes_gone"]), st
