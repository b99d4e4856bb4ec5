"""The `watchfloor dead-letters` command: the store's dead-letter log, each bad record with its place and reason."""

from __future__ import annotations

import json
import sys
from collections import deque
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from watchfloor.schemas.events import EventType

from ._common import ConfigOpt, app, app_config, fail, out, shown_origin

STAGES = ("ingest", "engine", "event-time", "notify", "archive")  # DeadLetter.stage, as the writers set it


@app.command("dead-letters")
def dead_letters(
    config: ConfigOpt = None,
    store: Annotated[str | None, typer.Option(help="Store URL (overrides config).")] = None,
    stage: Annotated[
        str | None, typer.Option(help=f"Only this stage: {', '.join(STAGES)} (ingest: refused inputs).")
    ] = None,
    origin: Annotated[str | None, typer.Option(help="Only origins (file, feed URL, topic) containing this.")] = None,
    last: Annotated[int, typer.Option(min=1, help="The newest N that match.")] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON lines (with the raw input) instead of a table.")
    ] = False,
) -> None:
    """List the dead-letter log: every input refused (file and line, the field at fault, the reason) and every
    report the engine set aside, newest last. The producers print them as they refuse them; this reads them back,
    from any process's store."""
    from ..wiring import open_store

    if stage is not None and stage not in STAGES:  # a typo must not read "no dead letters match" and exit 0
        raise fail(f"--stage {stage!r}: one of {', '.join(STAGES)}")
    cfg = app_config(config)
    st = open_store(store or cfg.store, create=False)  # a read: a wrong path must not create a store
    try:
        kept: deque[tuple[int, str, dict[str, object]]] = deque(maxlen=last)
        total = after = 0
        while batch := st.read(after, types={EventType.DEAD_LETTER.value}, limit=1000):
            for se in batch:
                p = se.event.payload
                if (stage is None or p.get("stage", "ingest") == stage) and (
                    origin is None or origin in str(p.get("origin", ""))
                ):
                    total += 1
                    kept.append((se.position, se.event.time.isoformat(), p))
            after = batch[-1].position
    finally:
        st.close()
    if as_json:
        for pos, when, p in kept:
            sys.stdout.write(json.dumps({"position": pos, "time": when, **p}, ensure_ascii=False) + "\n")
        return
    if not kept:
        out.print("no dead letters" + (" match" if stage or origin else ""), highlight=False)
        return
    table = Table()
    for col in ("position", "stage", "where", "field", "reason"):
        table.add_column(col, overflow="fold")
    for pos, _when, p in kept:
        line = p.get("line")
        where = shown_origin(str(p.get("origin", "")), line if isinstance(line, int) else None)
        table.add_row(
            str(pos),
            escape(str(p.get("stage", "ingest"))),
            escape(where),
            escape(str(p.get("field") or "")),
            escape(str(p.get("reason", ""))),
        )
    out.print(table)
    if total > len(kept):
        out.print(f"the newest {len(kept)} of {total} (--last N for more, --json for the raw inputs)", highlight=False)
