"""`serve` over a PostgreSQL store that stops accepting connections (outside trial 14, H1, as the trial did it): the
pages say `down` with PostgreSQL's own reason, /metrics keeps answering, and the log has one line per outage."""

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
