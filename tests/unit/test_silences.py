"""Silences are a pure match of a detection, a channel and the time: a table of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watchfloor.alerts.routing import RoutingTable, StaticRouting, route, silence_matches, silenced_by
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.control import Actor, DigestSchedule, Silence
from watchfloor.schemas.events import Detection

NOW = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)
ALICE = Actor(via="cli", user="alice")


def det(rule: str = "treaty-ratified", group: dict[str, str] | None = None) -> Detection:
    return Detection(
        id="d1",
        rule=rule,
        title="A parliament approved the pact",
        severity="high",
        group={"party": "RUS"} if group is None else group,
        fired_at=datetime(2024, 11, 1, tzinfo=UTC),
    )


def silence(**kw: object) -> Silence:
    args: dict[str, object] = {
        "id": "sil-1",
        "rule": "treaty-ratified",
        "starts_at": NOW - timedelta(hours=1),
        "ends_at": NOW + timedelta(hours=1),
        "by": ALICE,
    }
    args.update(kw)
    return Silence.model_validate(args)


@pytest.mark.parametrize(
    ("s", "d", "channel", "expected"),
    [
        (silence(), det(), "desk", True),  # rule, any group, any channel
        (silence(rule="*"), det(rule="anything"), "desk", True),
        (silence(rule="troops-deployed"), det(), "desk", False),
        (silence(group={"party": "RUS"}), det(), "desk", True),
        (silence(group={"party": "PRK"}), det(), "desk", False),
        (silence(group={"*": "RUS"}), det(group={"country": "RUS"}), "desk", True),  # group=VALUE under any key
        (silence(group={"*": "RUS"}), det(group={"country": "PRK"}), "desk", False),
        (silence(group={"party": "RUS", "place": "KURSK"}), det(), "desk", False),  # every matcher must hold
        (silence(channel="desk"), det(), "desk", True),
        (silence(channel="desk"), det(), "archive", False),  # a channel's silence leaves other channels alone
        (silence(starts_at=NOW + timedelta(minutes=1)), det(), "desk", False),  # not yet
        (silence(ends_at=NOW), det(), "desk", False),  # ended exactly now: ends_at is exclusive
    ],
)
def test_silence_matches(s: Silence, d: Detection, channel: str, expected: bool) -> None:
    assert silence_matches(s, d, channel, NOW) is expected


def test_silenced_by_returns_the_first_match() -> None:
    a, b = silence(id="sil-a", rule="other"), silence(id="sil-b")
    assert silenced_by(det(), "desk", [a, b], NOW) == b
    assert silenced_by(det(), "desk", [a], NOW) is None


def test_digest_subscriptions_are_not_routed_one_alert_at_a_time() -> None:
    subs = [Subscription(channel="daily", digest="daily 08:00 Europe/London"), Subscription(channel="desk")]
    assert route(det(), subs) == ("desk",)
    assert StaticRouting(subs).routing() == RoutingTable(tuple(subs))


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("daily 08:00 Europe/London", "daily 08:00 Europe/London"),
        ("daily  8:05", "daily 08:05 UTC"),
        ("daily 23:59 Asia/Seoul", "daily 23:59 Asia/Seoul"),
    ],
)
def test_digest_spec(text: str, normal: str) -> None:
    assert str(DigestSchedule.parse(text)) == normal
    assert Subscription(channel="x", digest=text).digest == normal


@pytest.mark.parametrize("text", ["weekly 08:00", "daily 24:00", "daily 08:00 Mars/Olympus", "daily 8"])
def test_bad_digest_spec(text: str) -> None:
    with pytest.raises(ValueError, match="digest"):
        DigestSchedule.parse(text)


def test_digest_last_slot_across_a_dst_change() -> None:
    sched = DigestSchedule.parse("daily 08:00 Europe/London")
    # 27 Oct 2024: clocks go back in London; 07:30 UTC is 07:30 GMT, before that day's 08:00
    slot = sched.last_slot(datetime(2024, 10, 27, 7, 30, tzinfo=UTC))
    assert slot.astimezone(UTC) == datetime(2024, 10, 26, 7, 0, tzinfo=UTC)  # 08:00 BST the day before
    slot = sched.last_slot(datetime(2024, 10, 27, 8, 0, tzinfo=UTC))
    assert slot.astimezone(UTC) == datetime(2024, 10, 27, 8, 0, tzinfo=UTC)  # 08:00 GMT


def test_digest_next_slot_across_a_dst_change() -> None:
    """The delivery timers wake for the next slot: 08:00 local on the next calendar day, 23 or 25 hours on."""
    from watchfloor.alerts.digest import next_slot

    sched = DigestSchedule.parse("daily 08:00 Europe/London")
    after = next_slot(sched, datetime(2024, 10, 26, 9, 0, tzinfo=UTC))  # 10:00 BST, the day before
    assert after.astimezone(UTC) == datetime(2024, 10, 27, 8, 0, tzinfo=UTC)  # 08:00 GMT
    spring = next_slot(sched, datetime(2024, 3, 30, 8, 0, tzinfo=UTC))  # 08:00 GMT: that slot is now, not next
    assert spring.astimezone(UTC) == datetime(2024, 3, 31, 7, 0, tzinfo=UTC)  # 08:00 BST
