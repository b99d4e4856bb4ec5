"""`thread_by` in Slack (outside trial 68, G2 and MED-2): sanctions on Niger by France, then by the EU, are one story in
one thread, the EU's posted in it as a new alert of the story (its own message, which says what it is), France's
message left as it was: not rewritten into an "Updated" state of France's alert. A follow-up of France (a second
source confirming it) stays the update it always was: a reply, and France's message brought up to date. A follow-up of
the EU replies in the same thread and updates the EU's message.

The real slack-sdk against the local Slack-compatible server; SQLite on disk and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, detection, feed, lines, slack
from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import AlertCatalog
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.slackapp import clicks
from watchfloor.alerts.slackapp.buttons import ACK_ACTION, parse_button_value
from watchfloor.alerts.slackapp.commands import AppContext
from watchfloor.schemas.config import RetryPolicy, Subscription
from watchfloor.schemas.control import Actor
from watchfloor.schemas.events import Detection, Retraction, retraction_event
from watchfloor.stream_processors.ports import Store

pytestmark = pytest.mark.integration

RULE = "niger-sanctions"
NAMES = {"NER": "Niger", "FRA": "France", "EU": "European Union"}
CATALOG = AlertCatalog(entity_names=NAMES, open_periods={RULE: timedelta(days=3)}, thread_by={RULE: ("country",)})


def sanction(n: int, imposer: str, minutes: int, **kw: Any) -> Detection:
    return detection(n, rule=RULE, group={"country": "NER", "imposer": imposer}, minutes=minutes, **kw)


def _text(message: dict[str, object]) -> str:
    return str(message.get("blocks")) + str(message.get("text"))


def test_two_imposers_of_one_country_are_one_thread_the_second_a_new_alert_and_a_follow_up_an_update(
    sql_store: Store, slack_server: FakeSlack
) -> None:
    store = sql_store
    slack_server.channels = {"#dprk-russia"}
    desk = slack(slack_server, name="desk")
    control = ControlLog(store)
    control.reconcile_config([Subscription(channel="desk")])
    d = AlertDispatcher(store, {"desk": desk}, [], now=Clock(), routing=control, catalog=CATALOG)
    feed(
        store,
        sanction(1, "FRA", 0, severity="medium", confidence="unconfirmed"),  # France: MEDIUM, one source
        sanction(2, "EU", 60, severity="medium", confidence="unconfirmed"),  # the EU, an hour later
    )
    d.cycle()
    (france,) = slack_server.messages_for("det0001")
    (eu,) = slack_server.messages_for("det0002")
    assert "thread_ts" not in france or france["thread_ts"] == france["ts"]
    assert eu.get("thread_ts") == france["ts"]  # one story, one thread
    said = _text(eu)
    assert "New alert in this story" in said and "det0001" in said and "Niger, France" in said, said
    assert "Update" not in str(eu.get("text")), eu["text"]
    assert "New in this story: " in str(eu.get("text"))
    assert slack_server.updates == []  # France's message is France's: not rewritten for the EU's alert

    # A second source confirms France's sanctions: its follow-up, a reply that updates France's message
    feed(store, sanction(3, "FRA", 120, sources=("Coastal Observer", "Harbour Daily")))
    d.cycle()
    (followup,) = slack_server.messages_for("det0003")
    assert followup.get("thread_ts") == france["ts"]
    assert [u for u in slack_server.updates if u["ts"] == france["ts"]], slack_server.updates
    rewritten = next(m for m in slack_server.messages if m["ts"] == france["ts"])
    assert "Updated" in _text(rewritten) and "HIGH" in _text(rewritten)
    assert not [u for u in slack_server.updates if u["ts"] == eu["ts"]]  # the EU's alert is not France's update

    # A second source confirms the EU's: a reply in the same thread (Slack threads one level deep), the EU's message
    # brought up to date, France's left as its own follow-up made it
    before = len([u for u in slack_server.updates if u["ts"] == france["ts"]])
    feed(store, sanction(4, "EU", 180, sources=("Coastal Observer", "Harbour Daily")))
    d.cycle()
    (eu_followup,) = slack_server.messages_for("det0004")
    assert eu_followup.get("thread_ts") == france["ts"]
    assert [u for u in slack_server.updates if u["ts"] == eu["ts"]], slack_server.updates
    assert len([u for u in slack_server.updates if u["ts"] == france["ts"]]) == before
    assert [m["ts"] for m in slack_server.thread(france["ts"])] == [eu["ts"], followup["ts"], eu_followup["ts"]]

    # The EU's follow-up acknowledged with the CLI: shown on its reply and on the EU's message, both read in the
    # story's thread (where Slack has them), France's message untouched
    france_updates = len([u for u in slack_server.updates if u["ts"] == france["ts"]])
    control.acknowledge("det0004", by=Actor(via="cli", name="kim"))
    assert d.cycle().ok
    for ts in (eu_followup["ts"], eu["ts"]):
        shown = next(m for m in slack_server.messages if m["ts"] == ts)
        assert "Acknowledged by kim" in str(shown["blocks"]), (ts, shown["blocks"])
    assert len([u for u in slack_server.updates if u["ts"] == france["ts"]]) == france_updates


def test_another_groups_alert_whose_post_may_have_got_through_is_looked_for_in_the_story_thread(
    sql_store: Store, slack_server: FakeSlack
) -> None:
    """A 504 on the EU's post, which Slack carries out behind the proxy: the retry looks for it where it was posted, in
    the story's thread (conversations.replies; history does not list replies), finds it and does not post it again."""
    store, clock = sql_store, Clock()
    slack_server.channels = {"#dprk-russia"}
    retry = RetryPolicy(backoff=timedelta(seconds=0.5), max_age=timedelta(hours=1), lease=timedelta(minutes=2))
    desk = slack(slack_server, name="desk", timeout=1.0)
    d = AlertDispatcher(store, {"desk": desk}, [Subscription(channel="desk")], retry, now=clock, catalog=CATALOG)
    feed(store, sanction(1, "FRA", 0))
    assert d.cycle().ok
    (france,) = slack_server.messages_for("det0001")
    release = slack_server.gateway_timeout_next("chat.postMessage")
    try:
        feed(store, sanction(2, "EU", 60))
        assert d.cycle().tally.failed == 1
        release.set()
        for _ in range(600):
            if slack_server.messages_for("det0002"):
                break
            threading.Event().wait(0.05)
        clock.advance(2.5)  # past the landing window (2 x timeout)
        last = d.cycle()
    finally:
        release.set()
    posted = slack_server.messages_for("det0002")
    assert len(posted) == 1 and posted[0]["thread_ts"] == france["ts"], posted
    assert last.tally.found == 1, last.tally


