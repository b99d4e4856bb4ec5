"""EmailNotifier against a real local SMTP server (aiosmtpd): real smtplib, real sockets, real MIME."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

import pytest

from tests.fixtures.smtp_server import PASSWORD, USERNAME, LocalSMTP, free_port
from watchfloor.alerts.notice import Digest, Notice, ThreadView, notice_of
from watchfloor.alerts.notifiers.base import (
    Checking,
    DigestSending,
    Lasting,
    Notifier,
    PermanentError,
    Reconciling,
    TransientError,
    Unconfirmed,
    Updating,
)
from watchfloor.alerts.notifiers.email import EmailNotifier, message_id
from watchfloor.schemas.config import EmailChannel
from watchfloor.schemas.events import Alert, Detection, Evidence
from watchfloor.wiring import WiringError, build_notifier

pytestmark = pytest.mark.integration

T0 = datetime(2024, 11, 4, 9, 0, tzinfo=UTC)
TO = ["desk@example.org", "Risk Desk <risk@example.org>"]


def alert(
    n: int = 1,
    *,
    title: str = "Rail cars said to carry artillery shells westward",
    severity: str = "high",
    url: str | None = "https://observer.example.net/story?id=1&lang=en",
    sentence: str = "Satellite images appear to show containers stacked at the port.",
    evidence_ids: tuple[str, ...] = ("story-1",),
) -> Alert:
    det = Detection(
        id=f"det{n:04d}",
        rule="shells-shipped",
        title=title,
        severity=severity,
        group={"route": "RAJIN"},
        fired_at=T0 + timedelta(minutes=n),
        confidence="confirmed",
        attributes={"place": ["RAJIN"]},
        description="Shipments of munitions by rail toward the front.",
        evidence=tuple(
            Evidence(
                event_id=eid,
                signal="munitions_moved",
                source="Coastal Observer",
                url=url,
                published_at=T0,
                sentence=sentence,
                modality="hedged",
            )
            for eid in evidence_ids
        ),
    )
    return Alert(id=det.id, detection=det, channels=("mail",))


def notifier(server: LocalSMTP, **kw: object) -> EmailNotifier:
    args: dict[str, object] = {
        "to": TO,
        "sender": "watchfloor <alerts@example.org>",
        "host": server.host,
        "port": server.port,
        "tls": "none",
        "timeout": 5,
    }
    if server.username is not None:
        args |= {"username": server.username, "password": server.password}
    return EmailNotifier("mail", **(args | kw))  # type: ignore[arg-type]


def test_is_a_notifier_that_checks_and_sends_digests_but_neither_updates_nor_looks(smtp_server: LocalSMTP) -> None:
    n = notifier(smtp_server)
    assert isinstance(n, Notifier) and isinstance(n, DigestSending) and isinstance(n, Checking)
    # Mail cannot be changed after it was sent, and a mailbox cannot be looked in: the dispatcher sends again.
    assert not isinstance(n, Updating) and not isinstance(n, Reconciling)


def test_an_alert_arrives_with_its_headers_and_a_text_and_an_html_part(smtp_server: LocalSMTP) -> None:
    ref = notifier(smtp_server).send(notice_of(alert(), "mail"))

    [got] = smtp_server.received
    assert got.mail_from == "alerts@example.org"
    assert got.rcpt_tos == ("desk@example.org", "risk@example.org")
    msg = got.message
    assert msg["Subject"] == "[HIGH] Rail cars said to carry artillery shells westward"
    assert msg["From"] == "watchfloor <alerts@example.org>"
    assert msg["To"] == "desk@example.org, Risk Desk <risk@example.org>"
    assert msg["Message-ID"] == "<det0001@watchfloor>" == ref  # deterministic: the delivery key
    assert msg["Auto-Submitted"] == "auto-generated" and msg["X-Watchfloor-Severity"] == "high"
    assert parsedate_to_datetime(msg["Date"]).tzinfo is not None
    assert msg.get_content_type() == "multipart/alternative" and "In-Reply-To" not in msg
    text, page = got.part("plain"), got.part("html")
    for part in (text, page):
        assert "Rail cars said to carry artillery shells westward" in part
        assert "Shipments of munitions by rail" in part and "Coastal Observer" in part and "RAJIN" in part
        assert "Satellite images appear to show containers stacked at the port." in part
        assert "det0001" in part
    assert "Severity: HIGH" in text and "https://observer.example.net/story?id=1&lang=en" in text
    assert '<a href="https://observer.example.net/story?id=1&amp;lang=en">Coastal Observer</a>' in page
    assert "(observer.example.net)" in page  # the link's own host beside the source's name


def test_a_follow_up_is_a_reply_in_the_thread_of_the_first_message(smtp_server: LocalSMTP) -> None:
    n = notifier(smtp_server)
    first_alert = alert(1, severity="medium")
    first_ref = n.send(notice_of(first_alert, "mail"))
    second = alert(2, severity="critical", evidence_ids=("story-1", "story-2"))
    view = ThreadView(
        thread_ref=first_ref,
        target_key=first_alert.id,
        target_ref=first_ref,
        target=first_alert,
        severity="critical",
        confidence="confirmed",
        sources=2,
        updates=1,
    )
    follow = Notice(
        key=second.id,
        kind="followup",
        alert=second,
        channel="mail",
        parent_id=first_alert.id,
        thread=view,
        escalated_from="medium",
    )
    ref = n.send(follow)

    first, reply = (r.message for r in smtp_server.received)
    assert ref == reply["Message-ID"] == "<det0002@watchfloor>" != first["Message-ID"]
    assert reply["In-Reply-To"] == first["Message-ID"] and reply["References"] == first["Message-ID"]
    assert (
        reply["Subject"]
        == "Re: " + first["Subject"]
        == "Re: [MEDIUM] Rail cars said to carry artillery shells westward"
    )
    text = smtp_server.received[1].part("plain")
    assert "Update:" in text and "CRITICAL (confirmed, was MEDIUM)" in text and "2 independent" in text
    assert "New evidence (1)" in text  # story-2 only: story-1 was in the first message
    assert "Shipments of munitions" not in text  # the rule's description is not repeated in replies


def test_a_withdrawal_replies_in_the_thread(smtp_server: LocalSMTP) -> None:
    n = notifier(smtp_server)
    first = alert(1)
    ref = n.send(notice_of(first, "mail"))
    view = ThreadView(ref, first.id, ref, first, "high", "confirmed", 1, 1, withdrawn="the report was corrected")
    n.send(
        Notice("det0001:retracted", "retraction", first, "mail", parent_id=first.id, thread=view, reason="corrected")
    )
    reply = smtp_server.received[1]
    assert reply.message["In-Reply-To"] == ref and reply.message["Subject"].startswith("Re: [HIGH]")
    assert reply.message["Message-ID"] == "<det0001=3Aretracted@watchfloor>"  # ':' made header-safe
    assert "Withdrawn: Rail cars" in reply.part("plain") and "corrected" in reply.part("plain")
    # Outside trial 11, LOW 3: the footer a person reads names the alert as `alerts list` does, not the
    # withdrawal's delivery key (which stays in the Message-ID: idempotency and threading rest on it).
    assert f"alert {first.id} ·" in reply.part("plain") and "det0001:retracted" not in reply.part("plain")


def test_a_digest_is_one_message_listing_the_alerts(smtp_server: LocalSMTP) -> None:
    dets = tuple(alert(i, title=f"Convoy <{i}> seen").detection for i in (1, 2, 3))
    slot = datetime(2024, 11, 5, 8, 0, tzinfo=UTC)
    digest = Digest("sub1:2024-11-05", "sub1", "mail", slot, None, 0, 10, dets, silenced=2)
    ref = notifier(smtp_server).send_digest(digest)

    [got] = smtp_server.received
    assert ref == got.message["Message-ID"] == message_id("sub1:2024-11-05")
    assert got.message["Subject"].startswith("watchfloor digest · 3 alerts ·")
    text, page = got.part("plain"), got.part("html")
    assert [line for line in text.splitlines() if line.startswith("- [HIGH]")] == [
        f"- [HIGH] Convoy <{i}> seen (shells-shipped) · RAJIN · 2024-11-04 09:0{i} UTC"
        f" · Coastal Observer https://observer.example.net/story?id=1&lang=en · alert det000{i}"  # which report
        for i in (1, 2, 3)
    ]
    assert page.count("<li>") == 3 and "Convoy &lt;2&gt; seen" in page and "<2>" not in page
    assert "2 silenced" in text


def test_a_title_cannot_add_a_header(smtp_server: LocalSMTP) -> None:
    evil = "Troops massing\r\nBcc: spy@evil.example\r\nX-Injected: yes\n\nbody"
    notifier(smtp_server).send(notice_of(alert(title=evil), "mail"))

    [got] = smtp_server.received
    msg = got.message
    assert got.rcpt_tos == ("desk@example.org", "risk@example.org")  # nobody else got it
    assert msg["Bcc"] is None and msg["X-Injected"] is None
    assert msg["Subject"] == "[HIGH] Troops massing Bcc: spy@evil.example X-Injected: yes body"
    header_block = got.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in header_block and b"\r\nX-Injected:" not in header_block


def test_the_html_part_escapes_article_text_and_links_only_http_urls(smtp_server: LocalSMTP) -> None:
    n = notifier(smtp_server)
    n.send(
        notice_of(alert(1, title="<script>alert('x')</script> & co", sentence='He said "<img src=x onerror=1>"'), "m")
    )
    n.send(notice_of(alert(2, url="javascript:alert(1)"), "m"))
    n.send(notice_of(alert(3, url='https://ok.example/"><script>x</script>'), "m"))

    page = smtp_server.received[0].part("html")
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page
    assert "&lt;img src=x onerror=1&gt;" in page
    for got in smtp_server.received[1:]:
        page = got.part("html")
        assert "<a " not in page and "javascript:" not in page and "<script>" not in page
        assert "javascript:" not in got.part("plain")  # not shown where a client might link it either


@pytest.mark.parametrize(
    ("step", "reply"),
    [
        ("MAIL", "421 4.7.0 try again later, closing connection"),
        ("RCPT", "450 4.2.1 mailbox busy"),
        ("DATA", "451 4.3.0 local error in processing"),
        ("DATA", "452 4.3.1 insufficient system storage"),
    ],
)
def test_4xx_replies_are_transient(smtp_server: LocalSMTP, step: str, reply: str) -> None:
    smtp_server.fail_next(step, reply, times=2 if step == "RCPT" else 1)  # one per recipient
    with pytest.raises(TransientError) as info:
        notifier(smtp_server).send(notice_of(alert(), "mail"))
    assert reply.split()[0] in info.value.message and info.value.channel_wide
    assert not info.value.maybe_delivered  # the server said no: nothing was delivered
    assert smtp_server.received == []


@pytest.mark.parametrize(
    ("step", "reply", "channel_wide"),
    [
        ("RCPT", "550 5.1.1 mailbox unavailable", True),  # every recipient: every message would fail
        ("MAIL", "553 5.7.1 sender address not allowed", True),
        ("DATA", "554 5.7.1 message refused as spam", False),  # this message
    ],
)
def test_5xx_replies_are_permanent(smtp_server: LocalSMTP, step: str, reply: str, channel_wide: bool) -> None:
    smtp_server.fail_next(step, reply, times=2 if step == "RCPT" else 1)
    with pytest.raises(PermanentError) as info:
        notifier(smtp_server).send(notice_of(alert(), "mail"))
    assert reply.split()[0] in info.value.message and info.value.channel_wide is channel_wide
    assert smtp_server.received == []


def test_a_recipient_refused_gets_nothing_the_others_get_it_and_the_log_says_so(
    smtp_server: LocalSMTP, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.refuse("risk@example.org", "550 5.1.1 no such mailbox")
    with caplog.at_level(logging.WARNING):
        ref = notifier(smtp_server).send(notice_of(alert(), "mail"))
    [got] = smtp_server.received
    assert got.rcpt_tos == ("desk@example.org",) and ref == "<det0001@watchfloor>"
    assert "refused for risk@example.org: 550" in caplog.text


def test_login_then_send(smtp_auth_server: LocalSMTP) -> None:
    notifier(smtp_auth_server).send(notice_of(alert(), "mail"))
    assert len(smtp_auth_server.received) == 1


def test_a_wrong_password_is_permanent_channel_wide_and_never_shown(
    smtp_auth_server: LocalSMTP, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "not-the-password-9d8f7"
    n = notifier(smtp_auth_server, password=wrong)
    with pytest.raises(PermanentError) as info:
        n.send(notice_of(alert(), "mail"))
    assert info.value.channel_wide and "535" in info.value.message and USERNAME in info.value.message
    assert wrong not in info.value.message and wrong not in repr(n) and wrong not in caplog.text
    with pytest.raises(PermanentError) as checked:
        n.check()
    assert "535" in checked.value.message and wrong not in checked.value.message
    assert smtp_auth_server.received == []


def test_without_login_a_server_that_requires_it_refuses_the_sender(smtp_auth_server: LocalSMTP) -> None:
    n = EmailNotifier(
        "mail", to=TO, sender="alerts@example.org", host="127.0.0.1", port=smtp_auth_server.port, tls="none"
    )
    with pytest.raises(PermanentError) as info:
        n.send(notice_of(alert(), "mail"))
    assert "530" in info.value.message and info.value.channel_wide


def test_connection_refused_is_transient_and_nothing_was_sent() -> None:
    n = EmailNotifier("mail", to=TO, sender="alerts@example.org", host="127.0.0.1", port=free_port(), tls="none")
    with pytest.raises(TransientError) as info:
        n.send(notice_of(alert(), "mail"))
    assert "ConnectionRefusedError" in info.value.message and info.value.channel_wide
    assert not info.value.maybe_delivered


def test_the_verdict_on_a_message_is_waited_for_longer_than_a_command(smtp_server: LocalSMTP) -> None:
    """RFC 5321 §4.5.3.2.6: the reply to the end of the message may take minutes; `timeout` is for the rest."""
    smtp_server.stall_next(6)  # timeout 3 s: the steps before the stall must beat it on a loaded machine too
    ref = notifier(smtp_server, timeout=3, data_timeout=60).send(notice_of(alert(), "mail"))
    assert ref == str(smtp_server.received[0].message["Message-ID"]) and len(smtp_server.received) == 1


def test_no_verdict_within_data_timeout_is_unconfirmed(smtp_server: LocalSMTP) -> None:
    smtp_server.stall_next(10)
    n = notifier(smtp_server, timeout=3, data_timeout=4)
    with pytest.raises(Unconfirmed) as info:
        n.send(notice_of(alert(), "mail"))
    assert info.value.maybe_delivered and "unconfirmed" in info.value.message
    assert "no answer within data_timeout (4s)" in info.value.message
    assert len(smtp_server.received) == 1  # it did get through: a retry would be a copy
    assert isinstance(n, Lasting) and n.longest_attempt() >= 4 + 12 * 3


def test_a_4xx_to_the_end_of_the_message_is_a_plain_refusal(smtp_server: LocalSMTP) -> None:
    smtp_server.fail_next("DATA", "451 4.3.0 try again later")
    with pytest.raises(TransientError) as info:
        notifier(smtp_server, timeout=3, data_timeout=4).send(notice_of(alert(), "mail"))
    assert not isinstance(info.value, Unconfirmed) and not info.value.maybe_delivered


def test_a_server_that_never_greets_times_out_as_transient_and_unsent() -> None:
    with socket.socket() as silent:  # accepts the connection (backlog), never says 220
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        n = EmailNotifier("mail", to=TO, sender="a@example.org", host="127.0.0.1", port=port, tls="none", timeout=0.5)
        with pytest.raises(TransientError) as info:
            n.send(notice_of(alert(), "mail"))
    assert not info.value.maybe_delivered and info.value.channel_wide


def test_check_says_what_it_checked_and_sends_nothing(smtp_auth_server: LocalSMTP) -> None:
    said = notifier(smtp_auth_server).check()
    assert f"127.0.0.1:{smtp_auth_server.port}" in said and f"logged in as {USERNAME}" in said
    assert "NOOP ok" in said and "2 address(es)" in said and PASSWORD not in said
    assert smtp_auth_server.sessions == 1 and smtp_auth_server.received == []


def test_check_fails_usefully() -> None:
    n = EmailNotifier("mail", to=TO, sender="alerts@example.org", host="127.0.0.1", port=free_port(), tls="none")
    with pytest.raises(TransientError, match=r"email mail \(127\.0\.0\.1:\d+\): cannot reach the server"):
        n.check()


def test_starttls_is_refused_when_the_server_does_not_offer_it(smtp_server: LocalSMTP) -> None:
    n = notifier(smtp_server, tls="starttls")
    with pytest.raises(PermanentError, match="does not offer STARTTLS") as info:
        n.check()
    assert info.value.channel_wide
    with pytest.raises(PermanentError, match="does not offer STARTTLS"):
        n.send(notice_of(alert(), "mail"))
    assert smtp_server.received == []


@pytest.mark.parametrize(
    ("fixture", "tls", "said"),
    [("smtp_tls_server", "starttls", "STARTTLS TLSv1."), ("smtps_server", "implicit", "TLSv1.")],
)
def test_tls_verifies_the_certificate_then_logs_in_and_sends(
    fixture: str, tls: Literal["starttls", "implicit"], said: str, request: pytest.FixtureRequest
) -> None:
    """STARTTLS (a plain connection upgraded) and implicit TLS (TLS from the first byte, as on port 465)."""
    server, trusted = request.getfixturevalue(fixture)
    n = notifier(server, tls=tls, ssl_context=trusted)
    assert said in n.check()
    n.send(notice_of(alert(), "mail"))
    assert len(server.received) == 1

    untrusted = notifier(server, tls=tls)  # the system's CAs: the test certificate is self-signed
    with pytest.raises(PermanentError, match="certificate is not trusted") as info:
        untrusted.send(notice_of(alert(2), "mail"))
    assert info.value.channel_wide and len(server.received) == 1


def test_wiring_reads_the_password_from_the_variable_the_config_names(smtp_auth_server: LocalSMTP) -> None:
    ch = EmailChannel.model_validate(
        {
            "name": "mail",
            "to": ["desk@example.org"],
            "from": "alerts@example.org",
            "host": "127.0.0.1",
            "port": smtp_auth_server.port,
            "tls": "none",
            "username": USERNAME,
            "password_env": "WF_SMTP_PASSWORD",
        }
    )
    built = build_notifier(ch, {"WF_SMTP_PASSWORD": PASSWORD})
    assert isinstance(built, EmailNotifier) and PASSWORD not in repr(built)
    built.send(notice_of(alert(), "mail"))
    assert smtp_auth_server.received[0].rcpt_tos == ("desk@example.org",)
    with pytest.raises(WiringError, match="WF_SMTP_PASSWORD, which is not set"):
        build_notifier(ch, {})
    with pytest.raises(WiringError, match="WF_SMTP_PASSWORD, which is set but empty"):
        build_notifier(ch, {"WF_SMTP_PASSWORD": ""})
