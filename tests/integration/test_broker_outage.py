"""Broker outages, on a PRIVATE broker this test starts, SIGKILLs and restarts (never the shared one).

* A worker whose broker drops in its first seconds does not exit: it waits, and once the broker is back it
  processes documents (Faust crashed with NodeNotReadyError here; it now starts again by itself).
* An outage while the worker runs leaves one log line when the broker goes and one when it is back, not a
  line per retry (about 2,000 per worker in a 30 s outage before).
* `archive` and `produce` ride out a broker crash: documents produced meanwhile are spooled, then published
  and archived once it is back; each logs the outage once. (The time from the restart to the archived
  document is printed: it was 35-55 s, from kafka-python's 30 s reconnect backoff.)
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("faust")

from watchfloor.stream_processors.kafka.topics import ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "distributed" / "dprk_russia.jsonl"
PREFIX = "outage"


def env(heartbeat: Path | None = None) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")}
    e.update(PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO))
    if heartbeat is not None:
        e["WATCHFLOOR_HEARTBEAT"] = str(heartbeat)
    return e


def start(cwd: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "watchfloor.cli", *args], cwd=cwd, env=env(), stdout=out, stderr=subprocess.STDOUT
        )


def stop(proc: subprocess.Popen[bytes]) -> int | None:
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return None


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=10) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def wait_for(what: str, pred: Any, timeout: float, *logs: Path) -> float:
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            tails = "\n".join(f"--- {p.name}\n{story(p.read_text(errors='replace'))}" for p in logs if p.exists())
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")
        time.sleep(0.2)
    return time.monotonic() - t0


def story(text: str) -> str:
    """What a failure report shows of a log: every warning, error and injected fault (a stop at the end of the
    log buries the line that explains it), then the log's last lines."""
    marks = ("[WARNING]", "[ERROR]", "[CRITICAL]", "Traceback", "fault injected", "restarting")
    notable = [ln[:300] for ln in text.splitlines() if any(m in ln for m in marks)]
    return "notable lines:\n" + "\n".join(notable[:80]) + "\n... last lines:\n" + text[-3000:]


def outage_lines(text: str) -> tuple[int, int]:
    return text.count(" unreachable ("), text.count(" reachable again after ")


DETECTIONS = "select count(*) from events where type = 'detection'"


