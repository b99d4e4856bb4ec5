"""How many alerts stand now, and how many of those someone has acknowledged: a fold over the log's detections,
withdrawals and acknowledgements, for `status`, /metrics and /healthz (outside trial 81, F5)."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from watchfloor.schemas.control import ControlType
from watchfloor.schemas.events import EventType
from watchfloor.stream_processors.ports import EventLog

# The event types the fold reads, and nothing else of the log.
STANDING_TYPES = frozenset(
    {EventType.DETECTION.value, EventType.RETRACTION.value, ControlType.ALERT_ACKNOWLEDGED.value}
)
_PAGE = 5000


@dataclass
class StandingAcks:
    """Alerts standing (raised and not withdrawn since: not revised by another alert, not retracted), by rule, and
    which of them are acknowledged. As `alerts list` counts "standing" and ControlLog.acknowledgements counts an
    acknowledgement: one since the alert's latest raising, in any channel. An alert raised again with its own id
    (reinstated) is acknowledged anew; one revised in place (a revision that `revises` its own id) keeps its
    acknowledgements. Folded in log order by `apply`; pure (no I/O)."""

    standing: dict[str, str] = field(default_factory=dict)  # alert id -> its rule
    acked: set[str] = field(default_factory=set)  # of `standing`, those acknowledged since their latest raising

    def apply(self, kind: str, payload: Mapping[str, Any]) -> None:
        if kind == EventType.DETECTION.value:
            alert_id, revises = str(payload.get("id")), payload.get("revises")
            if revises == alert_id and alert_id in self.standing:
                return  # revised in place: it stood, and stands, acknowledged or not
            if revises:
                self._gone(str(revises))
            self.standing[alert_id] = str(payload.get("rule", "?"))
            self.acked.discard(alert_id)  # a raising: acknowledgements of an earlier one do not take it
        elif kind == EventType.RETRACTION.value:
            self._gone(str(payload.get("alert_id")))
        elif kind == ControlType.ALERT_ACKNOWLEDGED.value:
            alert_id = str(payload.get("alert_id"))
            if alert_id in self.standing:  # (one of an alert withdrawn is its earlier raising's: it does not count)
                self.acked.add(alert_id)

    def _gone(self, alert_id: str) -> None:
        self.standing.pop(alert_id, None)
        self.acked.discard(alert_id)

    def by_rule(self) -> dict[str, tuple[int, int]]:
        """Rule -> (alerts standing, of them unacknowledged), the rules with any standing, sorted."""
        standing = Counter(self.standing.values())
        acked = Counter(self.standing[a] for a in self.acked)
        return {rule: (n, n - acked[rule]) for rule, n in sorted(standing.items())}

    @property
    def total(self) -> int:
        return len(self.standing)

    @property
    def acknowledged(self) -> int:
        return len(self.acked)

    @property
    def unacknowledged(self) -> int:
        return len(self.standing) - len(self.acked)

    def to_state(self) -> dict[str, Any]:
        return {"standing": dict(self.standing), "acked": sorted(self.acked)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> StandingAcks:
        standing = {str(a): str(r) for a, r in state["standing"].items()}
        return cls(standing, {str(a) for a in state["acked"] if str(a) in standing})


def read_standing_acks(log: EventLog) -> StandingAcks:
    """The fold over the whole log (its detections, withdrawals and acknowledgements alone, read a page of payloads
    at a time per type and merged in log order): what a one-off look (`status`) costs, the alerts', not the log's."""

    def of(kind: str) -> Iterator[tuple[int, str, str]]:
        position = 0
        while page := log.read_payloads(position, types={kind}, limit=_PAGE):
            for p, text in page:
                yield p, kind, text
            position = page[-1][0]

    fold = StandingAcks()
    for _, kind, text in heapq.merge(*(of(k) for k in sorted(STANDING_TYPES))):
        fold.apply(kind, orjson.loads(text))
    return fold
