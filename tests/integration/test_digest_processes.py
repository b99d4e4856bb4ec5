"""Digests, never twice across processes: `run --once` and `notify --once` processes racing on one store (SQLite
and PostgreSQL) send each channel's digest of a slot once (#desk has two overlapping digest subscriptions: one
digest listing each alert once), through a Slack server that fails and answers past the client timeout, and to a
file; the digest lists the alerts since the subscription was made. Counted at the local Slack-compatible server (by
the digest key in the messages' metadata) and in the file.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.integration.test_delivery_processes import add_round, finish, flush, spawn, write_config
from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.notice import Digest
from watchfloor.schemas.control import Actor
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.integration

PROCESSES = 4
ALICE = Actor(via="cli", user="alice")


def subscribe_digests(store_url: str) -> dict[str, str]:
    """A digest subscription per channel, made two days ago, due three hours ago every day (so the slot the
    processes plan cannot change while the test runs): {subscription id: channel}."""
    now = datetime.now(UTC)
    due = now - timedelta(hours=3)
    spec = f"daily {due.hour:02d}:{due.minute:02d} UTC"
    st = open_store(store_url)
    try:
        control = ControlLog(st, now=lambda: now - timedelta(days=2))
        subs = [control.subscribe(ch, digest=spec, by=ALICE)[0] for ch in ("desk", "archive")]
        # An overlapping second digest subscription of #desk at the same slot: still one digest there, each alert once.
        control.subscribe("desk", digest=spec, min_severity="high", by=ALICE)
    finally:
        st.close()
    return {s.id: s.channel for s in subs}


def _race(tmp_path: Path, store_url: str, server: FakeSlack) -> None:
    server.channels = {"#desk"}
    cfg = write_config(tmp_path, store_url, server)
    subs = subscribe_digests(store_url)
    keys = add_round(store_url, 0)  # alerts (per-alert subscriptions) and the digests' contents
    server.fail_next("chat.postMessage", status=500, times=2)
    server.slow_next("chat.postMessage", 1.6, times=2)  # posted, answered after the 1s client timeout
    procs = [spawn(cfg, server, "run" if i % 2 else "notify") for i in range(PROCESSES)]
    finish(procs)
    flush(cfg, server)

    digests = [m for m in server.messages if (m.get("metadata") or {}).get("event_type") == "watchfloor_digest"]
    assert len(digests) == 1, [m["metadata"] for m in digests]
    key = digests[0]["metadata"]["event_payload"]["alert_id"]
    assert len(server.messages_for(key)) == 1
    assert digests[0]["blocks"][0]["text"]["text"].startswith(f"watchfloor digest · {len(keys)} alerts ")
    records = [json.loads(x) for x in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    filed = Counter(r["key"] for r in records if r.get("kind") == "digest")
    assert list(filed.values()) == [1], filed
    (record,) = [r["digest"] for r in records if r.get("kind") == "digest"]
    assert subs[record["subscription"]] == "archive"
    told = [a["id"] for a in record["alerts"]] + [e for a in record["alerts"] for e in a["earlier"]]
    assert sorted(told) == sorted(keys)  # every alert, each story once (its earlier alerts with the newest)
    # The per-alert deliveries went on beside them, each once.
    assert all(len(server.messages_for(k)) == 1 for k in keys)
    st = open_store(store_url, create=False)
    try:
        rows = [r for r in st.deliveries() if r.kind == "digest"]
    finally:
        st.close()
    assert sorted((r.channel, r.status) for r in rows) == [("archive", "sent"), ("desk", "sent")]
    desk = Digest.from_payload(next(r for r in rows if r.channel == "desk").payload)
    assert desk is not None and len(desk.subscription_ids) == 2
    assert sorted(desk.alert_ids()) == sorted(keys)  # each alert once, though both subscriptions match it


def test_four_processes_send_each_digest_once_sqlite(tmp_path: Path, slack_server: FakeSlack) -> None:
    _race(tmp_path, f"sqlite:///{tmp_path / 'wf.db'}", slack_server)


def test_four_processes_send_each_digest_once_postgres(tmp_path: Path, slack_server: FakeSlack, pg_url: str) -> None:
    _race(tmp_path, pg_url, slack_server)
