"""Times in Slack messages show in each reader's timezone (outside trial 35: a desk in Moscow read every time in UTC,
"2024-03-08 09:00 UTC" for an item published 12:00+03:00). In mrkdwn a time is Slack's date token,
`<!date^EPOCH^{date_num} {time}|2024-03-08 09:00 UTC>`, which Slack renders in the reader's own zone, the UTC text
its fallback; plain_text (headers, quoted sentences) and the notification text keep the UTC text, since Slack shows
a token there as written. A time the token cannot carry (at the calendar's edge) keeps the UTC text's fallback,
never raising. Real slack-sdk against the local Slack server, which refuses blocks Slack would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.fixtures.blockkit import message_problems, mrkdwn_problems, readable
from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.notice import Digest, notice_of
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.alerts.notifiers.slack_blocks import TEXT_LIMIT, cut_mrkdwn, when_text
from watchfloor.alerts.slackapp.clicks import ack_line
from watchfloor.schemas.control import Actor, AlertAcknowledged
from watchfloor.schemas.events import Alert, Detection, Evidence

pytestmark = pytest.mark.functional

MOSCOW = timezone(timedelta(hours=3))
PUBLISHED = datetime(2024, 3, 8, 12, 0, tzinfo=MOSCOW)  # 09:00 UTC
EPOCH = 1709888400  # 2024-03-08 09:00:00 UTC
TOKEN = "<!date^1709888400^{date_num} {time}|2024-03-08 09:00 UTC>"


def alert(published: datetime = PUBLISHED, fired: datetime | None = None) -> Alert:
    ev = Evidence(
        event_id="ria-1",
        signal="treaty_ratified",
        source="RIA Novosti",
        url="https://ria.example/a/1",
        published_at=published,
        sentence="The Duma ratified the treaty at 12:00 Moscow time.",
        modality="asserted",
    )
    det = Detection(
        id="a0moscow0000000000000001",
        rule="treaty-ratified",
        title="Russia ratified the treaty",
        severity="high",
        tags=("russia",),
        group={"party": "RUS"},
        fired_at=fired or published,
        confidence="confirmed",
        evidence=(ev,),
    )
    return Alert(id=det.id, detection=det, channels=("desk",))


def notifier(server: FakeSlack) -> SlackNotifier:
    return SlackNotifier("desk", "#desk", server.token, base_url=server.base_url)


def text_objects(obj: Any) -> list[dict[str, Any]]:
    """Every text object (plain_text or mrkdwn) inside a message's blocks."""
    if isinstance(obj, list):
        return [t for v in obj for t in text_objects(v)]
    if not isinstance(obj, dict):
        return []
    own = [obj] if obj.get("type") in ("plain_text", "mrkdwn") and isinstance(obj.get("text"), str) else []
    return own + [t for v in obj.values() for t in text_objects(v)]


def test_an_alerts_times_are_date_tokens_in_mrkdwn_and_utc_text_in_plain_text(slack_server: FakeSlack) -> None:
    assert datetime.fromtimestamp(EPOCH, UTC) == PUBLISHED  # the token's epoch is the +03:00 time's instant
    notifier(slack_server).send(notice_of(alert(), "desk"))
    (msg,) = slack_server.messages
    assert message_problems(msg) == []
    objects = text_objects(msg["blocks"])
    mrkdwn = [o["text"] for o in objects if o["type"] == "mrkdwn"]
    plain = [o["text"] for o in objects if o["type"] == "plain_text"]
    # the evidence's time and the footer's fired time: the reader's timezone, the UTC text the fallback
    (evidence,) = [t for t in mrkdwn if "RIA Novosti" in t]
    assert evidence == f"<https://ria.example/a/1|RIA Novosti> · {TOKEN}"
    (footer,) = [t for t in mrkdwn if t.startswith("alert a0moscow")]
    assert footer == f"alert a0moscow0000000000000001 · fired {TOKEN}"
    assert "2024-03-08 09:00 UTC" not in "".join(mrkdwn).replace(TOKEN, "")  # no time left bare
    # read without tokens (their fallbacks), the message says what it said before
    assert readable(footer) == "alert a0moscow0000000000000001 · fired 2024-03-08 09:00 UTC"
    # plain_text shows a token as written: none there; the quoted sentence is as the article wrote it
    assert plain and not any("<!date" in t for t in plain)
    assert "The Duma ratified the treaty at 12:00 Moscow time." in plain
    # the notification text has no token either
    assert "<!date" not in msg["text"]


