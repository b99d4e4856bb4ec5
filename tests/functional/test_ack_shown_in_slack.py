"""An alert acknowledged elsewhere than on its Slack message (`watchfloor alerts ack`, another channel's button) is
shown acknowledged on its Slack messages by the dispatcher (outside user trial, L1): once, durably, and never
blocking other deliveries. Against the local Slack-compatible server (conversations.replies, chat.update)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import RETRY, Clock, detection, ledger, slack
from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import AlertCatalog, ack_key
from watchfloor.alerts.notifiers.base import Notifier
from watchfloor.alerts.slackapp.buttons import ButtonValue, parse_button_value
from watchfloor.alerts.slackapp.clicks import acknowledged_blocks
from watchfloor.cli import app
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.control import Actor
from watchfloor.schemas.events import Detection, detection_event
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional

CATALOG = AlertCatalog(open_periods={"troops": timedelta(days=2)})
KIM = Actor(via="cli", name="kim")
CHANNEL = "#dprk-russia"
EVENTS = Path(__file__).resolve().parents[2] / "tests" / "data" / "events"


def troops(n: int, *, hours: float = 0) -> Detection:
    return detection(n, rule="troops", group={"party": "RUS"}, minutes=int(hours * 60))


def texts(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return "\n".join(texts(v) for v in obj.values())
    if isinstance(obj, list):
        return "\n".join(texts(v) for v in obj)
    return ""


def buttons(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def ack_values(message: dict[str, Any]) -> list[ButtonValue]:
    """The values of the message's Acknowledge buttons."""
    return [
        parse_button_value(e["value"])
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "wf_ack"
    ]


def setup(store: MemoryStore, server: FakeSlack, clock: Clock) -> tuple[ControlLog, AlertDispatcher]:
    control = ControlLog(store)
    control.reconcile_config([Subscription(channel="slack-ops")])
    return control, dispatcher(store, server, clock, control)


def dispatcher(store: MemoryStore, server: FakeSlack, clock: Clock, control: ControlLog) -> AlertDispatcher:
    notifiers: dict[str, Notifier] = {"slack-ops": slack(server)}
    return AlertDispatcher(store, notifiers, [], RETRY, now=clock, routing=control, catalog=CATALOG)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_an_alert_acknowledged_with_the_cli_is_shown_acknowledged_on_its_slack_message_once(
    store: MemoryStore, slack_server: FakeSlack, clock: Clock
) -> None:
    control, d = setup(store, slack_server, clock)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    [posted] = slack_server.messages_for("det0001")
    assert "wf_ack" in buttons(posted)

    control.acknowledge("det0001", by=KIM, note="calling the desk")  # what `watchfloor alerts ack det0001` does
    report = d.cycle()
    assert report.ok and report.tally.acks_shown == 1 and report.tally.sent == 0

    [update] = slack_server.requests_for("chat.update")
    assert (update.body["channel"], update.body["ts"]) == (slack_server.channel_id(CHANNEL), posted["ts"])
    now = slack_server.message(CHANNEL, posted["ts"])
    assert "Acknowledged by kim" in texts(now["blocks"])
    assert "wf_ack" not in buttons(now) and "wf_silence" in buttons(now)  # the other buttons stay
    # The rest of the message as it was, and its metadata (a restarted dispatcher finds its message by it).
    assert [b for b in now["blocks"] if b["type"] != "actions"][: len(posted["blocks"]) - 1] == posted["blocks"][:-1]
    assert now["text"] == posted["text"] and now["metadata"] == posted["metadata"]
    row = ledger(store)[(ack_key(store.read(0, types={"alert.acknowledged"})[0].event.id), "slack-ops")]
    assert (row.status, row.kind) == ("sent", "ack") and posted["ts"] in row.detail

    # Exactly once in effect: neither the next cycle nor a restarted dispatcher rewrites it again.
    assert d.cycle().ok
    clock.advance(3600)
    assert dispatcher(store, slack_server, clock, ControlLog(store)).cycle().ok
    assert len(slack_server.requests_for("chat.update")) == 1
    # A later reply in its thread: the first message now shows the thread's state, the newest alert's, which nobody
    # acknowledged: its button is back, for that alert (outside trial 29, F1), and the earlier acknowledgement is said.
    store.append([detection_event(troops(2, hours=1))])
    assert d.cycle().ok
    top = slack_server.message(CHANNEL, posted["ts"])
    assert "Earlier in this thread: alert det0001 acknowledged by kim" in texts(top["blocks"])
    assert "the newest alert, det0002, is not acknowledged yet" in texts(top["blocks"])
    assert [v.alert_id for v in ack_values(top)] == ["det0002"]
    # The newest acknowledged too: the line that said it was not goes with the button (it stayed, beside
    # "Acknowledged by kim").
    control.acknowledge("det0002", by=KIM)
    assert d.cycle().ok
    top = slack_server.message(CHANNEL, posted["ts"])
    assert "Acknowledged by kim" in texts(top["blocks"]) and "not acknowledged yet" not in texts(top["blocks"])


