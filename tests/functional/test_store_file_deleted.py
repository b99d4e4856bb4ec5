"""The store's SQLite file deleted under a live `run` (trial 19, H1): the run stops at once with one line naming the
file and what happened, exit 1, and sends nothing more (it used to go on writing into the unlinked file, and the next
start, on a new empty store, read the inbox again and sent every alert a second time). /healthz and /metrics of a
server on that store say it is down."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.log_lines import unstamped
from watchfloor.schemas.config import AppConfig, ConsoleChannel
from watchfloor.web.build import build_services
from watchfloor.web.server import WebServer, create_app
from watchfloor.wiring import EmbeddedPipeline

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"


def sent(alerts: Path) -> list[str]:
    if not alerts.exists():
        return []
    return [json.loads(line)["id"] for line in alerts.read_text(encoding="utf-8").splitlines()]


def test_a_live_run_stops_when_its_store_file_is_deleted(tmp_path: Path) -> None:
    lines = SAMPLES.read_text(encoding="utf-8").splitlines(keepends=True)
    inbox, alerts, db = tmp_path / "inbox.jsonl", tmp_path / "alerts.jsonl", tmp_path / "wf.db"
    inbox.write_text("".join(lines[:6]), encoding="utf-8")
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{db}\n"
        "rules: [builtin:dprk_russia]\n"
        f"sources: [{{kind: jsonl, path: {inbox}}}]\n"
        f"channels: [{{type: file, name: desk, path: {alerts}}}]\n"
        "subscriptions: [{channel: desk}]\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")}
    env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", WATCHFLOOR_NATIVE="0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchfloor", "run", "--config", str(cfg), "--interval", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the first cycle: its alerts delivered before its summary line
            out.append(line)
            if unstamped(line)[0].startswith("polled "):  # (a live run's lines start with their time)
                break
        before = sent(alerts)
        assert before, "".join(out)
        db.unlink()  # the operator's mistake
        with inbox.open("a", encoding="utf-8") as f:  # and news that would raise more alerts
            f.write("".join(lines[6:]))
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            rest, _ = proc.communicate(timeout=60)
            pytest.fail("`run` went on after its store file was deleted:\n" + "".join(out) + rest)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = "".join(out) + rest
    assert proc.returncode == 1, text
    assert (
        f"error: the store file {db} was deleted while this process had it open; stopping so that nothing is sent "
        "twice: restore the file before starting again (a new, empty store would read every source from the "
        "beginning and send its alerts again)"
    ) in " ".join(text.split()), text
    assert "Traceback" not in text and "could not save the last heartbeat" not in text
    assert sent(alerts) == before  # nothing more was sent into a history no restart would know
    assert not db.exists()  # and no new, empty store was made in its place


def test_healthz_and_metrics_say_the_store_is_down_when_its_file_is_deleted(tmp_path: Path) -> None:
    db = tmp_path / "wf.db"
    cfg = AppConfig(store=f"sqlite:///{db}", sources=[], channels=[ConsoleChannel(name="c")], subscriptions=[])
    pipeline = EmbeddedPipeline(cfg, env={})
    services = build_services(pipeline.cfg, pipeline.store, pipeline.control, pipeline.rules, env={})
    server = WebServer(create_app(services), "127.0.0.1", 0).start()
    try:
        with urllib.request.urlopen(server.url + "/healthz", timeout=30) as ok:
            assert json.loads(ok.read())["store"] == "ok"
        db.unlink()
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(server.url + "/healthz", timeout=30)
        body = json.loads(e.value.read())
        assert e.value.code == 503 and body["status"] == "down"
        assert body["store"] == (
            f"unreachable: store sqlite:///{db}: the store file {db} was deleted while this process had it open"
        )
        with urllib.request.urlopen(server.url + "/metrics", timeout=30) as resp:
            families = {f.name: f for f in text_string_to_metric_families(resp.read().decode())}
        assert families["watchfloor_store_up"].samples[0].value == 0
    finally:
        server.stop()
        pipeline.close()
