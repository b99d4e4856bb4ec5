"""The distributed-mode commands: produce, worker, archive, notify (Kafka; settings from the config's `kafka:`).

Every command takes --broker and --prefix (topic prefix: one broker can hold several pipelines); what is
not given comes from the config's `kafka:` section. The commands build nothing themselves (watchfloor.wiring).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from watchfloor.alerts.backlog import BacklogHold
from watchfloor.schemas.plural import noun
from watchfloor.stream_processors.kafka.clients import Availability, client_logs_kept_out
from watchfloor.stream_processors.stores.errors import StoreError, store_problem, store_state

from ._common import (
    ConfigOpt,
    QuietCycles,
    StampedFormatter,
    Stop,
    StoryReadProgress,
    app,
    app_config,
    counted,
    edited,
    err,
    fail,
    interval_seconds,
    log_times,
    print_dead_letters,
    print_editions_bound,
    print_event_time,
    redact_url,
    seen_before,
    source_absent,
    source_failed,
    stop_on_sigterm,
    stopped_line,
    undetected_documents,
    undetected_note,
)
from .alerts import (
    SPOOLED_EXIT,
    PolledSources,
    after_take_over,
    delivery_summary,
    exit_if_sources_failed,
    exit_if_undelivered,
    failed_sources_note,
    next_wait,
    print_channel_checks,
)
from .health import Heartbeat, between_deliveries

if TYPE_CHECKING:
    from watchfloor.stream_processors.ports import Store

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
StoreOpt = Annotated[str | None, typer.Option(help="Store URL (default: $WATCHFLOOR_STORE, else the config's store).")]
KAFKA_EXTRA = "distributed mode needs the kafka extra: pip install 'watchfloor[kafka]'"
BROKER_HINT = "check --broker, $WATCHFLOOR_KAFKA or the config's kafka.bootstrap; `scripts/kafka-local start` runs one"
# `produce --once` tries the broker this long: kafka-python waits its whole timeout (15 s) on a broker that
# refuses connections, and a pass tries it several times (topics, each source's relay, the spool).
ONCE_BROKER_TIMEOUT_S = 2.0


@contextmanager
def command_logs(library: str, availability: Any) -> Iterator[None]:
    """For a long-running command's duration: its state changes (broker gone / back, spool drained) logged to
    stderr with a timestamp, and `library`'s logs through a funnel (`funnel_client_logs`). Every logger touched is
    as it was afterwards, so a command run in-process (the tests, a program embedding the CLI) leaves no INFO level
    or unpropagated client logger behind for whatever runs next."""

    from watchfloor.stream_processors.kafka.clients import funnel_client_logs

    touched = [logging.getLogger(), logging.getLogger("watchfloor.stream_processors.kafka"), logging.getLogger(library)]
    saved = [(lg, lg.level, lg.propagate, list(lg.handlers)) for lg in touched]
    if err.stamp is not None:  # (log_times: the command's lines start with the UTC time; its logged ones too)
        stamped = logging.StreamHandler()
        stamped.setFormatter(StampedFormatter(err.stamp, "[%(levelname)s] %(message)s"))
        touched[0].addHandler(stamped)  # (whatever handlers the root has already: the lines are stamped here)
    else:
        logging.basicConfig(level=logging.WARNING, format="[%(asctime)s] [%(levelname)s] %(message)s")
    touched[1].setLevel(logging.INFO)
    funnel_client_logs(library, availability)
    try:
        yield
    finally:
        for logger, level, propagate, handlers in saved:
            logger.setLevel(level)
            logger.propagate = propagate
            logger.handlers[:] = handlers


def settings_for(cfg: Any, **options: Any) -> Any:
    """The config's kafka: section with the options given; a bad value ends the command with one line."""
    from pydantic import ValidationError

    from ..wiring import kafka_settings

    try:
        settings = kafka_settings(cfg, **options)
    except ValidationError as e:
        first = e.errors()[0]
        raise fail(f"kafka settings: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    from watchfloor.stream_processors.kafka import security

    # Every Kafka client this command makes from here on (kafka-python's and Faust's) authenticates this way.
    try:
        chosen = security.from_settings(settings)
        chosen.ssl_context()  # a missing or unreadable CA/cert file is said now, in one line
    except security.KafkaSecurityError as e:
        raise fail(str(e)) from None
    security.use(chosen)
    if chosen.protocol == "SASL_PLAINTEXT":  # the client libraries' own warning comes once per connection
        logging.getLogger("watchfloor.kafka").warning(
            "kafka %s: %s: the credentials cross the network unencrypted (SASL_SSL encrypts them)",
            settings.bootstrap,
            chosen.describe(),
        )
    return settings


def _subscribed_from_slack(store: Any) -> list[Any]:
    """The subscriptions of `slack:<id>` channels in the store's control log (subscribed from Slack), for the
    start-up check; none when the log cannot be read now (the check is a hint: the worker's cycles say more)."""
    from watchfloor.alerts.control import ControlLog

    try:
        return [s for s in ControlLog(store).subscriptions() if s.channel.startswith("slack:")]
    except Exception:  # a hint must not stop the start
        logging.getLogger(__name__).debug("start-up check: control log not read", exc_info=True)
        return []


@app.command()
def worker(
    broker: BrokerOpt = None,
    prefix: PrefixOpt = None,
    partitions: PartitionsOpt = None,
    app_id: Annotated[
        str | None, typer.Option(help="Consumer group of the workers (default: <prefix>-worker).")
    ] = None,
    rules: Annotated[list[str] | None, typer.Option("--rules", "-r", help="Rule file/dir (repeatable).")] = None,
    store: StoreOpt = None,
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
        typer.Option(help="This worker's own data directory (RocksDB files; default var/faust/<group>)."),
    ] = None,
    session_timeout: Annotated[
        float | None, typer.Option(help="Seconds after which a silent worker's partitions go to the others.")
    ] = None,
    idle_after: Annotated[
        float | None,
        typer.Option(help="Seconds; only for producers that write no watermark records (costs determinism)."),
    ] = None,
    event_loop: Annotated[
        str | None,
        typer.Option(
            help="The worker's event loop: auto (uvloop when installed), uvloop or asyncio.",
            envvar="WATCHFLOOR_EVENT_LOOP",
        ),
    ] = None,
    loglevel: Annotated[str, typer.Option(help="Log level of the worker (Faust's and ours).")] = "info",
    trace: Annotated[bool, typer.Option(help="Log every batch's offsets, watermarks and detections.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Start a distributed worker (Kafka, faust-streaming). Start several: they share the partitions."""
    try:
        from watchfloor.stream_processors.kafka.app import check_table_store
        from watchfloor.stream_processors.kafka.late import StoreLateLog
        from watchfloor.stream_processors.kafka.rules_guard import RulesMismatch
        from watchfloor.stream_processors.kafka.topics import MissingTopics, TopicLayoutError
        from watchfloor.stream_processors.kafka.worker import run_worker
    except ImportError as e:
        raise fail(f"{KAFKA_EXTRA} ({e})") from None
    from watchfloor.stream_processors.rulefile import RuleLoadError

    from ..wiring import (
        DatadirTaken,
        WiringError,
        build_channel_notifiers,
        claim_worker_datadir,
        detection_sink,
        open_store,
        worker_engine,
        worker_settings,
    )

    cfg = app_config(config)
    settings = worker_settings(
        settings_for(
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
            event_loop=event_loop,
        )
    )
    try:
        check_table_store(settings.table_store)
        engine = worker_engine(rules or list(cfg.rules), cfg)
        sink = detection_sink(cfg, store or cfg.store, dispatch=dispatch)
    except (ValueError, ImportError, RuleLoadError, WiringError) as e:
        raise fail(str(e)) from None
    # The sink opens the store at the first detection, on the agent's thread; an unusable one (corrupt,
    # read-only, unreachable) is said here in one line instead, not as a traceback per retry later.
    opened = open_store(store or cfg.store)
    try:
        subscribed = _subscribed_from_slack(opened) if dispatch else []
        if dispatch:  # a dispatcher like run and notify: say at start what is wrong with a channel
            from watchfloor.alerts.control import channel_names
            from watchfloor.alerts.dispatcher import check_channels

            checks = check_channels(build_channel_notifiers(cfg), [s.channel for s in subscribed])
            print_channel_checks(checks, channel_names(subscribed), record=opened)
    finally:
        opened.close()
    from ..rule_watch import RuleFilesWatch, edited_rules_note, watch_in_background
    from ..rule_watch import log as rules_log

    # A worker reads its rules once, at start: an edit of its packs is logged (each once), so a pack edited under a
    # running pipeline is not silently ignored (outside trial 13, M1); `status --config` compares fingerprints.
    watch_in_background(
        RuleFilesWatch(rules or list(cfg.rules)),
        lambda changes: rules_log.warning(
            "%s: stop all workers, then start them all with these rules (`watchfloor status --config` compares)",
            edited_rules_note(changes),
        ),
    )
    try:
        # This process's own data directory, locked for its lifetime: a second worker started from the same folder
        # takes the next free one rather than share it (outside trial 39, L1). After the store's check: a read-only
        # disk is said of the store first.
        assert settings.datadir is not None  # (worker_settings decided it)
        claimed, _datadir_lock, moved = claim_worker_datadir(Path(settings.datadir), chosen=datadir is not None)
        if moved is not None:
            err.print(f"note: {escape(moved)}", highlight=False)
        settings = settings.model_copy(update={"datadir": str(claimed)})
    except DatadirTaken as e:
        raise fail(str(e)) from None
    except OSError as e:  # (cannot be made or locked: a read-only disk, a file where the directory should be)
        raise fail(f"{e.filename or settings.datadir}: {e.strerror or e}") from None
    # its presence record on a thread of its own (PresenceBeat), in the store its detections go to
    presence = PresenceBeat(lambda: open_store(store or cfg.store), "worker")
    presence.start()
    try:
        with log_times(logs=False):  # (Faust's log lines carry their time already)
            run_worker(
                engine,
                settings,
                sink,
                loglevel=loglevel,
                trace=trace,
                heartbeat=Heartbeat().beat,
                broker_hint=BROKER_HINT,
                # the late documents per source, in the store the detections go to (`status --broker`, /metrics)
                late_log=StoreLateLog(lambda: open_store(store or cfg.store), settings.group),
            )
    except (MissingTopics, TopicLayoutError, RulesMismatch) as e:
        raise fail(str(e)) from None
    finally:
        presence.stop()


def started_release() -> str:
    """The release a long-running process was started with, as `watchfloor --version`'s first line says it."""
    from watchfloor.stream_processors.fingerprint import release

    return f"watchfloor {release()}"


@app.command()
def produce(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="JSONL files (.jsonl/.jsonl.gz), feed files or feed URLs, GDELT exports (else the config's sources)."
        ),
    ] = None,
    broker: BrokerOpt = None,
    prefix: PrefixOpt = None,
    partitions: PartitionsOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Publish the bundled sample articles and feed (a demo pipeline).")
    ] = False,
    resend: Annotated[
        bool,
        typer.Option(
            "--resend",
            help="Relay the store's whole outbox to this prefix again (e.g. after `topics delete` and "
            "`topics create` of the same prefix, or workers whose state was lost). The documents sent before go "
            "marked re-sent: workers that read them drop them (no late report, no alert raised again); a correlate "
            "partition without state takes them as new. After such a reset, an `archive` into the store that "
            "archived the old topics stops (it keeps their correlate records for "
            "replay-workers): archive the new ones into another store (`archive --store URL`), or use a new "
            "--prefix instead.",
        ),
    ] = False,
    source_kind: Annotated[str, typer.Option("--source-kind", help="auto, jsonl, rss or gdelt.")] = "auto",
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="One pass over the sources, then exit (4 when a source failed in any pass, else 3 when documents are "
            "left in the spool or a stop (SIGTERM) left a backlog unread).",
        ),
    ] = False,
    interval: Annotated[
        float | None,
        typer.Option(
            help="Seconds (or a duration: 30s, 5m) between polls (default from config).", parser=interval_seconds
        ),
    ] = None,
    health_store: Annotated[
        str | None,
        typer.Option(
            "--health-store",
            envvar="WATCHFLOOR_HEALTH_STORE",
            help="Also record the sources' health, and copy the dead letters (refused input), in this store: the one "
            "`serve` and `dead-letters` read (/healthz, /metrics, the status page). Best effort: the documents never "
            "wait for it, and dead letters not copied yet go at the next pass.",
        ),
    ] = None,
) -> None:
    """Poll sources into the local store (the outbox), then relay new documents to Kafka.

    Sources are the files and URLs given, else the --config file's sources; --demo publishes the bundled
    sample news. The store is the outbox: documents are validated, deduplicated and dead-lettered there
    first, and a document reaches Kafka at least once even across crashes and broker outages (spooled).
    Each pass says how many documents the broker acknowledged and how many wait in the spool for it;
    --once exits 3 when some wait there (the broker did not answer), and 4 when a source could not be read
    (which wins when both happen), so a cron job or CI notices."""

    # A live produce's lines with their time (log_times), from the first, as a live `run`, `notify` and `serve` say
    # theirs (outside trial 72, LOW-2); its logged lines too (command_logs). A `--once`'s as they were.
    stamps = ExitStack()
    if not once:
        stamps.enter_context(log_times(logs=False))
    with stamps:
        from watchfloor.producers.relay import RelayForgotten

        from ..wiring import DistributedProducer, SpoolTaken, WiringError, open_store, sources_from_args, spool_path
        from .run import behind_places, catching_up_note, source_origins

        cfg = app_config(config if config is not None or not demo else None)
        settings = settings_for(cfg, bootstrap=broker, prefix=prefix, partitions=partitions)
        spool_only = False  # no sources, but documents wait in the spool: this produce sends them, and ends
        if sources:
            try:
                chosen = sources_from_args(sources, source_kind)
            except ValueError as e:  # a lastupdate.txt URL a config would refuse, a file auto reads as no kind
                raise fail(str(e)) from None
        elif demo:
            chosen = list(cfg.sources)
        else:
            chosen = list(cfg.sources) if config is not None else []
            # The spool's message says "the next `watchfloor produce` sends them": with nothing to poll, that one must
            # not refuse (outside trial 22, L2). (Its size: reading it would make its folder and lock.)
            spool_file = spool_path(settings)
            spool_only = not chosen and spool_file.is_file() and spool_file.stat().st_size > 0
            if not chosen and not spool_only:
                if config is not None:
                    raise fail(f"{config} has no sources: give files or feed URLs, or add a sources: list")
                raise fail(
                    "nothing to publish: give JSONL files or feed URLs (watchfloor produce articles.jsonl), "
                    "or --config with a sources: list; --demo publishes the bundled sample news"
                )
        try:
            producer = DistributedProducer(cfg, settings, store_url=store, sources=chosen, resend=resend)
        except ImportError as e:
            raise fail(f"{KAFKA_EXTRA} ({e})") from None
        except (WiringError, SpoolTaken) as e:  # a credentials variable not set; another produce's spool
            raise fail(str(e)) from None
        names = ", ".join(redact_url(origin) for origin in source_origins(chosen))
        if spool_only:
            documents, records = producer.publisher.spool_contents()
            what = _spool_left(SimpleNamespace(spooled=documents, spooled_records=records))
            err.print(
                f"[bold]watchfloor produce[/bold] no sources: sends the spool ({escape(what)} waiting in "
                f"{escape(str(producer.publisher.spool_path))}) -> {escape(settings.prefix)}.documents on "
                f"{escape(settings.bootstrap)}, then ends · {escape(started_release())}",
                highlight=False,
            )
        else:
            err.print(
                f"[bold]watchfloor produce[/bold] {counted(len(chosen), 'source')} ({escape(names)}) -> "
                f"{escape(settings.prefix)}.documents on {escape(settings.bootstrap)}"
                + (" [yellow](the bundled demo news)[/yellow]" if demo and not sources and config is None else "")
                # the release this process runs: `--version` of an install upgraded in place says the new one while
                # this process still runs the old (outside trial 86, F3)
                + f" · {escape(started_release())}"
                # where it spools while the broker is away, and which a second produce would be refused (LOW-6 of
                # outside trial 67: relative to the working directory, not to the config's folder)
                + f" · spool {escape(str(producer.publisher.spool_path.absolute()))}",
                highlight=False,
            )
        if producer.start_note:
            err.print(escape(producer.start_note), highlight=False)
        wait = interval if interval is not None else cfg.poll_interval.total_seconds()
        stop = stop_on_sigterm()
        # After SIGTERM the pass goes on (its documents are stored) but tries the broker no more: what it relays is
        # spooled, so the stop waits at most for the try in progress (kafka.publish_timeout).
        producer.publisher.stop = stop
        heart = Heartbeat()
        lines = QuietCycles()  # a quiet pass's line once per 10 minutes, not every poll
        report = None
        passes = 0
        polled_all = PolledSources()  # every pass's sources, for --once's exit status (a failure in any of them: 4)
        stopped_by: str | None = None  # what stopped a live produce as asked (SIGTERM, Ctrl-C): said last
        unfinished = False  # a `--once` stopped with a JSON Lines backlog not read to its end
        behind = False  # the last pass read only a slice of a JSON Lines source
        health = HealthRecorder(health_store)  # where `serve` looks: the outbox is this process's own
        # its presence record in its outbox store, on a thread of its own (PresenceBeat): a pass waits `interval`
        # (minutes, say) between polls, longer than `status` lists a record unseen. A `--once` keeps none, as notify's.
        presence = None if once else PresenceBeat(lambda: open_store(store or cfg.store), "produce")
        if presence is not None:
            presence.start()
        # (the client logs as they were after the spool's last words at close)
        with command_logs("kafka", producer.publisher.broker):
            try:
                if once:
                    reached = first_contact_once(producer)
                else:
                    wait_for_topics(producer, stop)
                    reached = not stop.is_set()
                if producer.created_topics:
                    err.print(escape(topics_created_note(settings, producer.created_topics)), highlight=False)
                # The topics of this prefix made again since the store sent to them: it sends its documents again.
                if reached and (again := producer.check_topics()):
                    err.print(escape(again), highlight=False)
                while not stop.is_set():
                    heart.beat()
                    passes += 1
                    try:
                        report = producer.cycle()
                    except RelayForgotten as e:  # forgotten under it: stop, rather than send the whole log again
                        raise fail(str(e)) from None
                    summary = report.summary
                    polled_all.add(summary)
                    record_source_health(producer.store, summary, chosen)
                    health.record(summary, chosen, producer.store)
                    for src in summary.errors:  # every pass, one line per source that failed (a live produce goes on)
                        err.print(source_failed(src.origin, src.error), highlight=False)
                    for line in lines.recoveries.lines(summary.sources, time.monotonic()):
                        err.print(line, highlight=False)
                    # an optional inbox not there yet: no failure, said once until its file appears
                    for origin in lines.newly_absent(src.origin for src in summary.absent):
                        err.print(source_absent(origin), highlight=False)
                    print_dead_letters(summary.dead_letters)  # each with its place, as `ingest` and `run` say them
                    print_editions_bound(summary)
                    # Dated beyond the workers' skew into the future: they count it at its receive time, as the newest
                    # report of its group (outside trial 27, F3: only the workers' dead-letter topic said so).
                    print_event_time(
                        report.future_dated,
                        "the workers' dead-letter topic holds them all (`watchfloor dead-letters --stage event-time` "
                        "once `watchfloor archive` stored them)",
                    )
                    busy = (
                        summary.accepted
                        or summary.editions_left_out
                        or summary.dead_lettered
                        or summary.errors
                        or report.sent
                        or report.outstanding
                    )
                    shown = lines.line(
                        f"polled {counted(len(summary.sources), 'source')}{failed_sources_note(summary)}: "
                        f"{counted(summary.accepted, 'new document')}"
                        f"{edited(summary.editions, summary.editions_left_out)}, "
                        # as `run` says them (outside trial 39, L: an exact repeat went uncounted here)
                        f"{summary.duplicates} already seen, "
                        f"{counted(summary.dead_lettered, 'dead letter')}"
                        f"{seen_before(summary.known_dead)} · {produce_summary(report)}"
                        + (escape(catching_up_note(summary)) if summary.behind else ""),
                        quiet=not busy,
                    )
                    if shown is not None:
                        err.print(shown, highlight=False)
                    # A JSON Lines backlog is read a slice per pass, as `run` reads it: the next pass at once (`--once`
                    # too), so feeds are polled and each slice relayed between the slices. A stop ends it between them.
                    behind = bool(summary.behind)
                    if (once or (spool_only and not report.outstanding)) and not behind:
                        break  # (spool only: nothing to poll once it is sent)
                    # (a broker away is probed meanwhile, and the spool sent when it is back: DistributedProducer.rest)
                    if not once and producer.rest(stop, 0 if behind else wait):
                        break
                unfinished = once and behind  # (a pass that read to the end breaks out before the stop is looked at)
                stopped_by = stop.signal if unfinished or not once else None
            except KeyboardInterrupt:
                stopped_by = stop.signal or "Ctrl-C"  # (wait_for_topics turns SIGTERM into one)
            finally:
                if presence is not None:
                    presence.stop()
                producer.close()
                health.close()
        if stopped_by is not None:
            spooled = producer.publisher.spool_path.exists()  # (reading it would make its folder and lock)
            documents, records = producer.publisher.spool_contents() if spooled else (0, 0)
            if records:  # what the stop left for the next produce (the pass's last publishes, a broker away)
                left = SimpleNamespace(spooled=documents, spooled_records=records)
                err.print(
                    f"{_spool_left(left)} waiting in {escape(str(producer.publisher.spool_path))}; the next "
                    "`watchfloor produce` sends them once the broker answers",
                    highlight=False,
                )
            if unfinished and report is not None:
                err.print(
                    f"[yellow]not everything was read:[/yellow] stopped while catching up "
                    f"({escape(behind_places(report.summary))}); the next `watchfloor produce` goes on from there",
                    highlight=False,
                )
            err.print(stopped_line("produce", stopped_by, passes, "pass"), highlight=False)
        if once and report is not None and report.outstanding and stopped_by is None:  # (a stop said it above)
            err.print(
                f"[yellow]not everything reached Kafka:[/yellow] {_spool_left(report)} waiting in "
                f"{escape(str(report.spool_path))}; the next `watchfloor produce` sends them once the broker answers",
                highlight=False,
            )
        if once and report is not None:
            exit_if_sources_failed(polled_all)  # exit 4, for a source failed in any pass: wins over 3 (both are said)
            if report.outstanding or unfinished:
                raise typer.Exit(SPOOLED_EXIT)


