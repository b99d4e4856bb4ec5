"""The `watchfloor status` command: has the distributed pipeline caught up? Lag per topic and group members."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ._common import ConfigOpt, app, app_config, err, fail, out
from .distributed import KAFKA_EXTRA, BrokerOpt, PrefixOpt, settings_for


@app.command()
def status(
    broker: BrokerOpt = None,
    prefix: PrefixOpt = None,
    app_id: Annotated[
        str | None, typer.Option(help="Consumer group of the workers (default: <prefix>-worker).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of tables.")] = False,
    wait: Annotated[
        float | None, typer.Option(help="Wait up to this many seconds for the pipeline to catch up; exit 1 if not.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Has the Kafka pipeline caught up? Records per topic; members and lag per topic of each group.

    Exit code 0 when every group that runs (workers, archive) has caught up, 3 when not (1 with --wait)."""
    try:
        from watchfloor.stream_processors.kafka.clients import unreachable_errors
        from watchfloor.stream_processors.kafka.status import pipeline_status
    except ImportError as e:
        raise fail(f"{KAFKA_EXTRA} ({e})") from None
    s = settings_for(app_config(config), bootstrap=broker, prefix=prefix, app_id=app_id)
    deadline = time.monotonic() + (wait or 0.0)
    while True:
        try:
            st = pipeline_status(s.bootstrap, s.prefix, worker_group=s.group)
        except unreachable_errors() as e:
            raise fail(f"Kafka broker {s.bootstrap} unreachable: {e}") from None
        if st.caught_up or wait is None or time.monotonic() >= deadline:
            break
        time.sleep(1.0)
    if as_json:
        out.print_json(json.dumps(st.as_dict()))
    else:
        _print(st)
    if wait is not None and not st.caught_up:
        raise typer.Exit(1)
    if not st.caught_up:
        raise typer.Exit(3)


def _print(st: Any) -> None:
    topics = Table(title=f"topics of {st.prefix} on {st.bootstrap}")
    topics.add_column("topic")
    topics.add_column("records", justify="right")
    for name, n in st.topics.items():
        topics.add_row(name, f"{n:,}")
    for name in st.missing:
        topics.add_row(name, "[red]missing[/red] (watchfloor topics create)")
    out.print(topics)
    for g in st.groups:
        t = Table(title=f"{g.role}: group {g.group} · {g.state} · {len(g.members)} member(s)")
        for col in ("topic", "partitions", "records", "committed", "lag"):
            t.add_column(col, justify="left" if col == "topic" else "right")
        for lag in g.topics:
            t.add_row(lag.topic, str(lag.partitions), f"{lag.end:,}", f"{lag.committed:,}", f"{lag.lag:,}")
        out.print(t)
        for m in g.members:
            out.print(f"  member {escape(m)}", highlight=False)
        if len(g.rules) > 1:
            err.print(
                f"[red]group {escape(g.group)} runs {len(g.rules)} different rule sets ({', '.join(g.rules)}: "
                "fingerprints of the rule packs and the watchfloor release): alerts are lost or differ; start "
                "every worker with the same --rules on the same release[/red]",
                highlight=False,
            )
        if not g.started:
            out.print("  (never ran)", highlight=False)
    verdict = "[green]caught up[/green]" if st.caught_up else "[yellow]behind[/yellow]"
    err.print(f"pipeline {escape(st.prefix)}: {verdict}", highlight=False)
