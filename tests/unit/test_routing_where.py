"""A subscription's `where`: which alerts it lets through, by group values and attributes (routing.matches)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from watchfloor.alerts.routing import Spellings, matches, route, thread_only, too_old
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.control import SubscriptionCreated, subscription_id
from watchfloor.schemas.events import Detection

NAMES = Spellings({"PRK": "North Korea", "RUS": "Russia", "KURSK": "Kursk Oblast", "KOR": "South Korea"})


def det(
    group: dict[str, str] | None = None, attributes: dict[str, list[str]] | None = None, severity: str = "high"
) -> Detection:
    return Detection(
        id="d1",
        rule="troops-deployed",
        title="North Korean troops in Kursk",
        severity=severity,
        tags=("troops",),
        group=group or {},
        attributes=attributes or {},
        fired_at=datetime(2024, 11, 2, 8, 30, tzinfo=UTC),
    )


def sub(where: dict[str, object], channel: str = "kursk-desk", **kw: object) -> Subscription:
    return Subscription(channel=channel, where=where, **kw)


KURSK_TROOPS = det({"party": "PRK"}, {"place": ["Kursk Oblast"], "host": ["Russia"]})


@pytest.mark.parametrize(
    ("where", "detection", "expected"),
    [
        ({}, det(), True),  # no where: as before
        # a group value
        ({"party": "PRK"}, KURSK_TROOPS, True),
        ({"party": "RUS"}, KURSK_TROOPS, False),
        # an attribute (a capture outside the group, as a display name), and place (the reports' places)
        ({"host": "Russia"}, KURSK_TROOPS, True),
        ({"place": "Kursk Oblast"}, KURSK_TROOPS, True),
        ({"place": "Kursk Oblast"}, det({"party": "PRK"}, {"place": ["Donbas"]}), False),
        # '*': the value under any key, group or attribute
        ({"*": "PRK"}, KURSK_TROOPS, True),
        ({"*": "Kursk Oblast"}, KURSK_TROOPS, True),
        ({"*": "South Korea"}, KURSK_TROOPS, False),
        # a list: any of its values
        ({"place": ["Donbas", "Kursk Oblast"]}, KURSK_TROOPS, True),
        ({"party": ["RUS", "KOR"]}, KURSK_TROOPS, False),
        # every key must hold
        ({"party": "PRK", "place": "Kursk Oblast"}, KURSK_TROOPS, True),
        ({"party": "PRK", "place": "Donbas"}, KURSK_TROOPS, False),
        # case, NFKC and whitespace folded, keys too
        ({"place": "  kursk   OBLAST "}, KURSK_TROOPS, True),
        ({"place": "Ｋｕｒｓｋ Oblast"}, KURSK_TROOPS, True),  # full-width letters (NFKC)
        ({"Place": "Kursk\u00a0Oblast"}, KURSK_TROOPS, True),  # a no-break space
        ({"party": "prk"}, KURSK_TROOPS, True),
        # an entity by id or by display name, whichever the detection holds
        ({"party": "North Korea"}, KURSK_TROOPS, True),  # name vs the group's id
        ({"party": "north korea"}, KURSK_TROOPS, True),
        ({"place": "KURSK"}, KURSK_TROOPS, True),  # id vs the attribute's name
        ({"place": "kursk"}, KURSK_TROOPS, True),
        ({"host": "RUS"}, KURSK_TROOPS, True),
        ({"*": "Russia"}, det({"party": "RUS"}), True),
        # a key the detection does not have never matches (fail closed)
        ({"place": "Kursk Oblast"}, det({"party": "PRK"}), False),
        ({"country": "PRK"}, KURSK_TROOPS, False),
        ({"*": "PRK"}, det(), False),
    ],
)
def test_where(where: dict[str, object], detection: Detection, expected: bool) -> None:
    assert matches(sub(where), detection, NAMES) is expected


def test_without_the_rule_packs_a_value_compares_as_written() -> None:
    # The dispatcher without rule packs (AlertCatalog empty): no id <-> name, case and spacing still aside.
    assert matches(sub({"place": "kursk oblast"}), KURSK_TROOPS)
    assert matches(sub({"party": "prk"}), KURSK_TROOPS)
    assert not matches(sub({"party": "North Korea"}), KURSK_TROOPS)  # the group holds PRK
    assert not matches(sub({"place": "KURSK"}), KURSK_TROOPS)  # the attribute holds Kursk Oblast


def test_where_comes_on_top_of_rules_tags_and_severity() -> None:
    assert not matches(sub({"party": "PRK"}, min_severity="critical"), KURSK_TROOPS, NAMES)
    assert not matches(sub({"party": "PRK"}, rules=["treaty-signed"]), KURSK_TROOPS, NAMES)
    assert not matches(sub({"party": "PRK"}, tags=["treaty"]), KURSK_TROOPS, NAMES)
    assert matches(sub({"party": "PRK"}, rules=["troops-deployed"], tags=["troops"]), KURSK_TROOPS, NAMES)


def test_route_and_too_old_agree_with_matches() -> None:
    subs = [sub({"place": "Kursk"}, max_age=timedelta(days=1)), sub({}, channel="all")]
    kursk = det({"party": "PRK"}, {"place": ["Kursk"]})
    elsewhere = det({"party": "PRK"}, {"place": ["Donbas"]})
    names = Spellings({"KURSK": "Kursk"})
    assert route(kursk, subs, names) == ("kursk-desk", "all")
    assert route(elsewhere, subs, names) == ("all",)
    late = kursk.fired_at + timedelta(days=2)
    assert too_old(kursk, "kursk-desk", subs, late, names) == timedelta(days=1)
    assert too_old(elsewhere, "kursk-desk", subs, late, names) is None  # the where does not match: not its limit
    # the channels a where alone keeps a detection from: they may still take it into a thread they have
    assert thread_only(elsewhere, subs, names) == ("kursk-desk",)
    assert thread_only(kursk, subs, names) == ()
    assert thread_only(det({"party": "PRK"}, {"place": ["Donbas"]}, severity="low"), [subs[0]], names) == (
        "kursk-desk",
    )
    assert thread_only(elsewhere, [sub({"place": "Kursk"}, min_severity="critical")], names) == ()


@pytest.mark.parametrize(
    ("where", "at", "message"),
    [
        ({"": "Kursk"}, ("where", "", "[key]"), "where: an empty key"),
        ({"  ": "Kursk"}, ("where", "  ", "[key]"), "where: an empty key"),
        ({"place": ""}, ("where", "place", 0), "where: an empty value"),
        ({"place": ["Kursk", " "]}, ("where", "place", 1), "where: an empty value"),
        ({"place": []}, ("where", "place"), "where: a key with no value"),
        ({"place": None}, ("where", "place"), "where: a key with no value"),
        ({"place": {"a": 1}}, ("where", "place"), "where: a value, or a list of values"),
    ],
)
def test_empty_keys_and_values_are_refused(where: dict[str, object], at: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValidationError) as e:
        Subscription(channel="desk", where=where)
    (err,) = e.value.errors()
    assert err["loc"] == at and message in err["msg"]


def test_where_with_a_digest_is_allowed_and_values_are_tidied() -> None:
    s = Subscription(channel="desk", where={"place": " Kursk   Oblast ", "party": ["PRK", "RUS"]}, digest="daily 08:00")
    assert s.where == {"place": ("Kursk Oblast",), "party": ("PRK", "RUS")}


def test_the_subscription_id_is_the_same_however_the_where_is_spelt() -> None:
    a = subscription_id("desk", ("*",), (), "low", None, None, {"place": ["Kursk", "Donbas"], "party": ["PRK"]})
    b = subscription_id("desk", ("*",), (), "low", None, None, {"Party": ["prk"], "place": ["DONBAS", "kursk"]})
    assert a == b
    assert a != subscription_id("desk", ("*",), (), "low", None, None, {"place": ["Kursk"]})
    # no where: the id of a subscription made before `where` existed
    assert subscription_id("desk", ("*",), (), "low", None) == subscription_id(
        "desk", ("*",), (), "low", None, None, {}
    )


def test_a_control_event_written_before_where_still_reads() -> None:
    old = {
        "id": "sub-0123456789",
        "channel": "desk",
        "rules": ["troops-deployed"],
        "tags": [],
        "min_severity": "high",
        "digest": None,
        "managed_by": "slack",
        "by": {"via": "slack", "user": "U0ALICE", "name": "alice"},
        "at": "2024-11-01T09:00:00+00:00",
    }
    assert SubscriptionCreated.model_validate(old).where == {}


# --- route sends a detection to a channel iff a subscription of that channel matches it --------------------------

KEYS = ["party", "place", "host", "*", "Place"]
VALUES = ["PRK", "North Korea", "north  korea", "RUS", "Russia", "KURSK", "Kursk Oblast", "Donbas", "KOR"]
CHANNELS = ["a", "b", "c"]

wheres = st.dictionaries(
    st.sampled_from(KEYS), st.lists(st.sampled_from(VALUES), min_size=1, max_size=3).map(tuple), max_size=2
)
subscriptions = st.builds(
    lambda channel, where, min_severity, digest: Subscription(
        channel=channel, where=where, min_severity=min_severity, digest=digest
    ),
    st.sampled_from(CHANNELS),
    wheres,
    st.sampled_from(["low", "medium", "high", "critical"]),
    st.sampled_from([None, None, "daily 08:00"]),
)
detections = st.builds(
    det,
    st.dictionaries(st.sampled_from(["party", "host"]), st.sampled_from(["PRK", "RUS", "KOR", "KURSK"]), max_size=2),
    st.dictionaries(
        st.sampled_from(["place", "host", "party"]),
        st.lists(st.sampled_from(["North Korea", "Russia", "Kursk Oblast", "Donbas"]), min_size=1, max_size=2),
        max_size=2,
    ),
    st.sampled_from(["low", "medium", "high", "critical"]),
)


# The oracle, written apart from routing.py: every spelling of each entity NAMES knows, by hand, and the folding
# the docs promise (case, runs of spaces). A where key holds when one of the detection's values under that key
# (any key for '*') is a spelling of one of its values.
SAME = {"prk": {"prk", "north korea"}, "north korea": {"prk", "north korea"}, "rus": {"rus", "russia"},
        "russia": {"rus", "russia"}, "kursk": {"kursk", "kursk oblast"}, "kursk oblast": {"kursk", "kursk oblast"},
        "kor": {"kor", "south korea"}, "south korea": {"kor", "south korea"}}  # fmt: skip
SEVERITIES = ["low", "medium", "high", "critical"]


def _plain(text: str) -> str:
    return " ".join(text.lower().split())


def _oracle(s: Subscription, d: Detection, known: bool) -> bool:
    if s.digest is not None or SEVERITIES.index(d.severity) < SEVERITIES.index(s.min_severity):
        return False
    for key, values in s.where.items():
        spelled = set().union(*({_plain(v)} | (SAME.get(_plain(v), set()) if known else set()) for v in values))
        if key == "*":
            have = [*d.group.values(), *(v for vs in d.attributes.values() for v in vs)]
        else:
            have = [v for k, v in d.group.items() if k == key.lower()]
            have += [v for k, vs in d.attributes.items() if k == key.lower() for v in vs]
        if not any(_plain(v) in spelled for v in have):
            return False
    return True


@settings(max_examples=300, deadline=None)
@given(detections, st.lists(subscriptions, max_size=6), st.booleans())
def test_route_sends_a_detection_where_a_subscription_of_the_channel_matches(
    d: Detection, subs: list[Subscription], known: bool
) -> None:
    routed = route(d, subs, NAMES if known else Spellings())
    for channel in CHANNELS:
        wanted = any(s.channel == channel and _oracle(s, d, known) for s in subs)
        assert (channel in routed) is wanted, (channel, d.group, d.attributes, d.severity, subs)
    assert len(set(routed)) == len(routed)
    assert not set(routed) & set(thread_only(d, subs, NAMES if known else Spellings()))


def test_a_log_written_before_where_replays_into_the_same_routing() -> None:
    """The routing table is replayed from the log: a subscription.created event of an earlier version (no `where`)
    loads, routes every alert of its rule as it did, and keeps its id (subscribing to the same again is a no-op)."""
    from watchfloor.alerts.control import ControlLog
    from watchfloor.schemas.control import Actor
    from watchfloor.schemas.events import Event
    from watchfloor.stream_processors.stores.memory import MemoryStore

    payload = {
        "id": subscription_id("desk", ("troops-deployed",), (), "low", None),
        "channel": "desk",
        "rules": ["troops-deployed"],
        "tags": [],
        "min_severity": "low",
        "digest": None,
        "managed_by": "slack",
        "by": {"via": "slack", "user": "U0ALICE", "name": "alice"},
        "at": "2024-11-01T09:00:00+00:00",
    }
    store = MemoryStore()
    store.append([Event(id="old-1", type="subscription.created", time=datetime(2024, 11, 1, 9, tzinfo=UTC),
                        key="desk", payload=payload)])  # fmt: skip
    control = ControlLog(store, now=lambda: datetime(2024, 11, 4, tzinfo=UTC))
    (s,) = control.routing().subscriptions
    assert (s.channel, s.where) == ("desk", {})
    assert route(KURSK_TROOPS, control.routing().subscriptions, NAMES) == ("desk",)
    assert route(det(), control.routing().subscriptions) == ("desk",)
    same, new = control.subscribe("desk", rules=["troops-deployed"], by=Actor(via="cli", user="kim"))
    assert (same.id, new) == (payload["id"], False)
