"""The `watchfloor` command line: thin commands over the wiring, backtest and report modules."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from watchfloor.schemas.events import Detection, EventType

from .config import ConfigError, load_config

app = typer.Typer(help="Event-sourced alerting for geopolitical news.", no_args_is_help=True, add_completion=False)
rules_app = typer.Typer(help="Validate and test detection rule packs.", no_args_is_help=True)
alerts_app = typer.Typer(help="Alerts raised so far.", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schemas for inputs, events, rule packs and config.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(alerts_app, name="alerts")
app.add_typer(schemas_app, name="schemas")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file (YAML). Default: the bundled embedded demo.")
]


def _progress(console: Console = err) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def _config(path: Path | None) -> Any:
    """The config file (or the bundled default); WATCHFLOOR_STORE overrides its store (containers)."""
    try:
        cfg = load_config(path)
    except ConfigError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    env_store = os.environ.get("WATCHFLOOR_STORE")
    return cfg.model_copy(update={"store": env_store}) if env_store else cfg


def _stop_on_sigterm() -> threading.Event:
    """An event set by SIGTERM, so long-running commands finish their cycle and close cleanly."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return stop


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(1)


# --- run ----------------------------------------------------------------------------------------
@app.command()
def run(
    config: ConfigOpt = None,
    once: Annotated[bool, typer.Option("--once", help="One pass over the sources, then exit.")] = False,
    interval: Annotated[float | None, typer.Option(help="Seconds between polls (default from config).")] = None,
) -> None:
    """Run the live pipeline on the embedded runtime: poll sources, detect, alert."""
    from watchfloor.stream_processors.rulefile import RuleLoadError

    from .wiring import EmbeddedPipeline, WiringError

    cfg = _config(config)
    try:
        pipeline = EmbeddedPipeline(cfg)
    except (RuleLoadError, WiringError, ValueError) as e:
        raise _fail(str(e)) from None
    stop = _stop_on_sigterm()
    err.print(
        f"[bold]watchfloor[/bold] embedded · store {_redact_url(cfg.store)} · "
        f"{len(pipeline.rules.detections)} detections · {len(cfg.sources)} sources",
        highlight=False,
    )
    wait = interval if interval is not None else cfg.poll_interval.total_seconds()
    try:
        while True:
            try:
                _cycle(pipeline)
            except Exception as e:
                if once:
                    raise _fail(f"{type(e).__name__}: {e}") from None
                # Live mode keeps going: the next cycle resumes from the committed checkpoints.
                err.print(
                    f"[red]cycle failed[/red] {type(e).__name__}: {escape(str(e))}; retrying in {wait:g}s",
                    highlight=False,
                )
            if once or stop.wait(wait):
                break
    except KeyboardInterrupt:
        err.print("stopped")
    finally:
        pipeline.close()


def _cycle(pipeline: Any) -> None:
    # Due-only: every JSONL source, and each feed whose own `poll` interval has passed (all on the first).
    summary = pipeline.poller.poll_due()
    for src in summary.sources:
        if src.error:
            err.print(f"[yellow]source[/yellow] {escape(src.origin)}: {escape(src.error)}", highlight=False)
    for dl in summary.dead_letters[:20]:
        where = f"{dl.origin}:{dl.line}" if dl.line else dl.origin
        err.print(f"[yellow]dead letter[/yellow] {escape(where)}: {escape(dl.reason)}", highlight=False)
    backlog = pipeline.runner.backlog()
    with _progress() as prog:
        task = prog.add_task("detecting", total=backlog)
        stats = pipeline.runner.run_once(on_batch=lambda n: prog.advance(task, n))
    sent = pipeline.dispatcher.run_once()
    err.print(
        f"polled {len(summary.sources)} sources: {summary.accepted} new documents, "
        f"{summary.duplicates} already seen, {summary.dead_lettered} dead letters · "
        f"{stats.documents} processed, {stats.signals} signals, {len(stats.detections)} alerts · "
        f"{sent} alerts dispatched",
        highlight=False,
    )


