"""Records of the dead-letters topic that repeat one before them (the same letter, so the same event id): a worker
stopped before its commit reads its batch again and writes its letters again (at-least-once). The store keeps each
letter once; the archive counts the repeats in a row of the store (`repeats_checkpoint`), saved in the transaction
that appends the batch, each (partition, offset) once however often it is read, so that `dead-letters` and `status
--broker` can say why the topic holds more records than the store has letters (outside trial 77, F6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..ports import CheckpointStore

REPEATS_CHECKPOINT_PREFIX = "kafka-repeats:"

# (partition, offset, event id) of a record read
ReadRecord = tuple[int, int, str]


def repeats_checkpoint(topic: str) -> str:
    """The row counting the repeated records of `topic` (a save counter reading no document: retention passes it)."""
    return f"{REPEATS_CHECKPOINT_PREFIX}{topic}"


def to_count(state: dict[str, Any] | None, read: Sequence[ReadRecord]) -> list[ReadRecord]:
    """The records of `read` not counted before: past each partition's offset counted so far."""
    done: dict[str, int] = (state or {}).get("p", {})
    return [r for r in read if r[1] >= done.get(str(r[0]), 0)]


def count_repeats(
    state: dict[str, Any] | None, read: Sequence[ReadRecord], known: set[str]
) -> tuple[dict[str, Any], int]:
    """The state after counting `read` (records of one topic, in offset order per partition), and how many of them
    repeat a letter before them: one whose id the store held before (`known`) or an earlier record here has. A
    record counted before (a batch read again) counts nothing."""
    new = to_count(state, read)
    done = dict((state or {}).get("p", {}))
    seen = set(known)
    repeats = 0
    for partition, offset, event_id in new:
        if event_id in seen:
            repeats += 1
        seen.add(event_id)
        done[str(partition)] = max(done.get(str(partition), 0), offset + 1)
    return {"p": done, "n": int((state or {}).get("n", 0)) + repeats}, repeats


def read_repeats(store: CheckpointStore, topic: str) -> int:
    """How many records of `topic` the archive found repeating a letter before them (0: none, or none counted)."""
    state = store.load_checkpoint(repeats_checkpoint(topic)).state or {}
    return int(state.get("n", 0))