def test_a_reply_acknowledged_elsewhere_is_rewritten_in_its_thread(
    store: MemoryStore, slack_server: FakeSlack, clock: Clock
) -> None:
    control, d = setup(store, slack_server, clock)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    store.append([detection_event(troops(2, hours=1))])
    assert d.cycle().ok
    [first] = slack_server.messages_for("det0001")
    [reply] = slack_server.messages_for("det0002")
    assert reply["thread_ts"] == first["ts"] and "wf_ack" in buttons(reply)
    updates = len(slack_server.requests_for("chat.update"))

    # The first message shows the thread's state, its newest alert's (det0002), and its button acts on that one.
    assert [(v.alert_id, v.standing) for v in ack_values(slack_server.message(CHANNEL, first["ts"]))] == [
        ("det0002", ("det0001",))
    ]

    control.acknowledge("det0002", by=KIM)
    assert d.cycle().ok
    assert sorted(u.body["ts"] for u in slack_server.requests_for("chat.update")[updates:]) == sorted(
        [reply["ts"], first["ts"]]
    )
    assert "Acknowledged by kim" in texts(slack_server.message(CHANNEL, reply["ts"])["blocks"])
    # ... so the first message shows that acknowledgement too (outside trial 29, F1: it kept its button).
    top = slack_server.message(CHANNEL, first["ts"])
    assert "Acknowledged by kim" in texts(top["blocks"]) and "wf_ack" not in buttons(top)
    # An acknowledgement of the thread's first alert alone would not have shown there: the message shows det0002.
    control.acknowledge("det0001", by=KIM)
    before = len(slack_server.requests_for("chat.update"))
    assert d.cycle().ok
    assert len(slack_server.requests_for("chat.update")) == before


def test_an_acknowledgement_before_the_message_is_sent_is_shown_once_it_is(
    store: MemoryStore, slack_server: FakeSlack, clock: Clock
) -> None:
    control, d = setup(store, slack_server, clock)
    slack_server.fail_next("chat.postMessage", status=500)
    store.append([detection_event(troops(1))])
    assert not d.cycle().ok  # the alert waits for its retry
    control.acknowledge("det0001", by=KIM)
    d.cycle()
    assert slack_server.requests_for("chat.update") == []
    for _ in range(5):
        clock.advance(d.next_due() or 0)
        if d.cycle().ok:
            break
    [posted] = slack_server.messages_for("det0001")
    assert "Acknowledged by kim" in texts(slack_server.message(CHANNEL, posted["ts"])["blocks"])
    assert len(slack_server.requests_for("chat.update")) == 1


def test_a_failed_rewrite_is_retried_and_a_deleted_message_is_given_up_without_holding_others(
    store: MemoryStore, slack_server: FakeSlack, clock: Clock
) -> None:
    control, d = setup(store, slack_server, clock)
    store.append([detection_event(troops(1)), detection_event(troops(5, hours=100))])  # two threads
    assert d.cycle().ok
    [one] = slack_server.messages_for("det0001")
    [five] = slack_server.messages_for("det0005")

    slack_server.fail_next("chat.update", status=500)  # transient: the row stays outstanding
    control.acknowledge("det0001", by=KIM)
    report = d.cycle()
    assert not report.ok and report.tally.failed == 1
    assert "wf_ack" in buttons(slack_server.message(CHANNEL, one["ts"]))
    clock.advance(d.next_due() or 0)
    assert d.cycle().ok
    assert "Acknowledged by kim" in texts(slack_server.message(CHANNEL, one["ts"])["blocks"])

    slack_server.delete_message(CHANNEL, five["ts"])  # permanent: logged and dropped
    control.acknowledge("det0005", by=KIM)
    store.append([detection_event(troops(9, hours=300))])
    report = d.cycle()
    assert report.ok and report.tally.sent == 1  # the new alert went out all the same
    rows = [r for r in store.deliveries() if r.kind == "ack"]
    assert [r.status for r in rows] == ["sent", "sent"] and "deleted in the channel" in rows[-1].detail