def record_source_health(store: Any, summary: Any, sources: Any, *, quiet: bool = False) -> bool:
    """Each source's poll, for /healthz and /metrics of a `serve` on the outbox store (as `run` records its own).
    False when it could not be recorded (said, unless `quiet`)."""
    from datetime import UTC, datetime

    from watchfloor.web.activity import record_sources

    from .run import source_origins, source_poll

    if not summary.sources:
        return True
    polls = [source_poll(s) for s in summary.sources]
    try:
        record_sources(store, datetime.now(UTC), polls, source_origins(sources))
    except Exception as e:  # monitoring only: the documents are stored and relayed all the same
        if not quiet:
            err.print(
                f"[yellow]could not record the sources' health[/yellow]: {escape(store_problem(e))}", highlight=False
            )
        return False
    return True


def copy_dead_letters(outbox: Any, target: Any, batch: int = 1000) -> int:
    """The outbox's dead letters (the producer's refusals: bad JSON, an unknown field, an impossible date) not copied
    yet, appended to `target`, the store `serve`, `/metrics` and `watchfloor dead-letters` read (trial 45, MED-3: in
    the compose layout they stayed in the producer's own outbox, where no operator looks). Each copy is idempotent
    (a dead letter's id is stable: the append adds it once), and the outbox's checkpoint moves only after the append,
    so a store that was down gets them at a later pass. Returns how many were read to copy."""
    from watchfloor.retention import DEAD_LETTERS_COPIED  # the outbox's checkpoint (read no document: no prune bound)
    from watchfloor.schemas.events import EventType
    from watchfloor.stream_processors.ports import Checkpoint

    copied = 0
    while True:
        at = outbox.checkpoint_position(DEAD_LETTERS_COPIED)
        got = outbox.read(at, types={EventType.DEAD_LETTER.value}, limit=batch)
        if not got:
            return copied
        target.append([se.event for se in got])
        outbox.commit(DEAD_LETTERS_COPIED, Checkpoint(got[-1].position, None), [], since=at)
        copied += len(got)


