"""Another process holding the SQLite store's write lock (trial 19, M1/M2): reads still work, so /healthz said "ok" and
watchfloor_store_up 1 while `run` could not commit, and a page view logged "the store reachable again" while the lock
was still held. Now a failed write keeps the store down for /healthz and /metrics until a write goes through, and
"reachable again" is said only then. A real lock from another connection; the store waits its busy timeout (30 s)."""

from __future__ import annotations

import json
import logging
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from watchfloor.cli.run import live_cycle, run_store_availability, source_origins
from watchfloor.schemas.config import AppConfig, FileChannel, JsonlSource, Subscription
from watchfloor.web.activity import HeartbeatRecorder
from watchfloor.web.build import build_services
from watchfloor.web.server import WebServer, create_app
from watchfloor.wiring import EmbeddedPipeline

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def store_up(url: str) -> float:
    families = {f.name: f for f in text_string_to_metric_families(get(url + "/metrics")[1])}
    return families["watchfloor_store_up"].samples[0].value


def test_a_write_lock_held_elsewhere_is_down_until_a_write_goes_through(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db, inbox = tmp_path / "wf.db", tmp_path / "inbox.jsonl"
    lines = SAMPLES.read_text(encoding="utf-8").splitlines(keepends=True)
    inbox.write_text("".join(lines[:4]), encoding="utf-8")
    cfg = AppConfig(
        store=f"sqlite:///{db}",
        sources=[JsonlSource(path=str(inbox))],
        channels=[FileChannel(name="desk", path=str(tmp_path / "alerts.jsonl"))],
        subscriptions=[Subscription(channel="desk")],
    )
    pipeline = EmbeddedPipeline(cfg, env={})
    heartbeat = HeartbeatRecorder(pipeline.store, sources=source_origins(cfg.sources))
    watch = run_store_availability(1.0, serving=True)  # one for the cycles and the pages, as `run --serve` has
    services = build_services(pipeline.cfg, pipeline.store, pipeline.control, pipeline.rules, env={}, store_watch=watch)
    server = WebServer(create_app(services), "127.0.0.1", 0).start()
    other = sqlite3.connect(db, isolation_level=None)
    try:
        assert live_cycle(pipeline, heartbeat, None, None, watch, 1.0) is not None
        status, body = get(server.url + "/healthz")
        assert status == 200 and json.loads(body)["store"] == "ok"
        with inbox.open("a", encoding="utf-8") as f:
            f.write("".join(lines[4:]))
        other.execute("BEGIN IMMEDIATE")  # another process takes the write lock and keeps it
        with caplog.at_level(logging.INFO):
            assert live_cycle(pipeline, heartbeat, None, None, watch, 1.0) is None  # its writes wait 30 s, then fail
            for _ in range(2):  # probes and scrapes while the lock is held: down, and nothing says it is back
                status, body = get(server.url + "/healthz")
                health = json.loads(body)
                assert status == 503 and health["status"] == "down", body
                assert health["store"].startswith(f"cannot write: store sqlite:///{db}: the database stayed locked")
                assert store_up(server.url) == 0
            said = [r.getMessage() for r in caplog.records if r.name.startswith("watchfloor")]
            assert not any("reachable again" in m for m in said), said
            assert sum("the store cannot be written" in m for m in said) == 1, said
            other.execute("COMMIT")  # released
            caplog.clear()
            assert live_cycle(pipeline, heartbeat, None, None, watch, 1.0) is not None  # its writes go through
            said = [r.getMessage() for r in caplog.records if r.name.startswith("watchfloor")]
            assert sum("the store usable again" in m for m in said) == 1, said
        status, body = get(server.url + "/healthz")
        assert status == 200 and json.loads(body)["store"] == "ok", body
        assert store_up(server.url) == 1
    finally:
        other.close()
        server.stop()
        pipeline.close()
