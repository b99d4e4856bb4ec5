"""Deliveries stuck behind a failing channel are what monitoring must show: /metrics gauges of outstanding and
expired deliveries and of the oldest outstanding one's age, per channel (from the delivery ledger); /healthz
degrades once the oldest outstanding delivery is older than `health.delivery_outstanding`; `watchfloor status`
lists them, and `--wait` does not call the pipeline caught up while any is outstanding."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from tests.fixtures.kafka import topic_prefix
from tests.fixtures.ledger import settle_row
from watchfloor.cli import app
from watchfloor.config import load_config
from watchfloor.web.build import build_services
from watchfloor.web.server import WebServer, create_app
from watchfloor.wiring import EmbeddedPipeline, open_store

from .test_source_failures import get

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
runner = CliRunner()


def stuck(tmp_path: Path, extra: str = "") -> Path:
    """A store with 9 alerts for `pager`, a webhook nothing answers: all outstanding (or expired, per `extra`);
    `desk` (console) took its copies."""
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\n"
        "rules: [builtin:dprk_russia]\n"
        f"sources: [{{kind: jsonl, path: {SAMPLES}}}]\n"
        "channels: [{type: console, name: desk}, {type: webhook, name: pager, url: 'http://127.0.0.1:1/hook'}]\n"
        "subscriptions: [{channel: desk}, {channel: pager}]\n" + extra,
        encoding="utf-8",
    )
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 3, res.output
    return cfg


@contextmanager
def serve(cfg_path: Path, clock: list[datetime]) -> Iterator[str]:
    cfg = load_config(cfg_path)
    pipeline = EmbeddedPipeline(cfg, env={})
    services = build_services(cfg, pipeline.store, pipeline.control, pipeline.rules, env={}, now=lambda: clock[0])
    server = WebServer(create_app(services), "127.0.0.1", 0).start()
    try:
        yield server.url
    finally:
        server.stop()
        pipeline.close()


def gauges(text: str, name: str) -> dict[str, float]:
    return {
        s.labels["channel"]: s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == name
    }


def test_metrics_show_outstanding_deliveries_and_their_age_per_channel(tmp_path: Path) -> None:
    cfg = stuck(tmp_path)
    clock = [datetime.now(UTC) + timedelta(minutes=10)]
    with serve(cfg, clock) as url:
        status, body = get(url + "/metrics")
        assert status == 200
        assert gauges(body, "watchfloor_deliveries_outstanding") == {"desk": 0, "pager": 9}
        assert gauges(body, "watchfloor_deliveries_expired") == {"desk": 0, "pager": 0}
        oldest = gauges(body, "watchfloor_delivery_oldest_outstanding_seconds")
        assert oldest["desk"] == 0 and 600 <= oldest["pager"] < 3600


def test_metrics_show_expired_deliveries(tmp_path: Path) -> None:
    # The first delivery fails once and is given up; the channel then rests, the other 8 wait outstanding.
    cfg = stuck(tmp_path, "retry: {attempts: 1}\n")
    with serve(cfg, [datetime.now(UTC)]) as url:
        body = get(url + "/metrics")[1]
        assert gauges(body, "watchfloor_deliveries_expired") == {"desk": 0, "pager": 1}
        assert gauges(body, "watchfloor_deliveries_outstanding") == {"desk": 0, "pager": 8}


def test_healthz_degrades_when_a_delivery_is_outstanding_too_long(tmp_path: Path) -> None:
    cfg = stuck(tmp_path)
    clock = [datetime.now(UTC)]
    with serve(cfg, clock) as url:
        status, body = get(url + "/healthz")
        health = json.loads(body)
        assert status == 200 and health["status"] == "ok", health  # a channel failing for a moment is retried
        assert health["deliveries_outstanding"] == {"pager": 9}
        clock[0] += timedelta(minutes=31)  # past health.delivery_outstanding (30 min)
        status, body = get(url + "/healthz")
        health = json.loads(body)
        assert status == 503 and health["status"] == "degraded"
        assert any(p.startswith("channel pager: 9 deliveries outstanding, the oldest for") for p in health["problems"])


def test_healthz_degrades_while_a_delivery_is_given_up(tmp_path: Path) -> None:
    """Trial 36, LOW-1: /healthz said "ok" while a delivery had been given up (expired) and `status` exited 3 for it,
    so a probe on /healthz never saw an alert that reached no one. It says them per channel, and is degraded."""
    cfg = stuck(tmp_path, "retry: {attempts: 1}\n")  # pager's first delivery given up, 8 outstanding (just now)
    with serve(cfg, [datetime.now(UTC)]) as url:
        status, body = get(url + "/healthz")
        health = json.loads(body)
        assert status == 503 and health["status"] == "degraded", health
        assert health["deliveries_expired"] == {"pager": 1}
        assert health["deliveries_expired_maybe_delivered"] == {}
        assert health["problems"] == [
            "channel pager: 1 delivery given up (expired): watchfloor alerts list --undelivered names them, "
            "watchfloor status says how to re-send them"
        ]
    # The same rule as `watchfloor status`, which exits 3 for it.
    res = runner.invoke(app, ["status", "--config", str(cfg), "--json"])
    assert res.exit_code == 3 and json.loads(res.stdout)["deliveries"]["expired"] == {"pager": 1}, res.output


def test_the_delivery_threshold_is_configured(tmp_path: Path) -> None:
    cfg = stuck(tmp_path, "health: {delivery_outstanding: 5m}\n")
    clock = [datetime.now(UTC) + timedelta(minutes=6)]
    with serve(cfg, clock) as url:
        status, body = get(url + "/healthz")
        assert status == 503 and json.loads(body)["status"] == "degraded"


# --- watchfloor status ------------------------------------------------------------------------------------------


@pytest.fixture
def prefix(kafka_admin: Any) -> Iterator[str]:
    with topic_prefix(kafka_admin, "wf-stuck") as p:
        yield p


@pytest.mark.integration
def test_status_wait_is_not_caught_up_while_deliveries_are_outstanding(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    pytest.importorskip("faust")
    b = ["--broker", kafka_bootstrap, "--prefix", prefix]
    assert runner.invoke(app, ["topics", "create", *b]).exit_code == 0
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    runner.invoke(app, ["ingest", str(SAMPLES), "--store", empty])  # a store, no deliveries
    res = runner.invoke(app, ["status", *b, "--store", empty, "--wait", "5"])
    assert res.exit_code == 0, res.output  # no lag (no worker ever ran, nothing produced), nothing outstanding
    assert "caught up" in res.output and "none outstanding" in res.output

    cfg = stuck(tmp_path)
    res = runner.invoke(app, ["status", *b, "--config", str(cfg), "--wait", "1"])
    assert res.exit_code == 1, res.output
    assert "behind (9 deliveries outstanding)" in res.output and "caught up" not in res.output
    res = runner.invoke(app, ["status", *b, "--config", str(cfg)])
    assert res.exit_code == 3, res.output
    res = runner.invoke(app, ["status", *b, "--config", str(cfg), "--json"])
    st = json.loads(res.stdout)
    assert res.exit_code == 3 and st["caught_up"] is False and st["kafka_caught_up"] is True
    assert st["deliveries"]["outstanding"] == {"pager": 9} and st["deliveries"]["expired"] == {}


@pytest.mark.integration
def test_status_is_not_ok_while_a_delivery_was_given_up(kafka_bootstrap: str, prefix: str, tmp_path: Path) -> None:
    """Outside trial 11, LOW 5: `status` said "caught up" and exited 0 while a delivery had expired undelivered, so
    a `status --wait` gate passed over it. Expired ones are still not waited for, but they are said in the verdict
    with the command that re-sends them, and the exit is 3 (as `run --once` exits when one was given up)."""
    pytest.importorskip("faust")
    b = ["--broker", kafka_bootstrap, "--prefix", prefix]
    assert runner.invoke(app, ["topics", "create", *b]).exit_code == 0
    cfg = stuck(tmp_path)
    st = open_store(load_config(cfg).store)
    try:
        for r in st.deliveries(statuses={"outstanding"}):
            settle_row(st, r.alert_id, r.channel, "expired", "given up: webhook unreachable")
    finally:
        st.close()
    res = runner.invoke(app, ["status", *b, "--config", str(cfg), "--wait", "5"])
    assert res.exit_code == 3, res.output
    said = " ".join(res.output.split())
    assert "caught up, but 9 deliveries given up (expired, not delivered: re-send with `watchfloor alerts " in said
    assert "redeliver --all-expired --send`)" in said
    res = runner.invoke(app, ["status", *b, "--config", str(cfg), "--json"])
    got = json.loads(res.stdout)
    assert res.exit_code == 3 and got["caught_up"] is True and got["ok"] is False
    assert got["deliveries"]["given_up"] == 9 and got["deliveries"]["expired"] == {"pager": 9}


def test_healthz_says_which_given_up_deliveries_may_have_got_through(tmp_path: Path) -> None:
    """Given up after an attempt whose outcome is unknown (an answer lost after the post), a delivery may be in the
    channel: /healthz says how many per channel, as `status` does, and does not call them all undelivered."""
    from watchfloor.stream_processors.ports import Settlement

    cfg = stuck(tmp_path)
    st = open_store(load_config(cfg).store)
    try:
        rows = st.deliveries(statuses={"outstanding"})
        for r in rows[3:]:
            settle_row(st, r.alert_id, r.channel, "sent")
        settle_row(st, rows[0].alert_id, rows[0].channel, "expired", "given up: HTTP 404")
        later = datetime.now(UTC).timestamp() + 3600  # past their backoff
        for _ in range(2):  # (a channel's rows are claimed one at a time, in order)
            [claimed] = st.claim_deliveries("crashed", later, 30)
            outcome = Settlement("expired", "given up: the answer was lost", attempts=2, unsure=True)
            assert st.settle_delivery(claimed.alert_id, claimed.channel, "crashed", outcome, later)
    finally:
        st.close()
    with serve(cfg, [datetime.now(UTC)]) as url:
        status, body = get(url + "/healthz")
    health = json.loads(body)
    assert status == 503 and health["status"] == "degraded", health
    assert health["deliveries_expired"] == {"pager": 3}
    assert health["deliveries_expired_maybe_delivered"] == {"pager": 2}
    assert health["problems"] == [
        "channel pager: 3 deliveries given up (expired; 2 of them may have got through, not confirmed): "
        "watchfloor alerts list --undelivered names them, watchfloor status says how to re-send them"
    ]
