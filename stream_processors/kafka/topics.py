"""The watchfloor topics of one prefix: their specs (partitions, retention), creating them, checking them.

==================  ==========  ==================================================================
topic               key         what
==================  ==========  ==================================================================
P.documents         doc id      input documents (news.article / official.statement), kept forever,
                                plus the publisher's watermark records
P.signals           doc id      signals, written by the extract agent to the documents' partition (an
                                output for observers: the pipeline does not read it back)
P.correlate         group key   signals routed by (detection, group) by the extract agent, plus watermarks
P.detections        det. id     detections; one partition, so a single worker dispatches alerts
P.dead-letters      event id    rejected input and late signals, with the reason
==================  ==========  ==================================================================

Topic auto-creation is expected to be off: ``watchfloor topics create`` (or ``watchfloor produce``) creates
them; a worker checks them before it starts (:func:`check_topics`). The workers' own topic, the changelog of
their state table (``<group>-correlate-state-changelog``, compacted), is created by the worker before Faust
starts (:func:`ensure_changelog`).
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from watchfloor.schemas.events import DOCUMENT_TYPES, Event, EventType, edition_of
from watchfloor.schemas.topics import DEFAULT_PREFIX, TopicNames

from .clients import client_config, make_client, unreachable_errors

log = logging.getLogger(__name__)

DEFAULT_PARTITIONS = 3  # of the documents, signals and correlate topics (co-partitioned)
DAY_MS = 24 * 3600 * 1000
SCHEME = "kafka://"  # Faust wants it on broker URLs; kafka-python wants it off
STATE_TABLE = "correlate-state"  # the name of the workers' Faust table (app.build_app)
# The largest correlate state value (one partition's state, compressed) a worker writes; past it the worker stops
# with agents.StateTooLarge. The producer's request limit and the changelog's record limit are set above it
# (the record's key, headers and batch framing), since Kafka's 1 MB defaults were hit at a few hundred rules.
STATE_MAX_BYTES = 64 * 1024 * 1024
STATE_RECORD_MAX_BYTES = STATE_MAX_BYTES + 1024 * 1024


def bootstrap_servers(broker: str) -> str:
    """``host:port[,host:port]`` for kafka-python, whether or not `broker` has the ``kafka://`` scheme."""
    return ",".join(b.strip().removeprefix(SCHEME) for b in broker.split(","))


def reach(broker: str, timeout_s: float) -> None:
    """Bootstrap a client, raising the client's "unreachable" error after `timeout_s` without an answer."""
    import kafka

    make_client(
        kafka.KafkaAdminClient,
        client_config(
            kafka.KafkaAdminClient, timeout_s, bootstrap_servers=bootstrap_servers(broker), client_id="probe"
        ),
    ).close()


def topic_exists(broker: str, topic: str, timeout_s: float) -> None:
    """Raise the client's "unreachable" error when the broker does not answer within `timeout_s`, LookupError
    when it has no such topic."""
    import kafka

    consumer = make_client(
        kafka.KafkaConsumer,
        client_config(
            kafka.KafkaConsumer,
            timeout_s,
            bootstrap_servers=bootstrap_servers(broker),
            client_id="watchfloor-backtest",
            group_id=None,
            enable_auto_commit=False,
        ),
    )
    try:
        if not consumer.partitions_for_topic(topic):
            raise LookupError(f"Kafka topic {topic!r} does not exist")
    finally:
        consumer.close()


def faust_broker_url(broker: str) -> str:
    """The same servers as Faust's broker URL (``kafka://host:port;...``)."""
    return ",".join(f"{SCHEME}{b}" for b in bootstrap_servers(broker).split(","))


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def topic_specs(prefix: str = DEFAULT_PREFIX, partitions: int = DEFAULT_PARTITIONS) -> list[TopicSpec]:
    """Partitions and retention of every topic.

    * documents: the source of truth for replays and backtests; kept forever (their Kafka timestamp is the
      publication time, so time-based retention would delete old news immediately).
    * signals and correlate: derived and re-derivable from documents; a week, by append time (these records
      are stamped when written, not with event time).
    * detections: one partition (one dispatcher at a time: alert delivery must not race), kept a year.
    * dead letters: kept a year, for the humans who have to look at them.
    The signals topic must have as many partitions as the documents topic: the extract agent writes a
    document's signals to the document's own partition, which carries the per-partition watermark.
    """
    t = TopicNames(prefix)
    year = str(365 * DAY_MS)
    week = str(7 * DAY_MS)
    return [
        TopicSpec(t.documents, partitions, {"retention.ms": "-1", "retention.bytes": "-1"}),
        TopicSpec(t.signals, partitions, {"retention.ms": week}),
        TopicSpec(t.correlate, partitions, {"retention.ms": week}),
        TopicSpec(t.detections, 1, {"retention.ms": year}),
        TopicSpec(t.dead_letters, 1, {"retention.ms": year}),
    ]


