"""A reader of the delivery ledger's threads that keeps each thread's rows and reads again only those that changed."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from watchfloor.stream_processors.ports import DeliveryLedger, DeliveryRecord

KEEP = 64  # threads kept (the least recently read is let go): the threads a channel is busy with


@dataclass(frozen=True, slots=True)
class _Held:
    revisions: dict[str, int]
    rows: list[DeliveryRecord]  # in (seq, alert_id, channel) order, as `deliveries()` returns them


class ThreadRows:
    """The rows of a channel's thread, as `store.deliveries(channel=, thread_key=)` reads them, kept between reads:
    each read asks the store for its rows' revisions and reads again only the rows whose revision moved (a row's
    revision moves at each write of it, by any process). Each delivery and intake of a thread reads its thread: read
    whole, a thread of 600 alerts read and decoded 180,000 rows over its life (outside trial: 17 s of a 54 s run).

    The rows returned are shared between reads (their payloads too): read-only, as every reader treats them."""

    def __init__(self, store: DeliveryLedger, keep: int = KEEP) -> None:
        self.store = store
        self.keep = keep
        self._held: OrderedDict[tuple[str, str], _Held] = OrderedDict()
        self._lock = threading.Lock()  # (a Slack app's handlers read from threads of their own)

    def read(self, channel: str, thread_key: str) -> list[DeliveryRecord]:
        key = (channel, thread_key)
        with self._lock:
            held = self._held.pop(key, None)
        revisions = held.revisions if held is not None else {}
        got = self.store.thread_rows(channel, thread_key, revisions)
        if held is not None and got.revisions.keys() == revisions.keys():
            # the same rows, some written since (claimed, settled): in place, as a row's (seq, alert_id) never changes
            fresh = _Held(got.revisions, [got.rows.get(r.alert_id, r) for r in held.rows]) if got.rows else held
        else:
            kept = {r.alert_id: r for r in held.rows} if held is not None else {}
            rows = [got.rows.get(a) or kept[a] for a in got.revisions]
            rows.sort(key=lambda r: (r.seq, r.alert_id, r.channel))
            fresh = _Held(got.revisions, rows)
        with self._lock:
            self._held[key] = fresh
            while len(self._held) > self.keep:
                self._held.popitem(last=False)
        return list(fresh.rows)
