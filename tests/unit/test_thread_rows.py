"""ThreadRows: a thread's rows kept between reads are what a whole read of the thread gives, after any write."""

from __future__ import annotations

from tests.ledger_contract import LEASE, NOW, rec
from watchfloor.alerts.threads import ThreadRows
from watchfloor.stream_processors.ports import Settlement
from watchfloor.stream_processors.stores.memory import MemoryStore


def test_kept_rows_are_the_thread_as_read_whole_after_each_write() -> None:
    store = MemoryStore()
    threads = ThreadRows(store, keep=1)
    whole = lambda: store.deliveries(channel="x", thread_key="t")  # noqa: E731
    assert threads.read("x", "t") == [] == whole()
    store.enqueue([rec("a2", "x", seq=5, thread_key="t"), rec("a1", "x", seq=5, thread_key="t")])
    store.enqueue([rec("b", "x", seq=1, thread_key="u"), rec("a1", "y", seq=2, thread_key="t")])
    assert [r.alert_id for r in threads.read("x", "t")] == ["a1", "a2"]  # (seq, alert_id) order
    assert threads.read("x", "t") == whole()
    r = store.claim_delivery("a1", "x", "p", NOW, LEASE)
    assert r is not None
    assert threads.read("x", "t") == whole() and threads.read("x", "t")[0].lease_owner == "p"
    store.settle_delivery(r.alert_id, r.channel, "p", Settlement("sent", ref="C:1", attempts=1), NOW)
    store.enqueue([rec("a0", "x", seq=0, thread_key="t", kind="followup", parent_id="a1")])
    assert threads.read("x", "t") == whole() and [r.alert_id for r in whole()] == ["a0", "a1", "a2"]
    assert threads.read("x", "u") == store.deliveries(channel="x", thread_key="u")  # (keep=1: lets "t" go)
    assert threads.read("x", "t") == whole()