class HealthRecorder:
    """The sources' health in a second store, the one `serve` reads (compose: the shared PostgreSQL; the outbox is
    the producer's own file). Best effort: opened when first needed, a failure said once until it works again."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.store: Any = None
        self.failing = False

    def record(self, summary: Any, sources: Any, outbox: Any = None) -> None:
        if not self.url:
            return
        try:
            if self.store is None:
                from ..wiring import open_store  # the one store opener

                self.store = open_store(self.url)
            ok = record_source_health(self.store, summary, sources, quiet=True)
            if ok and outbox is not None:
                copy_dead_letters(outbox, self.store)
        except Exception as e:  # the store is down or the URL is wrong: the documents go on all the same
            ok = False
            if not self.failing:
                err.print(
                    f"[yellow]--health-store {escape(redact_url(self.url))}: cannot record the sources' health "
                    f"there[/yellow] ({escape(store_problem(e))}); trying again each pass",
                    highlight=False,
                )
        else:
            if not ok and not self.failing:
                err.print(
                    f"[yellow]--health-store {escape(redact_url(self.url))}: could not record the sources' health "
                    "there[/yellow]; trying again each pass",
                    highlight=False,
                )
        if ok and self.failing:
            err.print(f"--health-store {escape(redact_url(self.url))}: recording again", highlight=False)
        self.failing = not ok

    def close(self) -> None:
        if self.store is not None:
            try:
                self.store.close()
            except Exception:  # closing a store that went away
                pass


def produce_summary(report: Any) -> str:
    """What a round did with Kafka: documents the broker acknowledged, and what waits in the spool for it."""
    text = f"{report.sent} sent to Kafka"
    if report.drained:
        text += f" ({report.drained} of them from the spool)"
    if report.outstanding:
        text += f", {_spool_left(report)} waiting in the spool for the broker"
    return text


def _spool_left(report: Any) -> str:
    marks = report.spooled_records - report.spooled
    text = f"{report.spooled} document{'s' if report.spooled != 1 else ''}"
    if marks:
        text += f" and {marks} watermark record{'s' if marks != 1 else ''}"
    return text


def first_contact_once(producer: Any) -> bool:
    """`produce --once`: create (or check) the topics if the broker answers a short probe, then do the pass
    whatever came of it.

    Waiting for the broker here hung a one-pass command forever with nothing stored; the outbox and the spool
    need no broker, and the next `produce` sends what the spool holds. Whether the broker answered."""
    from watchfloor.stream_processors.kafka.clients import unreachable_errors
    from watchfloor.stream_processors.kafka.topics import TopicLayoutError, reach

    publisher = producer.publisher
    publisher.broker.meanwhile = (
        f"this pass stores the documents and spools them to {publisher.spool_path} for the next produce ({BROKER_HINT})"
    )
    try:
        reach(publisher.bootstrap, ONCE_BROKER_TIMEOUT_S)
        # The broker answered: creating topics (leaders elected) gets the publisher's full timeout.
        producer.created_topics = publisher.ensure_topics()
    except unreachable_errors() as e:
        # The pass spools without trying the broker known to be away, until a probe finds it answering
        # (KafkaPublisher.missed); a try after that waits at most 2 s, not the full 15 s.
        publisher.timeout_s = min(publisher.timeout_s, ONCE_BROKER_TIMEOUT_S)
        publisher.missed(e)
        return False
    except TopicLayoutError as e:
        raise fail(str(e)) from None
    publisher.broker.up()
    return True


def topics_created_note(settings: Any, created: list[str]) -> str:
    """The line `produce` says when it created missing topics (outside trial 13, L2: it did so silently, so a
    mistyped --prefix made a pipeline of its own that no worker reads): which, with their partitions."""
    from watchfloor.stream_processors.kafka.topics import topic_specs

    made = [
        f"{spec.name} ({counted(spec.partitions, 'partition')})"
        for spec in topic_specs(settings.prefix, settings.partitions)
        if spec.name in created
    ]
    return (
        f"created {counted(len(created), 'missing Kafka topic')} on {settings.bootstrap}: {', '.join(made)} "
        f"(workers of prefix {settings.prefix} read them; `watchfloor topics create` makes them beforehand)"
    )


def wait_for_topics(producer: Any, stop: threading.Event) -> None:
    """Live `produce`: the topics are created before the first poll, so a broker away at start is waited for.

    The publisher's words for an outage are about spooling, which it does not do yet: the warning says it waits.
    SIGTERM ends the wait at once: a try blocks inside kafka-python for its whole timeout (15 s), where the stop
    flag alone is not looked at (KeyboardInterrupt is what `produce` already ends on, closing everything)."""
    from watchfloor.stream_processors.kafka.topics import TopicLayoutError

    broker = producer.publisher.broker
    spooling = broker.meanwhile
    broker.meanwhile = f"waiting for it to create the topics before polling the sources ({BROKER_HINT})"

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if isinstance(stop, Stop):
            stop.on_signal(signum, frame)  # (names the signal for the last line; never set() in a handler: Stop)
        else:
            threading.Thread(target=stop.set, daemon=True).start()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        producer.wait_for_broker(stop)
    except TopicLayoutError as e:
        raise fail(str(e)) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        broker.meanwhile = spooling


@app.command()
def archive(
    broker: BrokerOpt = None,
    prefix: PrefixOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Copy the Kafka topics (documents, detections, dead letters) into the SQL store, for backtests, and the
    correlate topic's records as the workers read them, for `replay-workers` once the broker has let them go.

    Says at start what it reads and where it writes, its partitions once the group assigned them, what it
    archived (at most a line per 30 s while records come; a quiet one per 10 minutes) and, at exit, the totals."""
    try:
        import kafka  # noqa: F401
    except ImportError as e:
        raise fail(f"{KAFKA_EXTRA} ({e})") from None
    from ..wiring import build_archive, open_store

    # Its lines with their UTC time, as a live `produce`, `worker` and `notify` say theirs (archive is always live)
    with log_times(logs=False):
        cfg = app_config(config)
        settings = settings_for(cfg, bootstrap=broker, prefix=prefix)
        url = store or cfg.store
        st = open_store(url)
        sink = build_archive(settings, st, broker_hint=BROKER_HINT)
        err.print(
            f"[bold]watchfloor archive[/bold] {escape(sink.group_id)}: {escape(', '.join(sink.topics))} on "
            f"{escape(settings.bootstrap)} -> {escape(redact_url(url))} · {escape(started_release())}",
            highlight=False,
        )
        progress = ArchiveProgress(sink.assigned)
        stop = stop_on_sigterm()
        from watchfloor.stream_processors.ports import RecordConflict

        conflict: RecordConflict | None = None
        # its presence record in the store it archives into, saved at most once per PRESENCE_EVERY seconds
        presence = command_presence(st, "archive")
        heart = Heartbeat()

        def cycle() -> None:
            heart.beat()
            presence.seen(datetime.now(UTC))

        with command_logs("kafka", sink.broker):
            try:
                sink.run(stop, on_cycle=cycle, on_poll=progress.poll)
            except KeyboardInterrupt:
                pass
            except RecordConflict as e:
                conflict = e
            finally:
                presence.stop()
                sink.close()
                st.close()
        err.print(f"archive stopped: {progress.totals()}", highlight=False)
        if conflict is not None:
            raise fail(str(conflict))


