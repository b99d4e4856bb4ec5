"""A late report that changes an alert already sent reaches the channel as an update of that alert, never as a
silent divergence: `watchfloor run --once` twice, the real slack-sdk against the local Slack-compatible server.

The bundled samples, with the JSON Lines source's last item (Harbor Ledger, 16 Dec: North Korean soldiers
killed and wounded in Kursk) missing from the first run. The first run sends `troop-engagement` on the wire
feed's report of 17 Dec. Then the file grows with the earlier report: in event-time order it is the one that
raises the alert, and the wire feed's report a day later corroborates it. The second run revises the alert
already sent (a reply in its thread, and the first message rewritten with chat.update) and escalates it (a
follow-up in the same thread); the alerts that stand are exactly `watchfloor backtest`'s over the same files,
and every change the engine raised was posted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.cli import app
from watchfloor.schemas.events import Detection, EventType
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

runner = CliRunner()
SAMPLES = Path(__file__).resolve().parents[2] / "watchfloor" / "samples"
ALERT_EVENTS = {EventType.DETECTION.value, EventType.RETRACTION.value}


def config(tmp_path: Path, server: FakeSlack, inbox: Path) -> Path:
    path = tmp_path / "watchfloor.yaml"
    path.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {inbox}}}
  - {{kind: rss, url: {SAMPLES / "wire_feed.xml"}}}
channels:
  - {{type: slack, name: desk, channel: "#dprk-russia", token_env: WF_TEST_SLACK, base_url: "{server.base_url}"}}
subscriptions:
  - {{channel: desk}}
""",
        encoding="utf-8",
    )
    return path


def run_once(cfg: Path, server: FakeSlack) -> None:
    res = runner.invoke(
        app, ["run", "--once", "--config", str(cfg)], env={"WF_TEST_SLACK": server.token, "WATCHFLOOR_STORE": ""}
    )
    assert res.exit_code == 0, res.output


def raised(tmp_path: Path) -> list[tuple[str, dict[str, Any]]]:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        return [(se.event.id, se.event.payload) for se in store.read(types=ALERT_EVENTS, limit=10_000)]
    finally:
        store.close()


def standing(tmp_path: Path) -> dict[str, Detection]:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        return current_alerts(se.event for se in store.read(types=ALERT_EVENTS, limit=10_000))
    finally:
        store.close()


def kind(m: dict[str, Any]) -> str:
    return str(m["metadata"]["event_payload"].get("kind", "alert"))


def alert_id(m: dict[str, Any]) -> str:
    return str(m["metadata"]["event_payload"]["alert_id"])


def top_level(server: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in server.messages if m.get("thread_ts") in (None, m["ts"])]


