"""Routing: which channels a detection goes to, and which silence holds it back. Pure functions of the detection,
the subscriptions and the silences; `RoutingProvider` is how the dispatcher gets the current ones each cycle."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from watchfloor.schemas.config import Subscription
from watchfloor.schemas.control import Silence
from watchfloor.schemas.events import SEVERITY_RANK, Detection

WILDCARD = "*"


def matches(sub: Subscription, det: Detection) -> bool:
    """True when `det` is for `sub`: rule listed (or '*'), a tag in common (if tags are asked), severity enough.

    An unknown severity on either side never matches (fail closed rather than page everyone).
    """
    if WILDCARD not in sub.rules and det.rule not in sub.rules:
        return False
    if sub.tags and not set(sub.tags).intersection(det.tags):
        return False
    have = SEVERITY_RANK.get(det.severity)
    need = SEVERITY_RANK.get(sub.min_severity)
    if have is None or need is None:
        return False
    return have >= need


def route(det: Detection, subs: Iterable[Subscription]) -> tuple[str, ...]:
    """Names of the channels whose subscriptions match `det`, each once, in the order of `subs`.

    Digest subscriptions are not routed one alert at a time (alerts.digest sends them on their schedule)."""
    out: dict[str, None] = {}
    for sub in subs:
        if sub.digest is None and sub.channel not in out and matches(sub, det):
            out[sub.channel] = None
    return tuple(out)


def too_old(det: Detection, channel: str, subs: Iterable[Subscription], now: datetime) -> timedelta | None:
    """The age limit that keeps `det` from starting a thread in `channel` at `now`, or None: its reports are older
    (by fired_at, event time) than every subscription of the channel that matches it allows. A subscription
    without `max_age` allows any age: the most permissive one decides."""
    limits: list[timedelta] = []
    for sub in subs:
        if sub.digest is None and sub.channel == channel and matches(sub, det):
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