def _redact_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


# --- ingest -------------------------------------------------------------------------------------
@app.command()
def ingest(
    sources: Annotated[list[str], typer.Argument(help="JSONL files (.jsonl/.jsonl.gz), feed files or feed URLs.")],
    config: ConfigOpt = None,
    store: Annotated[str | None, typer.Option(help="Store URL (overrides config).")] = None,
    source_kind: Annotated[str, typer.Option("--source-kind", help="auto, jsonl or rss.")] = "auto",
) -> None:
    """Publish events from files or feeds into the event log; bad records go to the dead-letter log."""
    from watchfloor.producers.poller import SourcePoller
    from watchfloor.schemas.config import JsonlSource, RssSource
    from watchfloor.stream_processors.stores import open_store

    from .backtest import source_kind as kind_of

    cfg = _config(config)
    url = store or cfg.store
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    st = open_store(url)
    srcs: list[JsonlSource | RssSource] = []
    for s in sources:
        k = kind_of(s, source_kind)
        srcs.append(RssSource(url=s) if k == "rss" else JsonlSource(path=s))
    try:
        summary = SourcePoller(st, srcs, cfg.max_body_chars).poll_once()
    finally:
        st.close()
    failed = False
    for src in summary.sources:
        if src.error:
            failed = True
            err.print(f"[red]error[/red] {escape(src.origin)}: {escape(src.error)}", highlight=False)
    for dl in summary.dead_letters:
        where = f"{dl.origin}:{dl.line}" if dl.line else dl.origin
        field = f" (field {dl.field})" if dl.field else ""
        err.print(f"dead letter {where}{field}: {dl.reason}", highlight=False, markup=False)
    out.print(
        f"{summary.accepted} new documents, {summary.duplicates} already in the log, "
        f"{summary.dead_lettered} dead letters",
        highlight=False,
    )
    if failed:
        raise typer.Exit(1)


# --- rules --------------------------------------------------------------------------------------
def _rule_specs(paths: list[str] | None, config: Path | None) -> list[str]:
    if paths:
        return paths
    return list(_config(config).rules)