def test_another_groups_alert_whose_story_message_was_deleted_is_posted_on_its_own_and_its_thread_goes_on_there(
    sql_store: Store, slack_server: FakeSlack
) -> None:
    """France's message deleted in the channel before the EU's alert is posted: Slack refuses the reply
    (thread_not_found), so the EU's alert is a message of its own, and its follow-up replies under it."""
    store = sql_store
    slack_server.channels = {"#dprk-russia"}
    d = AlertDispatcher(
        store, {"desk": slack(slack_server, name="desk")}, [Subscription(channel="desk")], now=Clock(), catalog=CATALOG
    )
    feed(store, sanction(1, "FRA", 0, severity="medium", confidence="unconfirmed"))
    assert d.cycle().ok
    (france,) = slack_server.messages_for("det0001")
    slack_server.delete_message("#dprk-russia", france["ts"])
    feed(store, sanction(2, "EU", 60, severity="medium", confidence="unconfirmed"))
    assert d.cycle().ok
    (eu,) = slack_server.messages_for("det0002")
    assert "thread_ts" not in eu or eu["thread_ts"] == eu["ts"], eu
    feed(store, sanction(3, "EU", 90, sources=("Coastal Observer", "Harbour Daily")))
    assert d.cycle().ok
    (eu_followup,) = slack_server.messages_for("det0003")
    assert eu_followup.get("thread_ts") == eu["ts"], eu_followup


