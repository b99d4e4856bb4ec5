"""SlackNotifier against the local fake Slack Web API: real slack_sdk, real HTTP."""

from __future__ import annotations

import logging
import socket
import traceback
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.notice import notice_of
from watchfloor.alerts.notifiers.base import Notifier, PermanentError, TransientError
from watchfloor.alerts.notifiers.slack import SlackNotifier, escape, safe_url
from watchfloor.alerts.slackapp.buttons import parse_button_value
from watchfloor.schemas.events import Alert, Detection, Evidence

pytestmark = pytest.mark.integration

NASTY_TITLE = "Artillery & drones <!channel> near <http://evil.example|click> @here"
NASTY_SENTENCE = "Officials said <!here> the convoy & escort moved at night, see <http://evil.example|click>."


def alert(*, title: str = "Convoy of armour seen moving toward the frontier", n_evidence: int = 2) -> Alert:
    evidence = tuple(
        Evidence(
            event_id=f"doc-{i}",
            signal="troops_moving",
            source=f"Harbour Gazette {i}",
            url=f"https://news.example.org/story/{i}?a=1&b=2",
            published_at=datetime(2024, 10, 30, 6, i, tzinfo=UTC),
            sentence=f"Witnesses described a long column of vehicles (report {i}).",
            modality="hedged" if i == 1 else "asserted",
        )
        for i in range(n_evidence)
    )
    det = Detection(
        id="a1b2c3d4e5f6a1b2c3d4e5f6",
        rule="troop-movement",
        title=title,
        severity="high",
        tags=("dprk", "russia"),
        group={"place": "KURSK"},
        fired_at=datetime(2024, 10, 30, 7, 0, tzinfo=UTC),
        confidence="unconfirmed",
        attributes={"place": ["KURSK", "BELGOROD"]},
        evidence=evidence,
    )
    return Alert(id=det.id, detection=det, channels=("slack-ops",))


def notifier(server: FakeSlack, channel: str = "#dprk-russia", token: str | None = None) -> SlackNotifier:
    return SlackNotifier("slack-ops", channel, token or server.token, base_url=server.base_url)


