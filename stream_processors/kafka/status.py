"""Has the pipeline caught up? Per consumer group of one prefix: its members and its lag per topic.

``pipeline_status(bootstrap, prefix)`` asks the broker for the end offset of every partition of the
watchfloor topics, the offsets each group (the workers, the archive) has committed, and who is in each
group. ``watchfloor status --broker`` prints it; the ``serve`` status page can call it too (it returns plain
dataclasses, ``as_dict()`` gives JSON).

Lag is end offset minus committed offset, summed over a topic's partitions; a partition the group has
never committed counts from its beginning. Faust commits every few seconds, so a caught-up worker group
can show a small lag for that long. Lag on the correlate topic includes the watermark records. The pipeline
has caught up when the workers' lag is 0, and the archive's too when an archive runs (or ran).

With ``watermarks=True`` it also reads each documents partition for the newest watermark record the publisher
wrote there (the published event-time watermark): its last WATERMARK_TAIL records, and when those hold none,
further back (``_read_back``: RECALL_CHUNK records at a time, RECALL_LIMIT at most). The workers' correlators
reach that watermark once their lag is 0: a correlate partition's low watermark is the minimum over documents
partitions of the newest watermark each has passed on (``partition``), which lives in the workers' state and
is not read here. ``LagHistory`` turns successive answers into how long each group has been behind.
"""

from __future__ import annotations

import logging
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from watchfloor.schemas.topics import TopicNames

from .clients import client_config, make_client
from .codec import watermark_time
from .reader import RECALL_CHUNK, RECALL_LIMIT, _timeouts, newest_watermark
from .rules_guard import member_rules
from .topics import bootstrap_servers, other_prefixes_note

log = logging.getLogger(__name__)

WATERMARK_TAIL = 16  # records read back from the end of each documents partition for its newest watermark


@dataclass(frozen=True)
class _Looked:
    """What a read-back of a documents partition found (see _read_back), for the next look to go on from."""

    topic_id: Any  # the topic's id (KIP-516) when broker and client say it, else None: a recreated topic has another
    end: int  # the end offset it read up to
    time: float | None  # the newest watermark time found (None: none within RECALL_LIMIT records of the end)
    offset: int | None  # the offset of the record that says it


# A partition whose tail holds none is read back further, RECALL_CHUNK records at a time and RECALL_LIMIT at most;
# what was found is kept per (bootstrap, topic, partition), so the next look reads only the records written since
# (serve asks at every scrape), as long as the partition is still the one it read (_goes_on).
_READ_BACK: dict[tuple[str, str, int], _Looked] = {}


