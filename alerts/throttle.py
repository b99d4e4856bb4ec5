"""A channel's throttle (`throttle: 10 per 1h`): at most `max` new top-level alert messages per fixed window, the rest
held and listed in one summary message when the window ends (pure: no store, no clock).

Windows are fixed, not sliding: window k of a channel is [midnight UTC + k·per, + per) (`per` divides a day), and an
alert belongs to the window of its raise time: the receive time of the report that raised it, which the log records
with the detection (`Event.received_at`; the detection's `fired_at` for events written without one). Only alerts that
would start a message of their own (ledger kind `alert`) count and can be held; follow-ups, revisions and withdrawals
of an alert the channel has are replies about it and always go.

Why the same decision comes out in every process. The dispatcher's intake takes the log's detections one at a time in
log order and enqueues each row insert-if-absent (the first writer's row stands), so when any process decides the row
of the detection at log position p for a throttled channel, the channel's rows of every earlier position are already in
the ledger (a process's pass commits each event after its rows, and one that lost the race to commit stops), each
with its own decision recorded in its payload (`throttle: {window, held, spec}`). `decide` counts those decisions
(never a status that changes later: sent, failed, replaced), in the detection's window only, so it is a function of
the log (positions, raise times) and of the decisions before it: by induction on the log position, two processes
(two `run --once` on one store, `worker --dispatch` beside `notify`) decide every row alike, and neither the
dispatcher's clock nor the delivery's progress enters into it. (The dispatcher keeps the counts it read and reads
only the rows added since: no row with a decision is added at a position it counted past, and decisions never
change.)

A summary is planned only once the dispatcher's intake has taken in every detection in the log, and lists the held
rows of log positions (after, through]: `after` is the previous summary's `through` (0 for the first), so no held
alert is listed twice or skipped; `through` stops before the first held row whose window has
not ended yet. Its ledger key is the channel and `after` (`summary_id`): two processes planning it at once compute
the same key and the ledger keeps one, with the contents of whoever enqueued it first; a held row past that one's
`through` is listed by the next summary. A held alert withdrawn (or revised: its revision is told on its own) before
its summary is planned is left out and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from watchfloor.schemas.config import ThrottleSpec, parse_throttle
from watchfloor.schemas.events import SEVERITY_RANK, Detection, stable_id
from watchfloor.schemas.plural import counted
from watchfloor.schemas.timefmt import utc_text
from watchfloor.stream_processors.ports import DeliveryRecord

from .notice import DIGEST_KIND, Digest

HELD = "held"  # the ledger status of an alert held by its channel's throttle: listed in a summary, never sent alone
SUMMARY_PREFIX = "thr-"  # a throttle summary's delivery key (a ledger row of kind `digest`)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def window_start(raised: datetime, per: timedelta) -> datetime:
    """The start of the fixed window of `per` that `raised` (aware) falls in: midnight UTC + a whole number of `per`."""
    seconds = int(per.total_seconds())
    at = (raised - _EPOCH) // timedelta(seconds=1)  # whole seconds since 1970, floored (also before it)
    return _EPOCH + timedelta(seconds=at - at % seconds)


@dataclass(frozen=True)
class Mark:
    """The throttle's decision for one ledger row, kept in the row's payload (`throttle`)."""

    window: datetime  # the window's start (UTC)
    held: bool
    spec: ThrottleSpec | None = None  # the throttle that decided it (the config may change later)

    def to_json(self, spec: ThrottleSpec) -> dict[str, Any]:
        return {"window": self.window.isoformat(), "held": self.held, "spec": str(spec)}

    def end(self, default: ThrottleSpec) -> datetime:
        """When its window ends: by the throttle that decided it (else `default`)."""
        return self.window + (self.spec or default).per

    @classmethod
    def of(cls, payload: Mapping[str, Any] | None) -> Mark | None:
        """The mark in a ledger row's payload, or None (a row the throttle did not decide)."""
        data = (payload or {}).get("throttle")
        if not isinstance(data, dict):
            return None
        try:
            spec = parse_throttle(data["spec"]) if data.get("spec") else None
            return cls(datetime.fromisoformat(str(data["window"])), bool(data["held"]), spec)
        except (KeyError, ValueError):
            return None


def decide(spec: ThrottleSpec, raised: datetime, admitted: Mapping[datetime, int]) -> Mark:
    """Send or hold a new top-level alert raised at `raised`: held when `spec.max` alerts of its window were already
    admitted. `admitted`: window start -> how many of the channel's rows of earlier log positions were admitted."""
    window = window_start(raised, spec.per)
    return Mark(window, admitted.get(window, 0) >= spec.max, spec)


def admit(spec: ThrottleSpec, raised: datetime, earlier: Iterable[Mark]) -> Mark:
    """`decide` from the decisions of the channel's rows of earlier log positions (any order, any window)."""
    counts: dict[datetime, int] = {}
    for m in earlier:
        if not m.held:
            counts[m.window] = counts.get(m.window, 0) + 1
    return decide(spec, raised, counts)


