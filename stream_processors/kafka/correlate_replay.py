"""Replay of what the workers raised: each correlate partition's records again, in offset order, through the rules.

The correlate topic is the workers' correlators' input, in the order each read it: the extract agents' routed
signals, corrections and watermark records, one partition per slice of the groups. ``PartitionCorrelator`` is a
pure function of (state, record), and a record read twice (a worker that crashed before committing its offsets)
changes nothing the second time (its origin header, its signal id: see ``partition``), so reading each partition
once from its first offset gives the detections, revisions and retractions the workers raised, in the order they
raised them, whatever the crashes and rebalances (outside trial 11, M2: the producer's store records only the
order `produce` wrote, so a replay of it gives the alerts that stood, not every raise on the way).

Exact when every record of each partition is read from its first offset (the topic is kept a week:
``topics.topic_specs``; ``WorkersReplay.truncated`` names partitions the broker no longer holds from 0), the rules are
the workers' (records made under others are counted), and the workers ran without ``--idle-after`` (its idle marks
expire on the wall clock).

Past the week, `watchfloor archive` has kept the records in the store (a ``RecordArchive``: partition, offset, value
and headers as read): a partition the broker holds no longer from offset 0 is read from the store, then from the
broker past the store's last record; a topic that is gone, or ``--from-store``, is read from the store alone. Offsets
missing on the way (gone from the broker before the archive read them, or never archived) are ``WorkersReplay.gaps``:
the correlate topic is written without transactions and never compacted, so its offsets have no holes of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from watchfloor.schemas.events import (
    Detection,
    Event,
    EventType,
    Retraction,
    detection_event,
    retraction_event,
)
from watchfloor.schemas.plural import noun
from watchfloor.schemas.topics import TopicNames

from ..engine import Engine
from ..fingerprint import other_release
from ..ports import RecordArchive
from .clients import client_config, make_client
from .codec import WATERMARK, Rejected, decode_event, is_resent, parse_origin
from .partition import ALERT_CHANGES, PartitionCorrelator
from .rules_guard import parse_rules
from .topics import bootstrap_servers

log = logging.getLogger(__name__)

CORRECTION = EventType.CORRECTION.value
SIGNAL = EventType.SIGNAL.value

# (value, wf-origin header, wf-rules header[, wf-resent header present]): a record of three is not re-sent
Record = tuple[bytes | None, list[int] | None, str | None] | tuple[bytes | None, list[int] | None, str | None, bool]


@dataclass
class WorkersReplay:
    """What the replay raised (detection and retraction events, per partition in the order raised) and read."""

    events: list[Event] = field(default_factory=list)
    records: int = 0
    partitions: int = 0
    rejected: int = 0  # records the live agent dead-lettered too (not an envelope, not of this topic)
    failed: int = 0  # records the correlator raised on (dead-lettered live; left out of the state here too)
    dead_letters: int = 0  # the correlator's own reports (late signals): the live agent sends them to dead letters
    truncated: dict[int, int] = field(default_factory=dict)  # partition -> first offset still held, when > 0
    other_rules: dict[str, int] = field(default_factory=dict)  # rules fingerprint -> records made under it
    # Records of workers with the same rules on another watchfloor release: fingerprint -> records. Not inexact
    # for that alone (the input is what they read); an engine that changed may raise otherwise, which the
    # comparison with the store then shows as such.
    other_release: dict[str, int] = field(default_factory=dict)
    sources: dict[int, str] = field(default_factory=dict)  # partition -> where its records came from (SOURCE_*)
    store_from: dict[int, int] = field(default_factory=dict)  # of STORE_THEN_KAFKA: partition -> first Kafka offset
    gaps: list[Gap] = field(default_factory=list)  # offsets no source had
    why_store: str = ""  # why the store was read ("" when it was not)

    @property
    def exact(self) -> bool:
        """Every record of every partition read from offset 0, under the rules given (what the CLI also says)."""
        kafka_truncated = any(self.sources.get(p, SOURCE_KAFKA) == SOURCE_KAFKA for p in self.truncated)
        return not (kafka_truncated or self.gaps or self.other_rules)


SOURCE_KAFKA = "kafka"
SOURCE_STORE = "store"
SOURCE_STORE_THEN_KAFKA = "store, then kafka"


@dataclass(frozen=True)
class Gap:
    """Offsets `start` to `end` - 1 of `partition` that neither the store nor the broker had."""

    partition: int
    start: int
    end: int
    why: str

    def __str__(self) -> str:
        span = f"offset {self.start}" if self.end - self.start == 1 else f"offsets {self.start}-{self.end - 1}"
        n = self.end - self.start
        return f"partition {self.partition} {span} ({n} record{'s' if n != 1 else ''}: {self.why})"


GONE = "gone from the broker before `watchfloor archive` read them"
NOT_ARCHIVED = "not in the archive, though the broker had them by the archive's last look"


def replay_partition(pc: PartitionCorrelator, partition: int, records: Iterable[Record], out: WorkersReplay) -> None:
    """One correlate partition's records, in offset order, as the correlate agent applies them
    (``agents.Correlate.process``): outputs appended to `out.events`."""
    st = pc.new_state()
    applied: list[tuple[Event, list[int] | None, bool]] = []
    for value, origin, _rules, *marks in records:
        resent = bool(marks and marks[0])  # a signal of a document `produce --resend` sent again (codec.RESENT)
        out.records += 1
        try:
            ev = decode_event(value)
            if ev.type not in (WATERMARK, CORRECTION, SIGNAL) and not (pc.composes and ev.type in ALERT_CHANGES):
                raise Rejected(f"event type {ev.type!r} does not belong on the correlate topic", "type")
        except Rejected:
            out.rejected += 1
            continue
        try:
            outputs = _one(pc, st, ev, partition, origin, resent)
        except Exception:  # as live: the record leaves no trace in the state (rebuilt without it)
            log.exception("replay: the correlator failed on a record of partition %d", partition)
            out.failed += 1
            st = pc.new_state()
            for ev_ok, origin_ok, resent_ok in applied:
                _one(pc, st, ev_ok, partition, origin_ok, resent_ok)
            continue
        applied.append((ev, origin, resent))
        for o in outputs:
            if isinstance(o, Detection):
                out.events.append(detection_event(o))
            elif isinstance(o, Retraction):
                out.events.append(retraction_event(o))
            else:
                out.dead_letters += 1


def _one(
    pc: PartitionCorrelator, st: dict[str, Any], ev: Event, part: int, origin: list[int] | None, resent: bool = False
) -> list[Any]:
    if ev.type == WATERMARK:
        return pc.on_watermark(st, ev, part)
    if ev.type == CORRECTION:
        return pc.on_correction(st, ev)
    if ev.type in ALERT_CHANGES:  # an input detection's alert change, routed to a derived group (partition.py)
        return pc.on_alert(st, ev, origin)
    return pc.on_signal(st, ev, origin, resent=resent)


def replay_workers(
    engine: Engine,
    bootstrap: str,
    prefix: str,
    *,
    rules: str | None = None,
    timeout_s: float = 30.0,
    archive: RecordArchive | None = None,
    from_store: bool = False,
    same: Collection[str] = (),
) -> WorkersReplay:
    """Read PREFIX.correlate, a partition at a time, from its first offset to its end (taken at the start), and
    replay each as it streams past (a week of records is not held in memory). `rules`: the fingerprint the
    workers should have run (rules_guard), to count records made under others (`same`: the fingerprints older
    releases gave these very rules, fingerprint.legacy_fingerprint). `archive`: the store the archive kept the
    topic's records in, read where the broker no longer has them; with `from_store` it alone is read (the broker
    is not asked)."""
    topic = TopicNames(prefix).correlate
    out = WorkersReplay()
    if from_store:
        if archive is None:
            raise LookupError("this store cannot keep Kafka records: there is nothing to replay from it")
        out.why_store = "asked (--from-store)"
        return _replay_store(engine, archive, topic, rules, out, same)
    from kafka import KafkaConsumer, TopicPartition

    consumer = make_client(
        KafkaConsumer,
        client_config(
            KafkaConsumer,
            timeout_s,
            bootstrap_servers=bootstrap_servers(bootstrap),
            group_id=None,  # never commits, never joins the workers' group
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="watchfloor-replay-workers",
            fetch_max_wait_ms=min(500, int(timeout_s * 500)),
        ),
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            if archive is not None and archive.recorded_partitions(topic):
                out.why_store = f"the Kafka topic {topic} does not exist (any more)"
                return _replay_store(engine, archive, topic, rules, out, same)
            held = " and the store holds no archived records of it" if archive is not None else ""
            raise LookupError(f"Kafka topic {topic!r} does not exist (or has no partitions){held}")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        out.partitions = len(tps)
        start = consumer.beginning_offsets(tps)
        end = consumer.end_offsets(tps)
        out.truncated = {tp.partition: start[tp] for tp in tps if start[tp] > 0}
        kept = archive.recorded_partitions(topic) if archive is not None and out.truncated else {}
        if any(p in kept for p in out.truncated):
            gone = [str(p) for p in sorted(out.truncated) if p in kept]
            which = noun(len(gone), "partition")
            out.why_store = f"the broker no longer holds the first records of {which} {', '.join(gone)}"
        # Upstream partitions: the documents topic's, which the correlate topic has too (co-partitioned).
        pc = PartitionCorrelator(engine, len(tps), correlate_partitions=len(tps))
        what = f"Kafka broker {bootstrap}: {topic}"
        for tp in tps:
            p = tp.partition
            if p in out.truncated and p in kept and archive is not None:
                # The store's records first, then the broker's past the last of them (or from its first, after a gap).
                after = max(start[tp], kept[p].last + 1)
                out.sources[p] = SOURCE_STORE_THEN_KAFKA if after < end[tp] else SOURCE_STORE
                if after < end[tp]:
                    out.store_from[p] = after
                tail = _records(consumer, tp, after, end[tp], timeout_s, what) if after < end[tp] else iter(())
                both = _chain(stored_records(archive, topic, p), tail)
                replay_partition(pc, p, _counted(_gapless(p, both, end[tp], GONE, out), rules, out, same), out)
                continue
            out.sources[p] = SOURCE_KAFKA
            if start[tp] < end[tp]:
                records = _plain(_records(consumer, tp, start[tp], end[tp], timeout_s, what))
                replay_partition(pc, p, _counted(records, rules, out, same), out)
        return out
    finally:
        consumer.close()


def _replay_store(
    engine: Engine,
    archive: RecordArchive,
    topic: str,
    rules: str | None,
    out: WorkersReplay,
    same: Collection[str] = (),
) -> WorkersReplay:
    """Every partition from the store alone, to the end the archive last saw (records past it are not known)."""
    kept = archive.recorded_partitions(topic)
    if not kept:
        raise LookupError(f"the store holds no archived records of {topic} (`watchfloor archive` keeps them)")
    # Partitions 0..N-1: the archive notes every partition assigned to it, records or not.
    out.partitions = max(kept) + 1
    pc = PartitionCorrelator(engine, out.partitions, correlate_partitions=out.partitions)
    for p in range(out.partitions):
        out.sources[p] = SOURCE_STORE
        seen = kept.get(p)
        if seen is None:
            continue
        end = max(seen.position, seen.seen_end or 0)
        records = _gapless(p, stored_records(archive, topic, p), end, NOT_ARCHIVED, out)
        replay_partition(pc, p, _counted(records, rules, out, same), out)
    return out


Numbered = tuple[int, Record]  # (offset, record)


def stored_records(archive: RecordArchive, topic: str, partition: int, batch: int = 5000) -> Iterator[Numbered]:
    """The archive's records of one partition in offset order, a batch at a time."""
    after = -1
    while got := archive.read_records(topic, partition, after, limit=batch):
        for r in got:
            yield r.offset, (r.value, parse_origin(r.headers), parse_rules(r.headers), is_resent(r.headers))
        after = got[-1].offset