class ArchiveProgress:
    """The lines `archive` prints as it goes: its partitions when the group assigns them (or takes them away);
    what it archived since the last line, at the first records, at the end of each burst and every `every`
    seconds of a long one; a line per `quiet_every` seconds when none come (QuietCycles), so a stopped archive
    still shows."""

    def __init__(
        self,
        assigned: Any,
        every: float = 30.0,
        quiet_every: float = 600.0,
        clock: Any = time.monotonic,
    ) -> None:
        self.assigned = assigned  # () -> {topic: partitions}
        self.every = every
        self.clock = clock
        self.quiet = QuietCycles(quiet_every, clock)
        self.partitions: dict[str, int] = {}
        self.total = ArchiveTally()
        self.since = ArchiveTally()  # not said yet
        self.last: float | None = None  # when records were last said

    def poll(self, stats: Any) -> None:
        now = self.assigned()
        if now != self.partitions:
            self.partitions = now
            shown = ", ".join(f"{t} {n}" for t, n in sorted(now.items())) or "none"
            err.print(f"reading {counted(sum(now.values()), 'partition')}: {escape(shown)}", highlight=False)
        self.total.add(stats)
        self.since.add(stats)
        at = self.clock()
        line = None
        # (watermark records alone are no news; correlate records are)
        events = self.since.archived + self.since.duplicates + self.since.correlate
        if events and (not stats.records or self.last is None or at - self.last >= self.every):
            # the first events, every `every` seconds of a long stream, and the end of each burst
            self.last = at
            line = self.quiet.line(f"{self.since.line()}; {self.total.archived} in all", quiet=False)
            self.since = ArchiveTally()
        elif not events:
            line = self.quiet.line(f"nothing new; {self.total.archived} archived in all", quiet=True)
        if line is not None:
            err.print(line, highlight=False)

    def totals(self) -> str:
        return self.total.line()