@pytest.mark.parametrize("changed_to", [(), None], ids=["thread_by-empty", "thread_by-dropped"])
def test_a_follow_up_after_thread_by_changed_mid_story_updates_its_groups_own_message_in_the_storys_thread(
    sql_store: Store, slack_server: FakeSlack, changed_to: tuple[str, ...] | None
) -> None:
    """Outside trial 74, F3: the run stopped while the Niger story was open, the pack's `thread_by: [country]` changed
    (to `[]`, or left out), the run started again. The EU's confirmation is its group's follow-up, as with either
    setting throughout: a reply in the Niger thread that updates the EU's own message there, not a "New alert in this
    story: another group …" in a new thread with the EU's message left MEDIUM (unconfirmed)."""
    store = sql_store
    slack_server.channels = {"#dprk-russia"}
    before = AlertDispatcher(
        store, {"desk": slack(slack_server, name="desk")}, [Subscription(channel="desk")], now=Clock(), catalog=CATALOG
    )
    feed(
        store,
        sanction(1, "FRA", 0, severity="medium", confidence="unconfirmed"),
        sanction(2, "EU", 60, severity="medium", confidence="unconfirmed"),
        # Mali's story, a thread of its own under `[country]`, its row written after Niger's
        detection(5, rule=RULE, group={"country": "MLI", "imposer": "FRA"}, minutes=30),
    )
    assert before.cycle().ok
    (france,) = slack_server.messages_for("det0001")
    (eu,) = slack_server.messages_for("det0002")
    assert eu.get("thread_ts") == france["ts"]
    (mali,) = slack_server.messages_for("det0005")
    assert "thread_ts" not in mali or mali["thread_ts"] == mali["ts"]

    threads = {RULE: changed_to} if changed_to is not None else {}
    changed = AlertCatalog(entity_names=NAMES, open_periods={RULE: timedelta(days=3)}, thread_by=threads)
    after = AlertDispatcher(
        store, {"desk": slack(slack_server, name="desk")}, [Subscription(channel="desk")], now=Clock(), catalog=changed
    )
    feed(store, sanction(3, "EU", 120, sources=("Coastal Observer", "Harbour Daily")))
    assert after.cycle().ok
    (confirmed,) = slack_server.messages_for("det0003")
    assert confirmed.get("thread_ts") == france["ts"], confirmed  # the story keeps its thread
    assert "New alert in this story" not in _text(confirmed), _text(confirmed)
    assert [u for u in slack_server.updates if u["ts"] == eu["ts"]], slack_server.updates  # the EU's own message
    shown = next(m for m in slack_server.messages if m["ts"] == eu["ts"])
    assert "Updated" in _text(shown) and "HIGH" in _text(shown), _text(shown)
    assert not [u for u in slack_server.updates if u["ts"] == france["ts"]]  # France's message is France's
    (row,) = store.deliveries(alert_ids=["det0003"], channel="desk") or [None]
    assert row is not None and (row.kind, row.parent_id) == ("followup", "det0002"), row

    # Another group's first alert while the story is open: with `thread_by: []` it is a new alert of that story, in
    # its thread (not a new thread splitting it; of the two open threads, the one of the latest alert before it, the
    # EU's, not Mali's written last); with no thread_by, a thread of its own, as the new setting says.
    feed(store, sanction(4, "GBR", 150, severity="medium", confidence="unconfirmed"))
    assert after.cycle().ok
    (uk,) = slack_server.messages_for("det0004")
    if changed_to is not None:
        assert uk.get("thread_ts") == france["ts"], uk
        assert "New alert in this story" in _text(uk) and "det0001" in _text(uk), _text(uk)
    else:
        assert "thread_ts" not in uk or uk["thread_ts"] == uk["ts"], uk
        assert "New alert in this story" not in _text(uk)


def test_a_withdrawal_after_thread_by_changed_withdraws_the_groups_message_in_the_storys_thread(
    sql_store: Store, slack_server: FakeSlack
) -> None:
    """Outside trial 74, F3 (its retraction side): the EU's alert, posted in the Niger thread under `thread_by:
    [country]`, withdrawn after the pack dropped `thread_by`: its message there says so, as with either setting
    throughout (the withdrawal reads the rows under the key the alert's own rows are under)."""
    store = sql_store
    slack_server.channels = {"#dprk-russia"}
    before = AlertDispatcher(
        store, {"desk": slack(slack_server, name="desk")}, [Subscription(channel="desk")], now=Clock(), catalog=CATALOG
    )
    feed(store, sanction(1, "FRA", 0), sanction(2, "EU", 60))
    assert before.cycle().ok
    (eu,) = slack_server.messages_for("det0002")
    changed = AlertCatalog(entity_names=NAMES, open_periods={RULE: timedelta(days=3)})
    after = AlertDispatcher(
        store, {"desk": slack(slack_server, name="desk")}, [Subscription(channel="desk")], now=Clock(), catalog=changed
    )
    at = datetime(2030, 1, 1, tzinfo=UTC)
    store.append(
        [
            retraction_event(
                Retraction(
                    alert_id="det0002",
                    rule=RULE,
                    group={"country": "NER", "imposer": "EU"},
                    reason="a late report walked it back",
                    revision=1,
                    at=at,
                )
            )
        ]
    )
    assert after.cycle().ok
    shown = next(m for m in slack_server.messages if m["ts"] == eu["ts"])
    assert "Withdrawn" in _text(shown), _text(shown)


