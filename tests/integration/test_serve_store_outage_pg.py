"""`serve` and `run --serve` over a PostgreSQL store that stops accepting connections (outside trial 14, H1, as the
trial did it): the pages say `down` with PostgreSQL's own reason, /metrics keeps answering, and the log has one line
per outage (run's cycles included)."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from tests.fixtures.log_lines import stamped, unstamped
from watchfloor.schemas.config import AppConfig, ConsoleChannel, JsonlSource, Subscription
from watchfloor.stream_processors.stores.sql import normalize_url
from watchfloor.web.activity import record_cycle
from watchfloor.web.build import build_services
from watchfloor.web.server import WebServer, create_app
from watchfloor.wiring import EmbeddedPipeline

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def store_up(url: str) -> float:
    status, body = get(url + "/metrics")
    assert status == 200, body
    (up,) = [
        s.value for f in text_string_to_metric_families(body) for s in f.samples if s.name == "watchfloor_store_up"
    ]
    return up


@pytest.fixture
def database(postgres_url: str) -> Iterator[tuple[str, str, Engine]]:
    """A database of this test's own (its name, its URL, an admin engine on the server): dropped afterwards."""
    admin = create_engine(normalize_url(postgres_url), isolation_level="AUTOCOMMIT")
    name = f"wf_outage_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_url(postgres_url)).set(database=name).render_as_string(hide_password=False)
    try:
        yield name, url, admin
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_database_that_refuses_connections_is_said_on_every_page(
    database: tuple[str, str, Engine], tmp_path: Path, caplog: Any
) -> None:
    name, url, admin = database
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(SAMPLES.read_text(encoding="utf-8"))
    cfg = AppConfig(
        store=url,
        sources=[JsonlSource(path=str(inbox))],
        channels=[ConsoleChannel(name="desk")],
        subscriptions=[Subscription(channel="desk")],
    )
    pipeline = EmbeddedPipeline(cfg, env={})
    summary = pipeline.poller.poll_due()
    pipeline.runner.run_once()
    record_cycle(pipeline.store, datetime.now(UTC), 0.5, {s.origin: s.seconds for s in summary.sources})
    services = build_services(cfg, pipeline.store, pipeline.control, pipeline.rules, env={})
    server = WebServer(create_app(services), "127.0.0.1", 0).start()
    try:
        assert get(server.url + "/")[0] == 200 and store_up(server.url) == 1
        with admin.connect() as conn:  # as the trial did: this database only
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"), {"db": name}
            )
        with caplog.at_level(logging.INFO):
            for _ in range(3):
                status, page = get(server.url + "/")
                assert status == 503 and "Health: down" in page, page[:500]
                assert "is not currently accepting connections" in page
                assert store_up(server.url) == 0
                status, body = get(server.url + "/healthz")
                health = json.loads(body)
                assert status == 503 and health["status"] == "down"
                assert "is not currently accepting connections" in health["store"], health
                assert "\n" not in health["store"]
        said = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO and r.name.startswith("watchfloor")]
        assert len(said) == 1 and "unreachable" in said[0], said
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        assert get(server.url + "/")[0] == 200 and store_up(server.url) == 1
    finally:
        server.stop()
        pipeline.close()


def test_run_serve_says_the_outage_once_not_each_cycle(database: tuple[str, str, Engine], tmp_path: Path) -> None:
    """`watchfloor run --serve` (a real process): its cycles printed `cycle failed StoreError …` each time while the
    database refused connections. Its cycles and its pages share one account of the store: a line when it went and
    one when it is back, however many cycles and requests came between."""
    import signal
    import socket
    import subprocess
    import sys
    import time

    from tests.functional.test_distributed_commands import env

    name, url, admin = database
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(SAMPLES.read_text(encoding="utf-8"))
    config = tmp_path / "watchfloor.yaml"
    config.write_text(
        f"store: {url}\nsources:\n  - {{kind: jsonl, path: {inbox}}}\n"
        "channels:\n  - {type: console, name: desk}\nsubscriptions:\n  - {channel: desk}\n"
    )
    with socket.socket() as s:  # a free port (run --serve takes no port 0)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    beat = tmp_path / "heartbeat"  # touched once per cycle: how the test counts them
    log = tmp_path / "run.log"
    args = ["run", "--config", str(config), "--interval", "0.3", "--serve", f"127.0.0.1:{port}"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "watchfloor.cli", *args],
            cwd=tmp_path,
            env=env(WATCHFLOOR_HEARTBEAT=str(beat), COLUMNS="400"),
            stdout=out,
            stderr=out,
        )

    def wait_for(what: str, done: Any) -> None:
        deadline = time.monotonic() + 120  # a bound on a slow machine, not a measurement
        while not done():
            assert proc.poll() is None, f"run exited {proc.returncode} waiting for {what}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"waited 120 s for {what}:\n{log.read_text()}"
            time.sleep(0.05)

    def cycles(n: int) -> None:
        seen: set[int] = set()

        def went_round() -> bool:
            seen.add(beat.stat().st_mtime_ns)
            return len(seen) > n

        wait_for(f"{n} more cycles", went_round)

    base = f"http://127.0.0.1:{port}"
    try:
        wait_for("the first cycle", lambda: "polled 1 source" in log.read_text())
        assert get(base + "/healthz")[0] == 200
        with admin.connect() as conn:  # as the trial did: this database only
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"), {"db": name}
            )
        cycles(1)  # the one under way when the database went
        cycles(4)  # failed ones
        assert get(base + "/healthz")[0] == 503 and get(base + "/")[0] == 503
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        wait_for("/healthz to say the store is back", lambda: get(base + "/healthz")[0] == 200)
        cycles(2)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    text_ = log.read_text()
    assert code == 0, text_
    assert "cycle failed" not in text_ and "Traceback" not in text_, text_[-3000:]
    # A live run's lines start with their UTC time (trial 50, LOW-1): matched with PostgreSQL's log by it.
    raw = [ln for ln in text_.splitlines() if "the store reachable again" in ln or "the store unreachable (" in ln]
    assert len(raw) == 2 and all(stamped(ln) for ln in raw), raw
    lines = unstamped(text_)
    said = [ln for ln in lines if ln.startswith("the store ")]
    assert len(said) == 2, said
    assert said[0].startswith("the store unreachable (") and "is not currently accepting connections" in said[0]
    assert "each cycle tries again (every 0.3s) from the last committed checkpoints" in said[0], said
    assert said[1].startswith("the store reachable again after"), said
