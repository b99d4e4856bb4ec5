"""A backfill of late reports revises one alert again and again within a run: the channel gets one reply and one
update per message revised, not one per report. `watchfloor run --once` per poll, the real slack-sdk against the
local Slack-compatible server.

A feed that lists older items late (an archive page, a slow mirror of the same story) adds, poll after poll, ten
reports older than everything before. Each one moves a `count` alert's window earlier, so the engine raises a
chain of revisions (each revising the one before) in one run. Before, every link was posted as a "Revised" reply
with a chat.update: here 28 messages and 27 updates for 40 reports (now 6 and 5). Now a revision that a
later one revises before it was sent is settled `suppressed` ("replaced before it was sent", in the log as any
delivery), and the last one goes, as a revision of the message the channel has.

Two faults of revision chains are pinned here too: a revision of a revision rewrote the previous revision's
reply, so the thread's first message kept showing an alert replaced long ago; and past 8 links a reply was
posted under a reply.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.notice import REPLACED
from watchfloor.cli import app
from watchfloor.schemas.events import Detection, EventType
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

runner = CliRunner()
ALERT_EVENTS = {EventType.DETECTION.value, EventType.RETRACTION.value}

PACK = """\
version: 2
name: shelling-burst
signals:
  shelling:
    match: {any: ["shelled the depot"]}
detections:
  - id: depot-shelled
    title: "Depot shelled, several reports"
    severity: medium
    pattern: {count: {signal: shelling, at_least: 3, distinct: document}}
    within: 2d
    realert: 1d
"""


def report(i: int) -> dict[str, Any]:
    at = datetime(2024, 10, 1, tzinfo=UTC) + timedelta(hours=i)
    return {
        "type": "news.article",
        "id": f"depot-{i:03d}",
        "published_at": at.isoformat(),
        "source": f"Outlet {i % 5}",
        "title": f"Update {i} from the front",
        "body": f"Drones shelled the depot again overnight, the {i}th such account.",
    }


def config(tmp_path: Path, server: FakeSlack, inbox: Path) -> Path:
    (tmp_path / "pack.yaml").write_text(PACK, encoding="utf-8")
    path = tmp_path / "watchfloor.yaml"
    path.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [{tmp_path / "pack.yaml"}]
sources:
  - {{kind: jsonl, path: {inbox}}}
channels:
  - {{type: slack, name: desk, channel: "#front", token_env: WF_TEST_SLACK, base_url: "{server.base_url}"}}
subscriptions:
  - {{channel: desk}}
""",
        encoding="utf-8",
    )
    return path


def run_once(cfg: Path, server: FakeSlack) -> str:
    res = runner.invoke(
        app, ["run", "--once", "--config", str(cfg)], env={"WF_TEST_SLACK": server.token, "WATCHFLOOR_STORE": ""}
    )
    assert res.exit_code == 0, res.output
    return res.output


def standing_alerts(tmp_path: Path) -> dict[str, Detection]:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        return current_alerts(se.event for se in store.read(types=ALERT_EVENTS, limit=10_000))
    finally:
        store.close()


def revisions_raised(tmp_path: Path) -> int:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        dets = [se.event.payload for se in store.read(types={EventType.DETECTION.value}, limit=10_000)]
        return sum(1 for d in dets if d.get("revises"))
    finally:
        store.close()


def kind(m: dict[str, Any]) -> str:
    return str(m["metadata"]["event_payload"].get("kind", "alert"))


