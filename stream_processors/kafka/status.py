"""Has the pipeline caught up? Per consumer group of one prefix: its members and its lag per topic.

``pipeline_status(bootstrap, prefix)`` asks the broker for the end offset of every partition of the
watchfloor topics, the offsets each group (the workers, the archive) has committed, and who is in each
group. ``watchfloor status --broker`` prints it; the ``serve`` status page can call it too (it returns plain
dataclasses, ``as_dict()`` gives JSON).

Lag is end offset minus committed offset, summed over a topic's partitions; a partition the group has
never committed counts from its beginning. Faust commits every few seconds, so a caught-up worker group
can show a small lag for that long. Lag on the correlate topic includes the watermark records. The pipeline
has caught up when the workers' lag is 0, and the archive's too when an archive runs (or ran).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from watchfloor.schemas.topics import TopicNames

from .clients import client_config, make_client
from .rules_guard import member_rules
from .topics import bootstrap_servers

log = logging.getLogger(__name__)


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

    @property
    def caught_up(self) -> bool:
        """Every topic exists, the workers have processed everything, and so has the archive if it runs (a
        group that never ran counts from the beginning for the workers, and not at all for the archive)."""
        return not self.missing and all(g.lag == 0 for g in self.groups if g.started or g.role == "workers")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for g, gd in zip(self.groups, d["groups"], strict=True):
            gd["lag"] = g.lag
            for t, td in zip(g.topics, gd["topics"], strict=True):
                td["lag"] = t.lag
        for g, gd in zip(self.groups, d["groups"], strict=True):
            gd["rules"] = g.rules
        d["caught_up"] = self.caught_up
        return d


def group_topics(prefix: str, worker_group: str | None = None) -> list[tuple[str, str, list[str]]]:
    """(group, role, topics it reads) of one pipeline."""
    n = TopicNames(prefix)
    return [
        (worker_group or f"{prefix}-worker", "workers", [n.documents, n.correlate, n.detections]),
        (f"{prefix}-archive", "archive", [n.documents, n.detections, n.dead_letters]),
    ]


def pipeline_status(
    bootstrap: str, prefix: str, *, worker_group: str | None = None, timeout_s: float = 10.0
) -> PipelineStatus:
    """The topics of `prefix`, and for each of its groups the members and the lag per topic."""
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
            client_config(kafka.KafkaConsumer, timeout_s, bootstrap_servers=servers, client_id=f"{prefix}-status"),
        )
    except BaseException:
        admin.close()
        raise
    try:
        existing = set(admin.list_topics())
        present = [t for t in names.all() if t in existing]
        tps = [kafka.TopicPartition(t, p) for t in present for p in sorted(consumer.partitions_for_topic(t) or ())]
        end: dict[Any, int] = consumer.end_offsets(tps) if tps else {}
        topics = {t: sum(o for tp, o in end.items() if tp.topic == t) for t in present}
        groups = []
        for group, role, reads in group_topics(prefix, worker_group):
            state, members = _describe(admin, group)
            committed = _committed(admin, group)
            lags = []
            for t in reads:
                if t not in existing:
                    continue
                t_tps = [tp for tp in tps if tp.topic == t]
                done = sum(committed.get((t, tp.partition), 0) for tp in t_tps)
                lags.append(TopicLag(t, topics[t], done, len(t_tps)))
            groups.append(GroupStatus(group, role, state, members, lags, started=bool(members or committed)))
        return PipelineStatus(servers, prefix, topics, [t for t in names.all() if t not in existing], groups)
    finally:
        consumer.close()
        admin.close()


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


def _committed(admin: Any, group: str) -> dict[tuple[str, int], int]:
    if hasattr(admin, "list_group_offsets"):  # kafka-python 3.x
        offsets = admin.list_group_offsets({group: None}).get(group, {})
    else:  # kafka-python 2.x
        offsets = admin.list_consumer_group_offsets(group)
    return {
        (tp.topic, tp.partition): int(om.offset)
        for tp, om in offsets.items()
        if om.offset is not None and om.offset >= 0
    }
