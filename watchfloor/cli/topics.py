"""The `watchfloor topics` commands: create, check and delete the Kafka topics of a pipeline (one prefix)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ._common import ConfigOpt, Typer, app, app_config, broker_origin, counted, err, fail, out
from .distributed import KAFKA_EXTRA, BrokerOpt, PartitionsOpt, PrefixOpt, settings_for

topics_app = Typer(help="The Kafka topics of a pipeline: create them, check them, delete them.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")


# The broker's refusals that a setting of ours caused, and that setting: the user changes it, not the broker.
_SETTINGS = {
    "InvalidReplicationFactorError": (
        "kafka.replication_factor in the config, or --replication-factor: at most the number of brokers,"
        " 1 on a single local broker"
    ),
    "InvalidPartitionsError": "kafka.partitions in the config, or --partitions",
}


def _setting_hint(code: str) -> str:
    setting = _SETTINGS.get(code)
    return f" (change {setting})" if setting else ""


@topics_app.command("create")
def create(
    broker: BrokerOpt = None,
    prefix: PrefixOpt = None,
    partitions: PartitionsOpt = None,
    replication_factor: Annotated[
        int | None, typer.Option(help="Replicas of each partition (default: config kafka.replication_factor).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Create the pipeline's topics that are missing (documents, signals, correlate, detections, dead letters)."""
    try:
        from watchfloor.stream_processors.kafka.clients import unreachable_errors
        from watchfloor.stream_processors.kafka.topics import (
            TopicCreationError,
            TopicLayoutError,
            ensure_topics,
            topic_specs,
        )
    except ImportError as e:
        raise fail(f"{KAFKA_EXTRA} ({e})") from None
    cfg = app_config(config)
    s = settings_for(
        cfg,
        bootstrap=broker,
        prefix=prefix,
        partitions=partitions,
        replication_factor=replication_factor,
    )
    try:
        created = ensure_topics(
            s.bootstrap, s.prefix, s.partitions, replication_factor=s.replication_factor, timeout_s=15.0
        )
    except TopicLayoutError as e:
        raise fail(str(e)) from None
    except TopicCreationError as e:
        raise fail(f"Kafka broker {s.bootstrap} refused to create the topics: {e}{_setting_hint(e.code)}") from None
    except unreachable_errors() as e:
        raise fail(f"Kafka broker {s.bootstrap} unreachable: {e} ({broker_origin(broker, cfg, s.bootstrap)})") from None
    for spec in topic_specs(s.prefix, s.partitions):
        state = "created" if spec.name in created else "exists"
        out.print(f"{escape(spec.name)}  {counted(spec.partitions, 'partition')}  {state}", highlight=False)
    err.print(f"{counted(len(created), 'topic')} created on {escape(s.bootstrap)}", highlight=False)


@topics_app.command("check")
def check(
    broker: BrokerOpt = None,
    prefix: PrefixOpt = None,
    partitions: PartitionsOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Exit 0 when every topic of the pipeline exists with the expected partitions; else say what is wrong."""
    try:
        from watchfloor.stream_processors.kafka.clients import unreachable_errors
        from watchfloor.stream_processors.kafka.topics import MissingTopics, TopicLayoutError, check_topics
    except ImportError as e:
        raise fail(f"{KAFKA_EXTRA} ({e})") from None
    cfg = app_config(config)
    s = settings_for(cfg, bootstrap=broker, prefix=prefix, partitions=partitions)
    try:
        check_topics(s.bootstrap, s.prefix, s.partitions, timeout_s=15.0)
    except (MissingTopics, TopicLayoutError) as e:
        raise fail(str(e)) from None
    except unreachable_errors() as e:
        raise fail(f"Kafka broker {s.bootstrap} unreachable: {e} ({broker_origin(broker, cfg, s.bootstrap)})") from None
    out.print(f"topics of {escape(s.prefix)} on {escape(s.bootstrap)}: ok", highlight=False)


@topics_app.command("delete")
def delete(
    broker: BrokerOpt = None,
    prefix: PrefixOpt = None,
    app_id: Annotated[
        str | None, typer.Option(help="Consumer group of the workers (default: config kafka.app_id, <prefix>-worker).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Delete them; without it, only say what would go.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Delete a pipeline's topics (the documents too: only the producers' stores keep a copy) and consumer groups.

    Only the names this prefix makes (PREFIX.documents, …, GROUP-correlate-state-changelog; groups GROUP and
    PREFIX-archive). Refused while a group has members: stop its workers and archive first."""
    try:
        from watchfloor.stream_processors.kafka.clients import unreachable_errors
        from watchfloor.stream_processors.kafka.topics import delete_pipeline
    except ImportError as e:
        raise fail(f"{KAFKA_EXTRA} ({e})") from None
    cfg = app_config(config)
    s = settings_for(cfg, bootstrap=broker, prefix=prefix, app_id=app_id)
    try:
        found = delete_pipeline(s.bootstrap, s.prefix, s.group, dry_run=not yes, timeout_s=15.0)
    except unreachable_errors() as e:
        raise fail(f"Kafka broker {s.bootstrap} unreachable: {e} ({broker_origin(broker, cfg, s.bootstrap)})") from None
    except RuntimeError as e:
        raise fail(str(e)) from None
    if found.busy:
        running = "; ".join(f"{g}: {', '.join(m)}" for g, m in sorted(found.busy.items()))
        raise fail(f"nothing deleted: consumer groups still have members ({running}); stop them first")
    if not found.topics and not found.groups:
        err.print(
            f"pipeline {escape(s.prefix)} on {escape(s.bootstrap)}: no topics and no consumer groups", highlight=False
        )
        return
    verb = "deleted" if found.deleted else "would delete"
    for name in found.topics:
        out.print(f"{escape(name)}  topic  {verb}", highlight=False)
    for name in found.groups:
        out.print(f"{escape(name)}  consumer group  {verb}", highlight=False)
    groups = counted(len(found.groups), "consumer group")
    said = f"{counted(len(found.topics), 'topic')} and {groups} of {s.prefix} on {s.bootstrap}"
    if found.deleted:
        # The producers' stores keep their copy: a producer that finds this prefix's documents topic made again and
        # empty sends it again (DistributedProducer.check_topics).
        err.print(
            escape(
                f"{said} deleted; a producer's store sends the documents it holds to {s.prefix} again when its "
                "`produce` finds the documents topic made again and empty (`produce --resend` in any other case). "
                f"A store that archived {s.prefix} keeps its correlate records for `replay-workers`: an `archive` into "
                "it stops on the new topics (kept with other content), so archive the new ones into another store "
                "(--store), or start again under a new --prefix instead"
            ),
            highlight=False,
        )
    else:
        err.print(escape(f"{said} would be deleted: nothing deleted yet; run again with --yes"), highlight=False)
