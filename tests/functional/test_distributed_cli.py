"""`watchfloor worker` as a user starts it: defaults only (no --datadir), in a fresh directory, on a real broker.

It must come up (partitions assigned), keep its Faust data under ./var/faust/<group>/ and, with
``--table-store rocksdb://``, its RocksDB files there too; SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("faust")
pytest.importorskip("rocksdict")

from watchfloor.schemas.topics import DEFAULT_PREFIX
from watchfloor.stream_processors.kafka.app import ASSIGNMENT_LOG
from watchfloor.stream_processors.kafka.topics import ensure_topics

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(180)]

REPO = Path(__file__).resolve().parents[2]


def test_watchfloor_worker_starts_with_defaults_in_a_fresh_directory(kafka_bootstrap: str, tmp_path: Path) -> None:
    ensure_topics(kafka_bootstrap, DEFAULT_PREFIX, partitions=3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(REPO)
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "watchfloor.cli",
                "worker",
                "--broker",
                kafka_bootstrap,
                "--table-store",
                "rocksdb://",
            ],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 120
        while ASSIGNMENT_LOG not in log_path.read_text(errors="replace"):
            assert proc.poll() is None, f"worker exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no partition assignment in 120 s:\n{log_path.read_text()[-3000:]}"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0, log_path.read_text()[-3000:]
    datadir = tmp_path / "var" / "faust" / f"{DEFAULT_PREFIX}-worker"
    assert datadir.is_dir()
    assert list(datadir.rglob("CURRENT")), "no RocksDB database under the default data directory"
