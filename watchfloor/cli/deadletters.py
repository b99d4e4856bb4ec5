"""The `watchfloor dead-letters` command: the store's dead-letter log, each bad record with its place and reason."""

from __future__ import annotations

import json
import sys
from collections import Counter, deque
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from watchfloor.schemas.events import EventType
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.kafka.repeats import read_repeats

from ._common import ConfigOpt, app, app_config, counted, err, fail, out, shown_origin
from .distributed import KAFKA_EXTRA, BrokerOpt, PrefixOpt, settings_for

STAGES = ("ingest", "engine", "event-time", "correlate", "notify", "archive")  # DeadLetter.stage, as the writers set it
# How long the look at the broker may take: the store's dead letters are listed whatever the broker does.
KAFKA_LOOK_S = 3.0


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
    broker: BrokerOpt = None,
    prefix: PrefixOpt = None,
) -> None:
    """List the dead-letter log: every input refused (file and line, the field at fault, the reason) and every
    report the engine set aside, newest last. The producers print them as they refuse them; this reads them back,
    from any process's store.

    With a Kafka pipeline (the config's `kafka:` section, --broker or --prefix) the workers' dead letters are on
    the topic <prefix>.dead-letters until `watchfloor archive` copies them into a store: it also says (on stderr)
    how many of the topic's records the archive has not copied yet, and the command that does."""
    from watchfloor.web.activity import reason_class  # (the classes /metrics counts dead letters by)

    from ..wiring import open_store

    if stage is not None and stage not in STAGES:  # a typo must not read "no dead letters match" and exit 0
        raise fail(f"--stage {stage!r}: one of {', '.join(STAGES)}")
    cfg = app_config(config)
    st = open_store(store or cfg.store, create=False, upgrade=False)  # a read: no new store, no migration
    kafka = broker is not None or prefix is not None or "kafka" in cfg.model_fields_set
    repeated = 0  # the topic's records the archive found repeating a letter before them (kafka.repeats)
    try:
        if kafka:
            repeated = read_repeats(
                st, TopicNames(settings_for(cfg, bootstrap=broker, prefix=prefix).prefix).dead_letters
            )
        kept: deque[tuple[int, str, dict[str, object]]] = deque(maxlen=last)
        total = after = 0
        kinds: Counter[tuple[str, str]] = Counter()  # (stage, reason class) of every one that matches
        while batch := st.read(after, types={EventType.DEAD_LETTER.value}, limit=1000):
            for se in batch:
                p = se.event.payload
                if (stage is None or p.get("stage", "ingest") == stage) and (
                    origin is None or origin in str(p.get("origin", ""))
                ):
                    total += 1
                    kept.append((se.position, se.event.time.isoformat(), p))
                    kinds[(str(p.get("stage", "ingest")), reason_class(str(p.get("reason", ""))))] += 1
            after = batch[-1].position
    finally:
        st.close()
    if kafka:
        # The workers dead-letter to Kafka, not to this store (outside trial 22, M2: "no dead letters" while the
        # topic held 14): said before the list, so an empty one is not read as "none anywhere".
        archive_cmd = " ".join(
            ["watchfloor archive"]
            + [
                f"--{name} {value}"
                for name, value in (("config", config), ("broker", broker), ("prefix", prefix))
                if value is not None
            ]
            + ([f"--store {store}"] if store else [])
        )
        note = topic_note(settings_for(cfg, bootstrap=broker, prefix=prefix), archive_cmd, repeated)
        err.print(escape(note), highlight=False)
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
        if len(kinds) > 1:
            # What the rest are, by kind: a backfill's thousands of late reports must not hide the one dated in the
            # future, the entry a person needs to see (outside trial 67, MED-4).
            by_kind = ", ".join(f"{n:,} {stage}: {kind}" for (stage, kind), n in kinds.most_common())
            out.print(f"of the {total:,}: {by_kind} (--stage, --origin narrow the list)", highlight=False)


def topic_note(settings: Any, archive_cmd: str, repeated: int = 0) -> str:
    """One line on the workers' dead-letter topic: how many of its records `watchfloor archive` has not copied yet
    (its end offsets less the archive group's committed offsets, as `status` counts the archive's lag), and the
    command that copies them; a broker that does not answer within KAFKA_LOOK_S is said, not waited for.
    `repeated`: of the records archived, those that repeat a letter before them (a worker's batch read again after a
    restart, kafka.repeats), which the store keeps once (outside trial 77, F6: "all 81 of its records archived" beside
    "of 78", unexplained)."""
    topic = TopicNames(settings.prefix).dead_letters
    where = f"Kafka topic {topic} on {settings.bootstrap}"
    try:
        from watchfloor.stream_processors.kafka.clients import unreachable_errors
        from watchfloor.stream_processors.kafka.status import pipeline_status
    except ImportError as e:
        return f"the workers' dead letters are on {where}, not read here: {KAFKA_EXTRA} ({e})"
    try:
        st = pipeline_status(settings.bootstrap, settings.prefix, worker_group=settings.group, timeout_s=KAFKA_LOOK_S)
    except unreachable_errors() as e:
        return (
            f"the workers' dead letters are on {where}, not counted here: the broker did not answer within "
            f"{KAFKA_LOOK_S:g}s ({type(e).__name__}); listing this store's only"
        )
    if topic not in st.topics:
        return f"the workers' dead letters go to {where}, which does not exist (`watchfloor topics check`)"
    written = st.topics[topic]
    lag = next((t.lag for g in st.groups if g.role == "archive" for t in g.topics if t.topic == topic), written)
    if not written:
        return f"the workers' dead letters go to {where}: none so far"
    kept_once = f" ({repeated_note(written - lag, repeated)})" if repeated else ""
    if not lag:
        return (
            f"the workers' dead letters go to {where}: all {written} of its records archived{kept_once} "
            f"(`{archive_cmd}`)"
        )
    return (
        f"the workers' dead letters go to {where}: {counted(lag, 'record')} of {written} not archived into a store "
        f"yet; `{archive_cmd}` copies them there"
        + (f"; of those archived, {repeated:,} repeated by a worker's restart, kept once" if repeated else "")
    )


def repeated_note(records: int, repeated: int) -> str:
    """'81 records, 78 distinct: 3 repeated by a worker's restart, kept once' (of a dead-letters topic)."""
    return (
        f"{records:,} records, {records - repeated:,} distinct: {repeated:,} repeated by a worker's restart "
        "(read again before its commit: at-least-once), kept once"
    )