# When the broker drops: just before the worker creates its changelog topic (Faust then crashed with NodeNotReadyError
# and the process exited 1), or a moment after the worker started (it survived that, but logged every retry).
@pytest.mark.parametrize("drop_at", ["Waiting for tables to be registered", 1.5])
def test_a_worker_rides_out_a_broker_that_drops_while_it_starts(
    private_kafka: Any, tmp_path: Path, drop_at: str | float
) -> None:
    ensure_topics(private_kafka.bootstrap, PREFIX)
    log = tmp_path / "worker.log"
    b = ["--broker", private_kafka.bootstrap, "--prefix", PREFIX]
    worker = start(tmp_path, log, "worker", *b, "--session-timeout", "6")
    try:
        if isinstance(drop_at, str):
            wait_for(repr(drop_at), lambda: drop_at in log.read_text(errors="replace"), 120, log)
        else:
            time.sleep(drop_at)
        private_kafka.kill()
        time.sleep(8.0)
        assert worker.poll() is None, f"the worker exited ({worker.returncode}):\n{log.read_text()[-4000:]}"
        private_kafka.start()
        res = subprocess.run(
            [sys.executable, "-m", "watchfloor.cli", "produce", str(DATA), *b, "--once", "--store",
             f"sqlite:///{tmp_path / 'outbox.db'}"],
            cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        db = tmp_path / "var" / "watchfloor.db"
        wait_for("the worker's detections", lambda: count(db, DETECTIONS) >= 16, 180, log)
        assert worker.poll() is None
    finally:
        code = stop(worker)
    text = log.read_text(errors="replace")
    assert code == 0, text[-4000:]
    assert "[ERROR] Unable connect to node" not in text  # aiokafka's line per retry
    assert "Traceback" not in text.split("restarting the worker")[-1]
    down, up = outage_lines(text)
    assert 1 <= down <= 2 and up == down, text[-6000:]
    print(f"drop at {drop_at!r}: restarted={'restarting the worker' in text}; {len(text.splitlines())} lines")


def test_an_outage_while_running_logs_once_and_the_pipeline_goes_on(private_kafka: Any, tmp_path: Path) -> None:
    ensure_topics(private_kafka.bootstrap, PREFIX)
    b = ["--broker", private_kafka.bootstrap, "--prefix", PREFIX]
    wlog, alog, plog = tmp_path / "worker.log", tmp_path / "archive.log", tmp_path / "produce.log"
    inbox = tmp_path / "inbox.jsonl"
    lines = DATA.read_text().splitlines()
    inbox.write_text("\n".join(lines[:12]) + "\n")
    outbox = f"sqlite:///{tmp_path / 'outbox.db'}"
    archive_db = tmp_path / "archive.db"
    worker = start(tmp_path, wlog, "worker", *b, "--session-timeout", "6")
    archive = start(tmp_path, alog, "archive", *b, "--store", f"sqlite:///{archive_db}")
    producer = start(tmp_path, plog, "produce", str(inbox), *b, "--store", outbox, "--interval", "1")
    procs = [worker, archive, producer]
    try:
        db = tmp_path / "var" / "watchfloor.db"
        docs = "select count(*) from events where type in ('news.article', 'official.statement')"
        wait_for("the first 12 documents archived", lambda: count(archive_db, docs) >= 12, 180, wlog, alog, plog)
        wait_for("the first detections", lambda: count(db, DETECTIONS) > 0, 180, wlog)
        before = {p: p.read_text(errors="replace") for p in (wlog, alog, plog)}

        private_kafka.kill()
        inbox.write_text("\n".join(lines) + "\n")  # the other 12 arrive during the outage: spooled
        time.sleep(20.0)
        assert all(p.poll() is None for p in procs), "a process exited during the outage"
        private_kafka.start()
        took = wait_for("all 24 documents archived", lambda: count(archive_db, docs) >= 24, 240, wlog, alog, plog)
        wait_for("every detection", lambda: count(db, DETECTIONS) >= 16, 240, wlog)
        time.sleep(3.0)
        assert all(p.poll() is None for p in procs)
    finally:
        codes = [stop(p) for p in procs]
    assert codes == [0, 0, 0], codes
    for path in (wlog, alog, plog):
        during = path.read_text(errors="replace")[len(before[path]) :]
        down, up = outage_lines(during)
        assert down == 1 and up == 1, f"{path.name}:\n{during[-6000:]}"
        noise = [ln for ln in during.splitlines() if "[ERROR]" in ln or "Traceback" in ln or "not ready" in ln]
        assert not noise, f"{path.name}:\n" + "\n".join(noise[:20])
    print(f"documents produced during the outage archived {took:.1f}s after the broker answered again")
    assert count(archive_db, "select count(*) from events where type = 'detection'") >= 16
    stats = orjson.loads(subprocess.run(
        [sys.executable, "-m", "watchfloor.cli", "status", *b, "--json"],
        cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=120, check=False,
    ).stdout)  # fmt: skip
    assert stats["topics"][f"{PREFIX}.documents"] >= 24


def test_a_stop_asked_for_while_the_broker_is_away_does_not_wait_for_it(private_kafka: Any, tmp_path: Path) -> None:
    """Outside trial 60, LOW-3: SIGTERM to a worker whose broker was down took the full stop grace (25 s) and left
    two tracebacks of the consumer thread ("Exception in thread Thread-1: … NodeNotReadyError … CancelledError")
    that read as a crash. It now stops without waiting for a broker that cannot answer: exit 0, no traceback, no
    "did not stop within" line."""
    ensure_topics(private_kafka.bootstrap, PREFIX)
    log = tmp_path / "worker.log"
    b = ["--broker", private_kafka.bootstrap, "--prefix", PREFIX]
    worker = start(tmp_path, log, "worker", *b, "--session-timeout", "6")
    try:
        wait_for("the worker running", lambda: "[^Worker]: Ready" in log.read_text(errors="replace"), 180, log)
        private_kafka.kill()
        wait_for("the outage said", lambda: outage_lines(log.read_text(errors="replace"))[0] >= 1, 120, log)
        assert worker.poll() is None
        stopped_at = len(log.read_text(errors="replace"))
    finally:
        code = stop(worker)
    text = log.read_text(errors="replace")
    after = text[stopped_at:]
    assert code == 0, text[-4000:]
    assert "Traceback" not in after and "Exception in thread" not in after, after[-4000:]
    assert "did not stop within" not in after, after[-4000:]
    assert "worker stopped (SIGTERM)" in after or "stops without waiting for it" in after, after[-4000:]
