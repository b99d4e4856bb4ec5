"""The distributed-mode commands: worker, produce, archive, notify."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import ConfigOpt, app, app_config, err, fail, stop_on_sigterm

BrokerOpt = Annotated[
    str | None,
    typer.Option(
        "--broker", help="Kafka bootstrap servers (default: config kafka.bootstrap).", envvar="WATCHFLOOR_KAFKA"
    ),
]
PrefixOpt = Annotated[
    str | None,
    typer.Option(help="Topic prefix: one broker can hold several pipelines (default: config kafka.prefix)."),
]
PartitionsOpt = Annotated[
    int | None, typer.Option(help="Partitions of the documents/signals/correlate topics (default: config).")
]


@app.command()
def worker(
    broker: BrokerOpt = None,
    prefix: PrefixOpt = None,
    partitions: PartitionsOpt = None,
    app_id: Annotated[
        str | None, typer.Option(help="Consumer group of the workers (default: <prefix>-worker).")
    ] = None,
    rules: Annotated[list[str] | None, typer.Option("--rules", "-r", help="Rule file/dir (repeatable).")] = None,
    store: Annotated[
        str | None, typer.Option(help="Store URL for detections (default from config).", envvar="WATCHFLOOR_STORE")
    ] = None,
    dispatch: Annotated[
        bool, typer.Option("--dispatch/--no-dispatch", help="Also deliver alerts (else leave it to `notify`).")
    ] = False,
    batch_within: Annotated[
        float | None,
        typer.Option(
            help="Seconds each agent waits to fill a batch: latency added per hop vs throughput.",
            envvar="WATCHFLOOR_BATCH_WITHIN",
        ),
    ] = None,
    table_store: Annotated[
        str | None,
        typer.Option(
            help="Where the worker keeps its state table: memory:// (rebuilt from Kafka at start) or rocksdb://.",
            envvar="WATCHFLOOR_TABLE_STORE",
        ),
    ] = None,
    datadir: Annotated[
        Path | None,
        typer.Option(
            help="This worker's own data directory (RocksDB files); keep it across restarts.",
            envvar="WATCHFLOOR_FAUST_DATADIR",
        ),
    ] = None,
    session_timeout: Annotated[
        float | None, typer.Option(help="Seconds after which a silent worker's partitions go to the others.")
    ] = None,
    idle_after: Annotated[
        float | None,
        typer.Option(help="Seconds; only for producers that write no watermark records (costs determinism)."),
    ] = None,
    loglevel: Annotated[str, typer.Option(help="Log level of the worker (Faust's and ours).")] = "info",
    trace: Annotated[bool, typer.Option(help="Log every batch's offsets, watermarks and detections.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Start a distributed worker (Kafka, faust-streaming). Start several: they share the partitions."""
    try:
        from watchfloor.stream_processors.kafka.app import check_table_store
        from watchfloor.stream_processors.kafka.worker import run_worker
    except ImportError as e:
        raise fail(f"distributed mode needs the kafka extra: pip install 'watchfloor[kafka]' ({e})") from None
    from pydantic import ValidationError

    from watchfloor.stream_processors.rulefile import RuleLoadError

    from ..wiring import WiringError, build_engine, detection_sink, kafka_settings

    cfg = app_config(config)
    try:
        settings = kafka_settings(
            cfg,
            bootstrap=broker,
            prefix=prefix,
            partitions=partitions,
            app_id=app_id,
            batch_within=batch_within,
            table_store=table_store,
            datadir=str(datadir) if datadir is not None else None,
            session_timeout=session_timeout,
            idle_after=idle_after,
        )
        check_table_store(settings.table_store)
        engine = build_engine(rules or list(cfg.rules))
        sink = detection_sink(cfg, store or cfg.store, dispatch=dispatch)
    except ValidationError as e:
        raise fail(f"invalid kafka settings: {e.errors()[0]['loc'][0]}: {e.errors()[0]['msg']}") from None
    except (ValueError, ImportError, RuleLoadError, WiringError) as e:
        raise fail(str(e)) from None
    run_worker(engine, settings, sink, loglevel=loglevel, trace=trace)


