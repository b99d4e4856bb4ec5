"""Event time: an item's effective time (future dates clamped), watermarks per origin, idleness, lateness.

The watermark W says "every on-time item up to W has been seen". It decides three things only: which items
are reported late (effective time < W - lateness), when absence windows close, and which correlation state
can be dropped. It never holds an alert back: the correlator raises detections as items arrive and revises
them when a late item changes a group's history (correlate.py), so W only has to be safe, not prompt.

* An item's effective time is its published_at, or the time it was received when it is dated more than
  `skew` after that (a typo dated 2099, a wrong time zone). A clamped item never moves any watermark.
* Documents without an origin (old logs, plain file backtests in event-time order) form one in-order stream:
  W is the newest effective time seen, after each document, as it always was.
* Documents with an origin (what the producers write) move their origin's watermark (its newest on-time
  effective time, kept with the time its newest document was received). W itself moves only at a CaughtUp
  mark, which a producer records after each poll, so the order in which one poll reads its sources never
  matters. There W = the minimum over the origins still delivering, or the maximum over all origins when
  none is (Flink's rule: minimum over inputs, idle inputs left out). A source weeks behind another holds W
  back, so none of its items is late for the other's; a source that keeps delivering old items (a file that
  grows, a lagging feed) stays exact as long as it is within the lateness of itself.
* An origin whose watermark is behind the W already reached holds nothing either (until its reports pass W):
  W never goes back, so it cannot wait at that origin's pace, and holding it where it is only stopped it for
  everyone (outside trial 75, F7: a backfill added to a running desk, all its reports older than W, held W for an
  hour after its last line while the live source's newer reports came in, and as its watermark was not W,
  nothing named it). Its cost is a new source's: its reports more than the lateness behind the others' W are
  late. So a late document, which gives its origin no watermark here, would change nothing if it gave one.
* Idleness: an origin that delivered nothing new for `idle_after` of receive time (the mark's time against
  its newest document's) is idle and holds nobody back; its next document makes it active again. The
  poller records a mark every few minutes even when nothing is new, so a quiet system reaches the maximum.

Everything is decided from recorded data (received_at stamps, CaughtUp events in the log), so a replay of
the log moves W exactly as the live run did. The state is plain JSON, part of the engine's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

DEFAULT_LATENESS = timedelta(days=7)  # for packs that do not say: news arrives days late, not hours
DEFAULT_SKEW = timedelta(hours=1)
DEFAULT_IDLE_AFTER = timedelta(hours=1)
# The Unix epoch's day, give or take a time zone: the date a feed or CMS writes for an item it has no date for
# (a 0 or an empty field read as a timestamp). Such an item is processed at that date, as dated, and reported
# (trial 33, L2: a 1970 item raised an alert "fired 1970-01-01" without a word, while a 2099 one was reported).
EPOCH_DAY_START = -86_400.0  # 1969-12-31T00:00:00Z
EPOCH_DAY_END = 2 * 86_400.0  # 1970-01-03T00:00:00Z, exclusive


def epoch_dated(published: float) -> bool:
    """Whether an item dated `published` (POSIX seconds) is dated at the Unix epoch (EPOCH_DAY_START..END)."""
    return EPOCH_DAY_START <= published < EPOCH_DAY_END


@dataclass(frozen=True, slots=True)
class EventTimePolicy:
    """How far out of order items may arrive (`lateness`, from the rule packs), how far in the future a
    source's clock may be trusted (`skew`), and when a silent origin stops holding the others back."""

    lateness: timedelta = DEFAULT_LATENESS
    skew: timedelta = DEFAULT_SKEW
    idle_after: timedelta = DEFAULT_IDLE_AFTER


def effective_time(published: float, received: float | None, skew: float) -> tuple[float, bool]:
    """(the time an item is processed at, whether it was clamped): published_at, or received_at for an item
    dated more than `skew` seconds after it was received."""
    if received is not None and published > received + skew:
        return received, True
    return published, False


def new_tracker() -> dict[str, Any]:
    """{"o": {origin: [watermark or None, newest received_at or None]}}."""
    return {"o": {}}


def note_document(tracker: dict[str, Any], origin: str, t: float | None, received: float | None) -> None:
    """A document of `origin` arrived; `t` its effective time when it is on time and not clamped, else None."""
    entry = tracker["o"].get(origin)
    if entry is None:
        tracker["o"][origin] = [t, received]
        return
    if t is not None and (entry[0] is None or t > entry[0]):
        entry[0] = t
    if received is not None and (entry[1] is None or received > entry[1]):
        entry[1] = received


def _holds(mark: float | None, received: float | None, now: float | None, idle_after: float, w: float | None) -> bool:
    """Whether an origin (its watermark `mark`, its newest `received`) holds W back at `now`: it has an on-time
    report, delivered within `idle_after`, and is not behind the published `w` (W never goes back, so one behind it
    could only stop it, however new the others' reports: a backfill added later, all its reports late)."""
    if mark is None or (w is not None and mark < w):
        return False
    return received is None or now is None or now - received < idle_after


def caught_up(
    tracker: dict[str, Any],
    origins: tuple[str, ...] | list[str],
    at: float,
    idle_after: float,
    w: float | None,
) -> float | None:
    """A producer finished a poll at `at` (having read `origins` to their end): the watermark candidate now,
    or None when no origin has an on-time document yet; `w` is the watermark so far (None: none yet). The caller
    keeps W monotone. (Being read to the end does not make an origin idle: a file can grow and a feed lag; only
    silence does. An origin behind `w` holds nothing: module docstring.)"""
    known: dict[str, list[Any]] = tracker["o"]
    delivering = [entry[0] for entry in known.values() if _holds(entry[0], entry[1], at, idle_after, w)]
    if delivering:
        return float(min(delivering))
    marks = [entry[0] for entry in known.values() if entry[0] is not None]
    return float(max(marks)) if marks else None


def holder(tracker: dict[str, Any], w: float | None, idle_after: float) -> tuple[str, float, float | None] | None:
    """(origin, its watermark, its newest received_at) of the origin that holds the watermark `w` back: the one still
    delivering (as of the newest document received, as the next mark will judge it) and not behind `w`, with the
    lowest watermark, when that is `w` itself; None when no origin holds it (all idle or behind `w`). For reports
    only."""
    known: dict[str, list[Any]] = tracker["o"]
    latest = max((entry[1] for entry in known.values() if entry[1] is not None), default=None)
    delivering = [
        (entry[0], origin, entry[1])
        for origin, entry in known.items()
        if _holds(entry[0], entry[1], latest, idle_after, w)
    ]
    if w is None or not delivering:
        return None
    mark, origin, received = min(delivering)
    return (origin, float(mark), received) if mark == w else None


def describe_behind(seconds: float) -> str:
    """'3 days, 4:00:00'-style text for a report."""
    return str(timedelta(seconds=int(seconds)))


def timestamp(dt: datetime | None) -> float | None:
    return dt.timestamp() if dt is not None else None
