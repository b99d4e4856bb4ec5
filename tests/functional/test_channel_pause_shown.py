"""A channel paused by its server's Retry-After (a Slack 429) shows where the on-call looks first (trial 19, M4: only
`alerts redeliver` named the pause): a /metrics gauge per paused channel, a line in `watchfloor status` (and its
JSON), the pause in /healthz's JSON, and one log line when the pause starts. Real stores, the pause recorded through
the ledger API, a real HTTP scrape, a real `status` run, a real slack-sdk against the local Slack server."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, detection, feed, make
from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.slackapp.commands import AppContext
from watchfloor.cli import app
from watchfloor.stream_processors.ports import DeliveryRecord
from watchfloor.stream_processors.stores.sql import SqlStore
from watchfloor.web.server import Services, WebServer, create_app

pytestmark = pytest.mark.functional

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wf.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def paused_store(url: str, seconds: float) -> float:
    """Two outstanding rows of `desk`, one of `wire`; desk paused for `seconds` as the server asked (its
    Retry-After), through the ledger. Returns when the pause ends."""
    now = time.time()
    until = now + seconds
    st = SqlStore(url)
    try:
        st.enqueue(
            [
                DeliveryRecord("a1", "desk", seq=1, created_at=now - 30),
                DeliveryRecord("a2", "desk", seq=2, created_at=now - 20),
                DeliveryRecord("a3", "wire", seq=3, created_at=now - 10),
            ]
        )
        st.defer_channel("desk", until, now, server_asked=True)
        st.defer_channel("wire", now + 60, now)  # a backoff of ours, not the server's: no pause
    finally:
        st.close()
    return until


def _get(url: str, path: str) -> str:
    st = SqlStore(url)
    control = ControlLog(st)
    services = Services(
        store=st, control=control, context=AppContext(control=control, rules={}), channels=("desk", "wire", "mail")
    )
    server = WebServer(create_app(services), "127.0.0.1", 0).start()
    try:
        try:
            with urllib.request.urlopen(server.url + path, timeout=60) as resp:
                return str(resp.read().decode())
        except urllib.error.HTTPError as e:  # /healthz may answer 503 (degraded): its body still says why
            return str(e.read().decode())
    finally:
        server.stop()
        st.close()


def test_metrics_give_each_paused_channel_its_pause_end(url: str) -> None:
    until = paused_store(url, 120)
    got: dict[str, dict[str, float]] = {}
    for f in text_string_to_metric_families(_get(url, "/metrics")):
        for s in f.samples:
            got.setdefault(s.name, {})[s.labels.get("channel", "")] = s.value
    assert got["watchfloor_channel_paused_until_timestamp_seconds"] == {"desk": pytest.approx(until)}
    left = got["watchfloor_channel_pause_remaining_seconds"]
    assert 60 < left["desk"] <= 120 and left["wire"] == 0 and left["mail"] == 0


def test_healthz_names_the_paused_channel_and_until_when(url: str) -> None:
    until = paused_store(url, 120)
    body = json.loads(_get(url, "/healthz"))
    assert set(body["channels_paused"]) == {"desk"}
    desk = body["channels_paused"]["desk"]
    assert datetime.fromisoformat(desk["until"]).timestamp() == pytest.approx(until)
    assert 60 < desk["seconds_left"] <= 120 and "Retry-After" in desk["why"]
    assert body["deliveries_outstanding"] == {"desk": 2, "wire": 1}


def test_status_says_the_channel_is_paused_until_when_and_that_the_server_asked(url: str, tmp_path: Path) -> None:
    until = paused_store(url, 120)
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(f"store: {url}\n", encoding="utf-8")
    res = runner.invoke(app, ["status", "--config", str(cfg)])
    said = " ".join(res.output.split())
    when = datetime.fromtimestamp(until, UTC).strftime("%H:%M:%S UTC")
    assert f"channel desk paused until {when}" in said
    assert "(the server asked: Retry-After): 2 deliveries outstanding wait for it" in said
    assert "watchfloor alerts resume desk" in said
    assert f"3 deliveries outstanding, channel desk paused until {when} by its Retry-After" in said  # the verdict
    assert "channel wire paused" not in said  # a backoff of ours is no pause
    assert res.exit_code == 3
    res = runner.invoke(app, ["status", "--config", str(cfg), "--json"])
    got = json.loads(res.stdout)["deliveries"]["paused_until"]
    assert set(got) == {"desk"} and datetime.fromisoformat(got["desk"]["until"]).timestamp() == pytest.approx(until)


def test_a_pause_starting_is_logged_once_with_channel_end_and_why(
    tmp_path: Path, slack_server: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    st = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        clock = Clock()
        feed(st, detection(1, group={"route": "R1"}), detection(2, group={"route": "R2"}))
        slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "120"})
        d = make(st, slack_server, tmp_path / "alerts.jsonl", clock)
        with caplog.at_level(logging.WARNING, logger="watchfloor.alerts.delivery"):
            d.cycle()
            clock.advance(10)
            d.cycle()  # still paused: not said again
        lines = [r.getMessage() for r in caplog.records if "paused until" in r.getMessage()]
        end = datetime.fromtimestamp(clock.at.timestamp() - 10 + 120, UTC).strftime("%H:%M:%S UTC")
        assert lines == [
            f"alerts: channel slack-ops paused until {end} (in 120s): the server asked to wait (Retry-After 120s: "
            + lines[0].split("(Retry-After 120s: ", 1)[1]
        ]
        assert "`watchfloor alerts resume slack-ops` lifts the pause" in lines[0]
        assert st.channel_pauses(clock.at.timestamp()) == {"slack-ops": pytest.approx(clock.at.timestamp() + 110)}
    finally:
        st.close()