@pytest.mark.parametrize("changed_to", [(), None, ("country",)], ids=["thread_by-empty", "thread_by-dropped", "same"])
def test_the_next_storys_again_line_links_the_earlier_storys_message_after_thread_by_changed(
    sql_store: Store, slack_server: FakeSlack, changed_to: tuple[str, ...] | None
) -> None:
    """Session 42's leftover of outside trial 74, F3: France's Niger story posted under `thread_by: [country]`, the
    pack's `thread_by` changed (to `[]`, or left out), and France's next story, past the open period: its "Again: …"
    line names the earlier story's alert and links that story's message ("its message"), as it does when `thread_by`
    was not changed (`same`), though the earlier story's rows are under the thread key the old setting made."""
    store = sql_store
    slack_server.channels = {"#dprk-russia"}
    before = AlertDispatcher(
        store, {"desk": slack(slack_server, name="desk")}, [Subscription(channel="desk")], now=Clock(), catalog=CATALOG
    )
    feed(store, sanction(1, "FRA", 0, severity="medium", confidence="unconfirmed"))
    assert before.cycle().ok
    (france,) = slack_server.messages_for("det0001")

    threads = {RULE: changed_to} if changed_to is not None else {}
    changed = AlertCatalog(entity_names=NAMES, open_periods={RULE: timedelta(days=3)}, thread_by=threads)
    after = AlertDispatcher(
        store, {"desk": slack(slack_server, name="desk")}, [Subscription(channel="desk")], now=Clock(), catalog=changed
    )
    feed(store, sanction(2, "FRA", 5 * 24 * 60, severity="medium", confidence="unconfirmed"))  # 5 days on: a new story
    assert after.cycle().ok
    (again,) = slack_server.messages_for("det0002")
    assert "thread_ts" not in again or again["thread_ts"] == again["ts"], again
    said = _text(again)
    assert "Again: the last alert of this rule and group was det0001" in said, said
    link = f"https://watchfloor-test.slack.com/archives/{FakeSlack.channel_id(france['channel'])}/p"
    assert f"(<{link}{france['ts'].replace('.', '')}|its message>)" in said, said

    # A confirmation of the new story rewrites its first message: the line keeps its link
    feed(store, sanction(3, "FRA", 5 * 24 * 60 + 30, sources=("Coastal Observer", "Harbour Daily")))
    assert after.cycle().ok
    rewritten = [u for u in slack_server.updates if u["ts"] == again["ts"]]
    assert rewritten, slack_server.updates
    said = str(rewritten[-1]["blocks"])
    assert "Updated" in said and "was det0001" in said and "|its message>)" in said, said


