"""Routing: which channels a detection goes to. Pure functions of the detection and the subscriptions."""

from __future__ import annotations

from collections.abc import Iterable

from watchfloor.schemas.config import Subscription
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
    """Names of the channels whose subscriptions match `det`, each once, in the order of `subs`."""
    out: dict[str, None] = {}
    for sub in subs:
        if sub.channel not in out and matches(sub, det):
            out[sub.channel] = None
    return tuple(out)
