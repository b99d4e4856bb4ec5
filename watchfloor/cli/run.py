"""The `watchfloor run` command: the live embedded pipeline."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape

from ._common import ConfigOpt, app, app_config, err, fail, progress_bar, redact_url, stop_on_sigterm


@app.command()
def run(
    config: ConfigOpt = None,
    once: Annotated[bool, typer.Option("--once", help="One pass over the sources, then exit.")] = False,
    interval: Annotated[float | None, typer.Option(help="Seconds between polls (default from config).")] = None,
    serve: Annotated[
        str | None,
        typer.Option(
            "--serve", metavar="[HOST:]PORT", help="Also serve the Slack app, /healthz, /metrics and the status page."
        ),
    ] = None,
) -> None:
    """Run the live pipeline on the embedded runtime: poll sources, detect, alert."""
    from watchfloor.stream_processors.rulefile import RuleLoadError

    from ..wiring import EmbeddedPipeline, WiringError

    cfg = app_config(config)
    try:
        pipeline = EmbeddedPipeline(cfg)
    except (RuleLoadError, WiringError, ValueError) as e:
        raise fail(str(e)) from None
    stop = stop_on_sigterm()
    err.print(
        f"[bold]watchfloor[/bold] embedded · store {redact_url(cfg.store)} · "
        f"{len(pipeline.rules.detections)} detections · {len(cfg.sources)} sources",
        highlight=False,
    )
    wait = interval if interval is not None else cfg.poll_interval.total_seconds()
    server = None
    try:
        if serve is not None:
            from .serve import parse_listen, start_server

            host, port = parse_listen(serve)
            # Unhealthy when no cycle has finished for three intervals (and a minute's slack for a slow one).
            server = start_server(
                cfg, pipeline.store, pipeline.control, pipeline.rules, host, port, pipeline_max_age=3 * wait + 60
            )
        while True:
            try:
                _cycle(pipeline)
            except Exception as e:
                if once:
                    raise fail(f"{type(e).__name__}: {e}") from None
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
        if server is not None:
            server.stop()
        pipeline.close()


def _cycle(pipeline: Any) -> None:
    from watchfloor.web.activity import record_cycle

    started = time.monotonic()
    # Due-only: every JSONL source, and each feed whose own `poll` interval has passed (all on the first).
    summary = pipeline.poller.poll_due()
    for src in summary.sources:
        if src.error:
            err.print(f"[yellow]source[/yellow] {escape(src.origin)}: {escape(src.error)}", highlight=False)
    for dl in summary.dead_letters[:20]:
        where = f"{dl.origin}:{dl.line}" if dl.line else dl.origin
        err.print(f"[yellow]dead letter[/yellow] {escape(where)}: {escape(dl.reason)}", highlight=False)
    backlog = pipeline.runner.backlog()
    with progress_bar() as prog:
        task = prog.add_task("detecting", total=backlog)
        stats = pipeline.runner.run_once(on_batch=lambda n: prog.advance(task, n))
    sent = pipeline.dispatcher.run_once()
    digests = pipeline.digests.run_once()
    # The heartbeat /healthz and /metrics read, from this process or a `watchfloor serve` beside it.
    polls = {src.origin: src.seconds for src in summary.sources}
    record_cycle(pipeline.store, datetime.now(UTC), time.monotonic() - started, polls)
    err.print(
        f"polled {len(summary.sources)} sources: {summary.accepted} new documents, "
        f"{summary.duplicates} already seen, {summary.dead_lettered} dead letters · "
        f"{stats.documents} processed, {stats.signals} signals, {len(stats.detections)} alerts · "
        f"{sent} alerts dispatched" + (f" · {digests} digest(s) sent" if digests else ""),
        highlight=False,
    )
