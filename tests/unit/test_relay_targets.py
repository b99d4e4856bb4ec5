"""The relay keeps its position per target (its prefix): a new pipeline fed from an existing store gets every
document it holds, and a store's old single checkpoint is adopted by the target it relays to now (outside trial 22,
H1)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.unit.test_relay import RecordingPublisher, docs
from watchfloor.backtest import FED_WORKERS_NOTE, distributed_note
from watchfloor.producers.relay import (
    FORGOTTEN_RELAYS,
    RELAY_PROCESSOR,
    ForgetError,
    KafkaRelay,
    RelayForgotten,
    forget_target,
    forgotten,
    relayed_position,
    target_checkpoint,
)
from watchfloor.retention import readers
from watchfloor.stream_processors.ports import Checkpoint
from watchfloor.stream_processors.stores.memory import MemoryStore

A = target_checkpoint("kafka://127.0.0.1:19092", "trial22")
B = target_checkpoint("127.0.0.1:19092", "trial22p")
NOW = datetime(2026, 12, 4, tzinfo=UTC)


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
    assert again.resent == [f"d{i}" for i in range(4)]  # marked as sent again (codec.RESENT): the workers had them


def test_a_resend_marks_only_what_was_sent_before_also_when_it_goes_on_in_another_produce() -> None:
    """`produce --resend` marks the documents up to where the target was (outside trial 40, M1), and no others: those
    stored since go as new. A produce stopped midway marks the rest when the next one goes on (the point is kept in
    the checkpoint)."""
    store = MemoryStore()
    store.append(docs(4))
    KafkaRelay(store, RecordingPublisher(), target=A).run_once()
    assert KafkaRelay(store, RecordingPublisher(), target=A, batch_size=2).prepare(resend=True) == 4
    store.append(docs(6)[4:])  # stored after the resend was asked
    first = RecordingPublisher(fail_on=2)  # stopped after its first batch
    with pytest.raises(ConnectionError):
        KafkaRelay(store, first, target=A, batch_size=2).run_once()
    assert first.resent == ["d0", "d1"]
    rest = RecordingPublisher()
    KafkaRelay(store, rest, target=A, batch_size=2).run_once()  # a produce without --resend goes on
    assert rest.resent == ["d2", "d3"]
    assert [i for i in rest.sent if i.startswith("d")] == ["d2", "d3", "d4", "d5"]
    again = RecordingPublisher()
    KafkaRelay(store, again, target=A).run_once()
    assert again.sent == []


def test_a_resend_asked_again_midway_still_marks_up_to_where_the_target_was_first() -> None:
    store = MemoryStore()
    store.append(docs(6))
    KafkaRelay(store, RecordingPublisher(), target=A).run_once()
    KafkaRelay(store, RecordingPublisher(), target=A, batch_size=2).prepare(resend=True)
    with pytest.raises(ConnectionError):
        KafkaRelay(store, RecordingPublisher(fail_on=2), target=A, batch_size=2).run_once()  # d0, d1 sent
    relay = KafkaRelay(store, RecordingPublisher(), target=A)
    relay.prepare(resend=True)  # `produce --resend` again
    relay.run_once()
    assert relay.publisher.resent == [f"d{i}" for i in range(6)]  # type: ignore[attr-defined]


def test_retention_is_bounded_by_every_target_relayed_to() -> None:
    assert readers({A: 10, B: 3, RELAY_PROCESSOR: 0, "alerts": 50}) == {A: 10, B: 3}


def test_a_target_gone_for_good_is_forgotten_and_no_longer_holds_prunes_back() -> None:
    """`watchfloor store forget-relay`: a relay checkpoint left by a pipeline that is gone held every prune back at
    its position for ever (readers), and nothing could remove it."""
    store = MemoryStore()
    store.append(docs(3))
    KafkaRelay(store, RecordingPublisher(), target=A).run_once()  # the pipeline that went away, early
    store.append(docs(6)[3:])
    KafkaRelay(store, RecordingPublisher(), target=B).run_once()
    a, b = store.checkpoint_position(A), store.checkpoint_position(B)
    assert 0 < a < b and readers(store.checkpoint_positions()) == {A: a, B: b}
    with pytest.raises(ForgetError, match=r"no relay checkpoint 'kafka-relay:engine'.*: kafka-relay:trial22 at"):
        forget_target(store, "engine", now=NOW)  # a prefix: never another processor's checkpoint
    assert forget_target(store, "trial22", now=NOW, dry_run=True) == (A, a)
    assert store.checkpoint_position(A) == a  # a dry run changes nothing
    assert forget_target(store, "trial22", now=NOW) == (A, a)
    assert readers(store.checkpoint_positions()) == {B: b}
    assert forget_target(store, B, now=NOW) == (B, b)  # named as `store prune` names it
    assert readers(store.checkpoint_positions()) == {}
    # Its workers raised this store's alerts all the same: a backtest still says so.
    assert relayed_position(store) == b and distributed_note(store) == FED_WORKERS_NOTE
    # Relayed to again: from the start, as a new target (consumers drop what they have by id).
    again = RecordingPublisher()
    KafkaRelay(store, again, target=A).run_once()
    assert [i for i in again.sent if i.startswith("d")] == [f"d{i}" for i in range(6)]


class RelayStillRunning(MemoryStore):
    """A store whose relay commits once more between the read of its position and the delete."""

    def forget_checkpoint(self, processor: str, *, at: int, record: tuple[str, str, Any] | None = None) -> bool:
        self.append(docs(4)[3:])
        KafkaRelay(self, RecordingPublisher(), target=A).run_once()
        return super().forget_checkpoint(processor, at=at, record=record)


def test_a_target_still_relayed_to_is_not_forgotten() -> None:
    store = RelayStillRunning()
    store.append(docs(3))
    KafkaRelay(store, RecordingPublisher(), target=A).run_once()
    a = store.checkpoint_position(A)
    with pytest.raises(ForgetError, match=rf"{A} moved from {a} to \d+ meanwhile: a `watchfloor produce` still"):
        forget_target(store, A, now=NOW)
    assert store.checkpoint_position(A) > a and store.load_checkpoint(FORGOTTEN_RELAYS).state is None


def test_a_relay_running_when_its_target_is_forgotten_stops_instead_of_sending_the_log_again() -> None:
    """Review of 4fefd2c: an idle `produce` left running passed forget-relay's check, then found its position at 0
    and sent the whole log again, its checkpoint back."""
    store = MemoryStore()
    store.append(docs(5))
    pub = RecordingPublisher()
    relay = KafkaRelay(store, pub, target=A)
    relay.prepare()
    relay.run_once()
    sent = list(pub.sent)
    forget_target(store, A, now=NOW)
    store.append(docs(6)[5:])
    with pytest.raises(RelayForgotten, match=r"kafka-relay:trial22 was forgotten .* stopped rather than send"):
        relay.run_once()
    assert pub.sent == sent and A not in store.checkpoint_positions()
    # Started again on purpose: from the start, and no longer listed as forgotten.
    again = KafkaRelay(store, RecordingPublisher(), target=A)
    assert again.prepare() == 6
    assert again.run_once().relayed == 6 and A not in (store.load_checkpoint(FORGOTTEN_RELAYS).state or {})


def test_forgetting_a_target_does_not_let_an_old_single_checkpoint_be_adopted_again() -> None:
    """Review of 4fefd2c: the old `kafka-relay` checkpoint still at a position (an adoption cut short, an older
    release writing it) was kept from a second adoption only by the target's own position; forgotten, the next
    new target adopted it and skipped the documents before it."""
    store = MemoryStore()
    store.append(docs(6))
    KafkaRelay(store, RecordingPublisher(), target=A).run_once()
    store.commit(RELAY_PROCESSOR, Checkpoint(3, None), [])  # the old one, still at a position
    forget_target(store, A, now=NOW)
    pub = RecordingPublisher()
    relay = KafkaRelay(store, pub, target=B)
    assert relay.prepare() == 6  # from the start: not adopted
    relay.run_once()
    assert [i for i in pub.sent if i.startswith("d")] == [f"d{i}" for i in range(6)]


def test_a_store_whose_only_pipeline_was_forgotten_can_be_pruned_up_to_what_it_sent() -> None:
    """Review of 4fefd2c: with its last relay checkpoint forgotten, a store no engine reads said "nothing can be
    pruned: no reader … has read this store's documents yet", and the command that was to let prunes pass did not."""
    from watchfloor import retention

    store = MemoryStore()
    store.append(docs(5))
    KafkaRelay(store, RecordingPublisher(), target=A).run_once()
    at = store.checkpoint_position(A)
    forget_target(store, A, now=NOW)
    chosen = retention.plan(store, 30, NOW)
    assert (chosen.up_to, chosen.held_by, chosen.hint) == (at, f"{A} (forgotten) at {at}", "")


class AnotherForgetFirst(MemoryStore):
    """A store where another `store forget-relay` (of target B) commits while this one is on its way to its
    delete: after this one would have read the record."""

    def forget_checkpoint(self, processor: str, *, at: int, record: tuple[str, str, Any] | None = None) -> bool:
        if processor == A:
            forget_target(self, B, now=NOW)
        return super().forget_checkpoint(processor, at=at, record=record)


def test_two_targets_forgotten_at_once_both_stay_on_the_record() -> None:
    """Review of 4fefd2c, finding 5: the record was read before the delete's transaction and written whole, so the
    other forget's entry was lost (and with it what keeps its old checkpoint from being adopted, and a running relay
    to it from sending the log again)."""
    store = AnotherForgetFirst()
    store.append(docs(3))
    KafkaRelay(store, RecordingPublisher(), target=A).run_once()
    KafkaRelay(store, RecordingPublisher(), target=B).run_once()
    forget_target(store, A, now=NOW)
    assert set(forgotten(store)) == {A, B}
