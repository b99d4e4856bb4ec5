"""`status` names the source that holds the published watermark back, and until when (outside trial 67, MED-3).

A finished `produce --once` of older feeds held the pipeline's event time for `event_time.idle_after` (1 h) while a
live producer sent newer reports, as designed (docs/architecture.md, "Watermarks per origin"): nothing said which
source held it, so a report days behind the others passing unflagged had no explanation. Real broker, real processes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.kafka import topic_prefix
from tests.fixtures.log_lines import unstamped
from tests.fixtures.watchfloor_process import command_env
from tests.integration.test_kafka_metrics import closed_port, scrape

pytest.importorskip("kafka")

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def lines(name: str, dates: list[str]) -> str:
    return "".join(
        json.dumps(
            {"type": "news.article", "id": f"{name}-{i}", "published_at": at, "source": name, "title": f"{name} {i}"}
        )
        + "\n"
        for i, at in enumerate(dates)
    )


@pytest.fixture
def prefix(kafka_admin: Any) -> Iterator[str]:
    with topic_prefix(kafka_admin, "wf-holder") as p:
        yield p


def watchfloor(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchfloor", *args],
        cwd=cwd, env=command_env(), capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_status_names_the_source_holding_the_watermark(tmp_path: Path, kafka_bootstrap: str, prefix: str) -> None:
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    old.write_text(lines("Old Wire", ["2024-11-12T19:11:22+00:00"]), encoding="utf-8")
    new.write_text(lines("New Wire", ["2025-10-01T08:00:00+00:00", "2025-10-02T08:00:00+00:00"]), encoding="utf-8")
    cfg = tmp_path / "desk.yaml"
    cfg.write_text(
        f"store: 'sqlite:///{tmp_path / 'outbox.db'}'\n"
        f"kafka: {{bootstrap: '{kafka_bootstrap}', prefix: {prefix}, partitions: 1}}\n",
        encoding="utf-8",
    )
    for source in (old, new):  # one --once after the other, into one store: the first's source holds W
        done = watchfloor(tmp_path, "produce", "--config", str(cfg), "--once", str(source))
        assert done.returncode == 0, done.stderr
    got = watchfloor(tmp_path, "status", "--config", str(cfg), "--json")
    held = json.loads(got.stdout)["watermark_held_by"]
    assert (held["origin"], held["watermark"]) == (str(old), "2024-11-12T19:11:22+00:00"), got.stdout
    assert held["until"] > held["received"], held  # received + event_time.idle_after
    text = " ".join(watchfloor(tmp_path, "status", "--config", str(cfg)).stdout.split())
    assert f"watermark held by source {old}: its newest report is dated 2024-11-12T19:11:22+00:00" in text, text
    assert "silent for event_time.idle_after (1:00:00)" in text, text
    # /metrics of a `serve` on that store: a series labelled with the source, valued its newest receive time
    port = closed_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "watchfloor", "serve", "--config", str(cfg), "--port", str(port)],
        cwd=tmp_path, env=command_env(), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert serve.stderr is not None
        assert unstamped(serve.stderr.readline())[0].startswith("serving")
        m = scrape(f"http://127.0.0.1:{port}")
        received = datetime.fromisoformat(held["received"]).timestamp()
        assert m[("watchfloor_kafka_watermark_held_by", (("origin", str(old)),))] == received, m
    finally:
        serve.terminate()
        serve.communicate(timeout=60)


def test_a_backfill_behind_the_watermark_holds_nothing_and_the_live_source_is_named(
    tmp_path: Path, kafka_bootstrap: str, prefix: str
) -> None:
    """Outside trial 75, F7: a backfill source added to a desk on Kafka, all its reports older than the published W,
    then newer live reports produced: W stayed where it was for an hour, and `status` said `"watermark_held_by":
    null`. W moves on with the live source, and the live source is named as the one holding it from there."""
    live, backfill = tmp_path / "live.jsonl", tmp_path / "backfill.jsonl"
    live.write_text(lines("Live Wire", ["2025-10-01T08:00:00+00:00"]), encoding="utf-8")
    backfill.write_text(lines("Archive", ["2025-01-05T08:00:00+00:00", "2025-01-06T08:00:00+00:00"]), "utf-8")
    cfg = tmp_path / "desk.yaml"
    desk = (
        f"store: 'sqlite:///{tmp_path / 'outbox.db'}'\n"
        f"kafka: {{bootstrap: '{kafka_bootstrap}', prefix: {prefix}, partitions: 1}}\n"
        f"sources: [{{kind: jsonl, path: '{live}'}}__MORE__]\n"
    )

    def produce_once(sources: str) -> None:
        cfg.write_text(desk.replace("__MORE__", sources), encoding="utf-8")
        done = watchfloor(tmp_path, "produce", "--config", str(cfg), "--once")
        assert done.returncode == 0, done.stderr

    produce_once("")  # the live source alone: W is its newest report
    produce_once(f", {{kind: jsonl, path: '{backfill}'}}")  # the backfill added: every report of it older than W
    with live.open("a", encoding="utf-8") as f:  # then the next day's live reports
        f.write(lines("Live Wire, day 2", ["2025-10-02T08:00:00+00:00", "2025-10-02T09:30:00+00:00"]))
    produce_once(f", {{kind: jsonl, path: '{backfill}'}}")
    got = json.loads(watchfloor(tmp_path, "status", "--config", str(cfg), "--json").stdout)
    assert got["watermark"] == datetime.fromisoformat("2025-10-02T09:30:00+00:00").timestamp(), got
    held = got["watermark_held_by"]
    assert held is not None and (held["origin"], held["watermark"]) == (str(live), "2025-10-02T09:30:00+00:00"), got