def _chain(first: Iterator[Numbered], then: Iterator[Numbered]) -> Iterator[Numbered]:
    yield from first
    yield from then


def _gapless(
    partition: int, records: Iterable[Numbered], end: int, tail_why: str, out: WorkersReplay
) -> Iterator[Record]:
    """The records as they pass, each run of offsets missing before one (and before `end`, after the last) a Gap:
    offsets before the first kept one and holes are what the broker dropped before the archive read them."""
    expected = 0
    for offset, rec in records:
        if offset < expected:  # (the broker's first records, already read from the store)
            continue
        if offset > expected:
            out.gaps.append(Gap(partition, expected, offset, GONE))
        expected = offset + 1
        yield rec
    if end > expected:
        out.gaps.append(Gap(partition, expected, end, tail_why))


def _plain(records: Iterable[Numbered]) -> Iterator[Record]:
    for _offset, rec in records:
        yield rec


def _records(consumer: Any, tp: Any, start: int, end: int, timeout_s: float, what: str) -> Iterator[Numbered]:
    """The records of one partition from `start` to `end` (exclusive), in offset order, with their offsets."""
    consumer.assign([tp])
    consumer.seek(tp, start)
    idle = 0.0
    while consumer.position(tp) < end:
        batches = consumer.poll(timeout_ms=500, max_records=5000)
        for recs in batches.values():
            for rec in recs:
                if rec.offset < end:
                    headers = rec.headers or []
                    yield rec.offset, (rec.value, parse_origin(headers), parse_rules(headers), is_resent(headers))
        idle = 0.0 if batches else idle + 0.5
        if idle > timeout_s:
            left = end - consumer.position(tp)
            raise TimeoutError(f"{what}[{tp.partition}] gave nothing for {timeout_s:g}s, {left} records before the end")