class ArchiveTally:
    """Counts of the archive's polls (KafkaArchive.ArchiveStats, summed)."""

    def __init__(self) -> None:
        self.records = self.archived = self.duplicates = self.rejected = self.watermarks = 0
        self.correlate = self.kept = 0

    def add(self, stats: Any) -> None:
        self.records += stats.records
        self.archived += stats.archived
        self.duplicates += stats.duplicates
        self.rejected += stats.rejected
        self.watermarks += stats.watermarks
        self.correlate += stats.correlate
        self.kept += stats.kept

    def said(self) -> str:
        # The counts add up to the records read (trial 7: 110 read, 107 new and 3 unsaid, the watermarks).
        text = (
            f"{self.archived} new events ({self.records} records read, {self.duplicates} already in the store, "
            f"{self.rejected} refused as dead letters, {self.watermarks} watermarks not kept)"
        )
        if self.correlate:  # the correlators' input, kept as read for `replay-workers`
            text += (
                f" and {self.kept} correlate records kept for replay-workers ({self.correlate} read, "
                f"{self.correlate - self.kept} already kept)"
            )
        return text

    def line(self) -> str:
        """`archived N new events (…)`; and when every event read was in the store already, why that is no fault:
        `produce` (its outbox) and the workers (their detections) write to the store they are configured with, so
        an archive on that same store, as in the README's walkthrough, finds it full (outside trial 11, L6)."""
        if self.archived or not self.duplicates:
            return f"archived {self.said()}"
        return (
            f"archived {self.said()}: the store already holds all {self.duplicates} events read, as when `produce` and "
            "the workers write to this store themselves (archive then has nothing to add; it is for a store they do "
            "not write)"
        )


