"""A broker outage in the commands that only read the pipeline's state (a live `notify`'s lag reader, `serve`'s
/metrics): their own line about it, none of kafka-python's (outside trial 55, M1: 166 of them in a 70 s outage)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.kafka import PrivateBroker
from watchfloor.stream_processors.kafka.topics import ensure_topics

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# kafka-python's words for a broker that is away (trial 55's notify.out and serve2.out)
LIBRARY_LINE = re.compile(
    r"ECONNREFUSED|No node available|Bootstrap \S+ not ready|Bootstrap connection|Connection (?:failed|lost)"
    r"|socket disconnected|Metadata refresh|Unable to bootstrap from \S+$"
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WATCHFLOOR_STORE", "WATCHFLOOR_KAFKA")}
    env["PYTHONPATH"] = str(REPO)
    env["WATCHFLOOR_LOG_TIME"] = "1"  # as the `watchfloor` program logs (its warnings reach stderr with a time)
    return env


def _config(tmp_path: Path, bootstrap: str, prefix: str) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f'store: "sqlite:///{tmp_path / "wf.db"}"\nrules: [builtin:dprk_russia]\nsources: []\nbacklog_settle: 60s\n'
        f'kafka: {{bootstrap: "{bootstrap}", prefix: "{prefix}"}}\n'
        f'channels: [{{type: file, name: archive, path: "{tmp_path / "alerts.jsonl"}"}}]\n'
        "subscriptions: [{channel: archive}]\n",
        encoding="utf-8",
    )
    return cfg


def test_a_live_notify_says_a_broker_outage_in_its_own_lines_only(private_kafka: PrivateBroker, tmp_path: Path) -> None:
    ensure_topics(private_kafka.bootstrap, "wf-quiet", 2)
    cfg = _config(tmp_path, private_kafka.bootstrap, "wf-quiet")
    log = tmp_path / "notify.err"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "watchfloor", "notify", "--config", str(cfg), "--interval", "0.5"],
            env=_env(),
            stderr=sink,
            stdout=subprocess.DEVNULL,
            cwd=tmp_path,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "notify: while the workers" not in log.read_text():
                time.sleep(0.2)
            time.sleep(3)  # (its lag read a few times with the broker up)
            before = len(log.read_text().splitlines())
            private_kafka.stop()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "cannot read the workers' lag" not in log.read_text():
                time.sleep(0.5)
            time.sleep(15)  # (many more cycles of a notify that cannot read the lag)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    during = log.read_text().splitlines()[before:]
    assert any("cannot read the workers' lag" in line for line in during), during
    assert [line for line in during if LIBRARY_LINE.search(line)] == [], during
    assert len(during) <= 4, during  # its own: the broker gone (and a reminder), the stopped line


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_metrics_scrape_with_the_broker_away_logs_one_line_of_serves_own(tmp_path: Path) -> None:
    nothing = f"127.0.0.1:{_free_port()}"  # a port where nothing listens
    cfg = _config(tmp_path, nothing, "wf-quiet")
    port = _free_port()
    log = tmp_path / "serve.err"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "watchfloor", "serve", "--config", str(cfg), "--port", str(port)],
            env=_env(),
            stderr=sink,
            stdout=subprocess.DEVNULL,
            cwd=tmp_path,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "serving http" not in log.read_text():
                time.sleep(0.2)
            before = len(log.read_text().splitlines())
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as answer:
                assert b"watchfloor_kafka_up 0" in answer.read()
            deadline = time.monotonic() + 30  # (the look goes on after the scrape is answered: 2 s at most)
            while time.monotonic() < deadline and "unreachable" not in log.read_text():
                time.sleep(0.2)
            time.sleep(1)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    during = log.read_text().splitlines()[before:]
    assert [line for line in during if LIBRARY_LINE.search(line)] == [], during
    assert any(f"Kafka broker {nothing}" in line and "unreachable" in line for line in during), during
    assert len(during) <= 2, during  # that line, and the stopped line
