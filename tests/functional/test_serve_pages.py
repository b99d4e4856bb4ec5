"""`watchfloor serve`'s pages over a store the embedded pipeline filled: /healthz, /metrics (parsed with
prometheus-client's own parser) and the status page, rendered by headless Chromium."""

from __future__ import annotations

import json
import logging
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.browser import Chromium
from watchfloor.schemas.config import (
    AppConfig,
    ConsoleChannel,
    JsonlSource,
    Subscription,
    WebhookChannel,
)
from watchfloor.schemas.control import Actor
from watchfloor.web.activity import record_cycle
from watchfloor.web.build import build_services
from watchfloor.web.server import WebServer, create_app
from watchfloor.wiring import EmbeddedPipeline

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
ALICE = Actor(via="slack", user="U0ALICE", name="alice")


@dataclass
class Site:
    url: str
    pipeline: EmbeddedPipeline
    clock: list[datetime]

    def get(self, path: str) -> tuple[int, str, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as resp:
                return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def start(pipeline: EmbeddedPipeline, clock: list[datetime], **kw: Any) -> WebServer:
    services = build_services(
        pipeline.cfg, pipeline.store, pipeline.control, pipeline.rules, env={}, now=lambda: clock[0], **kw
    )
    return WebServer(create_app(services), "127.0.0.1", 0).start()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(SAMPLES.read_text(encoding="utf-8") + '{"type": "news.article", "title": "no date"}\n')
    cfg = AppConfig(
        store=f"sqlite:///{tmp_path / 'wf.db'}",
        sources=[JsonlSource(path=str(inbox))],
        channels=[
            ConsoleChannel(name="desk"),
            WebhookChannel(name="pager", url="http://127.0.0.1:9/hook"),  # nothing listens: deliveries fail
        ],
        subscriptions=[Subscription(channel="desk"), Subscription(channel="pager", min_severity="high")],
    )
    pipeline = EmbeddedPipeline(cfg, env={})
    clock = [datetime.now(UTC)]
    pipeline.control.now = lambda: clock[0]
    sil = pipeline.control.silence(
        "treaty-ratified",
        duration=timedelta(hours=3),
        by=ALICE,
        group={"*": "RUS"},
        channel="desk",
        reason="<script>document.title='owned'</script> Duma noise",
    )
    summary = pipeline.poller.poll_due()
    pipeline.runner.run_once()
    pipeline.dispatcher.run_once()
    record_cycle(pipeline.store, clock[0], 0.5, {s.origin: s.seconds for s in summary.sources})
    first = next(
        se for se in pipeline.store.read(0, types={"alert"}) if se.event.payload["detection"]["rule"] == "treaty-signed"
    )
    pipeline.control.acknowledge(first.event.payload["id"], by=ALICE, channel="desk", note="calling the <b>desk</b>")
    # and in another channel, by another hand: two acknowledgements, each named with its channel
    pipeline.control.acknowledge(first.event.payload["id"], by=Actor(via="cli", user="kim"), channel="pager")
    assert sil.id
    server = start(pipeline, clock)
    try:
        yield Site(server.url, pipeline, clock)
    finally:
        server.stop()
        pipeline.close()


def test_healthz(site: Site) -> None:
    status, ctype, body = site.get("/healthz")
    health = json.loads(body)
    assert (status, ctype) == (200, "application/json")
    assert health["status"] == "ok" and health["store"] == "ok" and health["pipeline"] == "running"
    assert health["log_head"] == site.pipeline.store.head()
    assert 0 <= health["last_cycle_age_seconds"] < 5
    assert health["deliveries_outstanding"] == {"pager": 5} and health["sources_failing"] == {}
    site.clock[0] += timedelta(hours=2)  # a separate `serve` only reports the age...
    status, _, body = site.get("/healthz")
    health = json.loads(body)
    assert health["last_cycle_age_seconds"] >= 7200 and health["pipeline"] == "running"
    # ...but the pager's deliveries, failing since, are past health.delivery_outstanding (30 min)
    assert status == 503 and health["status"] == "degraded"
    assert [p.split(",")[0] for p in health["problems"]] == ["channel pager: 5 deliveries outstanding"]


def test_healthz_is_503_when_the_pipeline_in_this_process_is_stale(site: Site) -> None:
    server = start(site.pipeline, site.clock, pipeline_max_age=60.0)
    try:
        url = server.url
        assert urllib.request.urlopen(url + "/healthz", timeout=30).status == 200
        site.clock[0] += timedelta(minutes=5)
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(url + "/healthz", timeout=30)
        assert e.value.code == 503 and json.loads(e.value.read())["pipeline"] == "stale"
    finally:
        server.stop()


def test_healthz_says_catching_up_while_a_backlog_is_read_a_slice_per_cycle(site: Site) -> None:
    """Outside trial 18, M1: a `run` busy with a backlog answered 503 `stale`. Its cycles are bounded now, and one
    that left a backlog for the next is saved as such: /healthz says so, with 200."""
    inbox = site.pipeline.cfg.sources[0].path
    record_cycle(site.pipeline.store, site.clock[0], 4.5, {inbox: 4.0}, behind=[inbox, "engine"])
    server = start(site.pipeline, site.clock, pipeline_max_age=60.0)
    try:
        answer = urllib.request.urlopen(server.url + "/healthz", timeout=30)
        health = json.loads(answer.read())
        assert answer.status == 200 and health["pipeline"] == "catching up"
        assert health["catching_up"] == [inbox, "engine"]
        record_cycle(site.pipeline.store, site.clock[0], 0.5, {inbox: 0.1})  # caught up
        health = json.loads(urllib.request.urlopen(server.url + "/healthz", timeout=30).read())
        assert health["pipeline"] == "running" and "catching_up" not in health
    finally:
        server.stop()


def test_healthz_is_503_when_the_store_is_unreachable(tmp_path: Path) -> None:
    from watchfloor.stream_processors.stores.sql import SqlStore

    db = tmp_path / "gone" / "wf.db"
    db.parent.mkdir()
    cfg = AppConfig(store=f"sqlite:///{db}", sources=[], channels=[ConsoleChannel(name="c")], subscriptions=[])
    pipeline = EmbeddedPipeline(cfg, env={})
    clock = [datetime.now(UTC)]
    server = start(pipeline, clock)
    try:
        assert isinstance(pipeline.store, SqlStore)
        pipeline.store.close()  # the engine's connections are gone...
        shutil.rmtree(db.parent)  # ...and so is the database
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(server.url + "/healthz", timeout=30)
        body = json.loads(e.value.read())
        assert e.value.code == 503 and body["status"] == "down" and body["store"].startswith("unreachable")
    finally:
        server.stop()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_are_derived_from_the_log(site: Site) -> None:
    status, ctype, body = site.get("/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    m = samples(body)
    assert m[("watchfloor_documents_ingested_total", (("source", "Harbor Ledger"),))] == 6
    assert sum(v for (n, _), v in m.items() if n == "watchfloor_documents_ingested_total") == 12
    dead = {labels: v for (n, labels), v in m.items() if n == "watchfloor_dead_letters_total"}
    assert sum(dead.values()) == 1 and all(dict(k)["stage"] == "ingest" for k in dead)
    assert m[("watchfloor_detections_total", (("rule", "treaty-ratified"),))] == 3
    assert m[("watchfloor_signals_total", (("signal", "troop_deployment"),))] == 4
    deliveries = {
        dict(k)["channel"] + ":" + dict(k)["status"]: v for (n, k), v in m.items() if n == "watchfloor_deliveries_total"
    }
    # pager: one failed attempt; the channel then rests, its other deliveries wait outstanding (5 below)
    # (a channel's sent and failed series exist from its first outcome on, at 0 until one happens)
    assert deliveries == {"desk:sent": 7, "desk:failed": 0, "desk:suppressed": 2, "pager:failed": 1, "pager:sent": 0}
    sent_rows = m[("watchfloor_detection_to_delivery_seconds_count", ())]
    assert sent_rows == 7
    assert m[("watchfloor_detection_to_delivery_seconds_bucket", (("le", "+Inf"),))] == 7
    poll = [v for (n, k), v in m.items() if n == "watchfloor_poll_duration_seconds_count"]
    assert poll == [1]
    assert m[("watchfloor_pipeline_cycles_total", ())] == 1
    assert m[("watchfloor_silences_active", ())] == 1
    assert m[("watchfloor_subscriptions", (("channel", "desk"), ("managed_by", "config")))] == 1
    # scraping again reads only what is new: nothing changed, same numbers
    assert samples(site.get("/metrics")[2])[("watchfloor_detections_total", (("rule", "treaty-ratified"),))] == 3


def test_status_page_in_chromium(site: Site, chromium: Chromium) -> None:
    status, ctype, html = site.get("/")
    assert status == 200 and ctype.startswith("text/html")
    assert "<script" not in html.replace("&lt;script", "")  # no JavaScript of ours, and none injected
    dom = chromium.dom(site.url + "/")
    assert "<title>watchfloor — status</title>" in dom  # the injected script did not run
    alerts = dom.split('id="alerts"')[1].split("</section>")[0]
    assert alerts.count('class="alert"') == 9
    assert "North Korea and Russia sign a treaty" in alerts
    assert "Russia" in alerts and "party=" not in alerts  # groups by entity name
    assert "desk: suppressed" in alerts and "desk: sent" in alerts
    # pager's failed attempt is retried: "outstanding", as `alerts list` says (outside trial 69, L1: "failed")
    assert "pager: outstanding" in alerts and "pager: failed" not in alerts
    assert 'title="retrying; the last attempt failed: ' in alerts
    # each acknowledgement with its channel (outside trial 81, F4: two in two channels read as one made twice)
    assert "alice (via slack) in desk at" in alerts and "kim (via cli) in pager at" in alerts
    assert ": calling the &lt;b&gt;desk&lt;/b&gt;" in alerts  # its note (`alerts ack --note`), as text
    outstanding = dom.split('id="outstanding"')[1].split("</section>")[0]
    assert "Outstanding deliveries (5)" in outstanding and outstanding.count("<td>pager</td>") == 5
    subs = dom.split('id="subscriptions"')[1].split("</section>")[0]
    assert "all alerts of severity high and above" in subs and subs.count("config") >= 2
    silences = dom.split('id="silences"')[1].split("</section>")[0]
    assert "treaty-ratified" in silences and "Russia" in silences
    assert "&lt;script&gt;" in silences  # the reason is shown as text
    assert "last pipeline cycle" in dom and "Slack app off" in dom


def test_latency_counts_from_the_detection_being_raised_not_from_the_ledger(tmp_path: Path) -> None:
    """The reports came in 90 s before the dispatcher got to them: that wait is part of the latency."""
    from prometheus_client import generate_latest

    from watchfloor.producers.jsonl import read_jsonl
    from watchfloor.producers.publish import ingest
    from watchfloor.web.activity import ActivityView
    from watchfloor.web.metrics import LogCollector, registry_for

    cfg = AppConfig(
        store=f"sqlite:///{tmp_path / 'wf.db'}",
        sources=[],
        channels=[ConsoleChannel(name="desk")],
        subscriptions=[Subscription(channel="desk")],
    )
    pipeline = EmbeddedPipeline(cfg, env={})
    try:
        received = datetime.now(UTC) - timedelta(seconds=90)
        ingest(pipeline.store, read_jsonl(SAMPLES), str(SAMPLES), now=received)
        pipeline.runner.run_once()
        detections = pipeline.store.read(0, types={"detection"})
        assert detections and {se.event.received_at for se in detections} == {received}  # the raise time
        assert pipeline.dispatcher.cycle().ok
        view = ActivityView(pipeline.store)
        m = samples(generate_latest(registry_for(LogCollector(pipeline.store, view, pipeline.control))).decode())
    finally:
        pipeline.close()
    n = m[("watchfloor_detection_to_delivery_seconds_count", ())]
    assert n == len(detections) == 9
    assert m[("watchfloor_detection_to_delivery_seconds_bucket", (("le", "60.0"),))] == 0  # none counted from queueing
    assert m[("watchfloor_detection_to_delivery_seconds_sum", ())] >= 90 * n


def test_a_store_outage_is_said_on_every_page_and_logged_once(tmp_path: Path, caplog: Any) -> None:
    """Outside trial 14, H1: with the store away, the status page and /metrics answered Flask's generic 500 with a
    traceback in the log per request, and /healthz named only the error's class."""
    from watchfloor.stream_processors.stores.sql import SqlStore

    home = tmp_path / "db"
    home.mkdir()
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(SAMPLES.read_text(encoding="utf-8"))
    cfg = AppConfig(
        store=f"sqlite:///{home / 'wf.db'}",
        sources=[JsonlSource(path=str(inbox))],
        channels=[ConsoleChannel(name="desk")],
        subscriptions=[Subscription(channel="desk")],
    )
    pipeline = EmbeddedPipeline(cfg, env={})
    clock = [datetime.now(UTC)]
    summary = pipeline.poller.poll_due()
    pipeline.runner.run_once()
    record_cycle(pipeline.store, clock[0], 0.5, {s.origin: s.seconds for s in summary.sources})
    server = start(pipeline, clock)
    site = Site(server.url, pipeline, clock)
    try:
        status, _, page = site.get("/")
        assert status == 200 and "store-down" not in page
        assert samples(site.get("/metrics")[2])[("watchfloor_store_up", ())] == 1
        assert isinstance(pipeline.store, SqlStore)
        pipeline.store.close()  # the engine's connections are gone...
        home.rename(tmp_path / "away")  # ...and so is the database's directory
        with caplog.at_level(logging.DEBUG):
            for _ in range(3):  # a page refreshing, a scraper, a probe: again and again
                status, ctype, page = site.get("/")
                assert (status, ctype.split(";")[0]) == (503, "text/html")
                assert "Health: down" in page and "Internal Server Error" not in page
                assert 'id="store-down"' in page and "does not exist" in page
                status, _, text = site.get("/metrics")
                assert status == 200
                m = samples(text)
                assert m[("watchfloor_store_up", ())] == 0
                assert not any(name.startswith("watchfloor_documents") for name, _ in m)
                status, _, body = site.get("/healthz")
                health = json.loads(body)
                assert status == 503 and health["status"] == "down"
                # the reason in one line: which store (its URL) and what is wrong, not the class name alone
                assert health["store"].startswith(f"unreachable: store sqlite:///{home / 'wf.db'}: ")
                assert "does not exist" in health["store"] and "\n" not in health["store"]
        # watchfloor's own lines (waitress may add "Task queue depth is N" on a loaded machine: not ours to count)
        noisy = [r for r in caplog.records if r.levelno >= logging.INFO and not r.name.startswith("waitress")]
        assert len(noisy) == 1 and noisy[0].getMessage().startswith("the store unreachable (store sqlite:")
        assert not any(r.exc_info for r in noisy)
        caplog.clear()
        (tmp_path / "away").rename(home)  # back
        with caplog.at_level(logging.INFO):
            status, _, page = site.get("/")
            assert status == 200 and "store-down" not in page
            assert samples(site.get("/metrics")[2])[("watchfloor_store_up", ())] == 1
        assert [
            r.getMessage().split(" after ")[0]
            for r in caplog.records
            if r.levelno >= logging.INFO and not r.name.startswith("waitress")
        ] == ["the store reachable again"]
    finally:
        server.stop()
        pipeline.close()


def test_serves_silence_expiry_says_a_store_outage_once_with_the_pages(tmp_path: Path, caplog: Any) -> None:
    """Outside trial 14, H1: beside the pages, `serve` records lapsed silences every second, and said each failure
    (`could not record lapsed silences: StoreError: …`, a line a second) while the store was down."""
    from watchfloor.cli.serve import record_lapsed_silences
    from watchfloor.stream_processors.stores.sql import SqlStore
    from watchfloor.web.health import store_availability

    home = tmp_path / "db"
    home.mkdir()
    cfg = AppConfig(store=f"sqlite:///{home / 'wf.db'}", sources=[], channels=[ConsoleChannel(name="c")])
    pipeline = EmbeddedPipeline(cfg, env={})
    watch = store_availability()
    try:
        record_lapsed_silences(pipeline.control, watch)
        assert isinstance(pipeline.store, SqlStore)
        pipeline.store.close()
        home.rename(tmp_path / "away")
        with caplog.at_level(logging.INFO):
            for _ in range(5):
                record_lapsed_silences(pipeline.control, watch)
            (tmp_path / "away").rename(home)
            record_lapsed_silences(pipeline.control, watch)
        said = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
        assert len(said) == 2, said
        assert said[0].startswith("the store unreachable (store sqlite:") and "does not exist" in said[0]
        assert said[1].startswith("the store reachable again after")
    finally:
        pipeline.close()


def test_run_serve_says_a_store_outage_once_for_its_cycles_and_its_pages(
    tmp_path: Path, caplog: Any, capsys: Any
) -> None:
    """`run --serve` printed `cycle failed StoreError: …` on every cycle while its store was away. Its cycles and its
    pages share one Availability of the store: a line when the outage starts, one when it ends; the tracebacks are
    at debug level."""
    from watchfloor.cli.run import live_cycle, run_store_availability
    from watchfloor.cli.serve import start_server
    from watchfloor.stream_processors.stores.sql import SqlStore
    from watchfloor.web.activity import HeartbeatRecorder

    home = tmp_path / "db"
    home.mkdir()
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(SAMPLES.read_text(encoding="utf-8"))
    cfg = AppConfig(
        store=f"sqlite:///{home / 'wf.db'}",
        sources=[JsonlSource(path=str(inbox))],
        channels=[ConsoleChannel(name="desk")],
        subscriptions=[Subscription(channel="desk")],
    )
    pipeline = EmbeddedPipeline(cfg, env={})
    heartbeat = HeartbeatRecorder(pipeline.store, sources=[str(inbox)])
    watch = run_store_availability(0.5, serving=True)  # as `run --serve --interval 0.5` makes it
    server = start_server(cfg, pipeline.store, pipeline.control, pipeline.rules, "127.0.0.1", 0, store_watch=watch)
    site = Site(server.url, pipeline, [datetime.now(UTC)])

    def cycle() -> bool:
        return live_cycle(pipeline, heartbeat, None, None, watch, 0.5) is not None

    try:
        assert cycle() and site.get("/healthz")[0] == 200
        assert isinstance(pipeline.store, SqlStore)
        pipeline.store.close()  # the engine's connections are gone...
        home.rename(tmp_path / "away")  # ...and so is the database's directory
        capsys.readouterr()
        with caplog.at_level(logging.DEBUG):
            for _ in range(4):  # cycles, and the pages asked between them
                assert not cycle()
                assert site.get("/healthz")[0] == 503 and site.get("/")[0] == 503
            (tmp_path / "away").rename(home)  # back
            assert cycle() and site.get("/healthz")[0] == 200
        printed = capsys.readouterr().err
    finally:
        server.stop()
        pipeline.close()
    said = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and not r.name.startswith("waitress")  # its queue-depth note, under load
    ]
    assert len(said) == 2, said
    assert (
        said[0].startswith(f"the store unreachable (store sqlite:///{home / 'wf.db'}: ") and "does not exist" in said[0]
    )
    assert "each cycle tries again (every 0.5s) from the last committed checkpoints; /healthz answers 503" in said[0]
    assert said[1].startswith("the store reachable again after"), said
    assert "cycle failed" not in printed and "StoreError" not in printed, printed
    traced = [r for r in caplog.records if r.name == "watchfloor.cli.run" and r.exc_info]
    assert len(traced) == 4 and all(r.levelno == logging.DEBUG for r in traced)  # each cycle's, at debug level