def texts(obj: Any) -> list[str]:
    """Every string value inside a JSON-like structure."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in texts(v)]
    if isinstance(obj, list | tuple):
        return [t for v in obj for t in texts(v)]
    return []


def text_objects(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for b in blocks:
        if isinstance(b.get("text"), dict):
            out.append(b["text"])
        out.extend(b.get("fields", []))
        out.extend(e for e in b.get("elements", []) if isinstance(e, dict) and "type" in e)
    return out


def test_is_a_notifier(slack_server: FakeSlack) -> None:
    assert isinstance(notifier(slack_server), Notifier)


def test_posts_blocks_text_and_metadata(slack_server: FakeSlack) -> None:
    ref = notifier(slack_server).send(notice_of(alert(), "slack-ops"))

    assert len(slack_server.messages) == 1
    msg = slack_server.messages[0]
    assert ref == f"{FakeSlack.channel_id('#dprk-russia')}:{msg['ts']}"
    assert msg["channel"] == "#dprk-russia"
    [req] = slack_server.requests_for("chat.postMessage")
    assert req.headers["Authorization"] == f"Bearer {slack_server.token}"
    assert req.body["unfurl_links"] is False

    blocks = msg["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Convoy of armour seen moving toward the frontier", "emoji": False},
    }
    body = "\n".join(texts(blocks))
    for expected in ("HIGH", "(unconfirmed)", "troop-movement", "*Group*\nKURSK", "KURSK, BELGOROD"):
        assert expected in body
    # evidence: a link to each source, its publication time, the sentence, the modality when not asserted
    assert "<https://news.example.org/story/0?a=1&amp;b=2|Harbour Gazette 0>" in body
    assert "<https://news.example.org/story/1?a=1&amp;b=2|Harbour Gazette 1>" in body
    assert "2024-10-30 06:01 UTC" in body
    assert "Witnesses described a long column of vehicles (report 1)." in body
    assert "_hedged_" in body
    assert "a1b2c3d4e5f6a1b2c3d4e5f6" in body

    assert "Convoy of armour" in msg["text"] and "HIGH" in msg["text"]
    assert msg["metadata"] == {
        "event_type": "watchfloor_alert",
        "event_payload": {"alert_id": "a1b2c3d4e5f6a1b2c3d4e5f6", "rule": "troop-movement", "kind": "alert"},
    }
    # the three buttons, each carrying the alert, rule, routing channel and group
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["wf_ack", "wf_silence", "wf_unsubscribe"]
    value = parse_button_value(actions["elements"][0]["value"])
    assert (value.alert_id, value.rule, value.channel, value.group) == (
        "a1b2c3d4e5f6a1b2c3d4e5f6",
        "troop-movement",
        "slack-ops",
        {"place": "KURSK"},
    )


def test_limits_evidence_and_says_how_many_more(slack_server: FakeSlack) -> None:
    notifier(slack_server).send(notice_of(alert(n_evidence=8)))
    body = "\n".join(texts(slack_server.messages[0]["blocks"]))
    assert body.count("|Harbour Gazette") == 5
    assert "+3 more evidence" in body


def test_an_alert_resting_on_more_reports_than_it_holds_says_how_many_and_shows_the_first_and_newest(
    slack_server: FakeSlack,
) -> None:
    """A busy count window: the detection holds 10 of its 30 reports (the first and the newest nine, as the
    engine keeps them); the message shows the first and the newest four, and counts all 30."""
    a = alert(n_evidence=10)
    a = a.model_copy(update={"detection": a.detection.model_copy(update={"evidence_total": 30})})
    notifier(slack_server).send(notice_of(a))
    body = "\n".join(texts(slack_server.messages[0]["blocks"]))
    shown = [i for i in range(10) if f"|Harbour Gazette {i}>" in body]
    assert shown == [0, 6, 7, 8, 9]
    assert "*Evidence* (30)" in body
    assert "+25 more evidence not shown" in body


def test_article_text_cannot_ping_or_forge_links(slack_server: FakeSlack) -> None:
    a = alert(title=NASTY_TITLE)
    det = a.detection.model_copy(
        update={
            "description": "Summary: <!everyone> & <@U024BE7LH>",
            "attributes": {"place<!channel>": ["KURSK <!here>"]},
            "evidence": (
                a.detection.evidence[0].model_copy(
                    update={
                        "sentence": NASTY_SENTENCE,
                        "source": "Evil <http://evil.example|Times>",
                        "url": "javascript:alert(1)",
                    }
                ),
                a.detection.evidence[1].model_copy(update={"url": "https://ok.example/a|<!channel>"}),
            ),
        }
    )
    notifier(slack_server).send(notice_of(a.model_copy(update={"detection": det})))

    msg = slack_server.messages[0]
    everything = [*texts(msg["blocks"]), msg["text"]]
    joined = "\n".join(everything)
    for forbidden in ("<!channel>", "<!here>", "<!everyone>", "<@U", "<http://evil", "javascript:", "|click>"):
        assert forbidden not in joined, forbidden
    assert "&lt;!channel&gt;" in joined
    assert "&lt;!here&gt;" in joined
    assert "&lt;http://evil.example|click&gt;" in joined
    assert "Artillery &amp; drones" in joined
    assert "convoy &amp; escort" in joined
    # no bare '&' anywhere: each one starts an entity we wrote
    for t in everything:
        for i, ch in enumerate(t):
            if ch == "&":
                assert t[i:].startswith(("&amp;", "&lt;", "&gt;")), t
    # the only '<' left open are the links we built, and only to http(s), and our times as Slack's date tokens
    for t in everything:
        for piece in t.split("<")[1:]:
            assert piece.startswith(("http://", "https://", "!date^1730")), t
    # Slack must not auto-parse plain text like "@here": mrkdwn objects are verbatim, message parse=none
    assert all(o.get("verbatim") is True for o in text_objects(msg["blocks"]) if o["type"] == "mrkdwn")
    [req] = slack_server.requests_for("chat.postMessage")
    assert req.body["parse"] == "none" and req.body["link_names"] is False


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a?b=1&c=2", "https://example.org/a?b=1&amp;c=2"),
        ("http://example.org/", "http://example.org/"),
        ("javascript:alert(1)", None),
        ("file:///etc/passwd", None),
        ("https://example.org/a|b", None),
        ("https://example.org/a>b", None),
        ("https://example.org/a b", None),
        ("https://", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_escape() -> None:
    assert escape("a & <b> &amp;") == "a &amp; &lt;b&gt; &amp;amp;"


def test_ratelimit_429_is_transient_with_retry_after(slack_server: FakeSlack) -> None:
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "1"})
    with pytest.raises(TransientError) as info:
        notifier(slack_server).send(notice_of(alert()))
    assert info.value.retry_after == 1
    assert "429" in str(info.value)
    assert slack_server.messages == []
    assert len(slack_server.requests_for("chat.postMessage")) == 1  # slack_sdk did not retry by itself


def test_ok_false_ratelimited_is_transient(slack_server: FakeSlack) -> None:
    slack_server.fail_next("chat.postMessage", body={"ok": False, "error": "ratelimited"})
    with pytest.raises(TransientError):
        notifier(slack_server).send(notice_of(alert()))


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(slack_server: FakeSlack, status: int) -> None:
    slack_server.fail_next("chat.postMessage", status=status)
    with pytest.raises(TransientError) as info:
        notifier(slack_server).send(notice_of(alert()))
    assert str(status) in str(info.value)
    assert len(slack_server.requests_for("chat.postMessage")) == 1


@pytest.mark.parametrize(("body", "said"), [("", "empty body"), ("Service Unavailable", "body: 'Service Unavailable'")])
def test_an_answer_that_is_not_slacks_json_says_so(slack_server: FakeSlack, body: str, said: str) -> None:
    # Outside trial 69, L7: a proxy's bare 503 read "HTTP 503: Received a response in a non-JSON format: ".
    slack_server.fail_next("chat.postMessage", status=503, body=body)
    with pytest.raises(TransientError) as info:
        notifier(slack_server).send(notice_of(alert()))
    assert f"HTTP 503: an answer that is not Slack's JSON ({said})" in str(info.value), str(info.value)


@pytest.mark.parametrize(("status", "unanswered"), [(500, False), (502, True), (503, False), (504, True)])
def test_a_gateways_502_or_504_is_no_answer_of_slacks_a_5xx_of_slacks_is(
    slack_server: FakeSlack, status: int, unanswered: bool
) -> None:
    """A proxy's 504 (it gave up waiting) or 502 (its upstream connection cut) leaves the post maybe on its way behind
    it, like a timeout of our own: `unanswered`, so that the retry waits for its landing window before it looks."""
    slack_server.fail_next("chat.postMessage", status=status)
    with pytest.raises(TransientError) as info:
        notifier(slack_server).send(notice_of(alert()))
    assert info.value.maybe_delivered and info.value.unanswered is unanswered


@pytest.mark.parametrize("error", ["internal_error", "fatal_error", "service_unavailable", "request_timeout"])
def test_transient_error_codes(slack_server: FakeSlack, error: str) -> None:
    slack_server.fail_next("chat.postMessage", body={"ok": False, "error": error})
    with pytest.raises(TransientError, match=error):
        notifier(slack_server).send(notice_of(alert()))


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived", "invalid_blocks"])
def test_permanent_error_codes(slack_server: FakeSlack, error: str) -> None:
    slack_server.fail_next("chat.postMessage", body={"ok": False, "error": error})
    with pytest.raises(PermanentError, match=error):
        notifier(slack_server).send(notice_of(alert()))


def test_unknown_channel_is_permanent(slack_server: FakeSlack) -> None:
    slack_server.channels = {"#dprk-russia"}
    with pytest.raises(PermanentError, match="channel_not_found"):
        notifier(slack_server, channel="#nowhere").send(notice_of(alert()))
    notifier(slack_server).send(notice_of(alert()))
    assert len(slack_server.messages) == 1


def test_wrong_token_is_permanent_and_never_shown(slack_server: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    secret = "xoxb-1111-this-is-the-secret-we-must-not-leak"
    caplog.set_level(logging.DEBUG)
    n = notifier(slack_server, token=secret)
    with pytest.raises(PermanentError, match="invalid_auth") as info:
        n.send(notice_of(alert()))
    with pytest.raises(PermanentError, match="invalid_auth"):
        n.check()
    shown = "".join(traceback.format_exception(info.value)) + repr(info.value) + repr(n) + caplog.text
    assert secret not in shown


def test_token_echoed_by_server_is_redacted(slack_server: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = slack_server.token
    for status, body in [
        (200, {"ok": False, "error": f"invalid_auth for {token}"}),
        (429, {"ok": False, "error": f"ratelimited {token}"}),
        (500, f"upstream broke while handling Bearer {token}"),
    ]:
        slack_server.fail_next("chat.postMessage", status=status, body=body)
        with pytest.raises((TransientError, PermanentError)) as info:
            notifier(slack_server).send(notice_of(alert()))
        shown = "".join(traceback.format_exception(info.value)) + repr(info.value)
        assert token not in shown
    assert token not in caplog.text


def test_network_error_is_transient(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "xoxb-2222-network-failure-token"
    n = SlackNotifier("slack-ops", "#x", token, base_url=f"http://127.0.0.1:{port}/api/")
    with pytest.raises(TransientError) as info:
        n.send(notice_of(alert()))
    assert "network error" in str(info.value)
    assert token not in "".join(traceback.format_exception(info.value))
    # said once, by the delivery's own line from this error: not also by slack_sdk (outside trial 67, LOW-5)
    assert "Failed to send a request" not in caplog.text, caplog.text


def test_check_says_what_it_found(slack_server: FakeSlack) -> None:
    slack_server.channels = {"#dprk-russia"}
    said = notifier(slack_server).check()
    assert "#dprk-russia" in said and FakeSlack.channel_id("#dprk-russia") in said
    [req] = slack_server.requests_for("auth.test")
    assert req.headers["Authorization"] == f"Bearer {slack_server.token}"


@pytest.mark.parametrize(
    ("setup", "channel", "expected"),
    [
        ("token", "#dprk-russia", "invalid_auth"),
        ("none", "#nowhere", "not found by conversations.list"),
        ("outside", "#dprk-russia", "not in #dprk-russia"),
    ],
)
def test_check_says_what_is_wrong(slack_server: FakeSlack, setup: str, channel: str, expected: str) -> None:
    slack_server.channels = {"#dprk-russia"}
    if setup == "outside":
        slack_server.not_member = {"#dprk-russia"}
    token = "xoxb-wrong" if setup == "token" else None
    with pytest.raises(PermanentError, match=expected) as info:
        notifier(slack_server, channel=channel, token=token).check()
    assert info.value.channel_wide


def test_long_title_is_cut_to_header_limit_without_breaking_entities(slack_server: FakeSlack) -> None:
    notifier(slack_server).send(notice_of(alert(title="&" * 400)))
    header = slack_server.messages[0]["blocks"][0]["text"]["text"]
    assert len(header) <= 150
    assert header.endswith("…")
    assert header[:-1].replace("&amp;", "") == ""


def test_fixture_parses_form_bodies(slack_server: FakeSlack) -> None:
    """slack_sdk sends most methods as forms; the fake decodes their JSON-valued fields too."""
    from slack_sdk import WebClient

    client = WebClient(token=slack_server.token, base_url=slack_server.base_url, retry_handlers=[])
    blocks = '[{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]'
    resp = client.api_call("chat.postMessage", data={"channel": "C1", "text": "hi", "blocks": blocks})
    assert resp["ok"] is True
    [req] = slack_server.requests_for("chat.postMessage")
    assert req.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert req.body["blocks"][0]["text"]["text"] == "hi"
    assert slack_server.messages[0]["channel"] == "C1"