def _counted(
    records: Iterable[Record], rules: str | None, out: WorkersReplay, same: Collection[str] = ()
) -> Iterator[Record]:
    """The records as they pass, those routed under other rules than `rules` counted (and apart, those routed
    under the same rules by another watchfloor release, or under `same`: these rules' fingerprints as older
    releases wrote them)."""
    for rec in records:
        made = rec[2]
        if rules is not None and made is not None and made != rules:
            alike = made in same or other_release(made, rules) is not None
            tally = out.other_release if alike else out.other_rules
            tally[made] = tally.get(made, 0) + 1
        yield rec


def as_read(event: Event) -> dict[str, Any]:
    """A detection or retraction event's payload as this release's model reads it: a field an older release did
    not write is its default, as for every other reader (an evidence item without `story` is one without a
    story). A payload the model refuses is compared as written."""
    model: type[Detection] | type[Retraction]
    if event.type == EventType.DETECTION.value:
        model = Detection
    elif event.type == EventType.RETRACTION.value:
        model = Retraction
    else:
        return event.payload
    try:
        return model.model_validate(event.payload).model_dump(mode="json")
    except ValidationError:
        return event.payload


def compare(replayed: Sequence[Event], stored: Sequence[Event]) -> tuple[list[str], list[str], list[str]]:
    """(ids the store has and the replay did not raise, ids the replay raised and the store lacks, ids of both
    whose content differs): what the workers raised, as kept in the store, against the replay. Both sides are
    compared as this release reads them (`as_read`), so a payload written by an older release is not "other
    content" for a field it did not know."""
    mine = {ev.id: as_read(ev) for ev in replayed}
    theirs = {ev.id: as_read(ev) for ev in stored}
    missing = [i for i in theirs if i not in mine]
    extra = [i for i in mine if i not in theirs]
    differ = [i for i in mine if i in theirs and mine[i] != theirs[i]]
    return missing, extra, differ


__all__ = [
    "SOURCE_KAFKA",
    "SOURCE_STORE",
    "SOURCE_STORE_THEN_KAFKA",
    "Gap",
    "WorkersReplay",
    "as_read",
    "compare",
    "replay_partition",
    "replay_workers",
    "stored_records",
]
