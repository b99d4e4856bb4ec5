"""The distributed commands against a REAL broker that requires SASL and TLS (a private one: SASL_PLAINTEXT with
PLAIN and SCRAM users, SSL and SASL_SSL with a certificate of a self-signed CA): topics, produce, a worker to
detections and status all authenticate through the `kafka:` section's security keys; a wrong password, or a CA
that did not sign the broker's certificate, is one clear line naming the broker."""

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

from tests.fixtures.kafka import PrivateBroker, _unavailable, started_private_broker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "distributed" / "dprk_russia.jsonl"
USER, PASSWORD = "desk-svc", "s3cret-for-tests-9f2"


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ca.pem (a self-signed CA) and broker.pem (the broker's key, then its certificate for 127.0.0.1 signed by
    that CA)."""
    if shutil.which("openssl") is None:
        _unavailable("openssl is needed to make the broker's certificate")
    d = tmp_path_factory.mktemp("tls")
    openssl(
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=watchfloor-test-ca"),
        *("-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem")),
    )
    openssl(
        *("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1"),
        *("-keyout", str(d / "broker.key"), "-out", str(d / "broker.csr")),
    )
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl(
        *("x509", "-req", "-in", str(d / "broker.csr"), "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca.key")),
        *("-CAcreateserial", "-days", "2", "-extfile", str(d / "ext.cnf"), "-out", str(d / "broker.crt")),
    )
    (d / "broker.pem").write_text((d / "broker.key").read_text() + (d / "broker.crt").read_text())
    return d


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory, tls_dir: Path) -> Iterator[PrivateBroker]:
    """One private broker for the module, with SASL_PLAINTEXT, SSL and SASL_SSL listeners (USER, broker.pem)."""
    yield from started_private_broker(
        tmp_path_factory.mktemp("sasl-kafka"), sasl_user=f"{USER}:{PASSWORD}", ssl_pem=tls_dir / "broker.pem"
    )


def config(
    path: Path,
    broker: PrivateBroker,
    prefix: str,
    mechanism: str | None,
    *,
    protocol: str = "SASL_PLAINTEXT",
    cafile: Path | None = None,
) -> Path:
    bootstrap = {
        "SASL_PLAINTEXT": broker.sasl_bootstrap,
        "SSL": broker.ssl_bootstrap,
        "SASL_SSL": broker.sasl_ssl_bootstrap,
    }[protocol]
    text = (
        f"kafka:\n  bootstrap: {bootstrap}\n  prefix: {prefix}\n  partitions: 2\n  session_timeout: 6\n"
        f"  security_protocol: {protocol}\n"
    )
    if mechanism is not None:
        text += f"  sasl_mechanism: {mechanism}\n  sasl_username: {USER}\n  sasl_password_env: TEST_KAFKA_PASSWORD\n"
    if cafile is not None:
        text += f"  ssl_cafile: {cafile}\n"
    path.write_text(text)
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


@pytest.mark.parametrize(
    ("protocol", "mechanism"),
    [("SASL_PLAINTEXT", "SCRAM-SHA-256"), ("SASL_PLAINTEXT", "PLAIN"), ("SASL_SSL", "SCRAM-SHA-512")],
)
def test_topics_produce_worker_and_status_authenticate(
    sasl_broker: PrivateBroker, tls_dir: Path, tmp_path: Path, protocol: str, mechanism: str
) -> None:
    prefix = f"{protocol.lower()}-{mechanism.lower()}"
    cafile = tls_dir / "ca.pem" if protocol == "SASL_SSL" else None
    cfg = str(config(tmp_path / "wf.yaml", sasl_broker, prefix, mechanism, protocol=protocol, cafile=cafile))
    producer_dir, worker_dir = tmp_path / "p", tmp_path / "w"
    producer_dir.mkdir(), worker_dir.mkdir()

    res = cli(tmp_path, "topics", "create", "--config", cfg)
    assert res.returncode == 0 and "5 topics created" in res.stderr, res.stderr
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
    if protocol == "SASL_PLAINTEXT":
        assert f"SASL_PLAINTEXT {mechanism} user {USER} password ***: the credentials cross the network" in said
    assert PASSWORD not in said and "in the clear" not in said


def test_tls_without_sasl_and_a_ca_that_did_not_sign_the_broker(
    sasl_broker: PrivateBroker, tls_dir: Path, tmp_path: Path
) -> None:
    cfg = str(config(tmp_path / "wf.yaml", sasl_broker, "tls-only", None, protocol="SSL", cafile=tls_dir / "ca.pem"))
    res = cli(tmp_path, "topics", "create", "--config", cfg)
    assert res.returncode == 0 and "5 topics created" in res.stderr, res.stderr
    assert cli(tmp_path, "topics", "check", "--config", cfg).returncode == 0
    # the system's CAs do not know the test CA: the handshake fails, said as such
    cfg = str(config(tmp_path / "system.yaml", sasl_broker, "tls-only", None, protocol="SSL"))
    res = cli(tmp_path, "topics", "check", "--config", cfg, timeout=120)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert (
        f"error: Kafka broker {sasl_broker.ssl_bootstrap}: the TLS handshake failed (SSL CA system): " in res.stderr
    ), res.stderr
    assert "certificate verify failed" in res.stderr, res.stderr


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