def route_event(event: Event, topics: TopicNames) -> tuple[str, str]:
    """(topic, key) for an event published by a producer. Keys keep related events in one partition."""
    if event.type in DOCUMENT_TYPES:
        # An edition of a feed item goes where the item went: one extract agent reads the item's versions in
        # order, so the signals of the earlier ones reach each correlate partition before the edition's
        # correction (engine/corrections.py).
        return topics.documents, edition_of(event.id) or event.id
    if event.type == EventType.WATERMARK:
        return topics.documents, ""
    if event.type == EventType.SIGNAL.value:
        return topics.signals, str(event.payload.get("document_id") or event.id)
    if event.type in (EventType.DETECTION.value, EventType.RETRACTION.value):
        return topics.detections, event.id  # one partition: in the order raised
    if event.type == EventType.DEAD_LETTER.value:
        return topics.dead_letters, event.id
    raise ValueError(f"no Kafka topic for events of type {event.type!r}")


class MissingTopics(RuntimeError):
    """The watchfloor topics do not exist (yet): auto-creation is off; `watchfloor topics create` makes them."""


class TopicLayoutError(RuntimeError):
    """Topics exist with other partition counts than the spec: keys would land where workers do not expect."""


class TopicCreationError(RuntimeError):
    """The broker refused to create topics, e.g. a replication factor above its number of brokers. `code` is
    the Kafka error's name (InvalidReplicationFactorError, ...): the CLI turns it into the setting to change."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


# kafka-python puts the whole CreateTopics response in the error's text; the broker's own sentence (the
# "only 1 broker(s) are registered" part) is its first error_message='...' field.
_BROKER_MESSAGE = re.compile(r"error_message='((?:[^'\\]|\\.)*)'")


def _broker_reason(error: BaseException) -> str:
    found = _BROKER_MESSAGE.search(str(error))
    if found:
        return found.group(1)
    return str(getattr(error, "description", "") or type(error).__name__)


def create_command(broker: str, prefix: str, partitions: int) -> str:
    """The command a user runs to create the topics (quoted in error messages)."""
    cmd = f"watchfloor topics create --broker {bootstrap_servers(broker)}"
    if prefix != DEFAULT_PREFIX:
        cmd += f" --prefix {prefix}"
    if partitions != DEFAULT_PARTITIONS:
        cmd += f" --partitions {partitions}"
    return cmd


@contextmanager
def _admin(broker: str, client_id: str, timeout_s: float) -> Iterator[Any]:
    try:
        import kafka
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise RuntimeError("kafka-python is not installed (pip install 'watchfloor[kafka]')") from None
    admin = make_client(
        kafka.KafkaAdminClient,
        client_config(
            kafka.KafkaAdminClient, timeout_s, bootstrap_servers=bootstrap_servers(broker), client_id=client_id
        ),
    )
    try:
        yield admin
    finally:
        admin.close()


def _check_layout(admin: Any, specs: list[TopicSpec]) -> None:
    described = {
        d.get("name", d.get("topic")): len(d["partitions"]) for d in admin.describe_topics([s.name for s in specs])
    }
    off = [s for s in specs if described.get(s.name) != s.partitions]
    wrong = [f"{s.name} has {described.get(s.name)} partitions, expected {s.partitions}" for s in off]
    if wrong:
        found = sorted({n for s in off if (n := described.get(s.name)) is not None})
        # Kafka could add partitions in place, but keys would move away from their correlate state (outside trial
        # 31, L2: the error said nothing of what to do): a new count is a new prefix, fed from the same store.
        raise TopicLayoutError(
            "topic layout mismatch: "
            + "; ".join(wrong)
            + ". A prefix's topics keep the partition count they were made with"
            + (f": give --partitions {found[0]} to use them as they are, or" if len(found) == 1 else ";")
            + " to change it, start the pipeline under a new --prefix made with the new count and produce to it"
            " (README, 'Changing the partition count')"
        )


def check_topics(
    broker: str, prefix: str = DEFAULT_PREFIX, partitions: int = DEFAULT_PARTITIONS, *, timeout_s: float = 30.0
) -> None:
    """Fail early, with the fix, when the topics are missing (MissingTopics) or laid out differently
    (TopicLayoutError)."""
    specs = topic_specs(prefix, partitions)
    with _admin(broker, f"{prefix}-check", timeout_s) as admin:
        existing = set(admin.list_topics())
        missing = [s.name for s in specs if s.name not in existing]
        if missing:
            raise MissingTopics(
                f"missing Kafka topics: {', '.join(missing)} (create them with: "
                f"{create_command(broker, prefix, partitions)})" + other_prefixes_note(existing, prefix)
            )
        _check_layout(admin, specs)


def other_prefixes_note(topics: Iterable[str], prefix: str) -> str:
    """'; this broker has the pipeline(s) desk: a mistyped --prefix?' when other prefixes' topics are there: the fix
    the message gives, taken literally after a typo, makes a second, empty pipeline (outside trial 55, L4)."""
    suffix = "." + TopicNames("x").documents.removeprefix("x.")
    others = sorted({t.removesuffix(suffix) for t in topics if t.endswith(suffix)} - {prefix})
    if not others:
        return ""
    shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
    what = "pipeline" if len(others) == 1 else "pipelines"
    return f"; this broker has the topics of {what} {shown}: a mistyped --prefix?"


def _create(admin: Any, specs: list[TopicSpec], replication_factor: int, timeout_s: float) -> list[str]:
    """Create those of `specs` that do not exist; returns the names created (none when a concurrent creator
    won the race)."""
    import kafka.errors

    existing = set(admin.list_topics())
    missing = [s for s in specs if s.name not in existing]
    if not missing:
        return []
    timeout_ms = int(timeout_s * 1000)
    try:
        if "wait_for_metadata" in inspect.signature(admin.create_topics).parameters:  # kafka-python 3.x
            admin.create_topics(
                {
                    s.name: {
                        "num_partitions": s.partitions,
                        "replication_factor": replication_factor,
                        "configs": dict(s.config),
                    }
                    for s in missing
                },
                timeout_ms=timeout_ms,
                wait_for_metadata=True,  # leaders elected: producers can send at once
            )
        else:  # kafka-python 2.x
            from kafka.admin import NewTopic

            admin.create_topics(
                [NewTopic(s.name, s.partitions, replication_factor, topic_configs=dict(s.config)) for s in missing],
                timeout_ms=timeout_ms,
            )
    except kafka.errors.TopicAlreadyExistsError:
        return []
    except kafka.errors.BrokerResponseError as e:
        if isinstance(e, unreachable_errors()):  # not a refusal: the caller waits or says it is unreachable
            raise
        raise TopicCreationError(type(e).__name__, _broker_reason(e)) from e
    return [s.name for s in missing]


def changelog_spec(group: str, partitions: int) -> TopicSpec:
    """The changelog topic of a worker group's state table, as Faust names and declares it: compacted (only
    each partition's latest state matters), one partition per correlate partition, records up to
    STATE_RECORD_MAX_BYTES (a partition's whole state is one record)."""
    return TopicSpec(
        f"{group}-{STATE_TABLE}-changelog",
        partitions,
        {"cleanup.policy": "compact", "max.message.bytes": str(STATE_RECORD_MAX_BYTES)},
    )


def raise_record_limit_command(broker: str, topic: str) -> str:
    """The command an operator runs to raise an existing changelog's record limit by hand."""
    return (
        f"kafka-configs.sh --bootstrap-server {bootstrap_servers(broker)} --alter --entity-type topics "
        f"--entity-name {topic} --add-config max.message.bytes={STATE_RECORD_MAX_BYTES}"
    )


def _alter_errors(answers: Any) -> list[str]:
    """The refusals in an alter_configs answer: kafka-python 3.x says {type: {name: "OK" or the error}}, 2.x
    gives the response, whose resources are (error_code, error_message, type, name)."""
    if isinstance(answers, dict):
        return [f"{name}: {said}" for per in answers.values() for name, said in per.items() if str(said) != "OK"]
    return [f"{r[3]}: {r[1] or r[0]}" for r in getattr(answers, "resources", []) if r[0]]


def _raise_record_limit(admin: Any, spec: TopicSpec, broker: str) -> None:
    """Set the spec's configs on a changelog made before them (Kafka's default record limit is ~1 MB, less than
    a big partition state). Idempotent; the whole spec config is sent, so a broker that only knows the
    non-incremental AlterConfigs (which resets keys left out) keeps the topic compacted. A refusal (no ALTER
    permission) is logged with the command to run, not fatal: states under ~1 MB compressed still fit."""
    from kafka.admin import ConfigResource, ConfigResourceType

    try:
        answers = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name, configs=dict(spec.config))])
        errors = _alter_errors(answers)
        if errors:
            raise RuntimeError("; ".join(errors))
    except Exception as e:
        log.warning(
            "could not raise the record limit of %s to %d bytes (%s); a correlate state over ~1 MB compressed will "
            "stop the worker. Run: %s",
            spec.name,
            STATE_RECORD_MAX_BYTES,
            e,
            raise_record_limit_command(broker, spec.name),
        )