def test_the_button_click_on_the_message_is_not_rewritten_again(
    store: MemoryStore, slack_server: FakeSlack, clock: Clock
) -> None:
    """The click rewrote its message at once (alerts.slackapp.app on_ack): the dispatcher's row finds no
    Acknowledge button there and makes no second chat.update."""
    control, d = setup(store, slack_server, clock)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    [posted] = slack_server.messages_for("det0001")
    cid = slack_server.channel_id(CHANNEL)
    ack, _ = control.acknowledge(
        "det0001",
        by=Actor(via="slack", user="U0ALICE001", name="alice"),
        channel="slack-ops",
        slack_channel=cid,
        message_ts=posted["ts"],
    )
    client = WebClient(token=slack_server.token, base_url=slack_server.base_url)
    client.chat_update(
        channel=cid, ts=posted["ts"], text=posted["text"], blocks=acknowledged_blocks(posted["blocks"], ack)
    )
    assert d.cycle().ok
    assert len(slack_server.requests_for("chat.update")) == 1  # the click's own
    assert [r.status for r in store.deliveries() if r.kind == "ack"] == ["sent"]


def test_watchfloor_alerts_ack_then_the_dispatcher_shows_it_in_slack(tmp_path: Path, slack_server: FakeSlack) -> None:
    """The whole path a desk takes: `run --once` posts to Slack, `alerts ack` records the acknowledgement and says
    the message will show it, and the next `run --once` rewrites that message, once."""
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {EVENTS / "treaty_story.jsonl"}}}
channels:
  - {{type: slack, name: desk, channel: "#desk", token_env: WF_TEST_SLACK, base_url: "{slack_server.base_url}"}}
  - {{type: file, name: archive, path: {tmp_path / "alerts.jsonl"}}}
subscriptions:
  - {{channel: desk, min_severity: high}}
  - {{channel: archive}}