def test_a_burst_of_revisions_is_one_reply_and_one_update_per_poll(tmp_path: Path, slack_server: FakeSlack) -> None:
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("", encoding="utf-8")
    cfg = config(tmp_path, slack_server, inbox)
    reports = [report(i) for i in range(40)]
    per_poll: list[tuple[int, int]] = []
    for poll in range(4):  # the newest ten first, then ten older each poll, each poll listed newest first
        chunk = reports[40 - 10 * (poll + 1) : 40 - 10 * poll]
        with inbox.open("a", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in reversed(chunk))
        posts, updates = len(slack_server.messages), len(slack_server.updates)
        said = run_once(cfg, slack_server)
        told = sum(1 for m in slack_server.messages if kind(m) in ("alert", "followup"))  # messages to revise
        revised = [m for m in slack_server.messages[posts:] if kind(m) == "revision"]
        per_poll.append((len(revised), len(slack_server.updates) - updates))
        # at most one "Revised" reply per message the channel had, however many times the poll revised it
        assert len(revised) <= told, (poll, per_poll)
        if poll:
            assert "replaced before sending by a later revision" in said, said
    # The engine still raises every revision (replay == live); only the channel is spared the chain.
    assert revisions_raised(tmp_path) > 3 * len(per_poll)
    assert sum(n for n, _ in per_poll) <= 6 and sum(u for _, u in per_poll) <= 8, per_poll
    assert len(slack_server.messages) <= 8  # 28 when every link was posted

    # What the channel shows is what stands: every standing alert is the one its message shows.
    now = standing_alerts(tmp_path)
    top = [m for m in slack_server.messages if m.get("thread_ts") in (None, m["ts"])]
    for m in [*top, *(m for m in slack_server.messages if kind(m) == "followup")]:
        shown = json.dumps(slack_server.message("#front", m["ts"])["blocks"])
        assert any(f"alert {d.id}" in shown for d in now.values()), (re.findall(r"alert [0-9a-f]+", shown), list(now))

    # Each revision not sent is in the ledger and the log, with why; none is outstanding.
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        rows = store.deliveries(channel="desk")
        replaced = [r for r in rows if r.kind == "revision" and r.status == "suppressed"]
        assert replaced and all(r.detail.startswith(REPLACED) for r in replaced)
        assert not [r for r in rows if r.status == "outstanding"]
        logged = {
            se.event.payload["alert_id"]
            for se in store.read(types={EventType.DELIVERY.value}, limit=10_000)
            if se.event.payload["status"] == "suppressed"
        }
        assert {r.alert_id for r in replaced} <= logged
        # Every revision the channel got replies in the thread of a message it has, never at the top level.
        sent_revisions = [r for r in rows if r.kind == "revision" and r.status == "sent"]
        # (a revision sent in place of a follow-up replaced before it was sent is that follow-up in the channel)
        sent_as = {m["metadata"]["event_payload"]["alert_id"]: kind(m) for m in slack_server.messages}
        assert {r.alert_id for r in sent_revisions} <= set(sent_as)
        assert sum(1 for r in sent_revisions if sent_as[r.alert_id] == "revision") == sum(n for n, _ in per_poll)
    finally:
        store.close()
    assert all(kind(m) == "alert" for m in top)
    # Every reply is in the thread of a top-level message (a revision of a revision once replied to the reply)
    assert {m["thread_ts"] for m in slack_server.messages if m not in top} <= {m["ts"] for m in top}


TWO_SOURCES_PACK = """\
version: 2
name: crossing
signals:
  closure:
    match: {any: ["closed the border crossing"]}
detections:
  - id: crossing-closed
    title: "Border crossing closed"
    severity: high
    pattern: {any: closure}
    realert: 1d
"""


def test_an_alert_revised_while_slack_was_down_reaches_the_channel_once_as_it_stands(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Two feeds in one poll while Slack refuses posts: the fast one's report raises the alert, the slow one's
    earlier report revises it. Both wait in the ledger; when Slack is back the channel gets the alert that
    stands as one message (no 'Revised' reply, no rewrite), and the alert never sent is recorded as replaced."""
    (tmp_path / "pack.yaml").write_text(TWO_SOURCES_PACK, encoding="utf-8")
    fast, slow = tmp_path / "fast.jsonl", tmp_path / "slow.jsonl"
    for path, n, source, at in ((fast, 1, "Fast Wire", "12:00"), (slow, 2, "Slow Daily", "08:00")):
        item = {
            "type": "news.article",
            "id": f"crossing-{n}",
            "source": source,
            "published_at": f"2024-11-02T{at}:00+00:00",
            "title": f"Crossing report {n}",
            "body": "Guards closed the border crossing this morning.",
        }
        path.write_text(json.dumps(item) + "\n", encoding="utf-8")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [{tmp_path / "pack.yaml"}]
sources:
  - {{kind: jsonl, path: {fast}}}
  - {{kind: jsonl, path: {slow}}}
channels:
  - {{type: slack, name: desk, channel: "#border", token_env: WF_TEST_SLACK, base_url: "{slack_server.base_url}"}}
subscriptions:
  - {{channel: desk}}
""",
        encoding="utf-8",
    )
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": ""}
    slack_server.fail_next("chat.postMessage", 200, {"ok": False, "error": "ratelimited"})  # refused: not posted
    down = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    assert down.exit_code == 3 and slack_server.messages == [], down.output  # 3: deliveries outstanding
    up = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    assert up.exit_code == 0, up.output
    # (the poll's two sources are delivered together: the alert is replaced in the first run already)
    assert "1 replaced before sending by a later revision" in down.output + up.output, down.output + up.output

    (standing,) = standing_alerts(tmp_path).values()
    assert standing.revises and standing.evidence[0].event_id == "crossing-2"  # the earlier report's alert
    (message,) = slack_server.messages  # one message, top-level, showing the alert that stands
    assert message.get("thread_ts") is None and slack_server.updates == []
    assert f"alert {standing.id}" in json.dumps(message["blocks"]) and "Revise" not in json.dumps(message["blocks"])
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        rows = {r.kind: r for r in store.deliveries(channel="desk")}
    finally:
        store.close()
    assert rows["alert"].status == "suppressed" and rows["alert"].detail.startswith(REPLACED)
    assert rows["revision"].status == "sent"