def ensure_changelog(
    broker: str, group: str, partitions: int, *, replication_factor: int = 1, timeout_s: float = 30.0
) -> bool:
    """Create the worker group's changelog topic if it is missing; True when this call created it.

    Faust declares it itself when the worker starts, but on a loaded machine its consumer's first metadata
    could come before the new topic's: the topic was left out of the group's assignment ("Ignoring missing
    topic") and every state write failed with PartitionsMismatch (0 partitions), so the worker stalled. Made
    here, before Faust starts and with the leaders elected, the topic is in that first metadata. A changelog
    with another partition count than the correlate topic is an error (TopicLayoutError), as Faust's. An
    existing changelog gets the spec's configs (its record limit, for changelogs made before there was one)."""
    spec = changelog_spec(group, partitions)
    with _admin(broker, f"{group}-admin", timeout_s) as admin:
        created = _create(admin, [spec], replication_factor, timeout_s)
        _check_layout(admin, [spec])
        if not created:
            _raise_record_limit(admin, spec, broker)
        return bool(created)


def ensure_topics(
    broker: str,
    prefix: str = DEFAULT_PREFIX,
    partitions: int = DEFAULT_PARTITIONS,
    *,
    replication_factor: int = 1,
    timeout_s: float = 30.0,
) -> list[str]:
    """Create the missing topics. Returns the names created.

    Existing topics are left as they are, but a partition count that differs from the spec is an error
    (TopicLayoutError): keys would land on other partitions than the running workers expect."""
    specs = topic_specs(prefix, partitions)
    with _admin(broker, f"{prefix}-admin", timeout_s) as admin:
        created = _create(admin, specs, replication_factor, timeout_s)
        _check_layout(admin, specs)
        return created


