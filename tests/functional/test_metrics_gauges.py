"""What /metrics lacked beside `watchfloor status` (operator trial): the alerts a channel's throttle holds for its next
summary, per channel, and the process's own resident memory (prometheus-client's process collector on the server's
registry). Real stores, a real HTTP scrape."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.notice import DIGEST_KIND
from watchfloor.alerts.slackapp.commands import AppContext
from watchfloor.alerts.throttle import HELD, summary_thread
from watchfloor.stream_processors.ports import DeliveryRecord
from watchfloor.stream_processors.stores.sql import SqlStore
from watchfloor.web.server import Services, WebServer, create_app

pytestmark = pytest.mark.functional

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wf.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def held(key: str, seq: int, ago: float, channel: str = "desk") -> DeliveryRecord:
    mark = {"window": "2026-03-02T09:00:00+00:00", "held": True, "spec": "2 per 1h"}
    created = (NOW - timedelta(seconds=ago)).timestamp()
    return DeliveryRecord(key, channel, status=HELD, payload={"throttle": mark}, seq=seq, created_at=created)


def _by_name(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for f in text_string_to_metric_families(text):
        for s in f.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def ch(name: str) -> tuple[tuple[str, str], ...]:
    return (("channel", name),)


def test_metrics_count_the_alerts_held_for_a_throttle_summary_per_channel(url: str) -> None:
    store = SqlStore(url)
    try:
        store.enqueue(
            [
                held("a3", 3, 7200),  # listed by the summary below (through 6): told, not waiting
                held("a5", 5, 7100),
                DeliveryRecord(
                    "thr-1", "desk", status="sent", kind=DIGEST_KIND, thread_key=summary_thread("desk"), seq=6
                ),
                held("a8", 8, 600),  # after it: waiting for the next summary
                held("a9", 9, 60),
                held("b4", 4, 300, channel="wire"),  # a channel with no summary yet
                DeliveryRecord("a10", "wire", seq=10, created_at=(NOW - timedelta(seconds=30)).timestamp()),
            ]
        )
        got = _by_name(_text(store))
    finally:
        store.close()
    assert got["watchfloor_deliveries_held"] == {ch("desk"): 2, ch("wire"): 1, ch("mail"): 0}
    assert got["watchfloor_delivery_oldest_held_seconds"] == {ch("desk"): 600, ch("wire"): 300, ch("mail"): 0}
    assert got["watchfloor_deliveries_outstanding"] == {ch("desk"): 0, ch("wire"): 1, ch("mail"): 0}


def test_metrics_report_the_process_resident_memory(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        got = _by_name(_text(store))
    finally:
        store.close()
    [rss] = got["process_resident_memory_bytes"].values()
    assert rss > 10 * 1024 * 1024  # a Python process with Flask and SQLAlchemy loaded: tens of MB at least
    assert got["process_start_time_seconds"] and got["python_info"]


def _text(store: SqlStore) -> str:
    control = ControlLog(store)
    services = Services(
        store=store,
        control=control,
        context=AppContext(control=control, rules={}),
        now=lambda: NOW,
        channels=("desk", "wire", "mail"),
    )
    server = WebServer(create_app(services), "127.0.0.1", 0).start()
    try:
        with urllib.request.urlopen(server.url + "/metrics", timeout=60) as resp:
            return str(resp.read().decode())
    finally:
        server.stop()
