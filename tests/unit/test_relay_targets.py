"""The relay keeps its position per target (its prefix): a new pipeline fed from an existing store gets every
document it holds, and a store's old single checkpoint is adopted by the target it relays to now (outside trial 22,
H1)."""

from __future__ import annotations

from tests.unit.test_relay import RecordingPublisher, docs
from watchfloor.producers.relay import (
    RELAY_PROCESSOR,
    KafkaRelay,
    relayed_position,
    target_checkpoint,
)
from watchfloor.retention import readers
from watchfloor.stream_processors.stores.memory import MemoryStore

A = target_checkpoint("kafka://127.0.0.1:19092", "trial22")
B = target_checkpoint("127.0.0.1:19092", "trial22p")


def test_target_names_one_broker_written_two_ways_as_one() -> None:
    # keyed by the prefix: the spool of a prefix goes to whichever broker answers next
    assert target_checkpoint("kafka://B:1, a:2", "p") == target_checkpoint("a:2,b:1", "p") == "kafka-relay:p"
    assert target_checkpoint("a:2", "p") != target_checkpoint("a:2", "q")


def test_a_new_prefix_gets_every_document_the_store_holds_in_log_order() -> None:
    store = MemoryStore()
    store.append(docs(5))
    to_a, to_b = RecordingPublisher(), RecordingPublisher()
    relay_a = KafkaRelay(store, to_a, batch_size=2, target=A)
    assert relay_a.prepare() == 5  # never sent to: from the start, said once
    assert relay_a.run_once().relayed == 5
    assert relay_a.prepare() is None
    relay_b = KafkaRelay(store, to_b, batch_size=2, target=B)
    assert relay_b.prepare() == 5
    assert relay_b.run_once().relayed == 5
    assert to_b.sent[:5] == [f"d{i}" for i in range(5)]
    store.append(docs(7)[5:])
    relay_a.run_once()
    relay_b.run_once()
    assert [i for i in to_a.sent if i.startswith("d")] == [i for i in to_b.sent if i.startswith("d")]
    assert [i for i in to_b.sent if i.startswith("d")] == [f"d{i}" for i in range(7)]
    assert relayed_position(store, A) == relayed_position(store, B) == relayed_position(store) > 0


def test_an_old_single_checkpoint_is_adopted_by_the_current_target_and_nothing_is_sent_again() -> None:
    store = MemoryStore()
    store.append(docs(5))
    KafkaRelay(store, RecordingPublisher()).run_once()  # before the upgrade: `kafka-relay`, no target
    old = store.checkpoint_position(RELAY_PROCESSOR)
    assert old > 0
    assert relayed_position(store, A) == old  # what a reader of the target's position sees before the first pass
    pub = RecordingPublisher()
    relay = KafkaRelay(store, pub, target=A)
    assert relay.prepare() is None  # not "from the start"
    assert relay.run_once().relayed == 0
    assert pub.sent == []
    assert store.checkpoint_position(A) == old
    assert store.checkpoint_position(RELAY_PROCESSOR) == 0  # adopted once: no other target takes it
    store.append(docs(7)[5:])
    relay.run_once()
    assert [i for i in pub.sent if i.startswith("d")] == ["d5", "d6"]
    other = RecordingPublisher()
    relay_b = KafkaRelay(store, other, target=B)
    assert relay_b.prepare() == 7
    relay_b.run_once()
    assert [i for i in other.sent if i.startswith("d")] == [f"d{i}" for i in range(7)]
    assert RELAY_PROCESSOR not in readers(store.checkpoint_positions())  # retention: not held at the old place


def test_resend_relays_the_whole_outbox_to_the_target_again() -> None:
    store = MemoryStore()
    store.append(docs(4))
    first = RecordingPublisher()
    relay = KafkaRelay(store, first, target=A)
    relay.prepare()
    relay.run_once()
    again = RecordingPublisher()
    relay = KafkaRelay(store, again, target=A)
    assert relay.prepare(resend=True) == 4
    relay.run_once()
    assert [i for i in again.sent if i.startswith("d")] == [f"d{i}" for i in range(4)]


def test_retention_is_bounded_by_every_target_relayed_to() -> None:
    assert readers({A: 10, B: 3, RELAY_PROCESSOR: 0, "alerts": 50}) == {A: 10, B: 3}
