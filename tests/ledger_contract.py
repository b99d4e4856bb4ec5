"""The DeliveryLedger contract (claims, leases, outcomes, redelivery), mixed into tests/store_contract.py's
StoreContract, so it runs against the memory store, SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.fixtures.ledger import settle_row
from watchfloor.schemas.events import Event
from watchfloor.stream_processors.ports import DeliveryRecord, ReplanRefused, Settlement, Store, ThreadRead

NOW = 1_730_000_000.0  # the dispatcher's clock, epoch seconds
LEASE = 60.0


def rec(alert_id: str, channel: str = "slack", seq: int = 0, **kw: object) -> DeliveryRecord:
    return DeliveryRecord(alert_id, channel, seq=seq, created_at=kw.pop("created_at", NOW), **kw)  # type: ignore[arg-type]


def delivery_ev(n: int) -> Event:
    from datetime import UTC, datetime

    return Event(id=f"d{n}", type="delivery", time=datetime.fromtimestamp(NOW, UTC), payload={"n": n})


class LedgerContract:
    """Behaviour every DeliveryLedger must have. Needs the `store` fixture of StoreContract."""

    def test_delivery_status_is_what_enqueue_and_settlement_made_it(self, store: Store) -> None:
        assert store.delivery_status("a1", "slack") is None
        store.enqueue([rec("a1", "slack")])
        assert store.delivery_status("a1", "slack") == "outstanding"
        settle_row(store, "a1", "slack", "sent", "ts=1700000000.1", now=NOW)
        assert store.delivery_status("a1", "slack") == "sent"
        assert store.delivery_status("a1", "email") is None
        assert store.delivery_status("a2", "slack") is None
        settle_row(store, "a1", "email", "suppressed", "silence s-1", now=NOW)
        assert store.delivery_status("a1", "email") == "suppressed"
        assert store.delivery_status("a1", "slack") == "sent"
        [row] = store.deliveries(channel="email")
        assert (row.alert_id, row.detail) == ("a1", "silence s-1")

    def test_enqueue_inserts_only_what_is_new_and_keeps_every_field(self, store: Store) -> None:
        payload = {"alert": {"id": "a1", "nested": [1, {"x": "ü"}]}}
        first = rec("a1", seq=7, kind="followup", payload=payload, thread_key="r|g", parent_id="a0")
        assert store.enqueue([first, rec("a2", seq=8)]) == 2
        assert store.enqueue([rec("a1", seq=99, kind="alert"), rec("a3", seq=9)]) == 1
        rows = {r.alert_id: r for r in store.deliveries()}
        got = rows["a1"]
        assert (got.status, got.kind, got.seq, got.thread_key, got.parent_id) == (
            "outstanding",
            "followup",
            7,
            "r|g",
            "a0",
        )
        assert got.payload == payload and got.created_at == NOW and got.attempts == 0 and not got.unsure
        assert [r.alert_id for r in store.deliveries()] == ["a1", "a2", "a3"]  # seq order
        assert store.delivery_counts() == {"outstanding": 3}

    def test_enqueue_plans_untouched_rows_again_in_the_same_transaction_or_writes_nothing(self, store: Store) -> None:
        # (intake.plan_retold: a held thread told again in event time; outside trial 75, F5)
        store.enqueue([rec("m1", "x", seq=1, thread_key="t", payload={"n": 1}, order_at=NOW + 90)])
        before = store.thread_rows("x", "t", {})
        first = rec("m0", "x", seq=2, thread_key="t", order_at=NOW)
        again = rec(
            "m1", "x", seq=1, thread_key="t", kind="followup", parent_id="m0", payload={"n": 2}, order_at=NOW + 90
        )
        assert store.enqueue([first], [delivery_ev(1)], replacing=[again]) == 1
        rows = {r.alert_id: r for r in store.deliveries(channel="x")}
        got = rows["m1"]
        assert (got.kind, got.parent_id, got.payload, got.order_at, got.seq) == (
            "followup",
            "m0",
            {"n": 2},
            NOW + 90,
            1,
        )
        assert (got.status, got.created_at, got.attempts) == ("outstanding", NOW, 0)
        read = store.thread_rows("x", "t", before.revisions)
        assert read.revisions["m1"] != before.revisions["m1"] and read.rows["m1"].parent_id == "m0"  # (a write)
        # a row claimed meanwhile (another dispatcher's) is not planned again, and nothing of the call is written
        assert [r.alert_id for r in store.claim_deliveries("p", NOW, LEASE, limit=1)] == ["m0"]
        late = rec("m2", "x", seq=3, thread_key="t")
        for taken in ("m0", "gone"):
            try:
                store.enqueue([late], [delivery_ev(2)], replacing=[rec(taken, "x", kind="followup", parent_id="m2")])
            except ReplanRefused as e:
                assert (e.alert_id, e.channel) == (taken, "x")
            else:
                raise AssertionError("a row claimed (or absent) was planned again")
        assert store.delivery_status("m2", "x") is None
        assert [se.event.id for se in store.read(0, types={"delivery"})] == ["d1"]
        assert store.deliveries(alert_ids={"m0"})[0].kind == "alert"

    def test_deliveries_filters(self, store: Store) -> None:
        store.enqueue([rec("a1", "x", 1, thread_key="t1"), rec("a1", "y", 1), rec("a2", "x", 2, thread_key="t1")])
        settle_row(store, "a2", "x", "expired", now=NOW)
        assert [(r.alert_id, r.channel) for r in store.deliveries(channel="x")] == [("a1", "x"), ("a2", "x")]
        assert [r.alert_id for r in store.deliveries(statuses={"expired"})] == ["a2"]
        assert [r.channel for r in store.deliveries(alert_ids={"a1"})] == ["x", "y"]
        assert [r.alert_id for r in store.deliveries(thread_key="t1", channel="x")] == ["a1", "a2"]
        assert store.deliveries(alert_ids=[]) == [] and store.deliveries(statuses=[]) == []
        assert len(store.deliveries(limit=2)) == 2
        # only what is new since a seq read before (the channel throttle's incremental count)
        assert [(r.alert_id, r.channel) for r in store.deliveries(after_seq=1)] == [("a2", "x")]
        assert [r.alert_id for r in store.deliveries(channel="x", after_seq=0)] == ["a1", "a2"]
        assert store.deliveries(channel="y", after_seq=1) == []

    def test_claim_takes_due_rows_in_order_and_leases_them(self, store: Store) -> None:
        store.enqueue(
            [
                rec("late", seq=3),
                rec("first", seq=1),
                rec("backoff", seq=2, next_attempt_at=NOW + 30),
                rec("throttled", seq=2, not_before=NOW + 30),
                rec("other", "webhook", seq=0),
            ]
        )
        got = store.claim_deliveries("p1", NOW, LEASE, limit=10, skip_channels={"webhook"})
        assert [r.alert_id for r in got] == ["first", "late"]
        assert all(r.lease_owner == "p1" and r.lease_until == NOW + LEASE for r in got)
        assert store.claim_deliveries("p1", NOW + 1, LEASE, limit=10, skip_channels={"webhook"}) == []
        # Another dispatcher takes nothing of the channel past p1's rows (trial 46, MED-2), only the other channel's
        assert [r.alert_id for r in store.claim_deliveries("p2", NOW, LEASE, backoff_set_before=NOW + 1)] == ["other"]
        # A process started after a backoff was set may ignore it, never the channel's Retry-After.
        assert store.claim_deliveries("p1", NOW, LEASE, limit=10, backoff_set_before=NOW) == []
        assert [r.alert_id for r in store.claim_deliveries("p1", NOW, LEASE, limit=10, backoff_set_before=NOW + 1)] == [
            "backoff",
        ]
        assert [r.alert_id for r in store.claim_deliveries("p1", NOW + 30, LEASE, limit=10)] == ["throttled"]

    def test_claim_takes_rows_in_event_time_then_log_order(self, store: Store) -> None:
        # Trial 24, F3/F4: one pass delivers the stories of a poll in the order they happened, not the order the
        # log took them; rows without an event time (ORDER_LAST: digests, summaries) after them, by seq.
        store.enqueue(
            [
                rec("newer", seq=1, order_at=NOW + 3600),
                rec("older", seq=2, order_at=NOW),
                rec("older-reply", seq=3, order_at=NOW),  # a reply: no earlier than its first message, then by seq
                rec("digest", seq=0),
                rec("upgraded", seq=9, order_at=0.0),  # a row of the version before: first, as it was
            ]
        )
        got = store.claim_deliveries("p", NOW, LEASE, limit=10)
        assert [r.alert_id for r in got] == ["upgraded", "older", "older-reply", "newer", "digest"]
        assert {r.alert_id: r.order_at for r in store.deliveries()}["newer"] == NOW + 3600  # kept as given
        assert [r.alert_id for r in store.deliveries()] == ["digest", "newer", "older", "older-reply", "upgraded"]
        for r in got:
            store.settle_delivery(r.alert_id, r.channel, "p", Settlement("outstanding", next_attempt_at=NOW), NOW)
        claimed = [store.claim_deliveries("q", NOW + 1, LEASE)[0].alert_id for _ in range(5)]  # one at a time
        assert claimed == ["upgraded", "older", "older-reply", "newer", "digest"]

    def test_claim_limit(self, store: Store) -> None:
        store.enqueue([rec(f"a{i}", seq=i) for i in range(5)])
        assert [r.alert_id for r in store.claim_deliveries("p", NOW, LEASE, limit=2)] == ["a0", "a1"]
        assert [r.alert_id for r in store.claim_deliveries("p", NOW, LEASE, limit=2)] == ["a2", "a3"]
        assert store.claim_deliveries("p", NOW, LEASE, limit=0) == []

    def test_an_expired_lease_comes_back_unsure(self, store: Store) -> None:
        store.enqueue([rec("a1")])
        [first] = store.claim_deliveries("crashed", NOW, LEASE)
        assert not first.unsure
        assert store.claim_deliveries("p2", NOW + LEASE - 1, LEASE) == []
        [again] = store.claim_deliveries("p2", NOW + LEASE, LEASE)
        assert again.unsure and again.lease_owner == "p2"
        # The crashed owner's late outcome is refused: the row is p2's now.
        assert not store.settle_delivery("a1", "slack", "crashed", Settlement("sent", attempts=1), NOW + LEASE)
        assert store.delivery_status("a1", "slack") == "outstanding"

    def test_claim_one_named_row_due_or_not_unless_settled_or_leased(self, store: Store) -> None:
        """claim_delivery: one row by its key (an alert a revision replaces before either was sent), due or not."""
        store.enqueue([rec("a1", payload={"x": 1}), rec("a2", seq=1), rec("a3", seq=2)])
        store.defer_channel("slack", NOW + 600, NOW)  # not due: a named claim takes it all the same
        got = store.claim_delivery("a2", "slack", "p", NOW, LEASE)
        assert got is not None and (got.alert_id, got.lease_owner, got.lease_until, got.unsure) == (
            "a2",
            "p",
            NOW + LEASE,
            False,
        )
        assert store.claim_delivery("a2", "slack", "q", NOW + 1, LEASE) is None  # leased: not twice
        assert store.claim_delivery("a1", "mail", "q", NOW, LEASE) is None  # no such row
        assert store.settle_delivery("a2", "slack", "p", Settlement("suppressed", "replaced", attempts=0), NOW)
        assert store.claim_delivery("a2", "slack", "q", NOW, LEASE) is None  # settled
        first = store.claim_delivery("a1", "slack", "crashed", NOW, LEASE)
        assert first is not None and first.payload == {"x": 1} and not first.unsure
        again = store.claim_delivery("a1", "slack", "q", NOW + LEASE, LEASE)  # its lease ran out: it may have gone
        assert again is not None and again.unsure and again.lease_owner == "q"
        assert not store.settle_delivery("a1", "slack", "crashed", Settlement("sent", attempts=1), NOW + LEASE)

    def test_a_channel_s_own_lease(self, store: Store) -> None:
        """A channel whose one attempt may outlast the lease (email waiting for its verdict) is leased longer."""
        store.enqueue([rec("a1", "mail"), rec("a2", "slack", seq=1)])
        claimed = store.claim_deliveries("p", NOW, LEASE, limit=2, channel_leases={"mail": 900.0})
        assert {(r.channel, r.lease_until) for r in claimed} == {("mail", NOW + 900.0), ("slack", NOW + LEASE)}
        assert [r.channel for r in store.claim_deliveries("q", NOW + LEASE, LEASE, limit=2)] == ["slack"]
        assert [r.channel for r in store.claim_deliveries("q", NOW + 900, LEASE, limit=2)] == ["mail", "slack"]

    def test_a_held_claim_is_kept_from_other_dispatchers_until_its_holder_settles_it(self, store: Store) -> None:
        """hold_delivery: a call given up at the claim's deadline is still running; its row stays claimed."""
        store.enqueue([rec("a1")])
        store.claim_deliveries("p", NOW, LEASE)
        assert store.hold_delivery("a1", "slack", "p", NOW + 3 * LEASE, "no answer within the lease")
        assert not store.hold_delivery("a1", "slack", "q", NOW + 9 * LEASE)  # only the holder extends it
        [row] = store.deliveries()
        assert (row.lease_owner, row.lease_until, row.unsure, row.detail, row.status) == (
            "p",
            NOW + 3 * LEASE,
            True,
            "no answer within the lease",
            "outstanding",
        )
        assert store.claim_deliveries("q", NOW + 2 * LEASE, LEASE) == []  # past the claim's own lease: still held
        assert store.hold_delivery("a1", "slack", "p", NOW + 4 * LEASE)  # renewed; the detail is kept
        assert store.deliveries()[0].detail == "no answer within the lease"
        assert store.settle_delivery("a1", "slack", "p", Settlement("outstanding", "ended", attempts=1), NOW + 1)
        assert not store.hold_delivery("a1", "slack", "p", NOW + 5 * LEASE)  # settled: nothing to hold
        [again] = store.claim_deliveries("q", NOW + 1, LEASE)
        assert again.lease_owner == "q"

    def test_settle_records_the_outcome_and_its_events_together(self, store: Store) -> None:
        store.enqueue([rec("a1"), rec("a2")])
        claimed = store.claim_deliveries("p", NOW, LEASE, limit=2)
        assert len(claimed) == 2
        ok = store.settle_delivery(
            "a1", "slack", "p", Settlement("sent", "ts 1", ref="C1:1.0", attempts=1), NOW + 1, [delivery_ev(1)]
        )
        assert ok
        retry = Settlement("outstanding", "HTTP 500", attempts=1, next_attempt_at=NOW + 5, not_before=NOW + 2)
        assert store.settle_delivery("a2", "slack", "p", retry, NOW + 1, [delivery_ev(2)])
        assert not store.settle_delivery("a2", "slack", "p", retry, NOW + 1, [delivery_ev(3)])  # lease gone
        rows = {r.alert_id: r for r in store.deliveries()}
        assert (rows["a1"].status, rows["a1"].ref, rows["a1"].attempts, rows["a1"].lease_owner) == (
            "sent",
            "C1:1.0",
            1,
            None,
        )
        a2 = rows["a2"]
        assert (a2.status, a2.detail, a2.next_attempt_at, a2.not_before, a2.lease_until) == (
            "outstanding",
            "HTTP 500",
            NOW + 5,
            NOW + 2,
            None,
        )
        assert [se.event.id for se in store.read(types={"delivery"})] == ["d1", "d2"]
        assert store.claim_deliveries("p", NOW + 4, LEASE) == []
        assert [r.alert_id for r in store.claim_deliveries("p", NOW + 5, LEASE)] == ["a2"]
        # An empty ref keeps the one recorded before.
        assert store.settle_delivery("a2", "slack", "p", Settlement("sent", ref="", attempts=2), NOW + 6)
        assert store.delivery_counts() == {"sent": 2}

    def test_sent_ref_is_the_channel_s_newest_sent_reference(self, store: Store) -> None:
        """What the dispatcher passes a notifier before a look (a Slack channel's ID, for one it cannot list)."""
        assert store.sent_ref("slack") == ""
        store.enqueue([rec("a1", seq=1), rec("a2", seq=2), rec("a3", seq=3), rec("b1", "other", seq=4)])
        for alert_id, channel, outcome, at in (
            ("a2", "slack", Settlement("sent", ref="C1:2.0", attempts=1), NOW + 1),
            ("a1", "slack", Settlement("sent", ref="C2:1.0", attempts=1), NOW + 2),  # settled later: the newest
            ("a3", "slack", Settlement("outstanding", "HTTP 503", attempts=1, unsure=True), NOW + 3),
            ("b1", "other", Settlement("sent", ref="C3:4.0", attempts=1), NOW + 4),
        ):
            claimed = store.claim_deliveries("p", at, LEASE, limit=4)
            assert (alert_id, channel) in {(r.alert_id, r.channel) for r in claimed}
            assert store.settle_delivery(alert_id, channel, "p", outcome, at)
            for r in claimed:  # the others back as they were
                if (r.alert_id, r.channel) != (alert_id, channel):
                    assert store.settle_delivery(r.alert_id, r.channel, "p", Settlement("outstanding"), at)
        assert store.sent_ref("slack") == "C2:1.0"
        assert store.sent_ref("other") == "C3:4.0"
        assert store.sent_ref("nowhere") == ""

    def test_last_sent_is_when_each_channel_s_newest_sent_row_was_settled(self, store: Store) -> None:
        """What `status` and /healthz compare a failed start-up check's time with (superseded by a later delivery)."""
        assert store.last_sent(["slack"]) == {}
        settle_row(store, "a1", "slack", "sent", now=NOW + 10)
        settle_row(store, "a2", "slack", "sent", now=NOW + 20)
        settle_row(store, "a0", "slack", "sent", now=NOW + 5)  # settled earlier than the newest: not it
        store.enqueue([rec("a3", seq=9)])  # outstanding: not counted
        settle_row(store, "a4", "slack", "expired", "gone", now=NOW + 30)  # given up: not counted
        settle_row(store, "b1", "other", "expired", "gone", now=NOW + 40)
        assert store.last_sent(["slack", "other", "nowhere"]) == {"slack": NOW + 20}
        assert store.last_sent([]) == {}

    def test_counts_and_stats_of_some_states_only(self, store: Store) -> None:
        store.enqueue(
            [
                rec("a1", "x"),
                rec("a2", "x", status="sent"),
                rec("a3", "y", status="held", created_at=NOW - 5),
                rec("a4", "y", status="sent"),
            ]
        )
        assert store.delivery_counts() == {"outstanding": 1, "sent": 2, "held": 1}
        assert store.delivery_counts(("outstanding", "held", "expired")) == {"outstanding": 1, "held": 1}
        assert store.delivery_counts(()) == {}
        assert store.delivery_stats(["sent"]) == {("x", "sent"): (1, NOW), ("y", "sent"): (1, NOW)}
        assert store.delivery_stats({"held"}) == {("y", "held"): (1, NOW - 5)}
        assert store.delivery_stats(()) == {}

    def test_thread_end_is_the_greatest_seq_of_a_channel_s_thread(self, store: Store) -> None:
        assert store.thread_end("x", "t") == 0
        store.enqueue(
            [
                rec("a1", "x", seq=7, thread_key="t"),
                rec("a2", "x", seq=12, thread_key="t"),
                rec("a3", "x", seq=40, thread_key="u"),  # another thread
                rec("a4", "y", seq=90, thread_key="t"),  # another channel
                rec("a5", "x", seq=3, thread_key="t"),  # enqueued last, not greatest
            ]
        )
        assert (store.thread_end("x", "t"), store.thread_end("x", "u"), store.thread_end("y", "t")) == (12, 40, 90)
        assert store.thread_end("x", "none") == store.thread_end("z", "t") == 0

    def test_thread_rows_reads_again_only_the_rows_written_since(self, store: Store) -> None:
        assert store.thread_rows("x", "t", {}) == ThreadRead({}, {})
        store.enqueue(
            [
                rec("a1", "x", seq=7, thread_key="t", payload={"n": 1}),
                rec("a2", "x", seq=12, thread_key="t", parent_id="a1", kind="followup"),
                rec("a3", "x", seq=40, thread_key="u"),  # another thread
                rec("a1", "y", seq=7, thread_key="t"),  # another channel
            ]
        )
        first = store.thread_rows("x", "t", {})
        assert sorted(first.revisions) == sorted(first.rows) == ["a1", "a2"]
        whole = {r.alert_id: r for r in store.deliveries(channel="x", thread_key="t")}
        assert first.rows == whole  # the rows as deliveries() reads them, every field
        assert store.thread_rows("x", "t", first.revisions) == ThreadRead(first.revisions, {})  # nothing written
        # a claim and a settlement are writes of a row: it is read again, with what they wrote; the other is not
        r = store.claim_deliveries("p", NOW, LEASE, limit=1)[0]
        assert (r.alert_id, r.channel) == ("a1", "x")
        claimed = store.thread_rows("x", "t", first.revisions)
        assert list(claimed.rows) == ["a1"] and claimed.rows["a1"].lease_owner == "p"
        assert claimed.revisions["a2"] == first.revisions["a2"] != claimed.revisions["a1"]
        store.settle_delivery("a1", "x", "p", Settlement("sent", ref="C1:1", attempts=1), NOW + 1)
        store.enqueue([rec("a4", "x", seq=50, thread_key="t", kind="followup", parent_id="a1")])
        settled = store.thread_rows("x", "t", claimed.revisions)
        assert sorted(settled.rows) == ["a1", "a4"] and settled.rows["a1"].ref == "C1:1"
        assert len(set(settled.revisions.values())) == 3  # never given twice
        assert store.thread_rows("x", "t", {"a2": -1, "gone": 5}).rows.keys() == {"a1", "a2", "a4"}

    def test_thread_rows_sees_a_redelivery_and_a_channel_s_deferral(self, store: Store) -> None:
        store.enqueue([rec("a1", "x", thread_key="t"), rec("a2", "x", seq=1, thread_key="t")])
        r = store.claim_deliveries("p", NOW, LEASE, limit=1)[0]
        store.settle_delivery(r.alert_id, r.channel, "p", Settlement("expired", "too old", attempts=1), NOW)
        known = store.thread_rows("x", "t", {}).revisions
        assert store.redeliver(NOW + 1, alert_ids={"a1"}) == 1
        again = store.thread_rows("x", "t", known)
        assert list(again.rows) == ["a1"] and again.rows["a1"].status == "outstanding"
        assert store.defer_channel("x", NOW + 100, NOW + 2) == 2
        deferred = store.thread_rows("x", "t", again.revisions)
        assert sorted(deferred.rows) == ["a1", "a2"]
        assert {r.next_attempt_at for r in deferred.rows.values()} == {NOW + 100}

    def test_delivery_stats_per_channel_and_status_with_the_oldest_row(self, store: Store) -> None:
        assert store.delivery_stats() == {}
        store.enqueue([rec("a1", "x", created_at=NOW + 5), rec("a2", "x", created_at=NOW), rec("a1", "y")])
        r = store.claim_deliveries("p", NOW + 10, LEASE, skip_channels=("x",))[0]
        store.settle_delivery(r.alert_id, r.channel, "p", Settlement("expired", "too old", attempts=1), NOW + 10)
        assert store.delivery_stats() == {("x", "outstanding"): (2, NOW), ("y", "expired"): (1, NOW)}

    def test_redeliver_expired_rows(self, store: Store) -> None:
        store.enqueue([rec("a1", "x"), rec("a1", "y"), rec("a2", "x"), rec("a3", "x")])
        for r in store.claim_deliveries("p", NOW, LEASE, limit=3):  # a1/x, a1/y, a2/x (same seq: by id, channel)
            store.settle_delivery(r.alert_id, r.channel, "p", Settlement("expired", "too old", attempts=3), NOW)
        assert store.redeliver(NOW + 100, alert_ids={"a1"}, channel="y") == 1
        assert store.redeliver(NOW + 100, alert_ids=[]) == 0
        assert store.redeliver(NOW + 100) == 2
        rows = {(r.alert_id, r.channel): r for r in store.deliveries(alert_ids={"a1", "a2"})}
        assert len(rows) == 3
        assert all(r.status == "outstanding" and r.created_at == NOW + 100 and r.attempts == 0 for r in rows.values())
        assert store.deliveries(alert_ids={"a3"})[0].created_at == NOW
        # a3 was outstanding, not expired: untouched (it keeps its age); outstanding rows on request, unless leased.
        [leased] = store.claim_deliveries("p", NOW + 100, LEASE)
        assert store.redeliver(NOW + 101, statuses=("outstanding",)) == 3
        assert store.deliveries(alert_ids={leased.alert_id}, channel=leased.channel)[0].lease_owner == "p"

    def test_redeliver_can_leave_the_rows_given_up_unconfirmed(self, store: Store) -> None:
        """Outside trial 12, M4: a bulk re-send leaves alone what may already be in the mailbox (expired, unsure)."""
        store.enqueue([rec("a1", "mail"), rec("a2", "mail"), rec("a3", "mail")])
        for r in store.claim_deliveries("p", NOW, LEASE, limit=3):
            unsure = r.alert_id == "a1"
            status = "outstanding" if r.alert_id == "a3" else "expired"
            store.settle_delivery(r.alert_id, r.channel, "p", Settlement(status, "x", attempts=1, unsure=unsure), NOW)
        assert store.redeliver(NOW + 1, statuses=("expired", "outstanding"), skip_unconfirmed=True) == 2
        rows = {r.alert_id: r for r in store.deliveries()}
        assert (rows["a1"].status, rows["a1"].unsure) == ("expired", True)
        assert rows["a2"].status == rows["a3"].status == "outstanding"
        assert store.redeliver(NOW + 2, alert_ids={"a1"}) == 1  # asked for by name: re-sent

    def test_defer_channel_holds_its_outstanding_rows(self, store: Store) -> None:
        store.enqueue([rec("a1", "x"), rec("a2", "x", not_before=NOW + 500), rec("a3", "y"), rec("a4", "x")])
        settle_row(store, "a4", "x", "sent", now=NOW)
        assert store.defer_channel("x", NOW + 100, NOW, server_asked=True) == 1
        rows = {r.alert_id: r for r in store.deliveries()}
        assert (rows["a1"].not_before, rows["a2"].not_before, rows["a3"].not_before) == (NOW + 100, NOW + 500, 0.0)
        claimed = store.claim_deliveries("p", NOW + 99, LEASE, limit=9, backoff_set_before=NOW + 99)
        assert [r.alert_id for r in claimed] == ["a3"]

    def test_a_channel_retry_after_holds_rows_enqueued_after_it(self, store: Store) -> None:
        """The channel's own pause is the channel's, not its rows': a row queued after the Retry-After (a new
        alert) waits for it too, and no process start or backoff lets it out early."""
        store.enqueue([rec("a1", "x", 1)])
        assert store.channel_pauses(NOW) == {}
        store.defer_channel("x", NOW + 100, NOW, server_asked=True)
        store.enqueue([rec("a2", "x", 2, created_at=NOW + 10), rec("a3", "y", 3, created_at=NOW + 10)])
        assert store.channel_pauses(NOW + 50) == {"x": NOW + 100}
        claimed = store.claim_deliveries("p", NOW + 50, LEASE, limit=9, backoff_set_before=NOW + 50)
        assert [r.alert_id for r in claimed] == ["a3"]
        # A shorter Retry-After later does not shorten it; a backoff (not the channel's asking) is no pause.
        store.defer_channel("x", NOW + 60, NOW + 50, server_asked=True)
        store.defer_channel("y", NOW + 200, NOW + 50)
        assert store.channel_pauses(NOW + 50) == {"x": NOW + 100}
        assert store.claim_deliveries("q", NOW + 99, LEASE, limit=9, backoff_set_before=NOW + 99) == []
        assert store.channel_pauses(NOW + 100) == {}
        assert [r.alert_id for r in store.claim_deliveries("q", NOW + 100, LEASE, limit=9)] == ["a1", "a2"]

    def test_resuming_a_channel_lifts_its_pause_for_every_row(self, store: Store) -> None:
        """An operator's `alerts resume`: the pause is gone, rows held by the Retry-After are due now; other
        channels' pauses stay."""
        store.enqueue([rec("a1", "x", 1), rec("a2", "x", 2), rec("b1", "y", 3)])
        store.defer_channel("x", NOW + 100, NOW, server_asked=True)
        store.defer_channel("y", NOW + 100, NOW, server_asked=True)
        store.enqueue([rec("a3", "x", 4, created_at=NOW + 10)])  # queued after the Retry-After: held by the pause
        assert store.resume_channel("x", NOW + 10) == 2  # a1 and a2 had the Retry-After as their not_before
        assert store.channel_pauses(NOW + 10) == {"y": NOW + 100}
        claimed = store.claim_deliveries("p", NOW + 10, LEASE, limit=9)
        assert sorted(r.alert_id for r in claimed) == ["a1", "a2", "a3"]
        assert store.resume_channel("never-paused", NOW + 10) == 0

    def test_resume_lifts_the_channel_backoff_too(self, store: Store) -> None:
        """Trial 50, MED-2: after a 429 the channel is paused and backed off; `alerts resume` lifted the pause
        only, and the backoff kept the channel's new alerts back until the failed row's next attempt. Both go now;
        a row held to a later time of its own keeps it."""
        store.enqueue([rec("a1", "x", 1), rec("a9", "x", 9, next_attempt_at=NOW + 900)])
        store.defer_channel("x", NOW + 100, NOW, server_asked=True)
        store.defer_channel("x", NOW + 120, NOW)
        store.enqueue([rec("a2", "x", 2, created_at=NOW + 10)])  # raised during the pause and backoff
        assert store.claim_deliveries("p", NOW + 10, LEASE, limit=9) == []
        assert store.resume_channel("x", NOW + 10) == 2  # a1 (not_before, next attempt) and a9 (not_before)
        assert store.channel_pauses(NOW + 10) == {} and store.channel_backoffs(NOW + 10) == {}
        claimed = store.claim_deliveries("p", NOW + 10, LEASE, limit=9)
        assert [r.alert_id for r in claimed] == ["a1", "a2"]
        assert {r.alert_id: r.next_attempt_at for r in store.deliveries()}["a9"] == NOW + 900

    def test_a_longer_retry_after_extends_the_channel_pause(self, store: Store) -> None:
        store.defer_channel("x", NOW + 100, NOW, server_asked=True)  # no rows at all: the pause is still kept
        store.defer_channel("x", NOW + 300, NOW + 1, server_asked=True)
        store.enqueue([rec("a1", "x")])
        assert store.channel_pauses(NOW + 150) == {"x": NOW + 300}
        assert store.claim_deliveries("p", NOW + 150, LEASE) == []
        assert [r.alert_id for r in store.claim_deliveries("p", NOW + 300, LEASE)] == ["a1"]

    def test_defer_channel_as_a_backoff(self, store: Store) -> None:
        store.enqueue([rec("a1", "x"), rec("a2", "x", next_attempt_at=NOW + 500), rec("a3", "y")])
        assert store.defer_channel("x", NOW + 100, NOW + 1) == 1
        rows = {r.alert_id: r for r in store.deliveries()}
        assert (rows["a1"].next_attempt_at, rows["a1"].scheduled_at, rows["a1"].not_before) == (NOW + 100, NOW + 1, 0)
        assert rows["a2"].next_attempt_at == NOW + 500 and rows["a3"].next_attempt_at == 0
        assert [r.alert_id for r in store.claim_deliveries("p", NOW + 2, LEASE, limit=9)] == ["a3"]
        # a process started after that backoff was set tries at once
        claimed = store.claim_deliveries("q", NOW + 2, LEASE, limit=9, backoff_set_before=NOW + 2)
        assert [r.alert_id for r in claimed] == ["a1", "a2"]

    def test_a_channel_backoff_holds_rows_enqueued_after_it(self, store: Store) -> None:
        """Trial 46, MED-2: a failure of the whole channel backs the channel off, not only the rows it has: a row
        queued during the backoff (a new alert) waits for it, and the failed row, due when the backoff ends, is
        claimed first then. It is no pause the channel asked for."""
        store.enqueue([rec("a1", "x", 1)])
        assert store.channel_backoffs(NOW) == {}
        store.defer_channel("x", NOW + 100, NOW)
        store.enqueue([rec("a2", "x", 2, created_at=NOW + 10), rec("b1", "y", 3, created_at=NOW + 10)])
        assert store.channel_backoffs(NOW + 50) == {"x": NOW + 100} and store.channel_pauses(NOW + 50) == {}
        assert [r.alert_id for r in store.claim_deliveries("p", NOW + 50, LEASE, limit=9)] == ["b1"]
        assert store.claim_deliveries("p", NOW + 99, LEASE, limit=9) == []
        assert store.channel_backoffs(NOW + 100) == {}
        assert [r.alert_id for r in store.claim_deliveries("p", NOW + 100, LEASE, limit=9)] == ["a1", "a2"]

    def test_a_process_started_after_a_channel_backoff_tries_at_once(self, store: Store) -> None:
        store.enqueue([rec("a1", "x", 1)])
        store.defer_channel("x", NOW + 100, NOW)
        store.enqueue([rec("a2", "x", 2, created_at=NOW + 10)])
        assert store.channel_backoffs(NOW + 10, backoff_set_before=NOW + 5) == {}
        assert store.channel_backoffs(NOW + 10, backoff_set_before=NOW) == {"x": NOW + 100}  # set as it started
        claimed = store.claim_deliveries("q", NOW + 10, LEASE, limit=9, backoff_set_before=NOW + 5)
        assert [r.alert_id for r in claimed] == ["a1", "a2"]

    def test_a_success_ends_a_channel_backoff_and_a_failure_does_not(self, store: Store) -> None:
        store.enqueue([rec("a1", "x", 1), rec("a2", "x", 2), rec("b1", "y", 3)])
        store.defer_channel("x", NOW + 100, NOW)
        store.defer_channel("y", NOW + 100, NOW)
        claimed = store.claim_deliveries("q", NOW + 10, LEASE, limit=2, backoff_set_before=NOW + 5)
        assert [r.alert_id for r in claimed] == ["a1", "a2"]
        # failed again, still outstanding: the channel backs off still (its new backoff is set by defer_channel)
        again = Settlement("outstanding", "HTTP 500", attempts=2, next_attempt_at=NOW + 200)
        assert store.settle_delivery("a2", "x", "q", again, NOW + 10)
        assert store.channel_backoffs(NOW + 10) == {"x": NOW + 100, "y": NOW + 100}
        assert store.settle_delivery("a1", "x", "q", Settlement("sent", attempts=2), NOW + 11)
        assert store.channel_backoffs(NOW + 11) == {"y": NOW + 100}  # the other channel's stays
        assert [r.alert_id for r in store.claim_deliveries("p", NOW + 200, LEASE, limit=9)] == ["a2", "b1"]

    def test_a_channel_backoff_is_the_latest_failure_s(self, store: Store) -> None:
        """The backoff is the failed row's next attempt: a later failure's shorter one (a row at its first attempt
        after one far into its backoff was given up) replaces it, so the channel never waits past its failed row."""
        store.defer_channel("x", NOW + 600, NOW)
        store.defer_channel("x", NOW + 30, NOW + 10)
        store.enqueue([rec("a1", "x", created_at=NOW + 20)])
        assert store.channel_backoffs(NOW + 20) == {"x": NOW + 30}
        assert store.claim_deliveries("p", NOW + 29, LEASE) == []
        assert [r.alert_id for r in store.claim_deliveries("p", NOW + 30, LEASE)] == ["a1"]

    def test_a_failed_row_given_up_leaves_no_channel_backoff(self, store: Store) -> None:
        """Without `hold_channel` (the failed row was given up: it has no retry to wait for) the rows there wait,
        the channel does not: a row queued after goes at once."""
        store.enqueue([rec("a1", "x", 1)])
        assert store.defer_channel("x", NOW + 100, NOW, hold_channel=False) == 1
        store.enqueue([rec("a2", "x", 2, created_at=NOW + 10)])
        assert store.channel_backoffs(NOW + 10) == {}
        assert [r.alert_id for r in store.claim_deliveries("p", NOW + 10, LEASE, limit=9)] == ["a2"]

    def test_no_claim_past_a_row_of_its_channel_another_dispatcher_holds(self, store: Store) -> None:
        # Trial 46, MED-2: while one dispatcher sends a channel's row (which may fail and back off), another does
        # not send that channel's later rows before it; other channels go on.
        store.enqueue([rec("a1", seq=1), rec("a2", seq=2), rec("b1", "webhook", seq=3), rec("a3", seq=4)])
        assert [r.alert_id for r in store.claim_deliveries("p1", NOW, LEASE)] == ["a1"]
        assert [r.alert_id for r in store.claim_deliveries("p2", NOW, LEASE, limit=9)] == ["b1"]
        assert [r.alert_id for r in store.claim_deliveries("p1", NOW, LEASE)] == ["a2"]  # its own lease: no bar
        # settled, a1 bars nothing; a2 (p1's) still bars a3 for p2
        assert store.settle_delivery("a1", "slack", "p1", Settlement("sent", attempts=1), NOW)
        assert store.claim_deliveries("p2", NOW, LEASE, limit=9) == []
        # a lease run out (its holder gone) bars nothing: the row comes back first
        assert [r.alert_id for r in store.claim_deliveries("p2", NOW + LEASE, LEASE, limit=9)] == ["a2", "b1", "a3"]

    def test_concurrent_claims_hand_each_row_out_once(self, store: Store) -> None:
        self._concurrent_claims([store] * 4)

    @staticmethod
    def _concurrent_claims(stores: list[Store]) -> None:
        n = 60
        stores[0].enqueue([rec(f"a{i:03d}", seq=i) for i in range(n)])
        got: list[list[str]] = [[] for _ in stores]
        errors: list[BaseException] = []
        barrier = threading.Barrier(len(stores))

        def worker(i: int, st: Store) -> None:
            try:
                barrier.wait()
                while claimed := st.claim_deliveries(f"p{i}", NOW, LEASE, limit=3):
                    for r in claimed:
                        got[i].append(r.alert_id)
                        assert st.settle_delivery(r.alert_id, r.channel, f"p{i}", Settlement("sent", attempts=1), NOW)
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(i, st)) for i, st in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        everything = [a for g in got for a in g]
        assert sorted(everything) == [f"a{i:03d}" for i in range(n)]  # each once, none lost


