"""Archive sink: copy the watchfloor topics (documents, detections, dead letters) into the SQL event store, and
the correlate topic's records as the correlators read them.

The store then holds the history of the distributed runtime, so `watchfloor backtest --from-store` can
replay it through any rule set, and `watchfloor alerts list` can show it. Offsets are committed only
after the events are in the store; a crash re-reads at most one batch, which the store's id dedup
absorbs. Watermark markers are skipped; a record that is not a valid envelope is archived as a dead
letter with the reason, never dropped silently.

The correlate topic (each correlator's input in the order it read it: routed signals, corrections, watermark
records) is kept record by record when the store is a `RecordArchive`: partition, offset, the value's bytes and
the headers, undecoded, so `watchfloor replay-workers` replays what the workers raised after the broker has let
the topic go (it keeps a week). Its rows and each partition's position are committed in one transaction, kept
once per (partition, offset); the consumer starts each correlate partition at the store's last record (from the
first offset the broker holds when the store has none), not at the group's, so a new store gets the whole topic; that
record, read again, must be the same bytes, or the topic was made again under its name (RecordConflict: the archive
stops rather than take the new records for kept ones).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from watchfloor.schemas.events import DeadLetter, Event, EventType, dead_letter_event
from watchfloor.schemas.topics import DEFAULT_PREFIX, TopicNames

from ..ports import Checkpoint, CheckpointMoved, EventLog, RecordArchive, RecordConflict, TopicRecord
from ..stores.errors import RecordRejected, StoreError, store_problem
from .clients import Availability, client_config, make_client, unreachable_errors
from .codec import Rejected, decode_event, raw_preview, record_origin, rejected_letter
from .repeats import ReadRecord, count_repeats, repeats_checkpoint, to_count
from .topics import bootstrap_servers
from .unreachable import BROKER_REMINDERS

log = logging.getLogger(__name__)


@dataclass
class ArchiveStats:
    archived: int = 0  # events new to the store (dead letters of rejected records included)
    duplicates: int = 0
    rejected: int = 0  # records archived as dead letters
    records: int = 0  # records read from Kafka
    watermarks: int = 0  # of them, event-time watermarks: the engine's, not events to keep
    correlate: int = 0  # correlate records read (not in `records`: kept as records, not as events)
    kept: int = 0  # of them, new to the store
    repeated: int = 0  # dead-letters records repeating a letter before them (a worker's batch read again), kept once


class KafkaArchive:
    """Consumes topics with its own consumer group and appends what it reads to an EventLog."""

    def __init__(
        self,
        bootstrap: str,
        store: EventLog,
        *,
        topic_prefix: str = DEFAULT_PREFIX,
        topics: Sequence[str] | None = None,
        group_id: str | None = None,
        timeout_s: float = 10.0,
        records: RecordArchive | None = None,
        broker_hint: str | None = None,
    ) -> None:
        """`records`: where the correlate topic's records are kept (None: the correlate topic is not read).
        `broker_hint`: where the broker's address comes from, said with "unreachable" as the worker says it."""
        names = TopicNames(topic_prefix)
        self.topics = list(topics or [names.documents, names.detections, names.dead_letters])
        self.records = records
        self.correlate = names.correlate
        # A bad record of the documents topic is the workers' to judge (stage `ingest`): said under their stage and
        # origin, whichever process reads it first, it is one dead letter of one stage (outside trial 60, MED-2: the
        # first of six landed under `archive`, so `dead-letters --stage ingest` showed 5 of the 6 and the metrics
        # split across stages).
        self._stage_of = {names.documents: "ingest"}
        self.dead_letters = names.dead_letters  # its repeated records are counted (kafka.repeats)
        if records is not None and self.correlate not in self.topics:
            self.topics.append(self.correlate)
        self._positions: dict[int, int] = {}  # correlate partition -> the store's position, as last committed
        self.store = store
        self.bootstrap = bootstrap
        self.group_id = group_id or f"{topic_prefix}-archive"
        self.client_id = f"{topic_prefix}-archive"
        self.timeout_s = timeout_s
        self._consumer: Any = None
        # As the worker says it (outside trial 22, L3: one line, then silence, for a mistyped address): where the
        # address comes from, and again while the outage lasts.
        self.broker = Availability(
            f"Kafka broker {bootstrap_servers(bootstrap)}",
            log,
            meanwhile="archive waits" + (f" ({broker_hint})" if broker_hint else ""),
            remind=BROKER_REMINDERS,
        )
        # The store likewise: one line when it goes (with why), one when it is back (outside trial 39, M3: a
        # traceback of ~120 lines every 2 s while PostgreSQL was down, 3,800 lines a minute).
        self.store_watch = Availability(
            "the store", log, meanwhile="archive keeps its offsets and tries the batch again every 2s"
        )

    @property
    def consumer(self) -> Any:
        """The consumer, made on first use (so an archive started before its broker waits instead of failing)."""
        if self._consumer is None:
            from kafka import KafkaConsumer

            self._consumer = make_client(
                KafkaConsumer,
                client_config(
                    KafkaConsumer,
                    self.timeout_s,
                    bootstrap_servers=bootstrap_servers(self.bootstrap),
                    group_id=self.group_id,
                    enable_auto_commit=False,
                    auto_offset_reset="earliest",
                    client_id=self.client_id,
                ),
            )
            self._consumer.subscribe(topics=self.topics, listener=_store_positions(self))
        return self._consumer

    def seek_correlate(self, partitions: Any) -> None:
        """Start the assigned correlate partitions where the store's records end (the group's offsets are for the
        events; a store that lacks records the group has passed, a new one, gets them again)."""
        if self.records is None:
            return
        mine = [tp for tp in partitions if tp.topic == self.correlate]
        if not mine:
            return
        # Each assigned partition noted (an end of 0 moves nothing): a replay from the store alone then knows every
        # partition, the correlators' count of upstream partitions, even one whose records never came.
        self.records.record(self.correlate, [], {tp.partition: 0 for tp in mine})
        self._positions = self.records.record_positions(self.correlate)
        for tp in mine:
            position = self._positions.get(tp.partition, 0)
            if position > 0:
                # From the last record kept, read again: the same bytes say it is the same topic, other bytes that the
                # topic was made again under its name (RecordConflict), even when the new one is already longer. (An
                # offset the broker no longer holds: the consumer resets to the earliest, and the gap shows.)
                self.consumer.seek(tp, position - 1)
            else:
                self.consumer.seek_to_beginning(tp)

    def poll_once(self, timeout_ms: int = 1000) -> ArchiveStats:
        stats = ArchiveStats()
        batches = self.consumer.poll(timeout_ms=timeout_ms, max_records=2000)
        events: list[Event] = []
        records_of: list[tuple[Any, Any]] = []  # (topic partition, record) of each event, for dead letters
        kept: list[TopicRecord] = []
        letters: list[ReadRecord] = []  # the dead-letters topic's records, to count those repeating one before
        for tp, records in batches.items():
            if tp.topic == self.correlate and self.records is not None:
                stats.correlate += len(records)
                kept += [TopicRecord(tp.partition, r.offset, r.value, tuple(r.headers or ())) for r in records]
                continue
            stats.records += len(records)
            for rec in records:
                try:
                    ev = decode_event(rec.value)
                except Rejected as e:
                    stats.rejected += 1
                    origin = record_origin(tp.topic, tp.partition, rec.offset)
                    dl = rejected_letter(e, origin, rec.value, self._stage_of.get(tp.topic, "archive"))
                    events.append(dead_letter_event(dl, datetime.fromtimestamp(rec.timestamp / 1000, UTC)))
                    records_of.append((tp, rec))
                    continue
                if ev.type == EventType.WATERMARK:
                    stats.watermarks += 1
                else:
                    events.append(ev)
                    records_of.append((tp, rec))
                    if tp.topic == self.dead_letters:
                        letters.append((tp.partition, rec.offset, ev.id))
        try:
            if kept:
                stats.kept = self._keep(kept, [tp for tp in batches if tp.topic == self.correlate])
            if events:
                added = self._append(events, records_of, stats, letters)
                stats.archived = added
                stats.duplicates = len(events) - added
            if batches:
                self.consumer.commit()  # only after the store has the events
        except BaseException:
            # The consumer has moved past the batch: back to its first records, so the retry reads them again
            # (else the next poll went on after them, and its commit passed them by: lost until a restart).
            for tp, records in batches.items():
                if records:
                    self.consumer.seek(tp, records[0].offset)
            raise
        return stats

    def _keep(self, kept: list[TopicRecord], partitions: list[Any]) -> int:
        """The correlate records into the store, with each partition's position and the end offset the consumer
        knows (one transaction); a partition whose records start past the store's position lost some to the
        broker's retention before they were read: said once here, and by `replay-workers` for good."""
        assert self.records is not None
        ends: dict[int, int] = {}
        for tp in partitions:
            end = self.consumer.highwater(tp)
            if end is not None:
                ends[tp.partition] = int(end)
        first: dict[int, int] = {}
        for r in kept:
            first.setdefault(r.partition, r.offset)
        for part, offset in first.items():
            had = self._positions.get(part, 0)
            if offset > had:
                log.warning(
                    "archive: %s[%d] offsets %d-%d were gone from the broker before they were archived (%d records): "
                    "replay-workers from this store will not be exact",
                    self.correlate,
                    part,
                    had,
                    offset - 1,
                    offset - had,
                )
        added = self.records.record(self.correlate, kept, ends)
        for r in kept:
            self._positions[r.partition] = max(self._positions.get(r.partition, 0), r.offset + 1)
        return added

    def _append(
        self, events: list[Event], records_of: list[tuple[Any, Any]], stats: ArchiveStats, letters: list[ReadRecord]
    ) -> int:
        """Append the batch; an event no store can keep (a NUL in its id, a payload nested past what JSON
        serialisation takes: written by another producer) becomes its record's dead letter and the batch is
        appended without it. Otherwise that one record would fail every retry of its batch, for ever."""
        replaced: set[int] = set()
        while True:
            try:
                return self._write(events, letters, stats)
            except RecordRejected as e:  # refused before anything of the batch was written
                if e.index in replaced:  # its dead letter refused too: not this record's fault
                    raise
                replaced.add(e.index)
                tp, rec = records_of[e.index]
                stats.rejected += 1
                dl = DeadLetter(
                    origin=record_origin(tp.topic, tp.partition, rec.offset),
                    field=e.field,
                    reason=f"no store can keep this event: {e.reason}",
                    raw=raw_preview(rec.value),
                    stage="archive",
                )
                events[e.index] = dead_letter_event(dl, datetime.fromtimestamp(rec.timestamp / 1000, UTC))

    def _write(self, events: list[Event], letters: list[ReadRecord], stats: ArchiveStats) -> int:
        """The batch into the store, with the count of the dead-letters records that repeat a letter before them in
        the same transaction (kafka.repeats: a batch read again after a crash counts nothing twice); a store that
        keeps no checkpoints (or a batch with no letters) takes the events alone."""
        store: Any = self.store
        if not letters or not all(hasattr(store, m) for m in ("commit", "load_checkpoint", "read_ids")):
            added: int = store.append(events)
            return added
        name = repeats_checkpoint(self.dead_letters)
        while True:
            saved = store.load_checkpoint(name)
            fresh = to_count(saved.state, letters)
            known = {se.event.id for se in store.read_ids({r[2] for r in fresh})} if fresh else set()
            state, repeated = count_repeats(saved.state, letters, known)
            if not fresh:
                added = store.append(events)
                return added
            try:
                added = store.commit(name, Checkpoint(saved.position + 1, state), events, since=saved.position)
            except CheckpointMoved:  # another archive process of the group saved its partitions' count: again
                continue
            stats.repeated += repeated
            return added

    def assigned(self) -> dict[str, int]:
        """The partitions this consumer reads now, per topic (empty until the group has assigned them)."""
        if self._consumer is None:
            return {}
        counts: dict[str, int] = {}
        for tp in self._consumer.assignment():
            counts[tp.topic] = counts.get(tp.topic, 0) + 1
        return counts

    def run(
        self,
        stop: threading.Event,
        timeout_ms: int = 1000,
        on_cycle: Callable[[], None] | None = None,
        on_poll: Callable[[ArchiveStats], None] | None = None,
    ) -> None:
        """Archive until `stop` is set; `on_poll` gets each poll's counts (a progress line). A broker that is
        away is waited for (one log line when it goes, one when it is back); a batch the store cannot take is
        retried, its offsets not committed."""
        unreachable = unreachable_errors()
        while not stop.is_set():
            if on_cycle is not None:
                on_cycle()
            try:
                stats = self.poll_once(timeout_ms)
                if stats.records:
                    self.broker.up()  # records came: the broker is there (quiet polls prove nothing)
                    self.store_watch.up()  # and the store took them
            except unreachable as e:
                self.broker.down(e)
                stop.wait(1.0)
                continue
            except RecordConflict:  # another topic under the kept one's name: no retry makes it fit (said by the CLI)
                raise
            except StoreError as e:  # the store is away: keep the offsets, try again (said once per outage)
                log.debug("archive: batch failed", exc_info=True)
                self.store_watch.down(store_problem(e), lasting=True)
                stop.wait(2.0)
                continue
            except Exception:  # a commit failed, or anything else: keep the offsets, try again
                log.exception("archive: batch failed; retrying in 2s")
                stop.wait(2.0)
                continue
            if on_poll is not None:
                on_poll(stats)

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None


def _store_positions(archive: KafkaArchive) -> Any:
    """The consumer's rebalance listener: correlate partitions start at the store's position when assigned."""
    from kafka import ConsumerRebalanceListener

    class StorePositions(ConsumerRebalanceListener):  # type: ignore[misc]  # (kafka-python is untyped)
        def on_partitions_revoked(self, revoked: Any) -> None:
            pass

        def on_partitions_assigned(self, assigned: Any) -> None:
            archive.seek_correlate(assigned)

    return StorePositions()
