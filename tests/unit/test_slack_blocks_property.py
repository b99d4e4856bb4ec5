"""Property: whatever an alert holds (hostile titles, sources with newlines, URLs of any scheme and length,
thousands of characters, dates at the calendar's edges), every Slack message we build for it — a new alert,
a follow-up, a revision, a withdrawal, and the update of the thread's first message — passes a validator of
Block Kit's limits written from Slack's reference (tests/fixtures/blockkit.py), links only http(s), and
pings nobody."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.blockkit import message_problems
from watchfloor.alerts.notice import Digest, Notice, ThreadView
from watchfloor.alerts.notifiers.slack_blocks import (
    build_blocks,
    build_update,
    digest_blocks,
    digest_title,
    fit,
    notice_text,
)
from watchfloor.alerts.notifiers.wording import LANGUAGES, wording
from watchfloor.schemas.events import Alert, Detection, Evidence

NASTY = ["<!channel>", "<!here>", "<@U024BE7LH>", "<#C123|x>", "&amp;", "<http://evil.example|click>", "|", ">", "\n"]
SCHEMES = ["http://", "https://", "javascript:", "file://", "mailto:", "data:text/html,", "HTTPS://", "ftp://", ""]

# Long texts are short ones repeated: as hostile to the limits as random ones, and quick to generate and shrink.
text = st.one_of(
    st.text(max_size=40),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=12), st.integers(100, 700)),
    st.lists(st.sampled_from([*NASTY, "word", " ", "ü", "🙂", "*", "_", "~", "`"]), max_size=60).map(
        lambda parts: "".join(parts) * 40
    ),
)
short = st.text(min_size=1, max_size=40)
url = st.one_of(
    st.none(),
    st.builds(
        lambda s, h, tail, n: s + h + tail * n,
        st.sampled_from(SCHEMES),
        short,
        st.sampled_from(["a", "/", "&", "|", " "]),
        st.integers(0, 6000),
    ),
    text,
)
when = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from(
        [
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
            datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),
        ]
    ),
)
evidence = st.builds(
    Evidence,
    event_id=short,
    signal=short,
    source=text,
    url=url,
    published_at=when,
    sentence=text,
    modality=st.sampled_from(["asserted", "hedged", "future", "conditional", "negated"]),
)
detection = st.builds(
    Detection,
    id=st.one_of(st.text(min_size=1, max_size=24), st.builds(lambda s: s * 300, st.text(min_size=1, max_size=10))),
    rule=st.one_of(st.from_regex(r"[a-z][a-z0-9-]{0,40}", fullmatch=True), text),
    title=text,
    severity=st.sampled_from(["low", "medium", "high", "critical"]),
    tags=st.lists(short, max_size=3).map(tuple),
    group=st.dictionaries(short, text, max_size=6),
    fired_at=when,
    confidence=st.sampled_from([None, "confirmed", "unconfirmed"]),
    attributes=st.dictionaries(text, st.lists(text, max_size=3), max_size=14),
    evidence=st.lists(evidence, max_size=8).map(tuple),
    description=text,
)


@st.composite
def notices(draw: st.DrawFn) -> Notice:
    det = draw(detection)
    alert = Alert(id=det.id, detection=det, channels=("desk",))
    kind = draw(st.sampled_from(["alert", "followup", "revision", "retraction"]))
    thread = None
    if kind != "alert" and draw(st.booleans()):
        target_det = draw(detection)
        target = Alert(id=target_det.id, detection=target_det, channels=("desk",))
        thread = ThreadView(
            thread_ref="C0123456789:1700000001.000001",
            target_key=target.id,
            target_ref="C0123456789:1700000002.000002",
            target=target,
            severity=det.severity,
            confidence=det.confidence,
            sources=draw(st.integers(0, 10_000)),
            reports=draw(st.integers(0, 10_000)),
            updates=draw(st.integers(1, 10_000)),
            withdrawn=draw(text) if kind == "retraction" else None,
            revised_by=det.id if kind == "revision" else None,
        )
    return Notice(
        key=draw(st.one_of(st.just(det.id), text.filter(bool))),
        kind=kind,
        alert=alert,
        channel=draw(st.one_of(st.just("desk"), text)),
        group_label=draw(text),
        parent_id=draw(st.one_of(st.none(), text)),
        thread=thread,
        escalated_from=draw(st.sampled_from([None, "low", "medium"])),
        reason=draw(text),
        superseded_by=draw(st.one_of(st.none(), text)),
    )


languages = st.sampled_from(LANGUAGES)  # every language's wording (alerts.notifiers.wording)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(notices(), languages)
def test_every_message_we_build_is_one_slack_takes(notice: Notice, language: str) -> None:
    words = wording(language)
    body = {"text": notice_text(notice, words), "blocks": build_blocks(notice, words)}
    assert message_problems(body) == []
    if notice.thread is not None:
        text_, blocks = build_update(notice, words)
        assert message_problems({"text": text_, "blocks": blocks}) == []


digests = st.builds(
    Digest,
    id=st.one_of(st.just("dig-0123456789abcdef"), text.filter(bool)),
    subscription_id=short,
    channel=short,
    slot=when,
    since=st.one_of(st.none(), when),
    after_position=st.integers(0, 10**9),
    through_position=st.integers(0, 10**9),
    detections=st.lists(detection, max_size=44).map(tuple),  # past the 40 listed: the rest are counted
    silenced=st.integers(0, 10**6),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(digests, languages)
def test_every_digest_we_build_is_one_slack_takes(digest: Digest, language: str) -> None:
    """A digest lists up to 40 hostile alerts (the rest counted): still within every limit, still pings nobody."""
    words = wording(language)
    body = {"text": fit(digest_title(digest, words), 3000), "blocks": digest_blocks(digest, words)}
    assert message_problems(body) == []


def test_the_validator_catches_what_slack_refuses() -> None:
    """The property is only as good as the validator: it must flag each limit."""
    too_long = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    fields = {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}
    big_field = {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}
    ping = {"type": "section", "text": {"type": "mrkdwn", "text": "hey <!channel>"}}
    js = {"type": "section", "text": {"type": "mrkdwn", "text": "<javascript:alert(1)|x>"}}
    empty = {"type": "section", "text": {"type": "mrkdwn", "text": ""}}
    for block in (too_long, fields, big_field, section, context, ping, js, empty):
        assert message_problems({"blocks": [block]}), block
    assert message_problems({"blocks": [{"type": "divider"}] * 51})
    assert message_problems({"blocks": [{"type": "divider"}]}) == []