@app.command("replay-workers")
def replay_workers_command(
    broker: BrokerOpt = None,
    prefix: PrefixOpt = None,
    rules: Annotated[list[str] | None, typer.Option("--rules", "-r", help="Rule file/dir (repeatable).")] = None,
    store: StoreOpt = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the replayed detection and retraction events (JSON Lines).")
    ] = None,
    from_store: Annotated[
        bool,
        typer.Option(
            "--from-store",
            help="Read the correlate records `watchfloor archive` kept in the store, not the broker's (which is not "
            "asked). Without it the store is read only where the broker no longer holds them (the topic keeps a week).",
        ),
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Replay what the workers raised: each correlate partition's records again, in the order the workers read
    them, through the rules; compared with the detections in the store. Exit 1 when they differ.

    The records come from the broker, and from the store where the broker no longer holds them (kept there by
    `watchfloor archive`); the output says which, and names any offsets neither had (then the result is not exact)."""
    try:
        from watchfloor.stream_processors.kafka.clients import unreachable_errors
        from watchfloor.stream_processors.kafka.correlate_replay import compare, replay_workers
        from watchfloor.stream_processors.kafka.rules_guard import rules_fingerprint
    except ImportError as e:
        raise fail(f"{KAFKA_EXTRA} ({e})") from None
    from watchfloor.schemas.events import EventType
    from watchfloor.stream_processors.fingerprint import (
        UNMARKED_RELEASE,
        difference,
        legacy_fingerprint,
        other_release,
        release,
    )
    from watchfloor.stream_processors.ports import RecordArchive
    from watchfloor.stream_processors.rulefile import RuleLoadError

    from ..wiring import WiringError, open_store, worker_engine

    cfg = app_config(config)
    settings = settings_for(cfg, bootstrap=broker, prefix=prefix)
    try:
        engine = worker_engine(rules or list(cfg.rules), cfg)
    except (ValueError, ImportError, RuleLoadError, WiringError) as e:
        raise fail(str(e)) from None
    fingerprint = rules_fingerprint(engine)
    legacy = legacy_fingerprint(engine)  # these rules as a release of before the mark fingerprinted them
    url = store or cfg.store
    st = open_store(url, create=False)  # before the replay: a wrong store is said at once
    archive = st if isinstance(st, RecordArchive) else None
    try:
        got = replay_workers(
            engine,
            settings.bootstrap,
            settings.prefix,
            rules=fingerprint,
            timeout_s=15.0,
            archive=archive,
            from_store=from_store,
            same={legacy},
        )
    except (LookupError, TimeoutError) as e:
        st.close()
        raise fail(str(e)) from None
    except unreachable_errors() as e:
        st.close()
        raise fail(f"Kafka broker {settings.bootstrap} unreachable: {e} ({BROKER_HINT})") from None
    try:
        kinds = {EventType.DETECTION.value, EventType.RETRACTION.value}
        stored: list[Any] = []
        after = 0
        while batch := st.read(after, types=kinds, limit=5000):
            stored.extend(se.event for se in batch)
            after = batch[-1].position
    finally:
        st.close()
    err.print(replay_source(got, settings, redact_url(url)), markup=False, highlight=False)
    err.print(
        f"replayed {got.records} records of {got.partitions} correlate partitions: {replayed_counts(got.events)}",
        highlight=False,
    )
    if json_out is not None:
        import orjson

        json_out.write_bytes(b"".join(orjson.dumps(ev.model_dump(mode="json")) + b"\n" for ev in got.events))
    exact = got.exact
    lost = {p: o for p, o in got.truncated.items() if got.sources.get(p) == "kafka"}  # not made up from the store
    if lost:
        shown = ", ".join(f"{p} from offset {o}" for p, o in sorted(lost.items()))
        err.print(
            f"not exact: the broker no longer holds the first records of {noun(len(lost), 'partition')} {shown} (the "
            "topic keeps a "
            "week), and the store has none of them (`watchfloor archive` keeps them)",
            highlight=False,
        )
    if got.gaps:
        n = sum(g.end - g.start for g in got.gaps)
        err.print(f"not exact: {n} correlate records are in neither the store nor the broker:", highlight=False)
        for gap in got.gaps:
            err.print(f"  {gap}", markup=False, highlight=False)
    for theirs, n in sorted(got.other_rules.items()):
        exact = False
        err.print(
            f"not exact: {n} records were routed by workers with {difference(theirs, fingerprint)}: fingerprint "
            f"{theirs}, these rules' is {fingerprint}",
            highlight=False,
        )
    for theirs, n in sorted(got.other_release.items()):
        # The same rules: the records are what the workers read. The correlator that replays them is this
        # release's; if it reads them otherwise, the comparison below names the alerts that differ.
        version = other_release(theirs, fingerprint, legacy) or UNMARKED_RELEASE
        err.print(
            f"{n} records were routed by workers of another watchfloor version ({version}) with the same rules "
            f"(fingerprint {theirs}); they are replayed with this version ({release()}): alerts its "
            "engine raises otherwise are listed below as such",
            highlight=False,
        )
    missing, extra, differ = compare(got.events, stored)
    if missing or extra or differ:
        err.print(
            f"differs from the store ({redact_url(url)}): {len(missing)} raised live and not here, {len(extra)} "
            f"raised here and not live, {len(differ)} with other content",
            highlight=False,
        )
        for what, ids in (("live only", missing), ("replay only", extra), ("other content", differ)):
            for i in ids[:10]:
                err.print(f"  {what}: {i}", markup=False, highlight=False)
        raise typer.Exit(1)
    err.print(
        f"the same {len(stored)} detection and retraction events as the store ({redact_url(url)})"
        + ("" if exact else ", though not exact (above)"),
        highlight=False,
    )


def replayed_counts(events: Sequence[Any]) -> str:
    """What a replay raised, each count what it says: every alert raised, of them those that revise an earlier one
    and those first raised late (`revision` > 0 and `revises` nothing: raised when a late report changed its group's
    history), the retractions, and the alerts that stand at the end, as `alerts list` and a backtest count them.
    (Outside trial 45, MED-5: "4 alerts raised, and on the way 160 revisions" of a store holding 164 alerts, 62
    standing: an alert first raised late has `revision` 1, and was counted as a revision; trial 27 before it: "7
    raised (3 revisions …)" for 4 standing.)"""
    from watchfloor.schemas.events import EventType
    from watchfloor.stream_processors.current import current_alerts

    dets = [ev.payload for ev in events if ev.type == EventType.DETECTION.value]
    revising = sum(1 for d in dets if d.get("revises") is not None)
    late = sum(1 for d in dets if d.get("revises") is None and d.get("revision"))
    retractions = sum(1 for ev in events if ev.type == EventType.RETRACTION.value)
    parts: list[str] = []
    if revising:
        parts.append(f"{revising} revising an earlier one")
    if late:
        parts.append(f"{late} first raised late, when a report changed its group's history (`revision` > 0)")
    standing = len(current_alerts(events))
    return (
        f"{counted(len(dets), 'alert')} raised"
        + (f" ({', '.join(parts)})" if parts else "")
        + f" and {counted(retractions, 'retraction')}; "
        + f"{counted(standing, 'alert')} {'stands' if standing == 1 else 'stand'} at the end (as `alerts list` "
        "and a backtest count them)"
    )


def replay_source(got: Any, settings: Any, store: str) -> str:
    """Where `replay-workers` read the correlate records: the broker, the store, or per partition both."""
    topic = f"{settings.prefix}.correlate"
    if not got.why_store:
        return f"source: Kafka ({topic} on {settings.bootstrap}), every partition"
    kinds = set(got.sources.values())
    if kinds == {"store"}:
        return f"source: the store ({store}), every partition: {got.why_store}"
    parts = []
    for p, kind in sorted(got.sources.items()):
        if kind == "store":
            parts.append(f"{p} from the store")
        elif kind == "kafka":
            parts.append(f"{p} from Kafka")
        else:
            parts.append(f"{p} from the store, then Kafka from offset {got.store_from[p]}")
    return f"source: partition {'; '.join(parts)} (store {store}, {topic} on {settings.bootstrap}): {got.why_store}"


LAG_RETRY = 30.0
"""Seconds before `notify --broker` asks again for a lag it could not read (each try may wait on the broker)."""

LAG_PROBE = 2.0
"""Seconds between the cheap looks (a connection to the broker, WorkersLag.answers) made meanwhile: the lag is asked
for again as soon as a broker that refused answers again, not up to LAG_RETRY later (outside trial 75, F6: the spool
drain after an outage, the very backlog the hold is for, was delivered as it came, 11 s before the next look)."""

CAUGHT_UP_QUIET = 5.0
"""Seconds a held backlog must look read (lag and new documents under WORKERS_BACKLOG) before its alerts go."""

WORKERS_BACKLOG = 200
"""Records of the workers' topics not yet read from which `notify --broker` takes the pipeline to be reading a
backlog (a backfill, a restart after an outage). Below it the workers are live: the records of the last seconds,
which Faust commits every few seconds, must not hold a live alert."""


class WorkersBacklog:
    """`notify --broker`: the workers' lag looked at each cycle, the hold (alerts.backlog) told of it, and the lines
    that say when a hold begins and how it ends."""

    def __init__(self, lag: Any, *, threshold: int = WORKERS_BACKLOG) -> None:
        self.lag = lag  # stream_processors.kafka.status.WorkersLag
        self.threshold = threshold
        self.unknown = False  # the lag could not be read last time (said once until it can)
        self.said: float | None = None  # the hold a line was printed for (its start)
        self.timed_out: float | None = None  # the hold whose time ran out (said once)
        self.retry_at = 0.0  # when a lag that could not be read is asked for again
        self.probe_at = 0.0  # meanwhile, when the broker is next looked at (`answers`)
        self.refused = False  # the broker was taken to be away since the last look that failed: its answer ends that
        self.written: int | None = None  # the documents written as of the last look
        self.looked: float | None = None  # when that look was
        self.quiet_since: float | None = None  # since when a held backlog looks read

    def look(self, hold: BacklogHold, now: float) -> bool:
        """Whether this cycle holds its deliveries."""
        came_back = False
        if self.unknown and now < self.retry_at:
            # (a broker that did not answer is asked again after a while, not at every cycle's cost; but the moment
            # one that refused takes a connection again, its producers' spools drain: that backlog is asked for now)
            if now < self.probe_at:
                return False
            self.probe_at = now + LAG_PROBE
            if not self.lag.answers():
                self.refused = True
                return False
            if not self.refused:
                return False  # it answers, and could not tell the lag: asked again at retry_at
            came_back = True
        lag = self.lag.lag()
        if lag is None:
            self.retry_at = now + LAG_RETRY
            self.probe_at = now + LAG_PROBE
            # Taken to be away (the next answer asks again at once), unless it answered just now and still could not
            # tell (a coordinator moving): then asked again at retry_at, not at every probe's pace.
            self.refused = not came_back
            if not self.unknown:
                err.print(
                    f"[yellow]notify: cannot read the workers' lag from {escape(self.lag.servers.replace(',', ', '))}"
                    "[/yellow]: alerts are delivered as they come until it can",
                    highlight=False,
                )
            self.unknown = True
            # The next look that works starts a new count of what is written: the documents written while the lag
            # could not be read are no backlog of their own (review 24, M1: a live producer's 30 s of writing
            # started a hold at the first look after a failed one).
            self.written = None
            hold.observe(False, now)
            return False
        if self.unknown:
            err.print("notify: the workers' lag can be read again", highlight=False)
        self.unknown = False
        # A producer relaying a file a slice per pass keeps writing while the workers catch up with each slice: their
        # lag dips under the threshold between slices (outside trial 27, F1: the hold ended mid-backfill, 3 of 8
        # runs). So a backlog is also the documents written since the last look, and it is over only once both have
        # stayed under the threshold for CAUGHT_UP_QUIET seconds.
        # What is written counts at a rate: the threshold per CAUGHT_UP_QUIET seconds since the last look (review 24,
        # M1: as a count, a live producer's 8 documents a second held every alert of `notify --interval 30`).
        written = self.lag.written
        grew = 0 if written is None or self.written is None else written - self.written
        since = now - self.looked if self.looked is not None else 0.0
        self.written, self.looked = written, now
        was = hold.since
        behind = lag >= self.threshold
        burst = grew >= self.threshold * max(1.0, since / CAUGHT_UP_QUIET)
        if behind or burst:
            self.quiet_since = None
            hold.observe(True, now)
        elif hold.since is None:
            hold.observe(False, now)
        else:
            self.quiet_since = now if self.quiet_since is None else self.quiet_since
            if now - self.quiet_since >= CAUGHT_UP_QUIET:
                self.quiet_since = None
                hold.observe(False, now)
        if hold.since is not None and hold.since != self.said:
            self.said = hold.since
            # What started it (review 24, M1: "(0 records behind)" when documents written started it)
            why = f"{lag:,} records behind" if behind else f"{grew:,} documents written in {_seconds(since)}"
            err.print(
                f"the workers are reading a backlog ({why}): its alerts are held, then delivered "
                f"together in event time once they are done, or in {_seconds(hold.settle)} at most",
                highlight=False,
            )
        elif was is not None and hold.since is None:
            # After a hold whose time ran out nothing is held any more (review 24, L2)
            then = "" if self.timed_out == was else ": the backlog's alerts go now, in event time"
            err.print(f"the workers caught up after {_seconds(now - was)}{then}", highlight=False)
        holding = hold.holding(now)
        if not holding and hold.since is not None and self.timed_out != hold.since:
            self.timed_out = hold.since
            err.print(
                f"the workers have not caught up after {_seconds(hold.settle)} (backlog_settle; {lag:,} records "
                f"behind, {grew:,} documents written in the last {_seconds(since)}): alerts are delivered as they "
                "come until they catch up",
                highlight=False,
            )
        return holding

    def close(self) -> None:
        self.lag.close()


def workers_lag(settings: Any) -> WorkersBacklog | None:
    """The workers' backlog of the pipeline `settings` (the config's kafka: section with the options given); None,
    said, without the kafka extra."""
    try:
        import kafka  # noqa: F401
    except ImportError as e:
        err.print(f"[yellow]notify --broker: {KAFKA_EXTRA} ({e})[/yellow]; alerts are delivered as they come")
        return None
    from watchfloor.stream_processors.kafka.status import WorkersLag

    return WorkersBacklog(WorkersLag(settings.bootstrap, settings.prefix, worker_group=settings.app_id))


def _seconds(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min"


def _rules_of(cfg: Any) -> Any:
    """The rules `cfg` names, as `notify` checked its subscriptions against at start (wiring.catalog_for); None
    when they do not load (then a subscription's rule is not checked, as at start)."""
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules

    try:
        return load_rules(list(cfg.rules))[1]
    except (RuleLoadError, OSError, ValueError):
        return None


NOTIFY_STORE_RETRY_S = 5.0  # how often a live notify tries its store again while it is away


def _notify_store_watch(interval: float) -> Availability:
    """The store as a live `notify` sees it: said once when it goes (with why) and once when it is back."""
    from ..web.health import store_availability

    watch = store_availability()
    every = min(max(interval, 1.0), NOTIFY_STORE_RETRY_S)
    watch.meanwhile = f"notify tries again every {every:g}s; the alerts wait in the store and on the topics"
    return watch


@app.command()
def notify(
    config: ConfigOpt = None,
    store: StoreOpt = None,
    once: Annotated[bool, typer.Option("--once", help="Dispatch what is pending, then exit.")] = False,
    interval: Annotated[
        float, typer.Option(help="Seconds (or a duration: 2s, 1m) between looks at the store.", parser=interval_seconds)
    ] = 2.0,
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            help="The pipeline's Kafka bootstrap servers: while its workers are behind (a backlog), their alerts are "
            "held and then delivered together in event time, for at most the config's backlog_settle.",
            envvar="WATCHFLOOR_KAFKA",
        ),
    ] = None,
    prefix: PrefixOpt = None,
) -> None:
    """Deliver alerts for detections in the store (the notifier service of distributed mode)."""
    notify_service(config, store, once=once, interval=interval, broker=broker, prefix=prefix)


def notify_presence(store: Any, process: str, interval: float) -> Any:
    """A live `notify`'s presence record (web.activity.PresenceRecorder), under its dispatcher's owner id."""
    from ..stream_processors.fingerprint import release
    from ..web.activity import PRESENCE_EVERY, PresenceRecorder

    return PresenceRecorder(store, process, command="notify", release=release(), interval=max(interval, PRESENCE_EVERY))


def command_presence(store: Any, command: str, process: str | None = None) -> Any:
    """A `produce`'s, `archive`'s or `worker`'s presence record (web.activity.PresenceRecorder) in the store it
    already writes, under an owner id of its own, so `status` and /healthz list it with its release and name it
    stale once SIGKILLed, as they do a `notify` (outside trial 78: these were shown nowhere)."""
    from watchfloor.alerts.dispatcher import dispatcher_id

    from ..stream_processors.fingerprint import release
    from ..web.activity import PRESENCE_EVERY, PresenceRecorder

    return PresenceRecorder(
        store, process or dispatcher_id(), command=command, release=release(), interval=PRESENCE_EVERY
    )


class PresenceBeat:
    """A presence record kept by a thread of its own, on its own cadence and its own store connection: a worker's
    agents run on Faust's event loop, whose hot path must not wait for a store commit. Saved at `start`, then once
    per `every` seconds; removed at `stop` (a clean stop). A failed save (or a store not opened) is tried again
    `retry` seconds later, not a whole `every`, and said at WARNING once it keeps failing (PresenceRecorder): a
    record not refreshed reads as a process gone. The pauses are an Event's, so a stop cuts them short."""

    def __init__(self, open_store: Any, command: str, *, every: float | None = None, retry: float = 2.0) -> None:
        from ..web.activity import PRESENCE_EVERY

        self.open_store = open_store
        self.command = command
        self.every = PRESENCE_EVERY if every is None else every
        self.retry = min(retry, self.every)
        self.stopped = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"{command}-presence", daemon=True)

    def start(self) -> None:
        self.thread.start()
        self.ready.wait(timeout=30)  # the first save (or its failure) before the work starts: listed from its start

    def _opened(self) -> Any:
        """The store, opened by this thread (retried until it opens or the beat stops: None then)."""
        from ..web.activity import PRESENCE_WARN_AFTER

        failures = 0
        while True:
            try:
                return self.open_store()
            except Exception as e:  # (a store away: the work says so itself; presence is a look for `status`)
                failures += 1
                level = logging.WARNING if failures == PRESENCE_WARN_AFTER else logging.DEBUG
                logging.getLogger(__name__).log(
                    level,
                    "presence record of `watchfloor %s`: store not opened (%d in a row): %s",
                    self.command,
                    failures,
                    e,
                )
            self.ready.set()
            if self.stopped.wait(self.retry):
                return None

    def _run(self) -> None:
        store = self._opened()
        if store is None:
            self.ready.set()
            return
        try:
            recorder = command_presence(store, self.command)
            recorder.every = 0.0  # (this thread keeps the cadence)
            while True:
                saved = recorder.seen(datetime.now(UTC))
                self.ready.set()
                if self.stopped.wait(self.every if saved else self.retry):
                    break
            recorder.stop()
        finally:
            self.ready.set()
            store.close()

    def stop(self) -> None:
        """A clean stop: the record removed, then its store closed."""
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout=30)


