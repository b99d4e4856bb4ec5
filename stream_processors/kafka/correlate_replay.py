"""Replay of what the workers raised: each correlate partition's records again, in offset order, through the rules.

The correlate topic is the workers' correlators' input, in the order each read it: the extract agents' routed
signals, corrections and watermark records, one partition per slice of the groups. ``PartitionCorrelator`` is a
pure function of (state, record), and a record read twice (a worker that crashed before committing its offsets)
changes nothing the second time (its origin header, its signal id: see ``partition``), so reading each partition
once from its first offset gives the detections, revisions and retractions the workers raised, in the order they
raised them, whatever the crashes and rebalances (outside trial 11, M2: the producer's store records only the
order `produce` wrote, so a replay of it gives the alerts that stood, not every raise on the way).

Exact when the partitions still hold their first records (the topic is kept a week: ``topics.topic_specs``;
``WorkersReplay.truncated`` names those that do not), the rules are the workers' (records made under others are
counted), and the workers ran without ``--idle-after`` (its idle marks expire on the wall clock).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from watchfloor.schemas.events import (
    Detection,
    Event,
    EventType,
    Retraction,
    detection_event,
    retraction_event,
)
from watchfloor.schemas.topics import TopicNames

from ..engine import Engine
from .clients import client_config, make_client
from .codec import WATERMARK, Rejected, decode_event, parse_origin
from .partition import PartitionCorrelator
from .rules_guard import parse_rules
from .topics import bootstrap_servers

log = logging.getLogger(__name__)

CORRECTION = EventType.CORRECTION.value
SIGNAL = EventType.SIGNAL.value

Record = tuple[bytes | None, list[int] | None, str | None]  # (value, wf-origin header, wf-rules header)


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


def replay_partition(pc: PartitionCorrelator, partition: int, records: Iterable[Record], out: WorkersReplay) -> None:
    """One correlate partition's records, in offset order, as the correlate agent applies them
    (``agents.Correlate.process``): outputs appended to `out.events`."""
    st = pc.new_state()
    applied: list[tuple[Event, list[int] | None]] = []
    for value, origin, _rules in records:
        out.records += 1
        try:
            ev = decode_event(value)
            if ev.type not in (WATERMARK, CORRECTION, SIGNAL):
                raise Rejected(f"event type {ev.type!r} does not belong on the correlate topic", "type")
        except Rejected:
            out.rejected += 1
            continue
        try:
            outputs = _one(pc, st, ev, partition, origin)
        except Exception:  # as live: the record leaves no trace in the state (rebuilt without it)
            log.exception("replay: the correlator failed on a record of partition %d", partition)
            out.failed += 1
            st = pc.new_state()
            for ev_ok, origin_ok in applied:
                _one(pc, st, ev_ok, partition, origin_ok)
            continue
        applied.append((ev, origin))
        for o in outputs:
            if isinstance(o, Detection):
                out.events.append(detection_event(o))
            elif isinstance(o, Retraction):
                out.events.append(retraction_event(o))
            else:
                out.dead_letters += 1


def _one(pc: PartitionCorrelator, st: dict[str, Any], ev: Event, part: int, origin: list[int] | None) -> list[Any]:
    if ev.type == WATERMARK:
        return pc.on_watermark(st, ev, part)
    if ev.type == CORRECTION:
        return pc.on_correction(st, ev)
    return pc.on_signal(st, ev, origin)


def replay_workers(
    engine: Engine,
    bootstrap: str,
    prefix: str,
    *,
    rules: str | None = None,
    timeout_s: float = 30.0,
) -> WorkersReplay:
    """Read PREFIX.correlate, a partition at a time, from its first offset to its end (taken at the start), and
    replay each as it streams past (a week of records is not held in memory). `rules`: the fingerprint the
    workers should have run (rules_guard), to count records made under others."""
    from kafka import KafkaConsumer, TopicPartition

    topic = TopicNames(prefix).correlate
    out = WorkersReplay()
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
            raise LookupError(f"Kafka topic {topic!r} does not exist (or has no partitions)")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        out.partitions = len(tps)
        start = consumer.beginning_offsets(tps)
        end = consumer.end_offsets(tps)
        out.truncated = {tp.partition: start[tp] for tp in tps if start[tp] > 0}
        # Upstream partitions: the documents topic's, which the correlate topic has too (co-partitioned).
        pc = PartitionCorrelator(engine, len(tps))
        for tp in tps:
            if start[tp] < end[tp]:
                records = _records(consumer, tp, start[tp], end[tp], timeout_s, f"Kafka broker {bootstrap}: {topic}")
                replay_partition(pc, tp.partition, _counted(records, rules, out), out)
        return out
    finally:
        consumer.close()


def _records(consumer: Any, tp: Any, start: int, end: int, timeout_s: float, what: str) -> Iterator[Record]:
    """The records of one partition from `start` to `end` (exclusive), in offset order."""
    consumer.assign([tp])
    consumer.seek(tp, start)
    idle = 0.0
    while consumer.position(tp) < end:
        batches = consumer.poll(timeout_ms=500, max_records=5000)
        for recs in batches.values():
            for rec in recs:
                if rec.offset < end:
                    headers = rec.headers or []
                    yield rec.value, parse_origin(headers), parse_rules(headers)
        idle = 0.0 if batches else idle + 0.5
        if idle > timeout_s:
            left = end - consumer.position(tp)
            raise TimeoutError(f"{what}[{tp.partition}] gave nothing for {timeout_s:g}s, {left} records before the end")


def _counted(records: Iterable[Record], rules: str | None, out: WorkersReplay) -> Iterator[Record]:
    """The records as they pass, those routed under other rules than `rules` counted."""
    for rec in records:
        made = rec[2]
        if rules is not None and made is not None and made != rules:
            out.other_rules[made] = out.other_rules.get(made, 0) + 1
        yield rec


def compare(replayed: Sequence[Event], stored: Sequence[Event]) -> tuple[list[str], list[str], list[str]]:
    """(ids the store has and the replay did not raise, ids the replay raised and the store lacks, ids of both
    whose content differs): what the workers raised, as kept in the store, against the replay."""
    mine = {ev.id: ev.payload for ev in replayed}
    theirs = {ev.id: ev.payload for ev in stored}
    missing = [i for i in theirs if i not in mine]
    extra = [i for i in mine if i not in theirs]
    differ = [i for i in mine if i in theirs and mine[i] != theirs[i]]
    return missing, extra, differ


__all__ = ["WorkersReplay", "compare", "replay_partition", "replay_workers"]
