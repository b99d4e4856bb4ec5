"""The `watchfloor ingest` command: publish files and feeds into the event log."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ._common import (
    ConfigOpt,
    app,
    app_config,
    counted,
    edited,
    err,
    fail,
    out,
    print_dead_letters,
    print_editions_bound,
    redact_url,
    seen_before,
    undetected_documents,
    undetected_note,
    visible_text,
)


@app.command()
def ingest(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="JSONL files (.jsonl/.jsonl.gz), feed files or feed URLs, GDELT export files or folders, or a GDELT "
            "lastupdate.txt URL."
        ),
    ],
    config: ConfigOpt = None,
    store: Annotated[str | None, typer.Option(help="Store URL (overrides config).")] = None,
    source_kind: Annotated[str, typer.Option("--source-kind", help="auto, jsonl, rss or gdelt.")] = "auto",
) -> None:
    """Publish events from files or feeds into the event log; bad records go to the dead-letter log."""
    from ..wiring import WiringError, build_poller, open_store, sources_from_args

    cfg = app_config(config)
    try:
        chosen = sources_from_args(sources, source_kind)
    except ValueError as e:  # a lastupdate.txt URL a config would refuse, a file auto reads as no kind
        raise fail(str(e)) from None
    st = open_store(store or cfg.store)
    try:
        summary = build_poller(cfg, st, chosen).poll_once()
        waiting = undetected_documents(st) if summary.accepted else None
    except WiringError as e:  # a variable a source's credentials are read from is not set
        raise fail(str(e)) from None
    finally:
        st.close()
    failed = False
    for src in summary.sources:
        if src.error:
            failed = True
            err.print(
                f"[red]error[/red] {escape(redact_url(src.origin))}: {escape(visible_text(src.error))}", highlight=False
            )
    print_dead_letters(summary.dead_letters, limit=None)
    print_editions_bound(summary)
    out.print(
        f"{counted(summary.accepted, 'new document')}{edited(summary.editions, summary.editions_left_out)}, "
        f"{summary.duplicates} already in the log, {counted(summary.dead_lettered, 'dead letter')}"
        + seen_before(summary.known_dead),
        highlight=False,
    )
    if waiting:  # ingest only records: detection is `run`'s (outside trial 9, F3)
        err.print(escape(undetected_note(waiting)), highlight=False)
    if failed:
        raise typer.Exit(1)