""",
        encoding="utf-8",
    )
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": "", "COLUMNS": "400"}

    def wf(*args: str) -> str:
        res = CliRunner().invoke(app, [*args, "--config", str(cfg)], env=env)
        assert res.exit_code == 0, res.output
        return " ".join(res.output.split())

    wf("run", "--once")
    res = CliRunner().invoke(app, ["alerts", "list", "--json", "--config", str(cfg)], env=env)
    listed = [json.loads(line) for line in res.output.splitlines()]
    in_slack = [a for a in listed if "desk" in a["deliveries"]]
    elsewhere = [a for a in listed if "desk" not in a["deliveries"]]
    assert in_slack and elsewhere
    alert = in_slack[0]
    [posted] = slack_server.messages_for(alert["delivery_key"])
    updates = len(slack_server.requests_for("chat.update"))

    said = wf("alerts", "ack", alert["id"], "--by", "kim")
    assert said.startswith(f"acknowledged {alert['id']} by kim") and "its message in desk shows it" in said, said
    said = wf("alerts", "ack", elsewhere[0]["id"], "--by", "kim")
    assert "shows it" not in said, said  # no Slack message of it: nothing promised

    wf("run", "--once")
    [update] = slack_server.requests_for("chat.update")[updates:]
    assert update.body["ts"] == posted["ts"]
    now = slack_server.message("#desk", posted["ts"])
    assert "Acknowledged by kim" in texts(now["blocks"]) and "wf_ack" not in buttons(now)
    wf("run", "--once")  # a restart: nothing rewritten again
    assert len(slack_server.requests_for("chat.update")) == updates + 1


def test_an_acknowledgement_is_not_shown_on_the_alert_reinstated_after_it(
    store: MemoryStore, slack_server: FakeSlack, clock: Clock
) -> None:
    """Outside trial 30, F2: an acknowledged alert revised into another, then revised back (a publisher's correction)
    is raised again with its own id. Those changes came before the dispatcher's next cycle: the acknowledgement's row
    is not shown on the messages, which show the alert as raised again (reinstated), and the desk has to take it anew
    (ControlLog.acknowledgements); with its button offered, as `alerts list` has it."""
    control, d = setup(store, slack_server, clock)
    a = troops(1)
    store.append([detection_event(a)])
    assert d.cycle().ok
    [posted] = slack_server.messages_for("det0001")
    control.acknowledge("det0001", by=KIM)
    assert [x.by.name for x in control.acknowledgements("det0001")] == ["kim"]
    b = troops(2).model_copy(update={"fired_at": a.fired_at, "revises": "det0001", "revision": 1})
    again = a.model_copy(update={"revises": "det0002", "revision": 2})
    store.append([detection_event(b), detection_event(again)])
    assert control.acknowledgements("det0001") == []  # of its earlier raising: not of the alert as raised now
    assert d.cycle().ok

    [row] = [r for r in store.deliveries() if r.kind == "ack"]
    assert row.status == "suppressed" and row.detail.startswith("not shown: the alert was reinstated after it"), row
    top = slack_server.message(CHANNEL, posted["ts"])
    assert "det0001" in texts(top["blocks"]) and "Acknowledged by" not in texts(top["blocks"])
    assert [v.alert_id for v in ack_values(top)] == ["det0001"]
    said = texts(top["blocks"])
    assert "Alert det0001 was acknowledged by kim at " in said
    assert ", before a later change raised it again (reinstated): it is not acknowledged since" in said

    # Acknowledged anew: recorded (a new event, not the first one's), and shown.
    _, new = control.acknowledge("det0001", by=KIM)
    assert new
    assert len(store.read(0, types={"alert.acknowledged"})) == 2
    assert d.cycle().ok
    top = slack_server.message(CHANNEL, posted["ts"])
    assert "Acknowledged by kim" in texts(top["blocks"]) and "wf_ack" not in buttons(top)


def test_the_reply_a_revision_rewrote_shows_the_revisions_acknowledgement(
    store: MemoryStore, slack_server: FakeSlack, clock: Clock
) -> None:
    """A follow-up revised by a late report: its reply now shows the revision, with the revision's Acknowledge button.
    An acknowledgement of the revision made elsewhere is shown there too, not only on the "Revised" reply and the
    thread's first message (outside trial 30, F2: that reply kept offering the button of an alert acknowledged)."""
    control, d = setup(store, slack_server, clock)
    store.append([detection_event(troops(1)), detection_event(troops(2, hours=1))])
    assert d.cycle().ok
    [reply] = slack_server.messages_for("det0002")
    revision = troops(3, hours=1).model_copy(update={"revises": "det0002", "revision": 1})
    store.append([detection_event(revision)])
    assert d.cycle().ok
    assert [v.alert_id for v in ack_values(slack_server.message(CHANNEL, reply["ts"]))] == ["det0003"]

    control.acknowledge("det0003", by=KIM)
    assert d.cycle().ok
    for m in slack_server.messages:
        if "det0003" in [v.alert_id for v in ack_values(m)]:
            raise AssertionError(f"still offers det0003's button: {texts(m['blocks'])}")
    assert "Acknowledged by kim" in texts(slack_server.message(CHANNEL, reply["ts"])["blocks"])


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("en", ":white_check_mark: Acknowledged by Иван at {when}: “Проверено дежурным”"),
        ("ru", ":white_check_mark: Принято: Иван, {when}: «Проверено дежурным»"),
    ],
)
def test_the_cli_acknowledgement_is_said_in_the_channels_language_with_its_note(
    store: MemoryStore, slack_server: FakeSlack, clock: Clock, language: str, line: str
) -> None:
    """Outside trial 62, L4: "Acknowledged by …" was English in a Russian channel, and `alerts ack --note` was
    recorded but never shown."""
    from watchfloor.alerts.notifiers.slack import SlackNotifier
    from watchfloor.alerts.notifiers.slack_blocks import when_text

    control = ControlLog(store)
    control.reconcile_config([Subscription(channel="slack-ops")])
    desk = SlackNotifier("slack-ops", CHANNEL, slack_server.token, base_url=slack_server.base_url, language=language)
    d = AlertDispatcher(store, {"slack-ops": desk}, [], RETRY, now=clock, routing=control, catalog=CATALOG)
    store.append([detection_event(troops(1))])
    assert d.cycle().ok
    [posted] = slack_server.messages_for("det0001")
    ack, _ = control.acknowledge("det0001", by=Actor(via="cli", name="Иван"), note="Проверено  дежурным")
    assert d.cycle().ok
    now = slack_server.message(CHANNEL, posted["ts"])
    (said,) = [b for b in now["blocks"] if b.get("block_id") == "wf_acknowledged"]
    assert said["elements"][0]["text"] == line.format(when=when_text(ack.at))