def test_a_time_at_the_calendars_edge_keeps_its_fallback_and_never_raises(slack_server: FakeSlack) -> None:
    edge = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))  # past year 9999 in UTC
    first = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))  # before year 1 in UTC
    late = datetime(9999, 6, 1, tzinfo=UTC)  # shown in UTC, but outside the years an input may be dated
    for at in (edge, first, late):
        assert when_text(at).startswith(("9999-", "0001-")), at  # the UTC text or the time as given, no token
    notifier(slack_server).send(notice_of(alert(edge, fired=first), "desk"))
    (msg,) = slack_server.messages
    assert message_problems(msg) == []
    body = "\n".join(o["text"] for o in text_objects(msg["blocks"]))
    assert "<!date" not in body
    assert "9999-12-31T23:00:00-05:00" in body and "fired 0001-01-01T00:00:00+05:00" in body


def test_a_digest_line_carries_the_token_and_its_header_keeps_utc(slack_server: FakeSlack) -> None:
    det = alert().detection
    since = datetime(2024, 3, 8, 6, tzinfo=UTC)
    summary = Digest("thr-1", "", "desk", PUBLISHED + timedelta(hours=1), since, 0, 1, (det,), throttle="10 per 1h")
    notifier(slack_server).send_digest(summary)
    (msg,) = slack_server.messages
    assert message_problems(msg) == []
    header = msg["blocks"][0]["text"]
    assert header["type"] == "plain_text" and "2024-03-08 06:00 UTC – 2024-03-08 10:00 UTC" in header["text"]
    assert "<!date" not in msg["text"]
    (line,) = [o["text"] for o in text_objects(msg["blocks"][1:]) if "Russia ratified" in o["text"]]
    assert f" · {TOKEN} · " in line


def test_an_acknowledgement_says_its_time_as_a_token() -> None:
    ack = AlertAcknowledged(
        alert_id="a1", channel="desk", by=Actor(via="slack", user="U0OLGA", name="olga"), at=PUBLISHED
    )
    assert ack_line(ack).endswith(f" at {TOKEN}")


def test_the_local_server_takes_a_date_token_and_refuses_a_malformed_one() -> None:
    assert mrkdwn_problems(f"fired {TOKEN}", "t") == []
    assert mrkdwn_problems("<!date^1709888400^{date_num} {time}^https://ria.example/a/1|2024-03-08>", "t") == []
    assert mrkdwn_problems("<!date^soon^{date_num}|2024-03-08>", "t") != []  # the epoch is digits
    assert mrkdwn_problems("<!date^1709888400^{date_numeric}|2024-03-08>", "t") != []  # no such token
    assert mrkdwn_problems("<!date^1709888400^{date_num}>", "t") != []  # no fallback
    assert mrkdwn_problems("<!channel>", "t") != []  # a mention is still refused
    assert readable(f"at {TOKEN}, then {TOKEN}") == "at 2024-03-08 09:00 UTC, then 2024-03-08 09:00 UTC"


def test_a_line_cut_to_slacks_limit_never_cuts_a_token_in_half() -> None:
    for pad in range(TEXT_LIMIT - 70, TEXT_LIMIT):
        text = "x" * pad + f" fired {TOKEN} &amp; more"
        cut = cut_mrkdwn(text)
        assert len(cut) <= TEXT_LIMIT and mrkdwn_problems(cut, "t") == [], cut[-80:]
        assert TOKEN in cut or "<" not in cut  # the whole token, or none of it
        assert not cut.rstrip("…").endswith(("&", "&a", "&am", "&amp"))  # nor an entity