class _FaustMetadataNoise(logging.Filter):
    """kafka-python's admin decodes every member's metadata as a plain consumer's, and warns (with ~2 KB of
    bytes) for each Faust worker, whose assignor writes its own: once per describe, once a second while a
    worker waits for strangers to leave (rules_guard). We read only client ids and hosts, never that."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unable to decode member_")


logging.getLogger("kafka.admin._groups").addFilter(_FaustMetadataNoise())


@dataclass
class TopicLag:
    topic: str
    end: int  # records written (sum of end offsets)
    committed: int  # records the group has committed past
    partitions: int

    @property
    def lag(self) -> int:
        return self.end - self.committed


@dataclass
class GroupStatus:
    group: str
    role: str  # "workers" or "archive"
    state: str  # the broker's group state: Stable, Empty, PreparingRebalance, Dead, ...
    members: list[str] = field(default_factory=list)  # client ids (host and pid for workers)
    topics: list[TopicLag] = field(default_factory=list)
    started: bool = False  # has members or has committed offsets (an archive that was never run has neither)
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)  # (topic, partition) -> committed offset

    @property
    def lag(self) -> int:
        return sum(t.lag for t in self.topics)

    @property
    def rules(self) -> list[str]:
        """The rules fingerprints its members run (workers: the packs and the watchfloor release, see rules_guard);
        more than one is a fault."""
        return sorted({r for m in self.members if (r := member_rules(m)) is not None})


@dataclass
class PipelineStatus:
    bootstrap: str
    prefix: str
    topics: dict[str, int]  # topic -> records written (end offsets), for the topics that exist
    missing: list[str]  # topics of the prefix that do not exist
    groups: list[GroupStatus]
    ends: dict[tuple[str, int], int] = field(default_factory=dict)  # (topic, partition) -> end offset
    # documents partition -> the newest watermark (event time, Unix seconds) the publisher wrote there; only
    # with pipeline_status(watermarks=True), and only for partitions with one within RECALL_LIMIT records of the end
    watermarks: dict[int, float] = field(default_factory=dict)
    # With topics missing: "; this broker has the topics of pipelines …: a mistyped --prefix?" when other prefixes'
    # topics are there, as a worker says it (outside trial 60, LOW-2: `status --prefix TYPO` said only "behind").
    prefix_note: str = ""

    @property
    def watermark(self) -> float | None:
        """The published watermark every correlator reaches once the workers have caught up: the minimum over
        the documents partitions (None unless every partition that has records showed one)."""
        if not self.watermarks or len(self.watermarks) < self.written_partitions:
            return None
        return min(self.watermarks.values())

    @property
    def written_partitions(self) -> int:
        """Documents partitions that hold records."""
        documents = TopicNames(self.prefix).documents
        return sum(1 for (t, _), end in self.ends.items() if t == documents and end > 0)

    @property
    def caught_up(self) -> bool:
        """Every topic exists, the workers have processed everything, and so has the archive if it runs (a
        group that never ran counts from the beginning for the workers, and not at all for the archive)."""
        return not self.missing and all(g.lag == 0 for g in self.groups if g.started or g.role == "workers")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("ends")  # per partition, keyed by tuples: not JSON (the sums are in "topics" and "groups")
        for g, gd in zip(self.groups, d["groups"], strict=True):
            gd.pop("offsets")
            gd["lag"] = g.lag
            for t, td in zip(g.topics, gd["topics"], strict=True):
                td["lag"] = t.lag
        for g, gd in zip(self.groups, d["groups"], strict=True):
            gd["rules"] = g.rules
        d["watermark"] = self.watermark  # the published one every correlator reaches (None: not known)
        d["caught_up"] = self.caught_up
        return d


def group_topics(prefix: str, worker_group: str | None = None) -> list[tuple[str, str, list[str]]]:
    """(group, role, topics it reads) of one pipeline."""
    n = TopicNames(prefix)
    return [
        (worker_group or f"{prefix}-worker", "workers", [n.documents, n.correlate, n.detections]),
        # (the archive keeps the correlate topic's records too, for replay-workers past the topic's week)
        (f"{prefix}-archive", "archive", [n.documents, n.detections, n.dead_letters, n.correlate]),
    ]


def pipeline_status(
    bootstrap: str,
    prefix: str,
    *,
    worker_group: str | None = None,
    timeout_s: float = 10.0,
    watermarks: bool = False,
    read_committed: Callable[[Any, str], dict[tuple[str, int], int]] | None = None,
) -> PipelineStatus:
    """The topics of `prefix`, and for each of its groups the members and the lag per topic; with `watermarks`,
    the newest watermark published on each documents partition. `read_committed(admin, group)`: how a group's
    commits are read (default: from the broker; a test commits while they are read)."""
    commits = read_committed or _committed
    import kafka

    servers = bootstrap_servers(bootstrap)
    names = TopicNames(prefix)
    admin = make_client(
        kafka.KafkaAdminClient,
        client_config(kafka.KafkaAdminClient, timeout_s, bootstrap_servers=servers, client_id=f"{prefix}-status"),
    )
    try:
        consumer = make_client(
            kafka.KafkaConsumer,
            client_config(
                kafka.KafkaConsumer,
                timeout_s,
                bootstrap_servers=servers,
                client_id=f"{prefix}-status",
                enable_auto_commit=False,  # no group: it reads, it never commits
                auto_offset_reset="earliest",  # a tail that starts before the first kept record starts there
            ),
        )
    except BaseException:
        admin.close()
        raise
    try:
        existing = set(admin.list_topics())
        present = [t for t in names.all() if t in existing]
        tps = [kafka.TopicPartition(t, p) for t in present for p in sorted(consumer.partitions_for_topic(t) or ())]
        # The groups' commits first, the end offsets after them: a commit is at most the end offset when it is made,
        # and end offsets only grow, so no lag reads negative (outside trial 67, LOW-1: read the other way round
        # during a `produce --resend`, the archive's lag read -62).
        looked = [
            (group, role, reads, *_describe(admin, group), commits(admin, group))
            for group, role, reads in group_topics(prefix, worker_group)
        ]
        end: dict[Any, int] = consumer.end_offsets(tps) if tps else {}
        topics = {t: sum(o for tp, o in end.items() if tp.topic == t) for t in present}
        groups = []
        for group, role, reads, state, members, committed in looked:
            lags = []
            for t in reads:
                if t not in existing:
                    continue
                t_tps = [tp for tp in tps if tp.topic == t]
                done = sum(committed.get((t, tp.partition), 0) for tp in t_tps)
                lags.append(TopicLag(t, topics[t], done, len(t_tps)))
            offsets = {(t, p): o for (t, p), o in committed.items() if t in reads and t in existing}
            groups.append(
                GroupStatus(group, role, state, members, lags, started=bool(members or committed), offsets=offsets)
            )
        ends = {(tp.topic, tp.partition): int(o) for tp, o in end.items()}
        marks = {}
        if watermarks and names.documents in existing:
            docs = {tp: int(o) for tp, o in end.items() if tp.topic == names.documents and o > 0}
            marks = _published_watermarks(consumer, docs, timeout_s)
        missing = [t for t in names.all() if t not in existing]
        note = other_prefixes_note(existing, prefix) if missing else ""
        return PipelineStatus(servers, prefix, topics, missing, groups, ends=ends, watermarks=marks, prefix_note=note)
    finally:
        consumer.close()
        admin.close()


class WorkersLag:
    """The workers' lag (records of their topics not yet committed, summed), asked again at each `lag()` on
    clients kept open: `watchfloor notify --broker` looks every cycle to hold a backlog's alerts until the workers
    have read it (alerts.backlog). `lag()` is None while the broker cannot be asked (the clients are made again at
    the next call); a topic not created yet counts nothing."""

    def __init__(self, bootstrap: str, prefix: str, *, worker_group: str | None = None, timeout_s: float = 5.0) -> None:
        self.servers = bootstrap_servers(bootstrap)
        self.prefix = prefix
        self.group, _, self.topics = group_topics(prefix, worker_group)[0]
        self.timeout_s = timeout_s
        self._admin: Any = None
        self._consumer: Any = None
        self.written: int | None = None  # the documents topic's records (end offsets), as of the last `lag()`

    def _clients(self) -> tuple[Any, Any]:
        import kafka

        if self._admin is None:
            self._admin = make_client(
                kafka.KafkaAdminClient,
                client_config(
                    kafka.KafkaAdminClient,
                    self.timeout_s,
                    bootstrap_servers=self.servers,
                    client_id=f"{self.prefix}-lag",
                ),
            )
        if self._consumer is None:
            self._consumer = make_client(
                kafka.KafkaConsumer,
                client_config(
                    kafka.KafkaConsumer,
                    self.timeout_s,
                    bootstrap_servers=self.servers,
                    client_id=f"{self.prefix}-lag",
                    enable_auto_commit=False,  # no group: it reads offsets, it never commits
                ),
            )
        return self._admin, self._consumer

    def answers(self, timeout_s: float = 1.0) -> bool:
        """Whether one of the bootstrap servers takes a connection: a cheap look, made while `lag()` cannot be read, for
        when the broker is back (a stopped broker refuses at once; a whole `lag()` may wait seconds on it)."""
        for server in self.servers.split(","):
            host, _, port = server.strip().rpartition(":")
            try:
                socket.create_connection((host.strip("[]") or "localhost", int(port)), timeout=timeout_s).close()
            except (OSError, ValueError):
                continue
            return True
        return False

    def lag(self) -> int | None:
        import kafka

        try:
            admin, consumer = self._clients()
            tps = [
                kafka.TopicPartition(t, p) for t in self.topics for p in sorted(consumer.partitions_for_topic(t) or ())
            ]
            if not tps:
                return 0
            end: dict[Any, int] = consumer.end_offsets(tps)
            committed = _committed(admin, self.group)  # (a coordinator not known yet: asked again, 4 s at most)
        except Exception as e:  # the broker away, a coordinator moving: not known this cycle
            log.debug("workers' lag of %s: %r", self.group, e)
            self.close()
            return None
        documents = self.topics[0]
        self.written = sum(int(o) for tp, o in end.items() if tp.topic == documents)
        return sum(max(0, int(o) - committed.get((tp.topic, tp.partition), 0)) for tp, o in end.items())

    def close(self) -> None:
        for client in (self._consumer, self._admin):
            if client is not None:
                try:
                    client.close()
                except Exception:  # a client of a broker gone away
                    pass
        self._admin = self._consumer = None


def documents_written(bootstrap: str, prefix: str, *, timeout_s: float = 10.0) -> int | None:
    """Records ever written to the pipeline's documents topic (the sum of its end offsets: retention does not
    lower them, only deleting the topic does); None when the topic does not exist."""
    import kafka

    topic = TopicNames(prefix).documents
    consumer = make_client(
        kafka.KafkaConsumer,
        client_config(
            kafka.KafkaConsumer,
            timeout_s,
            bootstrap_servers=bootstrap_servers(bootstrap),
            client_id=f"{prefix}-produce",
            enable_auto_commit=False,  # no group: it only asks for offsets
        ),
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return None
        ends = consumer.end_offsets([kafka.TopicPartition(topic, p) for p in sorted(partitions)])
        return sum(int(o) for o in ends.values())
    finally:
        consumer.close()


def _published_watermarks(
    consumer: Any, ends: dict[Any, int], timeout_s: float, *, kept: dict[tuple[str, str, int], _Looked] | None = None
) -> dict[int, float]:
    """Partition -> the newest watermark among the last WATERMARK_TAIL records of each documents partition, or, for
    a partition whose tail holds none, among the records before it (_read_back).

    The publisher appends its watermark to every documents partition after each publish, so the last record of
    a partition is normally one. A partition whose tail holds none (another producer's documents after it, an older
    relay's documents that did not move it) is read back further (_read_back, bounded); one with none there (a
    producer that writes no watermarks) is left out. Bounded by `timeout_s` (what was read by then counts; a read-back
    started before then has one second at least, for the whole partition). `kept`: what read-backs found, for the
    next look (None: the process's, _READ_BACK)."""
    if not ends:
        return {}
    consumer.assign(list(ends))
    for tp, end in ends.items():
        consumer.seek(tp, max(end - WATERMARK_TAIL, 0))
    out: dict[int, float] = {}
    left = set(ends)
    deadline = time.monotonic() + timeout_s
    while left and time.monotonic() < deadline:
        got = consumer.poll(timeout_ms=max(int((deadline - time.monotonic()) * 1000), 1))
        for tp, records in got.items():
            for r in records:
                if r.offset >= ends.get(tp, 0):
                    continue  # written since the end offsets were asked: the next look counts it
                t = watermark_time(r.value)
                if t is not None:
                    out[tp.partition] = max(t, out.get(tp.partition, t))
        for tp in list(left):
            if consumer.position(tp) >= ends[tp]:
                left.discard(tp)
    # A tail without one: documents that did not move the watermark after it (an older relay wrote it only when it
    # moved), or a producer that writes none. Read back further, bounded, rather than drop the series (outside trial
    # 31, M2: after 16 old documents the watermark and its age left /metrics, when that age was the alarm).
    servers = ",".join(consumer.config["bootstrap_servers"])
    for tp, end in ends.items():
        if tp.partition in out or time.monotonic() >= deadline:
            continue
        found = _read_back(
            consumer, servers, tp, end, max(deadline, time.monotonic() + 1.0), _READ_BACK if kept is None else kept
        )
        if found is not None:
            out[tp.partition] = found
    return out


def _read_back(
    consumer: Any, servers: str, tp: Any, end: int, deadline: float, kept: dict[tuple[str, str, int], _Looked]
) -> float | None:
    """The newest watermark time among the records of `tp` before `end`: of the first chunk of RECALL_CHUNK records
    that holds one, read back from `end`, at most RECALL_LIMIT records back; or, when the previous look's
    (in `kept`) is still good, the newest of that and of the records written since. None when there is none
    there, and when the partition is not read by `deadline` (monotonic seconds, for the whole read) or its
    beginning offset is not told in time: it is left out of this look, and what was read is not kept."""
    key = (servers, tp.topic, tp.partition)
    try:
        low = int(consumer.beginning_offsets([tp])[tp])
    except _timeouts() as e:
        log.debug("reading back %s for its watermark: no beginning offset: %r", tp, e)
        return None
    topic_id = _topic_id(consumer, tp.topic)
    consumer.assign([tp])
    prev = kept.get(key)
    found: tuple[float, int] | None = None
    not_in_time: tuple[type[BaseException], ...] = (TimeoutError, *_timeouts())
    try:
        if prev is not None and _goes_on(prev, topic_id, low, end):
            found = newest_watermark(consumer, tp, prev.end, end, deadline) if end > prev.end else None
            if prev.time is not None and prev.offset is not None and (found is None or prev.time >= found[0]):
                found = (prev.time, prev.offset)
        else:
            hi = end
            while hi > low and end - hi < RECALL_LIMIT and found is None:
                lo = max(hi - RECALL_CHUNK, low)
                found = newest_watermark(consumer, tp, lo, hi, deadline)
                hi = lo
    except not_in_time as e:  # not read in time: left out of this look (what was read is not kept)
        log.debug("reading back %s for its watermark: %r", tp, e)
        return None
    kept[key] = _Looked(topic_id, end, *(found or (None, None)))
    return found[0] if found is not None else None


def _goes_on(prev: _Looked, topic_id: Any, low: int, end: int) -> bool:
    """Whether a partition whose offsets are now [low, end) is the one `prev` read, so that a look may read only the
    records written since. Not after a reset: a recreated topic (another id; without ids, one whose end is below the
    end read), records deleted past the end read or past the record `prev` found (what a look afresh would not find);
    nor with more than RECALL_LIMIT records written since (a look afresh reads back no further)."""
    if topic_id != prev.topic_id or end < prev.end or low > prev.end:
        return False
    if prev.offset is not None and low > prev.offset:
        return False
    return end - prev.end <= RECALL_LIMIT


def _topic_id(consumer: Any, topic: str) -> Any:
    """The topic's id as the consumer's metadata has it (brokers from Kafka 2.8, kafka-python from 3.0), or None."""
    cluster = getattr(getattr(consumer, "_client", None), "cluster", None)
    topic_id = getattr(cluster, "topic_id", None)
    return topic_id(topic) if callable(topic_id) else None


class LagHistory:
    """How long each consumer group has been behind, from successive `PipelineStatus` answers.

    Each answer is kept with the partitions' end offsets and when it was asked. A group has caught up with
    an answer when its committed offsets have reached that answer's end offsets on every partition it reads.
    Behind for: 0 if it has caught up with the newest answer; else the time since the first answer after the
    newest one it has caught up with (everything written up to that one it has read, and a record written
    before the next has waited since then at least): a lower bound, as fine as the answers are frequent, and
    capped by the answers kept (`keep`: the oldest go first)."""

    def __init__(self, keep: int = 4096) -> None:
        self._answers: deque[tuple[float, dict[tuple[str, int], int]]] = deque(maxlen=keep)

    def observe(self, st: PipelineStatus, at: float) -> dict[str, float]:
        """Group -> seconds behind, for each group that runs (or must: the workers); `at`: when `st` was asked."""
        self._answers.append((at, dict(st.ends)))
        out: dict[str, float] = {}
        needed = len(self._answers) - 1  # the oldest answer some group still needs
        for g in st.groups:
            if not (g.started or g.role == "workers"):
                continue
            reads = {t.topic for t in g.topics}
            first_behind = None  # index of the oldest answer after the newest one the group has caught up with
            for i in range(len(self._answers) - 1, -1, -1):
                ends = self._answers[i][1]
                if all(g.offsets.get(k, 0) >= end for k, end in ends.items() if k[0] in reads):
                    break
                first_behind = i
            out[g.group] = 0.0 if first_behind is None else max(at - self._answers[first_behind][0], 0.0)
            needed = min(needed, first_behind if first_behind is not None else len(self._answers) - 1)
        for _ in range(needed):  # answers older than any group needs (offsets do not go back, as a rule)
            self._answers.popleft()
        return out


def group_members(bootstrap: str, group: str, *, timeout_s: float = 10.0) -> list[str] | None:
    """The members of one consumer group (client id @ host); [] when it has none, None when the broker does not
    say (a describe that fails). An unreachable broker raises (kafka-python's errors: the caller waits)."""
    import kafka

    admin = make_client(
        kafka.KafkaAdminClient,
        client_config(
            kafka.KafkaAdminClient, timeout_s, bootstrap_servers=bootstrap_servers(bootstrap), client_id="probe"
        ),
    )
    try:
        state, members = _describe(admin, group)
        return None if state == "Unknown" and not members else members
    finally:
        admin.close()


def _describe(admin: Any, group: str) -> tuple[str, list[str]]:
    """(state, member client ids) of a group; ("Unknown", []) when the broker does not say."""
    try:
        if hasattr(admin, "describe_groups"):  # kafka-python 3.x
            info: Any = admin.describe_groups([group])[group]
            state = str(info.get("group_state") or info.get("state") or "Unknown")
            members = [
                f"{m.get('client_id', '?')}@{str(m.get('client_host', '?')).lstrip('/')}" for m in info["members"]
            ]
        else:  # kafka-python 2.x
            d = admin.describe_consumer_groups([group])[0]
            state = str(d.state)
            members = [f"{m.client_id}@{str(m.client_host).lstrip('/')}" for m in d.members]
    except Exception as e:  # a group Faust's assignor made may not decode: still show the lag
        log.debug("describe group %s failed: %r", group, e)
        return "Unknown", []
    return state, sorted(members)


# A group's coordinator can be briefly unknown to a broker that is up: the first look at a group of a new prefix
# answered CoordinatorNotAvailable once (outside trial 9, F7), which `status` called "unreachable". Such answers
# are looked at again after these pauses (seconds) before they count.
COORDINATOR_RETRIES = (0.25, 0.5, 1.0, 2.0)
_COORDINATOR_ERRORS = ("CoordinatorNotAvailableError", "NotCoordinatorError", "CoordinatorLoadInProgressError")


def _committed(
    admin: Any, group: str, *, pauses: tuple[float, ...] = COORDINATOR_RETRIES, sleep: Any = time.sleep
) -> dict[tuple[str, int], int]:
    """The group's committed offsets; a coordinator the broker does not know yet is asked for again."""
    import kafka.errors as kafka_errors

    transient = tuple(getattr(kafka_errors, n) for n in _COORDINATOR_ERRORS if hasattr(kafka_errors, n))
    for pause in (*pauses, None):
        try:
            offsets = _group_offsets(admin, group)
            break
        except transient as e:
            if pause is None:
                raise
            log.debug("offsets of group %s: %r; asking again in %.2fs", group, e, pause)
            sleep(pause)
    return {
        (tp.topic, tp.partition): int(om.offset)
        for tp, om in offsets.items()
        if om.offset is not None and om.offset >= 0
    }


def _group_offsets(admin: Any, group: str) -> dict[Any, Any]:
    if hasattr(admin, "list_group_offsets"):  # kafka-python 3.x
        offsets: dict[Any, Any] = admin.list_group_offsets({group: None}).get(group, {})
    else:  # kafka-python 2.x
        offsets = admin.list_consumer_group_offsets(group)
    return offsets