@dataclass(frozen=True)
class Held:
    """A held alert as a summary sees it: its ledger row's key and log position, its window, and whether it was
    withdrawn or revised before the summary (then it is left out)."""

    key: str
    seq: int
    window: datetime
    end: datetime  # when its window ends (start + the `per` of the throttle that held it)
    detection: Detection
    gone: str = ""  # "" | "withdrawn" | "revised"
    spec: ThrottleSpec | None = None  # the throttle that held it


@dataclass(frozen=True)
class SummaryPlan:
    """What one summary lists: the held alerts of positions (after, through], by severity then time, and those
    left out (withdrawn or revised since they were held)."""

    after: int
    through: int
    listed: tuple[Held, ...]
    withdrawn: tuple[Held, ...] = ()
    revised: tuple[Held, ...] = ()

    @property
    def since(self) -> datetime:
        return min(h.window for h in (*self.listed, *self.withdrawn, *self.revised))

    @property
    def spec(self) -> ThrottleSpec | None:
        """The throttle that held them (the first's: the config may have changed since the others were held)."""
        return next((h.spec for h in (*self.listed, *self.withdrawn, *self.revised) if h.spec is not None), None)

    @property
    def until(self) -> datetime:
        return max(h.end for h in (*self.listed, *self.withdrawn, *self.revised))


def revised_into(revised: Sequence[Held], listed: Sequence[Held]) -> list[Held]:
    """Of the held alerts `revised` since, those whose revision is among `listed` (held too, and listed by the same
    summary), directly or through another of `revised`: their revision is told there, not on its own."""
    told = {h.detection.revises for h in listed} - {None}
    out: list[Held] = []
    while True:
        more = [h for h in revised if h.detection.id in told and h not in out]
        if not more:
            return out
        out += more
        told |= {h.detection.revises for h in more} - {None}


def plan_summary(held: Sequence[Held], after: int, head: int, now: datetime) -> SummaryPlan | None:
    """The next summary of a channel whose previous one listed positions up to `after` (0: none yet), at `now`
    (the dispatcher's clock), the log's head being `head`; None when no held alert is ready to be told (none new,
    or the first new one's window has not ended)."""
    pending = sorted((h for h in held if after < h.seq <= head), key=lambda h: (h.seq, h.key))
    through = head
    for h in pending:
        if h.end > now:  # its window is still open: it and everything after it wait
            through = h.seq - 1
            break
    taken = [h for h in pending if h.seq <= through]
    if not taken:
        return None
    listed = sorted(
        (h for h in taken if not h.gone),
        key=lambda h: (-SEVERITY_RANK.get(h.detection.severity, 0), h.detection.fired_at, h.seq, h.key),
    )
    return SummaryPlan(
        after=after,
        through=max(h.seq for h in taken),
        listed=tuple(listed),
        withdrawn=tuple(h for h in taken if h.gone == "withdrawn"),
        revised=tuple(h for h in taken if h.gone == "revised"),
    )


def next_window_end(held: Sequence[Held], after: int) -> datetime | None:
    """When the earliest window of a held alert not listed yet ends (for the live loops' timers)."""
    ends = [h.end for h in held if h.seq > after]
    return min(ends) if ends else None


def summary_id(channel: str, after: int) -> str:
    """A summary's delivery key: the channel and the position its list starts after (the same in every process)."""
    return SUMMARY_PREFIX + stable_id("throttle", channel, str(after), length=16)


def summary_thread(channel: str) -> str:
    """The ledger thread key of a channel's summaries: how the previous one is found."""
    return f"throttle\x1f{channel}"


def held_detail(spec: ThrottleSpec, mark: Mark) -> str:
    """What a held row says (`alerts list`)."""
    end = mark.window + spec.per
    return (
        f"held by this channel's throttle ({spec}): {counted(spec.max, 'alert')} already posted in the window "
        f"{utc_text(mark.window)} – {utc_text(end)}; listed in the summary sent when it ends"
    )


__all__ = [
    "HELD",
    "Held",
    "Mark",
    "SummaryPlan",
    "admit",
    "decide",
    "held_detail",
    "next_window_end",
    "plan_summary",
    "summaries_of_held",
    "summary_id",
    "summary_thread",
    "window_start",
]


def summaries_of_held(rows: Iterable[DeliveryRecord]) -> dict[tuple[str, str], DeliveryRecord]:
    """(held row's key, channel) -> the summary row that lists it (or leaves it out, withdrawn or revised), for the
    held rows of `rows` that a summary has taken: the one whose positions (after, through] hold its position."""
    rows = list(rows)
    ranges: dict[str, list[tuple[int, int, DeliveryRecord]]] = {}
    for r in rows:
        if r.kind != DIGEST_KIND or not r.alert_id.startswith(SUMMARY_PREFIX):
            continue
        try:
            d = Digest.from_payload(r.payload)
        except ValueError:
            continue
        if d is not None:
            ranges.setdefault(r.channel, []).append((d.after_position, d.through_position, r))
    out: dict[tuple[str, str], DeliveryRecord] = {}
    for r in rows:
        if r.status == HELD:
            for after, through, summary in ranges.get(r.channel, ()):
                if after < r.seq <= through:
                    out[(r.alert_id, r.channel)] = summary
    return out