def test_the_again_lines_count_and_link_go_on_over_two_thread_by_changes(
    sql_store: Store, slack_server: FakeSlack, tmp_path: Path
) -> None:
    """Outside trial 79, F2: France's Niger stories, two under `thread_by: [country]`, one under `[imposer]`, one
    with no thread_by. Each new story's "Again: …" line counts every earlier story of the group the channel was
    told ("(2 earlier in this channel)", "(3 earlier …)", in Slack and as `earlier.count` in the file channel), and
    links the last one's message, whichever thread key its rows are under: a change of `thread_by` did restart the
    count, and the first story after it lost its link."""
    store = sql_store
    slack_server.channels = {"#dprk-russia"}
    archive = tmp_path / "alerts.jsonl"
    subs = [Subscription(channel="desk"), Subscription(channel="archive")]
    day = 24 * 60

    def dispatcher(threads: dict[str, tuple[str, ...]]) -> AlertDispatcher:
        catalog = AlertCatalog(entity_names=NAMES, open_periods={RULE: timedelta(days=3)}, thread_by=threads)
        notifiers = {"desk": slack(slack_server, name="desk"), "archive": FileNotifier("archive", archive)}
        return AlertDispatcher(store, notifiers, subs, now=Clock(), catalog=catalog)

    def told(n: int, at: int, run: AlertDispatcher) -> tuple[dict[str, Any], str]:
        feed(store, sanction(n, "FRA", at, severity="medium", confidence="unconfirmed"))
        assert run.cycle().ok
        (message,) = slack_server.messages_for(f"det000{n}")
        return message, _text(message)

    def link(message: dict[str, Any]) -> str:
        where = f"https://watchfloor-test.slack.com/archives/{FakeSlack.channel_id(message['channel'])}/p"
        return f"(<{where}{str(message['ts']).replace('.', '')}|its message>)"

    first, _ = told(1, 0, dispatcher({RULE: ("country",)}))
    second, said = told(2, 5 * day, dispatcher({RULE: ("country",)}))
    assert "was det0001" in said and link(first) in said and "earlier in this channel" not in said, said
    third, said = told(3, 10 * day, dispatcher({RULE: ("imposer",)}))  # thread_by changed: [country] -> [imposer]
    assert "was det0002" in said and link(second) in said and "(2 earlier in this channel)" in said, said
    _, said = told(4, 15 * day, dispatcher({}))  # thread_by dropped
    assert "was det0003" in said and link(third) in said and "(3 earlier in this channel)" in said, said
    counts = {r["key"]: r.get("earlier", {}).get("count") for r in lines(archive)}
    assert counts == {"det0001": None, "det0002": 1, "det0003": 2, "det0004": 3}, counts


def test_acknowledging_the_storys_first_message_says_which_other_groups_alerts_it_left(
    sql_store: Store, slack_server: FakeSlack
) -> None:
    """Outside trial 79, F1: the Acknowledge button on the first message of a story of several groups takes its own
    group's alerts (the EU's message in the thread has its own button); the click's reply says the EU's alert is not
    acknowledged and names `alerts ack --story` for the whole story, as it says what it took on a one-group thread.
    Once the EU's is acknowledged too, or on a story of one group, it says nothing of the kind."""
    store = sql_store
    slack_server.channels = {"#dprk-russia"}
    control = ControlLog(store)
    d = AlertDispatcher(
        store, {"desk": slack(slack_server, name="desk")}, [Subscription(channel="desk")], now=Clock(), catalog=CATALOG
    )
    feed(
        store,
        sanction(1, "FRA", 0, severity="medium", confidence="unconfirmed"),
        sanction(2, "EU", 60, severity="medium", confidence="unconfirmed"),
        detection(5, rule=RULE, group={"country": "MLI", "imposer": "FRA"}, minutes=30),  # Mali: one group
    )
    assert d.cycle().ok
    ctx = AppContext(control=control, rules={})

    def click(alert_id: str, by: str) -> str:
        (message,) = slack_server.messages_for(alert_id)
        raw = next(
            e["value"]
            for b in message["blocks"]
            if b.get("type") == "actions"
            for e in b["elements"]
            if e["action_id"] == ACK_ACTION
        )
        done = clicks.acknowledge(
            ctx,
            parse_button_value(raw),
            Actor(via="slack", user=by, name=by),
            FakeSlack.channel_id(str(message["channel"])),
            str(message["ts"]),
            message,
        )
        return clicks.ack_said(done)

    said = click("det0001", "U0ALICE")
    assert "not* acknowledged: alert `det0002` (MEDIUM unconfirmed)" in said, said
    assert "`watchfloor alerts ack --story det0001` takes the whole story" in said, said
    assert [a.alert_id for a in control.acknowledgements("det0002")] == []  # (said, not taken)
    control.acknowledge("det0002", by=Actor(via="cli", name="kim"), channel="desk")
    control.acknowledge("det0001", by=Actor(via="cli", name="kim"), channel="other")  # (another channel's: not here)
    assert "not* acknowledged" not in click("det0001", "U0BOB")
    assert click("det0005", "U0ALICE") == ""  # one group's thread, one alert: nothing beyond its own
