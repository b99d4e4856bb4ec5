"""The `watchfloor ingest` command: publish files and feeds into the event log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ._common import ConfigOpt, app, app_config, err, out


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

    from ..backtest import source_kind as kind_of

    cfg = app_config(config)
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