def notify_service(
    config: Path | None,
    store: str | None,
    *,
    once: bool,
    interval: float,
    broker: str | None,
    prefix: str | None,
    opened: Store | None = None,
) -> None:
    """`watchfloor notify`. `opened`: the store to deliver from, already open, instead of the one its URL names (a
    test's fault injector around a real store: tests/faults/store_outage.py); closed at the end as that one is."""
    from ..alerts.control import ControlLog
    from ..config_edit import apply_config_edit, edit_lines
    from ..rule_watch import ConfigFileWatch
    from ..wiring import WiringError, build_dispatcher, open_store

    cfg = app_config(config)
    # A live notify's lines with their time (log_times), from the first (trial 54, LOW-2: the start's channel checks
    # had none); a `--once`'s as they were. Closed when the start fails, else after the closing line.
    stamps = ExitStack()
    if not once:
        stamps.enter_context(log_times())
        # kafka-python's lines about a broker that is away: notify's lag reader says it once itself (trial 55, M1)
        stamps.enter_context(client_logs_kept_out())
    # its config's `subscriptions:` edits applied, the rest said, as a live `run` does (outside trial 30, F4); the file
    # as it was read (an edit made while notify starts is the first change)
    config_file = None if once or config is None else ConfigFileWatch(config)
    # The pipeline's broker: --broker ($WATCHFLOOR_KAFKA), or the config's kafka: section when it has one, as the
    # other distributed commands read it (outside trial 27, F2: a config's section alone held nothing)
    workers = None
    # (backlog_settle 0s holds nothing: then the lag is not read at all, nor a broker away warned of: review 24, L3)
    if not once and cfg.backlog_settle.total_seconds() > 0 and (broker is not None or "kafka" in cfg.model_fields_set):
        settings = settings_for(cfg, bootstrap=broker, prefix=prefix)
        workers = workers_lag(settings)
        if workers is not None:
            err.print(
                f"notify: while the workers of {escape(settings.prefix)} on {escape(settings.bootstrap)} read a "
                f"backlog, its alerts are held, then delivered in event time (at most backlog_settle, "
                f"{_seconds(cfg.backlog_settle.total_seconds())})",
                highlight=False,
            )
    hold = BacklogHold(cfg.backlog_settle.total_seconds())
    st = opened if opened is not None else open_store(store or cfg.store)
    try:
        dispatcher = build_dispatcher(cfg, st, story_progress=StoryReadProgress())
    except WiringError as e:
        st.close()
        stamps.close()
        raise fail(str(e)) from None
    try:
        print_channel_checks(dispatcher, record=st)
    except typer.Exit:  # a channel whose config cannot work (a file channel's path that is a directory)
        st.close()
        stamps.close()
        raise
    if not once:  # which release this live process runs, whatever the install says later (outside trial 86, F3)
        err.print(
            f"[bold]watchfloor notify[/bold] delivers from {escape(redact_url(store or cfg.store))} · "
            f"{escape(started_release())}",
            highlight=False,
        )
    stop = stop_on_sigterm()
    heart = Heartbeat()
    # its presence record, so that `status` lists it with its release (outside trial 78, F6); a `--once` keeps none
    presence = None if once else notify_presence(st, dispatcher.owner, interval)
    report = None
    told = False
    cycles = 0
    stopped_by: str | None = None  # what stopped a live notify as asked (SIGTERM, Ctrl-C): said last
    # A live notify waits out a store outage, as `run`, the workers and `archive` do (outside trial 39, H1: it exited
    # 1 within 2 s of PostgreSQL going away, and nothing restarted it): said when it goes and when it is back.
    store_watch = _notify_store_watch(interval)
    with stamps:  # the closing lines too (the stopped line said last is stamped)
        # The liveness file, and the end of a store outage, between deliveries too (trial 50, MED-3 and LOW-1)
        dispatcher.deliverer.between = between_deliveries(heart, store_watch, st)
        try:
            while True:
                heart.beat()
                cycles += 1
                held = workers is not None and workers.look(hold, time.monotonic())
                try:
                    report = dispatcher.cycle(deliver=not held)
                except StoreError as e:
                    if once or e.kind == "replaced":
                        raise
                    store_watch.down(store_problem(e), lasting=True, word=store_state(e))
                    if stop.wait(min(max(interval, 1.0), NOTIFY_STORE_RETRY_S)):
                        stopped_by = stop.signal
                        break
                    continue
                store_watch.up()
                if presence is not None:
                    presence.seen(datetime.now(UTC))
                if report.taken or report.tally.sent or report.tally.failed or report.tally.expired or once:
                    err.print(
                        f"{report.taken} detections taken in · {delivery_summary(report, dispatcher)}", highlight=False
                    )
                if not told:  # `ingest` then `notify` on an embedded store: nothing detects them (outside trial 9, F3)
                    told = True
                    try:
                        waiting = undetected_documents(st)
                    except StoreError:  # (gone since the cycle: the next cycle meets the outage and says so)
                        if once:
                            raise
                        waiting = None
                    if waiting:
                        err.print(f"[yellow]warning:[/yellow] {escape(undetected_note(waiting))}", highlight=False)
                if config_file is not None and config_file.edited() and isinstance(dispatcher.routing, ControlLog):
                    edit = apply_config_edit(
                        config_file.path, cfg, dispatcher.routing, dispatcher.notifiers, _rules_of(cfg)
                    )
                    if edit.deferred is not None:
                        config_file.again()
                    for line in edit_lines(config_file.path, edit, "notify"):
                        err.print(f"[yellow]{escape(line)}[/yellow]", highlight=False)
                if once:
                    report = after_take_over(dispatcher, report, stop)
                    break
                # (next_wait reads the store: one gone right after the cycle's last write gives the interval, and the
                # next cycle meets the outage and waits it out)
                if stop.is_set() or stop.wait(interval if held else next_wait(dispatcher, interval)):
                    stopped_by = stop.signal
                    break
        except KeyboardInterrupt:
            stopped_by = "Ctrl-C"
        finally:
            if presence is not None:
                presence.stop()
            st.close()
            if workers is not None:
                workers.close()
        if stopped_by is not None:
            err.print(stopped_line("notify", stopped_by, cycles), highlight=False)
        if once and report is not None:
            exit_if_undelivered(report)
