"""Routing: which channels a detection goes to, and which silence holds it back. Pure functions of the detection,
the subscriptions and the silences; `RoutingProvider` is how the dispatcher gets the current ones each cycle."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from watchfloor.schemas.config import Subscription
from watchfloor.schemas.control import WHERE_ANY_KEY, Silence, fold
from watchfloor.schemas.events import SEVERITY_RANK, Detection

# An entity's spellings (id, name, aliases) are shared with the checks of a `where` (stream_processors.vocabulary).
from watchfloor.stream_processors.vocabulary import Spellings as Spellings

WILDCARD = "*"


AS_WRITTEN = Spellings()


def carries(where: Mapping[str, Sequence[str]], det: Detection, names: Spellings = AS_WRITTEN) -> bool:
    """True when `det` has, for every key of `where`, one of its values: as the group's value of that key or one
    of its attributes' (captures outside the group; `place`: the reports' places); the key '*': any group value or
    attribute value. A key the detection does not have never holds (fail closed: a filter that cannot be checked
    sends nothing rather than everything)."""
    for key, values in where.items():
        wanted = frozenset().union(*(names.of(v) for v in values))
        k = fold(key)
        if k == WHERE_ANY_KEY:
            have = [*det.group.values(), *(v for vs in det.attributes.values() for v in vs)]
        else:
            have = [v for gk, v in det.group.items() if fold(gk) == k]
            have += [v for ak, vs in det.attributes.items() if fold(ak) == k for v in vs]
        if not any(fold(v) in wanted for v in have):
            return False
    return True


def matches(sub: Subscription, det: Detection, names: Spellings = AS_WRITTEN) -> bool:
    """True when `det` is for `sub`: rule listed (or '*'), a tag in common (if tags are asked), severity enough,
    and every `where` key carried with one of its values (`carries`; `names`: the rule packs' entity spellings).

    An unknown severity on either side never matches (fail closed rather than page everyone).
    """
    return _matches_but_where(sub, det) and carries(sub.where, det, names)


def _matches_but_where(sub: Subscription, det: Detection) -> bool:
    if WILDCARD not in sub.rules and det.rule not in sub.rules:
        return False
    if sub.tags and not set(sub.tags).intersection(det.tags):
        return False
    have = SEVERITY_RANK.get(det.severity)
    need = SEVERITY_RANK.get(sub.min_severity)
    if have is None or need is None:
        return False
    return have >= need


def route(det: Detection, subs: Iterable[Subscription], names: Spellings = AS_WRITTEN) -> tuple[str, ...]:
    """Names of the channels whose subscriptions match `det`, each once, in the order of `subs`.

    Digest subscriptions are not routed one alert at a time (alerts.digest sends them on their schedule)."""
    out: dict[str, None] = {}
    for sub in subs:
        if sub.digest is None and sub.channel not in out and matches(sub, det, names):
            out[sub.channel] = None
    return tuple(out)


def thread_only(det: Detection, subs: Sequence[Subscription], names: Spellings = AS_WRITTEN) -> tuple[str, ...]:
    """The channels `det` is not routed to only because of a `where`: a subscription there matches it in all else.
    Such a channel still takes `det` as a follow-up or revision of an alert it was sent (the dispatcher looks in
    its threads): an attribute such as `place` may differ between a story's reports, and a `where` on it must not
    leave a thread the channel has without its updates, or an alert it was told without its revision."""
    routed = set(route(det, subs, names))
    out: dict[str, None] = {}
    for sub in subs:
        if sub.digest is None and sub.where and sub.channel not in routed and sub.channel not in out:
            if _matches_but_where(sub, det):
                out[sub.channel] = None
    return tuple(out)


def too_old(
    det: Detection, channel: str, subs: Iterable[Subscription], now: datetime, names: Spellings = AS_WRITTEN
) -> timedelta | None:
    """The age limit that keeps `det` from starting a thread in `channel` at `now`, or None: its reports are older
    (by fired_at, event time) than every subscription of the channel that matches it allows. A subscription
    without `max_age` allows any age: the most permissive one decides."""
    limits: list[timedelta] = []
    for sub in subs:
        if sub.digest is None and sub.channel == channel and matches(sub, det, names):
            if sub.max_age is None:
                return None
            limits.append(sub.max_age)
    if not limits:
        return None
    limit = max(limits)
    return limit if now - det.fired_at > limit else None


def silence_matches(silence: Silence, det: Detection, channel: str, now: datetime) -> bool:
    """True when `silence` is active at `now` and covers `det` on `channel` (rule, every group matcher, channel)."""
    if not silence.active(now):
        return False
    if silence.channel is not None and silence.channel != channel:
        return False
    if silence.rule != WILDCARD and silence.rule != det.rule:
        return False
    for key, value in silence.group.items():
        if key == WILDCARD:
            if value not in det.group.values():
                return False
        elif det.group.get(key) != value:
            return False
    return True


def silenced_by(det: Detection, channel: str, silences: Iterable[Silence], now: datetime) -> Silence | None:
    """The first silence that holds `det` back from `channel` at `now`, or None."""
    for silence in silences:
        if silence_matches(silence, det, channel, now):
            return silence
    return None


@dataclass(frozen=True)
class RoutingTable:
    """What the dispatcher routes with for one cycle: subscriptions and silences (active or not; it checks)."""

    subscriptions: tuple[Subscription, ...]
    silences: tuple[Silence, ...] = ()


class RoutingProvider(Protocol):
    """Gives the current routing table; called by the dispatcher once per cycle (alerts.control projects it
    from the log, so subscriptions and silences made while the pipeline runs apply on its next cycle)."""

    def routing(self) -> RoutingTable: ...


class StaticRouting:
    """A fixed routing table: the config file's subscriptions, no silences (tests, one-off runs)."""

    def __init__(self, subscriptions: Sequence[Subscription], silences: Sequence[Silence] = ()) -> None:
        self._table = RoutingTable(tuple(subscriptions), tuple(silences))

    def routing(self) -> RoutingTable:
        return self._table


def covers(
    have: Subscription, wanted: Subscription, rule_tags: Mapping[str, Sequence[str]] | None = None
) -> bool:  # (both as alerts.routing reads them)
    """Whether every alert `wanted` would send one at a time, `have` sends already (digests aside). `rule_tags`:
    the tags each rule carries (a subscription to a tag takes the rules that carry it: trial L5)."""
    if have.digest is not None or wanted.digest is not None:
        return False
    if "*" not in have.rules and ("*" in wanted.rules or not set(wanted.rules) <= set(have.rules)):
        return False
    if have.tags and not (wanted.tags and set(wanted.tags) <= set(have.tags)):
        # a rule of `wanted` is taken by `have` when it carries one of its tags, whatever `wanted`'s own tags ask
        tagged = rule_tags or {}
        if "*" in wanted.rules or not all(set(tagged.get(r, ())) & set(have.tags) for r in wanted.rules):
            return False
    if SEVERITY_RANK.get(have.min_severity, 99) > SEVERITY_RANK.get(wanted.min_severity, -1):
        return False
    if have.max_age is not None and (wanted.max_age is None or wanted.max_age > have.max_age):
        return False
    for key, values in have.where.items():  # each of its filters is as narrow in `wanted`
        narrower = wanted.where.get(key)
        if narrower is None or not {fold(v) for v in narrower} <= {fold(v) for v in values}:
            return False
    return True