class PersistentLedgerContract:
    """Ledger behaviour across store objects on the same data (like processes)."""

    def test_claims_from_four_store_objects_hand_each_row_out_once(self, open_store: Callable[[], Store]) -> None:
        LedgerContract._concurrent_claims([open_store() for _ in range(4)])

    def test_a_channel_pause_holds_for_every_store_object(self, open_store: Callable[[], Store]) -> None:
        first, second = open_store(), open_store()
        first.defer_channel("x", NOW + 100, NOW, server_asked=True)
        first.close()
        second.enqueue([rec("a1", "x", created_at=NOW + 20), rec("a2", "y", created_at=NOW + 20)])
        assert second.channel_pauses(NOW + 20) == {"x": NOW + 100}
        got = second.claim_deliveries("p2", NOW + 20, LEASE, limit=5, backoff_set_before=NOW + 20)
        assert [r.alert_id for r in got] == ["a2"]
        assert second.settle_delivery("a2", "y", "p2", Settlement("sent", attempts=1), NOW + 21)
        third = open_store()
        assert [r.alert_id for r in third.claim_deliveries("p3", NOW + 100, LEASE, limit=5)] == ["a1"]

    def test_a_channel_backoff_holds_for_every_store_object(self, open_store: Callable[[], Store]) -> None:
        first, second = open_store(), open_store()
        first.enqueue([rec("a1", "x", 1)])
        first.defer_channel("x", NOW + 100, NOW)
        first.close()
        second.enqueue([rec("a2", "x", 2, created_at=NOW + 20), rec("b1", "y", 3, created_at=NOW + 20)])
        assert second.channel_backoffs(NOW + 20) == {"x": NOW + 100}
        assert [r.alert_id for r in second.claim_deliveries("p2", NOW + 20, LEASE, limit=5)] == ["b1"]
        assert second.settle_delivery("b1", "y", "p2", Settlement("sent", attempts=1), NOW + 21)
        third = open_store()
        assert [r.alert_id for r in third.claim_deliveries("p3", NOW + 100, LEASE, limit=5)] == ["a1", "a2"]

    def test_reopen_keeps_leases_and_schedule(self, open_store: Callable[[], Store]) -> None:
        first = open_store()
        first.enqueue([rec("a1", payload={"k": "v"}), rec("a2", "webhook", seq=1)])
        first.claim_deliveries("p1", NOW, LEASE)
        first.close()
        again = open_store()
        assert [r.alert_id for r in again.claim_deliveries("p2", NOW + 1, LEASE, limit=5)] == ["a2"]
        [a1] = again.claim_deliveries("p2", NOW + LEASE, LEASE)
        assert a1.unsure and a1.payload == {"k": "v"}
