"""A revision made by a report of the alert's very time, read after it with a smaller id (a feed stamping a day's
items 12:00), is told in Slack by rewriting the alert's message alone: no reply under it (a desk found the reply
noise: nothing about the story changed, only which of two reports of one time leads). The ledger's row of the
revision refers to that message, so `alerts list`, acknowledgements and buttons go on from it. A revision by a
report dated before the alert is still a reply in its thread. `watchfloor run --once`, the real slack-sdk against the
local Slack-compatible server; and a dispatcher over the Slack notifier for the revision of a follow-up (a reply)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import RETRY, Clock, detection, ledger, slack
from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import AlertCatalog
from watchfloor.cli import app
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.control import Actor
from watchfloor.schemas.events import Detection, detection_event, detection_event_id
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional

runner = CliRunner()
CHANNEL = "#desk"
EXCHANGE = "North Korea and Russia exchanged the instruments of ratification of the treaty"


def report(doc_id: str, at: str, source: str = "Channel One") -> str:
    doc = {
        "type": "news.article",
        "id": doc_id,
        "published_at": at,
        "source": source,
        "url": f"https://news.example/{doc_id}",
        "title": EXCHANGE,
    }
    return json.dumps(doc) + "\n"


def config(tmp_path: Path, server: FakeSlack, inbox: Path) -> Path:
    path = tmp_path / "watchfloor.yaml"
    path.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {inbox}}}
channels:
  - {{type: slack, name: desk, channel: "{CHANNEL}", token_env: WF_TEST_SLACK, base_url: "{server.base_url}"}}
subscriptions:
  - {{channel: desk}}
""",
        encoding="utf-8",
    )
    return path


def cli(cfg: Path, server: FakeSlack, *args: str) -> str:
    res = runner.invoke(app, [*args, "--config", str(cfg)], env={"WF_TEST_SLACK": server.token, "WATCHFLOOR_STORE": ""})
    assert res.exit_code == 0, res.output
    return res.stdout


def listed(cfg: Path, server: FakeSlack) -> list[dict[str, Any]]:
    """`alerts list --json` of the exchange rule's alerts, in log order."""
    out = cli(cfg, server, "alerts", "list", "--json")
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [a for a in lines if a.get("rule") == "ratification-exchange"]


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"]) + message["text"]