@dataclass
class PipelineDeletion:
    """What `delete_pipeline` found, and deleted unless `busy` or a dry run."""

    topics: list[str]  # the pipeline's topics that exist
    groups: list[str]  # its consumer groups (workers, archive) the broker knows
    busy: dict[str, list[str]] = field(default_factory=dict)  # group -> its members: nothing is deleted then
    deleted: bool = False


def pipeline_groups(prefix: str, group: str) -> list[str]:
    """The consumer groups of one pipeline: its workers' (Faust app id) and its archive's."""
    return [group, f"{prefix}-archive"]


def delete_pipeline(
    broker: str, prefix: str, group: str, *, dry_run: bool = False, timeout_s: float = 30.0
) -> PipelineDeletion:
    """Delete one pipeline's topics (the five of `topic_specs` and the workers' state changelog) and its consumer
    groups (outside trial 11, L7: an operator deleted 30 topics with an admin client of their own, and the groups
    stayed). Only names this prefix and worker group make, never a pattern: another pipeline's topics that start
    with the same text are left alone. Nothing is deleted while a group has members (a running worker or archive
    would recreate or read them): `busy` says which."""
    from .status import _describe

    names = [s.name for s in topic_specs(prefix)] + [changelog_spec(group, 1).name]
    with _admin(broker, f"{prefix}-admin", timeout_s) as admin:
        existing = set(admin.list_topics())
        found = PipelineDeletion(topics=[n for n in names if n in existing], groups=[])
        for g in pipeline_groups(prefix, group):
            state, members = _describe(admin, g)
            if members:
                found.busy[g] = members
            if state not in ("Dead", "Unknown") or members:
                found.groups.append(g)
        if found.busy or dry_run:
            return found
        if found.groups:  # first: a group whose topics went may turn Dead and no longer be found by name
            remove = getattr(admin, "delete_groups", None) or admin.delete_consumer_groups  # kafka-python 3.x / 2.x
            answers = remove(found.groups)
            for g, error in answers.items() if isinstance(answers, dict) else answers:
                # 3.x says "OK" or the error's class name; 2.x gives the error class (NoError when it went)
                said = error if isinstance(error, str) else getattr(error, "__name__", type(error).__name__)
                if said not in ("OK", "NoError", "GroupIdNotFoundError"):  # (a group gone meanwhile is gone)
                    raise RuntimeError(f"the broker did not delete consumer group {g}: {said}")
        if found.topics:
            admin.delete_topics(found.topics, timeout_ms=int(timeout_s * 1000))
        found.deleted = True
        return found
