"""The `watchfloor topics` commands: create and check the Kafka topics of a pipeline (one prefix)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ._common import ConfigOpt, Typer, app, app_config, err, fail, out
from .distributed import KAFKA_EXTRA, BrokerOpt, PartitionsOpt, PrefixOpt, settings_for

topics_app = Typer(help="The Kafka topics of a pipeline: create them, check them.", no_args_is_help=True)
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
    s = settings_for(
        app_config(config),
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
        raise fail(f"Kafka broker {s.bootstrap} unreachable: {e}") from None
    for spec in topic_specs(s.prefix, s.partitions):
        state = "created" if spec.name in created else "exists"
        out.print(f"{escape(spec.name)}  {spec.partitions} partition(s)  {state}", highlight=False)
    err.print(f"{len(created)} topic(s) created on {escape(s.bootstrap)}", highlight=False)


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
    s = settings_for(app_config(config), bootstrap=broker, prefix=prefix, partitions=partitions)
    try:
        check_topics(s.bootstrap, s.prefix, s.partitions, timeout_s=15.0)
    except (MissingTopics, TopicLayoutError) as e:
        raise fail(str(e)) from None
    except unreachable_errors() as e:
        raise fail(f"Kafka broker {s.bootstrap} unreachable: {e}") from None
    out.print(f"topics of {escape(s.prefix)} on {escape(s.bootstrap)}: ok", highlight=False)
