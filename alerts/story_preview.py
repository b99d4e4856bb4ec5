"""The stories a desk would be told, from alerts raised off the live path (a backtest): the detections and withdrawals
are taken in by the real delivery intake into an in-memory ledger, for one channel that every alert is routed to and
takes every message, and each alert's story is read back as `alerts list --json` reads it (story_acks.stories_of).
So `backtest --json` previews the story grouping of rules that `thread_by` (outside trial 81, F6)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import count

from watchfloor.schemas.config import Subscription
from watchfloor.schemas.events import Detection, Retraction, detection_event, retraction_event
from watchfloor.stream_processors.stores.memory import MemoryStore

from .dispatcher import AlertDispatcher
from .notice import AlertCatalog, Notice
from .story_acks import stories_of

PREVIEW_CHANNEL = "preview"
_CYCLES = 1000  # dispatcher cycles at most: each sends what is due; a thread's replies wait for its first message
_STEP = timedelta(hours=1)  # the preview's clock moves this much per cycle: a wait for an update's company passes


class _TakesAll:
    """A channel that takes every message at once (a reference per message, as a channel gives one)."""

    name = PREVIEW_CHANNEL

    def __init__(self) -> None:
        self._refs: Iterator[int] = count(1)

    def send(self, notice: Notice) -> str:
        return f"{PREVIEW_CHANNEL}:{next(self._refs)}"


def preview_stories(raised: Iterable[Detection | Retraction], catalog: AlertCatalog) -> dict[str, str]:
    """Delivery key (detection_event_id) -> its story's id (the story's first alert's id), of the detections of `raised`
    (in log order) told in a story of several groups of a rule's `thread_by`, as `alerts list --json` says `story` for
    them when one channel is told every alert; only the rules that thread_by are taken in (the others' alerts have no
    such story)."""
    taken = [o for o in raised if catalog.threads_groups(o.rule)]
    if not taken:
        return {}
    store = MemoryStore()
    store.append([detection_event(o) if isinstance(o, Detection) else retraction_event(o) for o in taken])
    fired = [o.fired_at for o in taken if isinstance(o, Detection)]
    clock = [max(fired, default=datetime.now(UTC)).astimezone(UTC) + _STEP]
    dispatcher = AlertDispatcher(
        store,
        {PREVIEW_CHANNEL: _TakesAll()},
        [Subscription(channel=PREVIEW_CHANNEL)],
        now=lambda: clock[0],
        catalog=catalog,
        owner="backtest-preview",
    )
    for _ in range(_CYCLES):
        report = dispatcher.cycle()
        clock[0] += _STEP
        if not report.outstanding:
            break
    return stories_of(store, store.deliveries(channel=PREVIEW_CHANNEL))
