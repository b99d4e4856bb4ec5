"""Routing is a pure function of a detection and the subscriptions: a table of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watchfloor.alerts.routing import matches, route, too_old
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import Detection


def det(rule: str = "troop-movement", severity: str = "high", tags: tuple[str, ...] = ("dprk", "russia")) -> Detection:
    return Detection(
        id=f"d-{rule}-{severity}",
        rule=rule,
        title="Soldiers reported crossing near the border",
        severity=severity,
        tags=tags,
        fired_at=datetime(2024, 11, 2, 8, 30, tzinfo=UTC),
    )


def sub(channel: str = "ops", **kw: object) -> Subscription:
    return Subscription(channel=channel, **kw)


@pytest.mark.parametrize(
    ("subscription", "detection", "expected"),
    [
        # rules
        (sub(), det(), True),  # defaults: every rule, any tags, from low
        (sub(rules=["*"]), det(rule="anything"), True),
        (sub(rules=["troop-movement"]), det(rule="troop-movement"), True),
        (sub(rules=["arms-transfer"]), det(rule="troop-movement"), False),
        (sub(rules=["arms-transfer", "*"]), det(rule="troop-movement"), True),
        (sub(rules=[]), det(), False),  # no rules listed: nothing matches
        # tags
        (sub(tags=["dprk"]), det(tags=("dprk", "russia")), True),
        (sub(tags=["iran", "russia"]), det(tags=("dprk", "russia")), True),  # one in common is enough
        (sub(tags=["iran"]), det(tags=("dprk", "russia")), False),
        (sub(tags=["iran"]), det(tags=()), False),
        (sub(tags=[]), det(tags=()), True),  # no tags asked: tags don't matter
        # severity
        (sub(min_severity="high"), det(severity="high"), True),  # equal rank is enough
        (sub(min_severity="high"), det(severity="critical"), True),
        (sub(min_severity="high"), det(severity="medium"), False),
        (sub(min_severity="critical"), det(severity="high"), False),
        (sub(min_severity="low"), det(severity="low"), True),
        # all three together
        (sub(rules=["troop-movement"], tags=["dprk"], min_severity="medium"), det(), True),
        (sub(rules=["troop-movement"], tags=["dprk"], min_severity="critical"), det(), False),
        (sub(rules=["troop-movement"], tags=["cuba"], min_severity="low"), det(), False),
    ],
)
def test_matches(subscription: Subscription, detection: Detection, expected: bool) -> None:
    assert matches(subscription, detection) is expected


def test_route_keeps_config_order_and_dedups() -> None:
    subs = [
        sub("slack-urgent", min_severity="critical"),
        sub("slack-ops", tags=["dprk"]),
        sub("archive"),
        sub("slack-ops", rules=["troop-movement"]),  # same channel again
        sub("iran-desk", tags=["iran"]),
    ]
    assert route(det(severity="high"), subs) == ("slack-ops", "archive")
    assert route(det(severity="critical"), subs) == ("slack-urgent", "slack-ops", "archive")


def test_route_without_matches_is_empty() -> None:
    assert route(det(), []) == ()
    assert route(det(severity="low"), [sub(min_severity="medium")]) == ()


def test_route_is_pure() -> None:
    subs = [sub("a"), sub("b", tags=["dprk"])]
    d = det()
    assert route(d, subs) == route(d, subs) == ("a", "b")
    assert [s.channel for s in subs] == ["a", "b"]


def test_too_old_takes_the_most_permissive_matching_subscription() -> None:
    d = det()  # fired_at as det() makes it
    later = d.fired_at + timedelta(days=5)
    three, ten = timedelta(days=3), timedelta(days=10)
    assert too_old(d, "ops", [sub(max_age=three)], later) == three
    assert too_old(d, "ops", [sub(max_age=three)], d.fired_at + timedelta(days=2)) is None  # young enough
    assert too_old(d, "ops", [sub(max_age=three), sub(max_age=ten)], later) is None  # one allows it
    assert too_old(d, "ops", [sub(max_age=three), sub(min_severity="low")], later) is None  # one has no limit
    assert too_old(d, "ops", [sub(max_age=three), sub(max_age=ten, tags=["other"])], later) == three  # not matching
    assert too_old(d, "other", [sub(max_age=three)], later) is None  # another channel's limit


def test_max_age_is_refused_on_a_digest_subscription() -> None:
    # Review: a digest lists every alert since the last one; a max_age there would be silently ignored.
    with pytest.raises(ValueError, match="not to a digest"):
        Subscription(channel="ops", digest="daily 08:00 UTC", max_age="3d")
