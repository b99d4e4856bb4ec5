"""The email channel through the real dispatcher and delivery ledger, to a real local SMTP server: delivered once,
retried after a 4xx until it goes, threads by In-Reply-To, and at-least-once (same Message-ID) after a timeout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fixtures.smtp_server import LocalSMTP
from tests.functional.delivery_helpers import RETRY, Clock, deliveries, detection, feed, ledger
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import AlertCatalog
from watchfloor.alerts.notifiers.email import EmailNotifier
from watchfloor.schemas.config import Subscription
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.functional

CATALOG = AlertCatalog(open_periods={"troops": timedelta(days=2)})


def dispatcher(store: MemoryStore, server: LocalSMTP, clock: Clock, *, timeout: float = 5) -> AlertDispatcher:
    mail = EmailNotifier(
        "mail", to=["desk@example.org"], sender="alerts@example.org", host=server.host, port=server.port, tls="none",
        timeout=timeout,
    )  # fmt: skip
    return AlertDispatcher(store, {"mail": mail}, [Subscription(channel="mail")], RETRY, now=clock, catalog=CATALOG)


def ids(server: LocalSMTP) -> list[str]:
    return [str(r.message["Message-ID"]) for r in server.received]


def test_a_detection_is_mailed_once_and_a_451_is_retried_until_it_goes(smtp_server: LocalSMTP) -> None:
    store, clock = MemoryStore(), Clock()
    d = dispatcher(store, smtp_server, clock)
    feed(store, detection(1))
    assert d.cycle().ok
    assert ids(smtp_server) == ["<det0001@watchfloor>"]
    row = ledger(store)[("det0001", "mail")]
    assert (row.status, row.ref, row.attempts) == ("sent", "<det0001@watchfloor>", 1)

    assert d.cycle().tally.sent == 0  # a second cycle sends nothing
    assert len(smtp_server.received) == 1

    smtp_server.fail_next("DATA", "451 4.3.0 mail server busy, try again later")
    feed(store, detection(2, group={"route": "B"}))
    report = d.cycle()
    assert not report.ok and report.tally.failed == 1 and len(smtp_server.received) == 1
    row = ledger(store)[("det0002", "mail")]
    assert row.status == "outstanding" and "451" in row.detail and not row.unsure  # refused: nothing delivered

    assert d.cycle().tally.sent == 0  # not due yet: the ledger's backoff, never a sleep
    clock.advance(RETRY.backoff.total_seconds())
    assert d.cycle().ok
    assert ids(smtp_server) == ["<det0001@watchfloor>", "<det0002@watchfloor>"]  # delivered exactly once
    row = ledger(store)[("det0002", "mail")]
    assert (row.status, row.attempts) == ("sent", 2)
    assert [x.status for x in deliveries(store) if x.alert_id == "det0002"] == ["failed", "sent"]
    clock.advance(600)
    assert d.cycle().tally.sent == 0 and len(smtp_server.received) == 2


def test_a_follow_up_is_mailed_as_a_reply_to_the_first_alert(smtp_server: LocalSMTP) -> None:
    store, clock = MemoryStore(), Clock()
    d = dispatcher(store, smtp_server, clock)
    group = {"party": "RUS"}
    feed(store, detection(1, rule="troops", group=group, severity="medium", confidence="unconfirmed"))
    assert d.cycle().ok
    feed(store, detection(2, rule="troops", group=group, severity="high", minutes=61, sources=("A", "B")))
    assert d.cycle().ok

    first, reply = (r.message for r in smtp_server.received)
    assert ledger(store)[("det0002", "mail")].kind == "followup"
    assert reply["In-Reply-To"] == reply["References"] == first["Message-ID"] == "<det0001@watchfloor>"
    # (Python's parser keeps the space before a subject folded onto its own line; mail clients drop it.)
    assert reply["Subject"] == "Re: " + first["Subject"].lstrip()
    # The reply keeps the first subject ("[MEDIUM, unconfirmed]"), so its body says the thread is confirmed now.
    assert first["Subject"].lstrip().startswith("[MEDIUM, unconfirmed]")
    assert "HIGH (confirmed, was MEDIUM)" in smtp_server.received[1].part("plain")


def test_a_timeout_after_the_message_went_is_sent_again_with_the_same_message_id(smtp_server: LocalSMTP) -> None:
    """At-least-once: a mailbox cannot be looked in, so an attempt that may have got through is repeated; the
    repeat has the same Message-ID, by which mail clients drop it. The ledger converges on one `sent`."""
    store, clock = MemoryStore(), Clock()
    # 3 s, not 0.5: every step before the stalled answer (connect, EHLO, MAIL, RCPT, DATA) must beat the timeout,
    # which a loaded machine's scheduler need not; the stall only has to outlast it.
    d = dispatcher(store, smtp_server, clock, timeout=3)
    smtp_server.stall_next(6)
    feed(store, detection(1))
    assert not d.cycle().ok
    row = ledger(store)[("det0001", "mail")]
    assert row.status == "outstanding" and row.unsure and "after the message was sent" in row.detail

    clock.advance(RETRY.backoff.total_seconds())
    assert d.cycle().ok
    assert ids(smtp_server) == ["<det0001@watchfloor>", "<det0001@watchfloor>"]
    row = ledger(store)[("det0001", "mail")]
    assert (row.status, row.attempts) == ("sent", 2)
    clock.advance(600)
    assert d.cycle().tally.sent == 0 and len(smtp_server.received) == 2


def test_a_late_revision_of_an_older_alert_says_the_thread_still_stands_higher(smtp_server: LocalSMTP) -> None:
    """Outside trial 7 (H1): mail cannot update the first message, so the reply says the thread's state, the state
    of its newest standing alert in event time; a revision of an older MEDIUM alert does not read as a downgrade."""
    store, clock = MemoryStore(), Clock()
    d = dispatcher(store, smtp_server, clock)
    group = {"party": "RUS"}
    feed(store, detection(1, rule="troops", group=group, severity="medium", confidence="unconfirmed", minutes=600))
    assert d.cycle().ok
    feed(store, detection(2, rule="troops", group=group, severity="high", minutes=660, sources=("A", "B")))
    assert d.cycle().ok
    late = detection(3, rule="troops", group=group, severity="medium", confidence="unconfirmed", minutes=-600)
    feed(store, late.model_copy(update={"revises": "det0001", "revision": 1}))
    assert d.cycle().ok
    said = smtp_server.received[2].part("plain")
    assert "MEDIUM (unconfirmed)" in said and "HIGH (confirmed)" in said, said
    assert "A late report changed alert det0001" in said