def test_a_late_report_revises_the_alert_sent_in_its_thread(tmp_path: Path, slack_server: FakeSlack) -> None:
    lines = (SAMPLES / "dprk_russia_2024.jsonl").read_text(encoding="utf-8").splitlines()
    late = json.loads(lines[-1])
    assert (late["source"], late["published_at"][:10]) == ("Harbor Ledger", "2024-12-16")
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    cfg = config(tmp_path, slack_server, inbox)

    run_once(cfg, slack_server)
    [sent] = [d for d in standing(tmp_path).values() if d.rule == "troop-engagement"]
    assert (sent.severity, sent.confidence) == ("medium", "unconfirmed")  # the wire feed's report alone
    [first] = [m for m in top_level(slack_server) if alert_id(m) == sent.id]
    messages_before = len(slack_server.messages)
    assert slack_server.updates == []

    inbox.write_text("\n".join(lines) + "\n", encoding="utf-8")  # the earlier report arrives a run later
    run_once(cfg, slack_server)

    # The outcome is the backtest's over the same files (rules, groups, severities, evidence).
    out = tmp_path / "backtest.json"
    res = runner.invoke(app, ["backtest", str(SAMPLES / "dprk_russia_2024.jsonl"), str(SAMPLES / "wire_feed.xml"),
                              "--json", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    expected = sorted(
        (a["id"], a["rule"], a["severity"], a["confidence"], tuple(sorted(e["event_id"] for e in a["evidence"])))
        for a in json.loads(out.read_text())["alerts"]
    )
    now = standing(tmp_path)
    got = sorted(
        (d.id, d.rule, d.severity, d.confidence, tuple(sorted(e.event_id for e in d.evidence))) for d in now.values()
    )
    assert got == expected
    assert sent.id not in now  # the alert sent first was replaced ...
    engagement = sorted((d for d in now.values() if d.rule == "troop-engagement"), key=lambda d: d.fired_at)
    assert [(d.severity, d.confidence) for d in engagement] == [("medium", "unconfirmed"), ("high", "confirmed")]
    assert engagement[0].revises == sent.id and engagement[0].evidence[0].event_id == late["id"]

    # ... and the channel was told, in the thread of the message already sent: no new top-level alert for it.
    new = slack_server.messages[messages_before:]
    assert all(m.get("thread_ts") == first["ts"] for m in new), [kind(m) for m in new]
    replies = slack_server.thread(first["ts"])
    detection_of = {eid: payload.get("id") for eid, payload in raised(tmp_path)}  # delivery key -> alert
    assert [(kind(m), detection_of[alert_id(m)]) for m in replies] == [
        ("revision", engagement[0].id),
        ("followup", engagement[1].id),
    ]
    assert first["ts"] in {u["ts"] for u in slack_server.updates}  # chat.update rewrote the first message
    rewritten = slack_server.message("#dprk-russia", first["ts"])
    # It shows the alert that stands now (the revised one: its evidence), at the thread's severity, not the alert
    # the late report replaced; its footer names the thread's newest alert, which its buttons act on, and the first.
    shown = json.dumps(rewritten["blocks"])
    assert f"alert {engagement[1].id}, fired " in shown and f" first: {engagement[0].id}, fired " in shown
    assert sent.id not in shown
    assert "Harbor Ledger" in shown and "HIGH" in rewritten["text"]

    # Every change the engine raised was posted (each event once), nothing else.
    posted = [alert_id(m) for m in slack_server.messages]
    assert sorted(posted) == sorted(eid for eid, _payload in raised(tmp_path))


def test_a_late_report_replies_in_its_own_thread_after_a_future_dated_one(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Outside audit, case A: after an item dated 2099 (processed at its receive time, so it starts a thread of its
    own, now), a late report of December 2024 went to a new top-level message: the thread chosen for a follow-up was
    the newest by arrival (the 2099 one, years away), not the one of the story the report is part of."""
    lines = (SAMPLES / "dprk_russia_2024.jsonl").read_text(encoding="utf-8").splitlines()
    typo = {
        "type": "news.article",
        "id": "typo-2099",
        "published_at": "2099-01-01T00:00:00Z",  # a year typed wrong by the source
        "source": "Typo Wire",
        "title": "North Korean soldiers killed and wounded in Kursk fighting, officials say",
    }
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    cfg = config(tmp_path, slack_server, inbox)
    run_once(cfg, slack_server)
    [sent] = [d for d in standing(tmp_path).values() if d.rule == "troop-engagement"]  # the wire feed's, 17 Dec
    [first] = [m for m in top_level(slack_server) if alert_id(m) == sent.id]

    inbox.write_text("\n".join([*lines[:-1], json.dumps(typo)]) + "\n", encoding="utf-8")
    run_once(cfg, slack_server)  # the 2099 item: a thread of its own, started after the wire feed's
    assert len([d for d in standing(tmp_path).values() if d.rule == "troop-engagement"]) == 2
    messages_before = len(slack_server.messages)

    inbox.write_text("\n".join([*lines, json.dumps(typo)]) + "\n", encoding="utf-8")  # the report of 16 Dec, late
    run_once(cfg, slack_server)

    new = slack_server.messages[messages_before:]
    assert new and all(m.get("thread_ts") == first["ts"] for m in new), [(kind(m), m.get("thread_ts")) for m in new]
    rewritten = slack_server.message("#dprk-russia", first["ts"])
    assert "HIGH" in rewritten["text"]  # corroborated now: the first message says so