@rules_app.command("check")
def rules_check(
    paths: Annotated[list[str] | None, typer.Argument(help="Rule files or directories (default: from config).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Validate rule packs. Errors print as FILE:LINE:COL: message; exit 1 on any error."""
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules

    try:
        loaded, compiled = load_rules(_rule_specs(paths, config))
    except RuleLoadError as e:
        for p in e.problems:
            typer.echo(str(p))
        raise typer.Exit(1) from None
    out.print(
        f"ok: {len(loaded)} pack(s), {len(compiled.entity_names)} entities, {len(compiled.signals)} signals, "
        f"{len(compiled.detections)} detections",
        highlight=False,
    )


@rules_app.command("test")
def rules_test(
    paths: Annotated[list[str] | None, typer.Argument(help="Rule files or directories (default: from config).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Run the inline examples of each detection; exit 1 if any fails."""
    from watchfloor.stream_processors.examples import run_examples
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules

    try:
        loaded, compiled = load_rules(_rule_specs(paths, config))
    except RuleLoadError as e:
        for p in e.problems:
            typer.echo(str(p))
        raise typer.Exit(1) from None
    results = run_examples([lp.pack for lp in loaded], compiled)
    failed = [r for r in results if not r.passed]
    for r in results:
        mark = "[green]PASS[/green]" if r.passed else "[red]FAIL[/red]"
        tail = "" if r.passed else f" — {r.message}"
        out.print(f"{mark} {r.detection}: {r.name}{tail}", highlight=False)
    out.print(f"{len(results) - len(failed)} passed, {len(failed)} failed", highlight=False)
    if failed:
        raise typer.Exit(1)


# --- backtest -----------------------------------------------------------------------------------
@app.command()
def backtest(
    events: Annotated[list[str] | None, typer.Argument(help="Event files: JSONL (.jsonl/.jsonl.gz) or feeds.")] = None,
    rules: Annotated[list[str] | None, typer.Option("--rules", "-r", help="Rule file/dir (repeatable).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write alerts as JSON here.")] = None,
    expect: Annotated[
        Path | None, typer.Option(help="Expectations (must_fire / must_not_fire); exit 1 if unmet.")
    ] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write an HTML report with a timeline.")] = None,
    order: Annotated[str, typer.Option(help="event-time (sort by published_at) or log (input order).")] = "event-time",
    from_store: Annotated[str | None, typer.Option("--from-store", help="Replay documents from a store URL.")] = None,
    from_kafka: Annotated[
        str | None, typer.Option("--from-kafka", help="Replay a Kafka topic (needs --bootstrap).")
    ] = None,
    bootstrap: Annotated[str, typer.Option(help="Kafka bootstrap servers for --from-kafka.")] = "127.0.0.1:9092",
    since: Annotated[str | None, typer.Option(help="With --from-kafka: start at this ISO time.")] = None,
    source_kind: Annotated[str, typer.Option("--source-kind", help="auto, jsonl or rss.")] = "auto",
) -> None:
    """Replay events through rules in event time. Never sleeps, never notifies."""
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules

    from .backtest import (
        LoadedEvents,
        check_expectations,
        documents_from_store,
        load_expectations,
        read_events,
        result_json,
        run_backtest,
    )
    from .report import render_backtest_html

    specs = rules or ["builtin:dprk_russia"]
    try:
        _loaded, compiled = load_rules(specs)
    except RuleLoadError as e:
        for p in e.problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(1) from None
    loaded = LoadedEvents()
    if from_store:
        from watchfloor.stream_processors.stores import open_store

        st = open_store(from_store)
        try:
            loaded.documents = list(documents_from_store(st))
        finally:
            st.close()
    elif from_kafka:
        loaded.documents = _documents_from_kafka(bootstrap, from_kafka, since)
    elif events:
        with _progress() as prog:
            task = prog.add_task("reading", total=None)
            loaded = read_events(
                events, kind=source_kind, on_items=lambda n: prog.advance(task, n), gate=compiled.json_gate
            )
    else:
        raise _fail("give event files, --from-store URL or --from-kafka TOPIC")
    for problem in loaded.errors:
        err.print(f"[red]error[/red] {escape(problem)}", highlight=False)
    if loaded.dead_letters:
        err.print(f"{len(loaded.dead_letters)} bad records skipped (see dead_letters in --json)", highlight=False)
        for dl in loaded.dead_letters[:5]:
            err.print(f"  {dl.origin}:{dl.line}: {dl.reason}", markup=False, highlight=False)
    with _progress() as prog:
        task = prog.add_task("replaying", total=len(loaded.documents))
        result = run_backtest(loaded.documents, compiled, order=order, on_documents=lambda n: prog.advance(task, n))
    data = result_json(result, loaded, specs)
    _print_alerts(result.detections)
    out.print(
        f"{result.documents} documents, {result.signals} signals, {len(result.detections)} alerts",
        highlight=False,
    )
    if json_out:
        json_out.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    if html_out:
        html_out.write_text(render_backtest_html(data), encoding="utf-8")
    if expect:
        try:
            failures = check_expectations(load_expectations(str(expect)), result.detections)
        except (OSError, ValueError) as e:
            raise _fail(f"{expect}: {e}") from None
        for f in failures:
            out.print(f"[red]{f.kind}[/red] {json.dumps(f.expectation)}: {f.detail}", highlight=False)
        if failures:
            raise typer.Exit(1)
        out.print("expectations met", highlight=False)
    if loaded.errors:
        raise typer.Exit(1)


def _documents_from_kafka(bootstrap: str, topic: str, since: str | None) -> list[Any]:
    try:
        from watchfloor.stream_processors.kafka_replay import replay_from_kafka
    except ImportError as e:  # the kafka extra is optional
        raise _fail(f"--from-kafka needs the kafka extra: pip install 'watchfloor[kafka]' ({e})") from None
    from datetime import UTC, datetime

    from watchfloor.schemas.inputs import parse_timestamp

    start = parse_timestamp(since, "since") if since else datetime.fromtimestamp(0, UTC)
    return list(replay_from_kafka(bootstrap, topic, start))


def _print_alerts(detections: list[Detection]) -> None:
    if not detections:
        return
    table = Table(show_lines=False)
    for col in ("fired at", "rule", "severity", "title", "evidence"):
        table.add_column(col)
    for d in sorted(detections, key=lambda d: d.fired_at):
        sev = d.severity + (" (unconfirmed)" if d.confidence == "unconfirmed" else "")
        table.add_row(d.fired_at.isoformat(), d.rule, sev, d.title, ", ".join(sorted({e.source for e in d.evidence})))
    out.print(table)


# --- alerts -------------------------------------------------------------------------------------
@alerts_app.command("list")
def alerts_list(
    config: ConfigOpt = None,
    store: Annotated[str | None, typer.Option(help="Store URL (overrides config).")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """Alerts raised so far, from the store, with their delivery status per channel."""
    from watchfloor.stream_processors.stores import open_store

    cfg = _config(config)
    st = open_store(store or cfg.store)
    try:
        dets: list[Detection] = []
        channels: dict[str, tuple[str, ...]] = {}
        position = 0
        while True:
            got = st.read(position, types={EventType.DETECTION.value, EventType.ALERT.value}, limit=5000)
            if not got:
                break
            for se in got:
                if se.event.type == EventType.DETECTION.value:
                    d = Detection.model_validate(se.event.payload)
                    if rule is None or d.rule == rule:
                        dets.append(d)
                else:
                    channels[se.event.payload["id"]] = tuple(se.event.payload.get("channels", ()))
            position = got[-1].position
        status = {d.id: {ch: st.delivery_status(d.id, ch) or "?" for ch in channels.get(d.id, ())} for d in dets}
    finally:
        st.close()
    if as_json:
        from watchfloor.stream_processors.replay import detection_to_json

        for d in dets:
            sys.stdout.write(json.dumps({**detection_to_json(d), "deliveries": status[d.id]}) + "\n")
        return
    table = Table()
    for col in ("fired at", "rule", "severity", "title", "deliveries"):
        table.add_column(col)
    for d in sorted(dets, key=lambda d: d.fired_at):
        table.add_row(
            d.fired_at.isoformat(),
            d.rule,
            d.severity,
            d.title,
            ", ".join(f"{k}:{v}" for k, v in status[d.id].items()) or "—",
        )
    out.print(table)
    out.print(f"{len(dets)} alerts", highlight=False)


# --- schemas ------------------------------------------------------------------------------------
@schemas_app.command("export")
def schemas_export(directory: Annotated[Path, typer.Argument(help="Where to write the *.schema.json files.")]) -> None:
    """Write JSON Schemas: the input contract, every event payload, rule packs and config."""
    from watchfloor.schemas.export import export_all

    written = export_all(directory)
    for p in written:
        out.print(str(p), highlight=False)


# --- distributed mode ---------------------------------------------------------------------------
@app.command()
def worker(
    broker: Annotated[str, typer.Option(help="Kafka bootstrap servers.", envvar="WATCHFLOOR_KAFKA")] = "127.0.0.1:9092",
    rules: Annotated[list[str] | None, typer.Option("--rules", "-r", help="Rule file/dir (repeatable).")] = None,
    store: Annotated[
        str | None, typer.Option(help="Store URL for detections (default from config).", envvar="WATCHFLOOR_STORE")
    ] = None,
    dispatch: Annotated[
        bool, typer.Option("--dispatch/--no-dispatch", help="Also deliver alerts (else leave it to `notify`).")
    ] = False,
    batch_within: Annotated[
        float,
        typer.Option(
            help="Seconds each agent waits to fill a batch: latency added per hop vs throughput.",
            envvar="WATCHFLOOR_BATCH_WITHIN",
        ),
    ] = 0.02,
    table_store: Annotated[
        str,
        typer.Option(
            help="Where the worker keeps its state table: memory:// (rebuilt from Kafka at start) or rocksdb://.",
            envvar="WATCHFLOOR_TABLE_STORE",
        ),
    ] = "memory://",
    datadir: Annotated[
        Path | None,
        typer.Option(
            help="This worker's own data directory (RocksDB files); keep it across restarts.",
            envvar="WATCHFLOOR_FAUST_DATADIR",
        ),
    ] = None,
    trace: Annotated[bool, typer.Option(help="Log every batch's offsets, watermarks and detections.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Start a Faust worker (distributed mode). Start several: they share the partitions."""
    try:
        from watchfloor.stream_processors.faust_app import check_table_store, run_worker
    except ImportError as e:
        raise _fail(f"distributed mode needs the kafka extra: pip install 'watchfloor[kafka]' ({e})") from None
    from .wiring import dispatcher_factory

    cfg = _config(config)
    factory = dispatcher_factory(cfg) if dispatch else None
    try:
        check_table_store(table_store)
    except (ValueError, ImportError) as e:
        raise _fail(str(e)) from None
    run_worker(
        broker,
        rules or list(cfg.rules),
        store or cfg.store,
        dispatcher_factory=factory,
        batch_within=batch_within,
        table_store=table_store,
        datadir=datadir,
        trace=trace,
    )


@app.command()
def produce(
    broker: Annotated[str, typer.Option(help="Kafka bootstrap servers.", envvar="WATCHFLOOR_KAFKA")] = "127.0.0.1:9092",
    config: ConfigOpt = None,
    once: Annotated[bool, typer.Option("--once", help="One pass over the sources, then exit.")] = False,
    interval: Annotated[float | None, typer.Option(help="Seconds between polls (default from config).")] = None,
) -> None:
    """Poll the configured sources into the store, then relay new documents to Kafka (outbox)."""
    try:
        from watchfloor.producers.kafka_log import KafkaPublisher
    except ImportError as e:
        raise _fail(f"distributed mode needs the kafka extra: pip install 'watchfloor[kafka]' ({e})") from None
    from watchfloor.producers.poller import SourcePoller
    from watchfloor.producers.relay import KafkaRelay
    from watchfloor.stream_processors.stores import open_store

    cfg = _config(config)
    st = open_store(cfg.store)
    publisher = KafkaPublisher(broker)
    publisher.ensure_topics()
    poller = SourcePoller(st, cfg.sources, cfg.max_body_chars)
    relay = KafkaRelay(st, publisher)
    wait = interval if interval is not None else cfg.poll_interval.total_seconds()
    stop = _stop_on_sigterm()
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
    broker: Annotated[str, typer.Option(help="Kafka bootstrap servers.", envvar="WATCHFLOOR_KAFKA")] = "127.0.0.1:9092",
    config: ConfigOpt = None,
    store: Annotated[str | None, typer.Option(help="Store URL (overrides config).", envvar="WATCHFLOOR_STORE")] = None,
) -> None:
    """Copy the Kafka topics (documents, detections, dead letters) into the SQL store, for backtests."""
    try:
        from watchfloor.stream_processors.kafka_archive import KafkaArchive
    except ImportError as e:
        raise _fail(f"distributed mode needs the kafka extra: pip install 'watchfloor[kafka]' ({e})") from None
    from watchfloor.stream_processors.stores import open_store

    cfg = _config(config)
    st = open_store(store or cfg.store)
    sink = KafkaArchive(broker, st)
    stop = _stop_on_sigterm()
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

    from .wiring import WiringError, build_dispatcher

    cfg = _config(config)
    st = open_store(store or cfg.store)
    try:
        dispatcher = build_dispatcher(cfg, st)
    except WiringError as e:
        st.close()
        raise _fail(str(e)) from None
    stop = _stop_on_sigterm()
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