@app.command()
def produce(
    broker: BrokerOpt = None,
    prefix: PrefixOpt = None,
    partitions: PartitionsOpt = None,
    config: ConfigOpt = None,
    once: Annotated[bool, typer.Option("--once", help="One pass over the sources, then exit.")] = False,
    interval: Annotated[float | None, typer.Option(help="Seconds between polls (default from config).")] = None,
) -> None:
    """Poll the configured sources into the store, then relay new documents to Kafka (outbox)."""
    try:
        from watchfloor.stream_processors.kafka.publisher import KafkaPublisher
    except ImportError as e:
        raise fail(f"distributed mode needs the kafka extra: pip install 'watchfloor[kafka]' ({e})") from None
    from watchfloor.producers.poller import SourcePoller
    from watchfloor.producers.relay import KafkaRelay
    from watchfloor.stream_processors.stores import open_store

    from ..wiring import kafka_settings

    cfg = app_config(config)
    settings = kafka_settings(cfg, bootstrap=broker, prefix=prefix, partitions=partitions)
    st = open_store(cfg.store)
    publisher = KafkaPublisher(settings.bootstrap, settings.prefix, partitions=settings.partitions)
    publisher.ensure_topics()
    poller = SourcePoller(st, cfg.sources, cfg.max_body_chars)
    relay = KafkaRelay(st, publisher)
    wait = interval if interval is not None else cfg.poll_interval.total_seconds()
    stop = stop_on_sigterm()
    try:
        while True:
            summary = poller.poll_due()
            stats = relay.run_once()
            err.print(
                f"{summary.accepted} new documents, {summary.dead_lettered} dead letters · "
                f"{stats.relayed} relayed to Kafka ({publisher.spooled()} spooled)",
                highlight=False,
            )
            if once or stop.wait(wait):
                break
    except KeyboardInterrupt:
        pass
    finally:
        publisher.close()
        st.close()


@app.command()
def archive(
    broker: BrokerOpt = None,
    prefix: PrefixOpt = None,
    config: ConfigOpt = None,
    store: Annotated[str | None, typer.Option(help="Store URL (overrides config).", envvar="WATCHFLOOR_STORE")] = None,
) -> None:
    """Copy the Kafka topics (documents, detections, dead letters) into the SQL store, for backtests."""
    try:
        from watchfloor.stream_processors.kafka.archive import KafkaArchive
    except ImportError as e:
        raise fail(f"distributed mode needs the kafka extra: pip install 'watchfloor[kafka]' ({e})") from None
    from watchfloor.stream_processors.stores import open_store

    from ..wiring import kafka_settings

    cfg = app_config(config)
    settings = kafka_settings(cfg, bootstrap=broker, prefix=prefix)
    st = open_store(store or cfg.store)
    sink = KafkaArchive(settings.bootstrap, st, topic_prefix=settings.prefix)
    stop = stop_on_sigterm()
    try:
        sink.run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        sink.close()
        st.close()


@app.command()
def notify(
    config: ConfigOpt = None,
    store: Annotated[str | None, typer.Option(help="Store URL (overrides config).", envvar="WATCHFLOOR_STORE")] = None,
    once: Annotated[bool, typer.Option("--once", help="Dispatch what is pending, then exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between looks at the store.")] = 2.0,
) -> None:
    """Deliver alerts for detections in the store (the notifier service of distributed mode)."""
    from watchfloor.stream_processors.stores import open_store

    from ..wiring import WiringError, build_dispatcher

    cfg = app_config(config)
    st = open_store(store or cfg.store)
    try:
        dispatcher = build_dispatcher(cfg, st)
    except WiringError as e:
        st.close()
        raise fail(str(e)) from None
    stop = stop_on_sigterm()
    try:
        while True:
            n = dispatcher.run_once()
            if n:
                err.print(f"{n} detections dispatched", highlight=False)
            if once or stop.is_set() or (n == 0 and stop.wait(interval)):
                break
    except KeyboardInterrupt:
        pass
    finally:
        st.close()
