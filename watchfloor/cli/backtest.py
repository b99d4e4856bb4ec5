"""The `watchfloor backtest` command: replay events through rules, never notifying."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from watchfloor.schemas.events import Detection

from ._common import app, err, fail, out, progress_bar


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

    from ..backtest import (
        LoadedEvents,
        check_expectations,
        documents_from_store,
        load_expectations,
        read_events,
        result_json,
        run_backtest,
    )
    from ..report import render_backtest_html

    specs = rules or ["builtin:dprk_russia"]
    try:
        _loaded, compiled = load_rules(specs)
    except RuleLoadError as e:
        for p in e.problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(1) from None
    loaded = LoadedEvents()
    if from_store:
        from watchfloor.wiring import open_store  # the one store opener

        st = open_store(from_store, create=False)  # a read: a wrong path must not create a store
        try:
            loaded.documents = list(documents_from_store(st))
        finally:
            st.close()
    elif from_kafka:
        loaded.documents = _documents_from_kafka(bootstrap, from_kafka, since)
    elif events:
        with progress_bar() as prog:
            task = prog.add_task("reading", total=None)
            loaded = read_events(
                events, kind=source_kind, on_items=lambda n: prog.advance(task, n), gate=compiled.json_gate
            )
    else:
        raise fail("give event files, --from-store URL or --from-kafka TOPIC")
    for problem in loaded.errors:
        err.print(f"[red]error[/red] {escape(problem)}", highlight=False)
    if loaded.dead_letters:
        err.print(f"{len(loaded.dead_letters)} bad records skipped (see dead_letters in --json)", highlight=False)
        for dl in loaded.dead_letters[:5]:
            err.print(f"  {dl.origin}:{dl.line}: {dl.reason}", markup=False, highlight=False)
    with progress_bar() as prog:
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
            raise fail(f"{expect}: {e}") from None
        for f in failures:
            out.print(f"[red]{f.kind}[/red] {json.dumps(f.expectation)}: {f.detail}", highlight=False)
        if failures:
            raise typer.Exit(1)
        out.print("expectations met", highlight=False)
    if loaded.errors:
        raise typer.Exit(1)


def _documents_from_kafka(bootstrap: str, topic: str, since: str | None) -> list[Any]:
    try:
        from watchfloor.stream_processors.kafka.reader import replay_from_kafka
    except ImportError as e:  # the kafka extra is optional
        raise fail(f"--from-kafka needs the kafka extra: pip install 'watchfloor[kafka]' ({e})") from None
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
