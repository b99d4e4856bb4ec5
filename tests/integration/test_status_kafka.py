"""The status page shows the distributed pipeline's consumer groups when the config has a `kafka:` section."""

from __future__ import annotations

import urllib.request
import uuid
from pathlib import Path

import pytest

from watchfloor.alerts.control import ControlLog
from watchfloor.schemas.config import AppConfig, ConsoleChannel, KafkaConfig
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.web.build import build_services
from watchfloor.web.server import WebServer, create_app

pytestmark = pytest.mark.integration


def page(cfg: AppConfig) -> str:
    store = MemoryStore()
    _, rules = load_rules(cfg.rules)
    services = build_services(cfg, store, ControlLog(store), rules, env={})
    server = WebServer(create_app(services), "127.0.0.1", 0).start()
    try:
        with urllib.request.urlopen(server.url + "/", timeout=60) as resp:
            return resp.read().decode()
    finally:
        server.stop()


def test_kafka_section_when_configured(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = f"wf-test-status-{uuid.uuid4().hex[:8]}"
    cfg = AppConfig(
        channels=[ConsoleChannel(name="c")],
        subscriptions=[],
        kafka=KafkaConfig(bootstrap=kafka_bootstrap, prefix=prefix),
    )
    html = page(cfg)
    kafka = html.split('id="kafka"')[1].split("</section>")[0]
    assert prefix in kafka and f"missing topics {prefix}.documents" in kafka  # no topics yet: not caught up
    assert "caught up no" in kafka
    groups = {r.split('data-group="')[1].split('"')[0]: r for r in kafka.split('<tr class="group"')[1:]}
    assert list(groups) == [f"{prefix}-worker", f"{prefix}-archive"]
    assert "not started" in groups[f"{prefix}-archive"] and "not started" not in groups[f"{prefix}-worker"]
    assert 'id="kafka"' not in page(AppConfig(channels=[ConsoleChannel(name="c")], subscriptions=[]))
