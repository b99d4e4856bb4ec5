"""A channel's throttle across processes: four `run --once` and `notify --once` processes racing on one store (SQLite
and PostgreSQL) hold the same alerts, post at most `max` new alert messages in the window, and send its summary
once, through a Slack server that fails and answers past the client timeout, and to a file. Counted at the local
Slack-compatible server (by the delivery keys in the messages' metadata) and in the file."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.integration.test_delivery_processes import PER_ROUND, add_round, finish, flush, spawn, write_config
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.integration

PROCESSES = 4


def _race(tmp_path: Path, store_url: str, server: FakeSlack) -> None:
    server.channels = {"#desk"}
    cfg = write_config(tmp_path, store_url, server)
    text = cfg.read_text(encoding="utf-8")
    # both channels: at most 2 new alert messages an hour (the round's alerts were raised in one hour, long ago)
    cfg.write_text(
        text.replace("timeout: 1}", "timeout: 1, throttle: 2 per 1h}").replace(
            'alerts.jsonl"}', 'alerts.jsonl", throttle: 2 per 1h}'
        ),
        encoding="utf-8",
    )
    assert cfg.read_text(encoding="utf-8").count("throttle: 2 per 1h") == 2
    keys = add_round(store_url, 0)  # 4 groups x (an alert and a follow-up), in one hour
    server.fail_next("chat.postMessage", status=500, times=2)
    server.slow_next("chat.postMessage", 1.6, times=2)  # posted, answered after the 1s client timeout
    procs = [spawn(cfg, server, "run" if i % 2 else "notify") for i in range(PROCESSES)]
    finish(procs)
    flush(cfg, server)

    # Slack: two alerts with their follow-ups as replies, and one summary of the other four (the follow-up of a
    # held alert has no message to reply under: an alert of its own, held too)
    summaries = [m for m in server.messages if (m.get("metadata") or {}).get("event_type") == "watchfloor_digest"]
    assert len(summaries) == 1, [m["metadata"] for m in summaries]
    key = summaries[0]["metadata"]["event_payload"]["alert_id"]
    assert key.startswith("thr-") and len(server.messages_for(key)) == 1
    assert summaries[0]["text"].startswith(f"{PER_ROUND - 4} more alerts held by this channel's throttle (2 per 1h)")
    posted = Counter(k for k in keys for _ in server.messages_for(k))
    assert set(posted.values()) == {1} and len(posted) == 4, posted
    top = [m for m in server.messages if m.get("thread_ts") in (None, m["ts"]) and m not in summaries]
    assert len(top) == 2
    listed = json.dumps(summaries[0]["blocks"])
    held = [k for k in keys if k not in posted]
    assert all(f"(#{int(k[3:])})" in listed for k in held), listed

    # the file: the same decisions, each line once
    records = [json.loads(x) for x in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    filed = Counter(r["key"] for r in records)
    assert set(filed.values()) == {1}, filed
    (summary,) = [r["digest"] for r in records if r["kind"] == "digest"]
    assert sorted(a["id"] for a in summary["alerts"]) == sorted(held)
    assert sorted(r["key"] for r in records if r["kind"] != "digest") == sorted(posted)
    st = open_store(store_url, create=False)
    try:
        statuses = Counter((r.channel, r.status) for r in st.deliveries())
    finally:
        st.close()
    assert statuses == Counter(
        {("desk", "sent"): 5, ("desk", "held"): 4, ("archive", "sent"): 5, ("archive", "held"): 4}
    )


def test_four_processes_throttle_alike_sqlite(tmp_path: Path, slack_server: FakeSlack) -> None:
    _race(tmp_path, f"sqlite:///{tmp_path / 'wf.db'}", slack_server)


def test_four_processes_throttle_alike_postgres(tmp_path: Path, slack_server: FakeSlack, pg_url: str) -> None:
    _race(tmp_path, pg_url, slack_server)
