"""The control projection: subscriptions, silences and acknowledgements as events, folded back into routing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watchfloor.alerts.control import ControlError, ControlLog
from watchfloor.alerts.slackapp.buttons import ACK_ACTION, SILENCE_ACTION, actions_block
from watchfloor.alerts.slackapp.clicks import acknowledged_blocks
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.control import CONTROL_TYPES, Actor, AlertAcknowledged, Silence
from watchfloor.stream_processors.stores.memory import MemoryStore

T0 = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)
ALICE = Actor(via="slack", user="U0ALICE", name="alice")
BOB = Actor(via="cli", user="bob")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def logs() -> tuple[MemoryStore, Clock, ControlLog, ControlLog]:
    """One store, two projections of it (two processes)."""
    store, clock = MemoryStore(), Clock()
    return store, clock, ControlLog(store, now=clock), ControlLog(store, now=clock)


def types(store: MemoryStore) -> list[str]:
    return [se.event.type for se in store.read(0, types=CONTROL_TYPES)]


def test_subscriptions_reach_the_other_projection_and_repeat_as_no_ops() -> None:
    store, _clock, a, b = logs()
    sub, new = a.subscribe("desk", rules=["treaty-ratified"], min_severity="high", by=ALICE)
    assert new
    assert b.subscriptions() == [sub]
    assert b.routing().subscriptions == (Subscription(channel="desk", rules=["treaty-ratified"], min_severity="high"),)
    again, new = b.subscribe("desk", rules=["treaty-ratified"], min_severity="high", by=BOB)
    assert (again, new) == (sub, False)  # same subscription, same id, nothing appended
    assert types(store) == ["subscription.created"]


def test_remove_and_subscribe_again_is_a_new_generation() -> None:
    store, clock, a, b = logs()
    sub, _ = a.subscribe("desk", by=ALICE)
    b.unsubscribe(sub.id, by=BOB)
    assert a.subscriptions() == []
    clock.now += timedelta(minutes=5)
    again, new = a.subscribe("desk", by=ALICE)
    assert new and again.id == sub.id and again.at == clock.now
    assert types(store) == ["subscription.created", "subscription.removed", "subscription.created"]
    with pytest.raises(ControlError, match="no active subscription"):
        a.unsubscribe("sub-nope", by=ALICE)


def test_the_same_change_recorded_twice_at_once_is_one_event() -> None:
    """Two processes (stale projections) subscribing the same thing at once: deterministic event ids."""
    store = MemoryStore()
    a, b = ControlLog(store, now=lambda: T0), ControlLog(store, now=lambda: T0 + timedelta(seconds=1))
    a.refresh(), b.refresh()
    a.subscribe("desk", by=ALICE)
    b.state.position = 0  # b has not seen it
    b.state.subscriptions.clear()
    b.subscribe("desk", by=BOB)
    assert types(store) == ["subscription.created"]


def test_config_subscriptions_are_reconciled_and_only_the_config_changes_them() -> None:
    _store, _clock, a, b = logs()
    cfg = [Subscription(channel="desk", rules=["*"]), Subscription(channel="archive", min_severity="high")]
    assert a.reconcile_config(cfg) == (2, 0)
    assert b.reconcile_config(cfg) == (0, 0)  # a second process starting: nothing new
    assert {s.managed_by for s in b.subscriptions()} == {"config"}
    desk = next(s for s in b.subscriptions() if s.channel == "desk")
    with pytest.raises(ControlError, match="managed by the config file"):
        b.unsubscribe(desk.id, by=ALICE)
    # the file changes: archive's severity
    assert a.reconcile_config([cfg[0], Subscription(channel="archive", min_severity="critical")]) == (1, 1)
    assert sorted((s.channel, s.min_severity) for s in b.subscriptions()) == [
        ("archive", "critical"),
        ("desk", "low"),
    ]


def test_silences_expire_on_time_or_early_and_only_live_ones_route() -> None:
    store, clock, a, b = logs()
    s = a.silence("treaty-ratified", duration=timedelta(hours=2), by=ALICE, group={"*": "RUS"}, channel="desk")
    later = a.silence("troops-deployed", duration=timedelta(hours=1), by=BOB, starts_at=T0 + timedelta(hours=1))
    assert [x.id for x in b.routing().silences] == [s.id, later.id]
    clock.now = T0 + timedelta(hours=1, minutes=30)
    b.unsilence(later.id, by=ALICE)
    assert [x.id for x in a.routing().silences] == [s.id]
    assert [x.id for x in a.silences(include_ended=True)] == [s.id, later.id]
    ended = a.silences(include_ended=True)[1]
    assert ended.ends_at == clock.now  # expired early: ends when it was expired
    clock.now = T0 + timedelta(hours=2)
    assert a.routing().silences == ()  # ran out (and the routing process recorded that it did)
    with pytest.raises(ControlError, match="already ended"):
        a.unsilence(s.id, by=ALICE)
    with pytest.raises(ControlError, match="positive duration"):
        a.silence("x", duration=timedelta(0), by=ALICE)
    assert types(store) == ["silence.created", "silence.created", "silence.expired", "silence.expired"]


def test_a_lapsed_silence_is_recorded_expired_once_whoever_sees_it() -> None:
    store, clock, a, b = logs()
    s = a.silence("treaty-ratified", duration=timedelta(hours=2), by=ALICE, group={"*": "RUS"})
    early = a.silence("troops-deployed", duration=timedelta(hours=2), by=BOB)
    clock.now = T0 + timedelta(hours=1)
    assert a.expire_lapsed() == [] and b.expiry(s.id) is None  # still holding
    b.unsilence(early.id, by=BOB, reason="done")
    clock.now = T0 + timedelta(hours=3)
    assert [x.id for x in a.expire_lapsed()] == [s.id]  # the one ended early already has its event
    assert b.expire_lapsed() == [] and a.expire_lapsed() == []  # another process, and again: nothing more
    fresh = ControlLog(store, now=clock)  # a process that never saw it hold: same
    assert fresh.expire_lapsed() == [] and fresh.routing().silences == ()
    assert types(store) == ["silence.created", "silence.created", "silence.expired", "silence.expired"]
    lapsed = b.expiry(s.id)
    assert lapsed is not None
    assert (lapsed.at, lapsed.by.via, lapsed.reason) == (T0 + timedelta(hours=2), "system", "reached its end")
    ended_early = b.expiry(early.id)
    assert ended_early is not None and (ended_early.at, ended_early.by) == (T0 + timedelta(hours=1), BOB)
    # the lapse recorded changes nothing about when it ended
    assert {x.id: x.ends_at for x in a.silences(include_ended=True)} == {
        s.id: T0 + timedelta(hours=2),
        early.id: T0 + timedelta(hours=1),
    }


def test_lapse_and_early_expiry_racing_leave_one_event() -> None:
    """Two processes: one records the lapse, the other (whose clock is a little behind) ends it early."""
    store = MemoryStore()
    ahead, behind = Clock(), Clock()
    a, b = ControlLog(store, now=ahead), ControlLog(store, now=behind)
    s = a.silence("treaty-ratified", duration=timedelta(hours=1), by=ALICE)
    behind.now = T0 + timedelta(minutes=59)
    b.refresh()  # b sees the silence holding...
    ahead.now = T0 + timedelta(hours=1)
    assert [x.id for x in a.expire_lapsed()] == [s.id]
    with pytest.raises(ControlError, match="already ended"):  # ...and learns it has ended when it acts
        b.unsilence(s.id, by=BOB)
    assert types(store) == ["silence.created", "silence.expired"]


def test_first_acknowledgement_per_alert_and_channel_counts() -> None:
    _store, clock, a, b = logs()
    first, new = a.acknowledge("a1", by=ALICE, channel="desk", slack_channel="C1", message_ts="1.1")
    assert new
    clock.now += timedelta(minutes=1)
    again, new = b.acknowledge("a1", by=BOB, channel="desk")
    assert (again, new) == (first, False)
    other, new = b.acknowledge("a1", by=BOB, channel="archive")
    assert new and other.by == BOB
    assert [x.channel for x in a.acknowledgements("a1")] == ["desk", "archive"]


def test_an_acknowledgement_for_the_alert_covers_every_channel_and_meets_any() -> None:
    # Outside trial 81, F7: `alerts ack ID` (no --channel: one for the alert) then `alerts ack --story ID` (one per
    # channel told it) recorded the alert again in each channel; `ack --story` then `alerts ack ID` said
    # "acknowledged" a second time. The README: "without it, one for the alert; the first counts, a second says who
    # came first".
    _store, clock, a, b = logs()
    whole, new = a.acknowledge("a1", by=ALICE)
    assert new and whole.channel is None
    clock.now += timedelta(minutes=1)
    assert b.acknowledge("a1", by=BOB, channel="desk") == (whole, False)
    assert b.acknowledge("a1", by=BOB, slack_channel="C9") == (whole, False)
    assert a.acknowledgements("a1") == [whole]
    in_desk, new = a.acknowledge("a2", by=ALICE, channel="desk")
    assert new
    assert b.acknowledge("a2", by=BOB) == (in_desk, False)  # the alert shows acknowledged already
    _other, new = b.acknowledge("a2", by=BOB, channel="archive")  # another channel's own, as before
    assert new and [x.channel for x in b.acknowledgements("a2")] == ["desk", "archive"]


def test_an_alert_reinstated_is_acknowledged_anew() -> None:
    """Outside trial 30, F2: alert ids are made of the reports, so a later change of a group's history that gives an
    alert back its earlier reports raises its id again (reinstated). An acknowledgement takes the alert as raised when
    it was made: one of an earlier raising (here made while a revision stood in its place, which no desk was shown)
    does not count for it, and acknowledging it again is recorded under an event id of its own, in both projections."""
    from watchfloor.schemas.control import alert_acknowledged_event
    from watchfloor.schemas.events import Detection, detection_event, detection_key

    store, clock, a, b = logs()
    alert = Detection(id="a1", rule="r", title="t", severity="high", fired_at=T0)
    store.append([detection_event(alert)])
    first, _ = a.acknowledge("a1", by=ALICE, channel="desk")
    # an alert raised once keeps the id its acknowledgements always had
    assert [se.event.id for se in store.read(0, types={"alert.acknowledged"})] == [alert_acknowledged_event(first).id]
    assert b.acknowledgements("a1") == [first]
    store.append([detection_event(alert.model_copy(update={"id": "b1", "revises": "a1", "revision": 1}))])
    blind, _ = a.acknowledge("a1", by=BOB, channel="archive")  # taken while b1 stood in its place
    assert b.acknowledgements("a1") == [first, blind]  # (of the raising that stood last: still its own)
    store.append([detection_event(alert.model_copy(update={"revises": "b1", "revision": 2}))])
    assert a.acknowledgements("a1") == b.acknowledgements("a1") == []
    assert [x.by for x in a.state.acks["a1"]] == [ALICE, BOB]  # the record keeps them

    clock.now += timedelta(minutes=5)
    again, new = b.acknowledge("a1", by=BOB, channel="desk")
    assert new and again.at == clock.now
    assert a.acknowledgements("a1") == [again]
    assert a.acknowledge("a1", by=ALICE, channel="desk") == (again, False)  # the first per channel, as ever
    ids = [se.event.id for se in store.read(0, types={"alert.acknowledged"})]
    assert len(ids) == len(set(ids)) == 3
    assert ids[-1] == alert_acknowledged_event(again, detection_key("a1", 2)).id


def test_unreadable_control_events_are_skipped() -> None:
    from watchfloor.schemas.events import Event

    store, _clock, a, _ = logs()
    store.append([Event(id="bad", type="subscription.created", time=T0, payload={"id": 3})])
    sub, _ = a.subscribe("desk", by=ALICE)
    assert a.subscriptions() == [sub]


def test_acknowledged_message_loses_its_ack_button_and_says_who() -> None:
    ack = AlertAcknowledged(alert_id="a1", channel="desk", by=ALICE, at=T0)
    header = {"type": "header", "text": {"type": "plain_text", "text": "Russia ratified the treaty"}}
    blocks = [header, actions_block("a1", "treaty-ratified", "desk", {"party": "RUS"})]
    out = acknowledged_blocks(blocks, ack)
    assert out[0] == header
    # the time in each reader's timezone (Slack's date token), the UTC text its fallback
    said = ":white_check_mark: Acknowledged by <@U0ALICE> at <!date^1730721600^{date_num} {time}|2024-11-04 12:00 UTC>"
    assert out[1]["elements"][0]["text"] == said
    assert [e["action_id"] for e in out[2]["elements"]] == [SILENCE_ACTION, "wf_unsubscribe"]
    # updating again replaces the line rather than adding another
    again = acknowledged_blocks(out, ack)
    assert sum(1 for b in again if b.get("block_id") == "wf_acknowledged") == 1
    assert all(e["action_id"] != ACK_ACTION for b in again if b["type"] == "actions" for e in b["elements"])
    # a message without our buttons gets the line at the end; a non-Slack name is escaped
    plain = acknowledged_blocks([header], ack.model_copy(update={"by": Actor(via="cli", user="<!channel>")}))
    assert plain[-1]["elements"][0]["text"].startswith(":white_check_mark: Acknowledged by &lt;!channel&gt;")


def test_silence_button_clicked_at_once_in_two_processes_records_one_silence() -> None:
    """Both processes look before either records (the race two app processes have): both plan the same id, the
    store keeps the first, and the second is handed the first's silence, with its start and author."""
    store, clock, a, b = logs()
    day = timedelta(hours=24)

    def plan(log: ControlLog, by: Actor) -> Silence:
        return log.plan_button_silence("treaty-ratified", group={"party": "RUS"}, channel="desk", duration=day, by=by)

    def click(log: ControlLog, by: Actor, channel: str = "desk") -> tuple[Silence, bool]:
        return log.button_silence("treaty-ratified", group={"party": "RUS"}, channel=channel, duration=day, by=by)

    pa = plan(a, ALICE)
    clock.now += timedelta(seconds=1)
    pb = plan(b, BOB)
    assert pa.id == pb.id and pa != pb
    assert a.record_silence(pa) == (pa, True)
    assert b.record_silence(pb) == (pa, False)
    assert types(store) == ["silence.created"]
    assert click(b, BOB) == (pa, False)  # a later click while it holds: that silence, nothing recorded
    other, new = click(b, BOB, channel="ops")  # another channel (or group) is another silence
    assert new and other.id != pa.id
    # once it has ended, the next click makes a new one (one more silence of that rule, group and channel)
    a.unsilence(pa.id, by=ALICE)
    again, new = click(b, BOB)
    assert new and again.id not in (pa.id, other.id) and again.by == BOB
    assert click(a, ALICE) == (again, False)


def test_a_slack_event_is_claimed_once_by_any_process() -> None:
    store, _clock, a, b = logs()
    assert a.claim_slack_event("Ev01", "app_mention", channel="C0DESK", user="U0ALICE")
    assert not b.claim_slack_event("Ev01", "app_mention", channel="C0DESK", user="U0ALICE")  # Slack's retry
    assert not ControlLog(store).claim_slack_event("Ev01", "app_mention")  # after a restart
    assert b.claim_slack_event("Ev02", "app_mention")
    assert types(store) == ["slack.event.handled", "slack.event.handled"]
    assert a.subscriptions() == [] and a.silences() == []  # read, and ignored, by the projection
