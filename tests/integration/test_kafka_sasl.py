"""The distributed commands against a REAL broker that requires SASL (a private one, SASL_PLAINTEXT with PLAIN
and SCRAM users): topics, produce, a worker to detections and status all authenticate through the `kafka:`
section's security keys; a wrong password is one clear line naming the broker and the refusal."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("faust")

from tests.fixtures.kafka import KAFKA_LOCAL, PrivateBroker, _unavailable

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "distributed" / "dprk_russia.jsonl"
USER, PASSWORD = "desk-svc", "s3cret-for-tests-9f2"


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateBroker]:
    """One private broker for the module, with a SASL_PLAINTEXT listener for USER."""
    if not KAFKA_LOCAL.is_file() or shutil.which("java") is None:
        _unavailable("a private broker needs scripts/kafka-local and java")
    broker = PrivateBroker(tmp_path_factory.mktemp("sasl-kafka"), sasl_user=f"{USER}:{PASSWORD}")
    try:
        broker.start()
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        _unavailable(str(e))
    try:
        yield broker
    finally:
        broker._run("stop", "--wipe", timeout=120)


def config(path: Path, broker: PrivateBroker, prefix: str, mechanism: str) -> Path:
    path.write_text(
        "kafka:\n"
        f"  bootstrap: {broker.sasl_bootstrap}\n"
        f"  prefix: {prefix}\n"
        "  partitions: 2\n"
        "  session_timeout: 6\n"
        "  security_protocol: SASL_PLAINTEXT\n"
        f"  sasl_mechanism: {mechanism}\n"
        f"  sasl_username: {USER}\n"
        "  sasl_password_env: TEST_KAFKA_PASSWORD\n"
    )
    return path


def env(password: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")}
    e.update(PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO), TEST_KAFKA_PASSWORD=password)
    return e


def cli(cwd: Path, *args: str, password: str = PASSWORD, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchfloor.cli", *args],
        cwd=cwd,
        env=env(password),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def count(db: Path, type_: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("select count(*) from events where type = ?", (type_,)).fetchone()[0])


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "PLAIN"])
def test_topics_produce_worker_and_status_authenticate(
    sasl_broker: PrivateBroker, tmp_path: Path, mechanism: str
) -> None:
    prefix = f"sasl-{mechanism.lower()}"
    cfg = str(config(tmp_path / "wf.yaml", sasl_broker, prefix, mechanism))
    producer_dir, worker_dir = tmp_path / "p", tmp_path / "w"
    producer_dir.mkdir(), worker_dir.mkdir()

    res = cli(tmp_path, "topics", "create", "--config", cfg)
    assert res.returncode == 0 and "5 topic(s) created" in res.stderr, res.stderr
    res = cli(producer_dir, "produce", str(DATA), "--config", cfg, "--once")
    assert res.returncode == 0 and "24 sent to Kafka" in res.stderr, res.stderr

    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "watchfloor.cli", "worker", "--config", cfg],
            cwd=worker_dir,
            env=env(PASSWORD),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        res = cli(tmp_path, "status", "--config", cfg, "--wait", "120", "--json", timeout=200)
        said = log.read_text(errors="replace")
        assert res.returncode == 0, res.stdout + res.stderr + said[-3000:]
        st = json.loads(res.stdout)
        workers = st["groups"][0]
        assert st["caught_up"] and len(workers["members"]) == 1 and workers["lag"] == 0, st
        detections = st["topics"][f"{prefix}.detections"]
        assert detections > 0
        # the store the config names (relative to its file): the producer's outbox and the worker's detections
        assert count(tmp_path / "var" / "watchfloor.db", "detection") == detections
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=30)
    said = log.read_text(errors="replace")
    # the way in, said once and masked; the libraries' per-connection "in the clear" warnings are not repeated
    assert f"SASL_PLAINTEXT {mechanism} user {USER} password ***: the credentials cross the network" in said
    assert PASSWORD not in said and "in the clear" not in said


def test_a_wrong_password_is_one_clear_line_naming_the_broker(sasl_broker: PrivateBroker, tmp_path: Path) -> None:
    cfg = str(config(tmp_path / "wf.yaml", sasl_broker, "sasl-wrong", "SCRAM-SHA-512"))
    wrong = "not-the-password"
    refused = (
        f"error: Kafka broker {sasl_broker.sasl_bootstrap} refused the connection's authentication "
        f"(SASL_PLAINTEXT SCRAM-SHA-512 user {USER} password ***): SaslAuthenticationFailedError"
    )
    for args in (["topics", "create"], ["produce", str(DATA), "--once"], ["worker"], ["status"]):
        res = cli(tmp_path, *args, "--config", cfg, password=wrong, timeout=120)
        assert res.returncode == 1, (args, res.stderr)
        assert refused in res.stderr, (args, res.stderr)
        assert "Traceback" not in res.stderr and wrong not in res.stderr + res.stdout, (args, res.stderr)
    # an unset variable is said before any connection
    res = cli(tmp_path, "topics", "check", "--config", cfg, password="")
    assert res.returncode == 1 and "TEST_KAFKA_PASSWORD is not set" in res.stderr, res.stderr