def test_a_same_time_revision_rewrites_the_message_and_posts_no_reply(tmp_path: Path, slack_server: FakeSlack) -> None:
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(report("1tv-500", "2024-10-28T12:00:00Z"), encoding="utf-8")
    cfg = config(tmp_path, slack_server, inbox)

    cli(cfg, slack_server, "run", "--once")
    [first] = listed(cfg, slack_server)
    [posted] = slack_server.messages  # the alert's message, of its own
    assert posted.get("thread_ts") is None and "news.example/1tv-500" in text_of(posted)
    channel_id = slack_server.channel_id(CHANNEL)
    ref = f"{channel_id}:{posted['ts']}"
    assert first["delivery_details"]["desk"]["ref"] == ref

    # A report of the very same time with a smaller id, read a poll later: it leads the alert now (a revision).
    with inbox.open("a", encoding="utf-8") as f:
        f.write(report("1tv-499", "2024-10-28T12:00:00Z"))
    cli(cfg, slack_server, "run", "--once")
    _, revised = listed(cfg, slack_server)
    assert revised["revises"] == first["id"]
    assert revised["evidence"][0]["event_id"] == "1tv-499"

    # No new message, no reply: the alert's message is rewritten in place, showing the new lead report ...
    assert slack_server.messages == [posted] and slack_server.thread(posted["ts"]) == []
    assert [u["ts"] for u in slack_server.updates] == [posted["ts"]]
    now = slack_server.message(CHANNEL, posted["ts"])
    shown = text_of(now)
    assert "news.example/1tv-499" in shown and f"alert {revised['id']}" in shown
    at = "<!date^1730116800^{date_num} {time}|2024-10-28 12:00 UTC>"  # Slack's date token: the reader's timezone
    assert f"A report of the same time ({at}), read after this alert was raised, now leads it" in shown
    assert "see the thread" not in shown and "late report" not in shown  # (there is no reply to see)
    # ... whose buttons act on the alert it shows now
    values = [e["value"] for b in now["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert values and all(revised["id"] in v for v in values)
    # The ledger's row of the revision is sent, and refers to that message (for alerts list, acks, redelivery).
    row = revised["delivery_details"]["desk"]
    assert (row["status"], row["kind"], row["ref"]) == ("sent", "revision", ref), row
    assert row["detail"].startswith("told quietly: its alert's message rewritten, no reply"), row

    # Acknowledged from the command line: the dispatcher shows it on that message, found through the revision's row.
    cli(cfg, slack_server, "alerts", "ack", revised["id"])
    cli(cfg, slack_server, "run", "--once")
    assert slack_server.messages == [posted]
    assert "Acknowledged by" in text_of(slack_server.message(CHANNEL, posted["ts"]))

    # A report dated before the alert (a late report) still revises it with a reply in its thread, as before.
    with inbox.open("a", encoding="utf-8") as f:
        f.write(report("1tv-498", "2024-10-28T11:00:00Z"))
    cli(cfg, slack_server, "run", "--once")
    late = listed(cfg, slack_server)[-1]
    assert late["revises"] == revised["id"] and late["evidence"][0]["event_id"] == "1tv-498"
    [reply] = slack_server.thread(posted["ts"])
    assert reply["metadata"]["event_payload"]["kind"] == "revision"
    assert "A late report changed" in text_of(reply)
    assert late["delivery_details"]["desk"]["ref"] == f"{channel_id}:{reply['ts']}"
    assert "(see the thread)" in text_of(slack_server.message(CHANNEL, posted["ts"]))


def test_a_failed_rewrite_is_tried_again_as_a_rewrite_never_as_a_reply(tmp_path: Path, slack_server: FakeSlack) -> None:
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(report("1tv-500", "2024-10-28T12:00:00Z"), encoding="utf-8")
    cfg = config(tmp_path, slack_server, inbox)
    cli(cfg, slack_server, "run", "--once")
    [posted] = slack_server.messages
    ref = f"{slack_server.channel_id(CHANNEL)}:{posted['ts']}"

    # Slack fails the rewrite in a way that may have got through (internal_error): the delivery stays outstanding.
    with inbox.open("a", encoding="utf-8") as f:
        f.write(report("1tv-499", "2024-10-28T12:00:00Z"))
    slack_server.fail_next("chat.update", status=200, body={"ok": False, "error": "internal_error"})
    res = runner.invoke(
        app, ["run", "--once", "--config", str(cfg)], env={"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": ""}
    )
    assert res.exit_code == 3, res.output  # (not everything was delivered)
    row = listed(cfg, slack_server)[-1]["delivery_details"]["desk"]
    assert (row["status"], row["ref"]) == ("outstanding", ref) and "no reply is posted" in row["detail"], row
    assert slack_server.messages == [posted]

    cli(cfg, slack_server, "run", "--once")  # the next run rewrites it, and posts nothing
    row = listed(cfg, slack_server)[-1]["delivery_details"]["desk"]
    assert (row["status"], row["ref"]) == ("sent", ref), row
    assert slack_server.messages == [posted] and slack_server.thread(posted["ts"]) == []
    assert "news.example/1tv-499" in text_of(slack_server.message(CHANNEL, posted["ts"]))


def troops(n: int, minutes: int, **kw: object) -> Detection:
    return detection(n, rule="troops", group={"party": "RUS"}, minutes=minutes, **kw)  # type: ignore[arg-type]


def test_a_same_time_revision_of_a_follow_up_rewrites_that_reply_and_the_first_message(
    slack_server: FakeSlack,
) -> None:
    store, clock = MemoryStore(), Clock()
    control = ControlLog(store)
    control.reconcile_config([Subscription(channel="desk")])
    catalog = AlertCatalog(open_periods={"troops": timedelta(days=2)})
    d = AlertDispatcher(store, {"desk": slack(slack_server, channel=CHANNEL)}, [], RETRY, now=clock, routing=control,
                        catalog=catalog)  # fmt: skip
    store.append([detection_event(troops(1, 60)), detection_event(troops(2, 120))])
    assert d.cycle().ok
    first, follow = slack_server.messages
    assert follow["thread_ts"] == first["ts"]
    channel_id = slack_server.channel_id(CHANNEL)

    same_time = troops(3, 120, revises="det0002", revision=1, same_time=True)
    store.append([detection_event(same_time)])
    assert d.cycle().ok
    assert slack_server.messages == [first, follow]  # no reply, no message
    assert [u["ts"] for u in slack_server.updates] == [first["ts"], follow["ts"], first["ts"]]
    reply = text_of(slack_server.message(CHANNEL, follow["ts"]))
    assert "A report of the same time" in reply and "alert det0003" in reply and "see the thread" not in reply
    top = text_of(slack_server.message(CHANNEL, first["ts"]))
    assert "1 update in the thread" in top  # the follow-up: the quiet revision is none
    row = ledger(store)[(detection_event_id(same_time), "desk")]
    assert (row.status, row.ref) == ("sent", f"{channel_id}:{follow['ts']}"), row

    # `alerts ack det0003` is shown on the reply that shows it, found through the revision's row
    control.acknowledge("det0003", by=Actor(via="cli", name="kim"))
    assert d.cycle().ok
    assert "Acknowledged by kim" in text_of(slack_server.message(CHANNEL, follow["ts"]))
    assert slack_server.messages == [first, follow]
