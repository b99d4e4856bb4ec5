"""The `watchfloor store` commands: `store prune` bounds the store's size (watchfloor/retention.py); `store
forget-relay` forgets a relay target gone for good, which would hold prunes back (producers/relay.py); `store migrate`
upgrades its schema (which commands that only read never do)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import (
    ConfigOpt,
    Typer,
    app,
    app_config,
    err,
    fail,
    out,
    progress_bar,
    redact_url,
    stop_on_sigterm,
    stopped_line,
)
from .distributed import StoreOpt

store_app = Typer(
    help="The store itself: bound its size, forget a reader gone for good, upgrade its schema.", no_args_is_help=True
)
app.add_typer(store_app, name="store")


@store_app.command("prune")
def prune(
    older_than: Annotated[
        float,
        typer.Option(
            "--older-than",
            metavar="DAYS",
            help="Remove the text (title, body) of documents dated more than DAYS before now that `run`'s engine "
            "(and `produce`'s relay) has read. Their id, type, time and place in the log stay: dedup and alerts hold.",
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would go; change nothing.")] = False,
    vacuum: Annotated[
        bool,
        typer.Option(
            "--vacuum",
            help="Then give the space back: SQLite VACUUM (rewrites the file: needs its size free on disk, and holds "
            "the store's write lock meanwhile); PostgreSQL VACUUM of the events table, between batches too (the space "
            "is reused by the prune's own row versions and then by new events; the files do not shrink).",
        ),
    ] = False,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Bound the store's size: strip old documents' text, a batch per transaction (safe to interrupt and run again;
    `run` may go on meanwhile). Detections, signals, the delivery ledger and control events are kept whole."""
    from .. import retention
    from ..wiring import sqlite_file

    url = store or app_config(config).store
    with _retention_store(url, "prune", only_reads=dry_run) as st:
        now = datetime.now(UTC)
        try:
            chosen = retention.plan(st, older_than, now)
        except retention.RetentionError as e:
            raise fail(str(e)) from None
        err.print(
            f"pruning documents dated before {chosen.before.isoformat(timespec='seconds')} up to log position "
            f"{chosen.up_to:,} (held by the checkpoint {chosen.held_by}"
            + (f"; done before to {chosen.after:,}" if chosen.after else "")
            + ")",
            highlight=False,
        )
        if chosen.hint:
            err.print(chosen.hint, highlight=False)
        size = _file_size(sqlite_file(url))
        started = time.monotonic()
        stop = stop_on_sigterm()  # between batches: what is done is committed and recorded, a re-run goes on from it
        result = retention.PruneResult()  # filled as batches commit: what a Ctrl-C leaves done
        with _bar("dry run: counting" if dry_run else "pruning", chosen.after, chosen.up_to) as advance:
            try:
                if dry_run:
                    result = retention.count(st, chosen, advance)
                else:
                    result = retention.prune(
                        st,
                        chosen,
                        started_at=now,
                        on_batch=advance,
                        clock=lambda: datetime.now(UTC),
                        vacuum_every=retention.VACUUM_EVERY if vacuum else None,
                        stopping=stop.is_set,
                        result=result,
                    )
            except retention.RetentionError as e:
                raise fail(str(e)) from None
            except KeyboardInterrupt:  # the batch in hand rolled back; those before it are committed and recorded
                stop.signal = "Ctrl-C"
        if not result.finished:
            err.print(
                stopped_line("store prune", stop.signal or "stopped")
                + f": {result.documents:,} documents pruned in this run; run it again to finish (what is done stays "
                "done, and a re-run passes over it quickly)",
                highlight=False,
            )
            return
        seconds = time.monotonic() - started
        verb = "would remove" if dry_run else "removed"
        out.print(
            f"{verb} the text of {result.documents:,} documents ({_mb(result.freed)} of payload) in {seconds:.1f} s",
            highlight=False,
        )
        if vacuum and not dry_run:
            started = time.monotonic()
            did = st.reclaim_space()
            after = _file_size(sqlite_file(url))
            sizes = f": {_mb(size)} -> {_mb(after)}" if size is not None and after is not None else ""
            out.print(f"{did}{sizes} in {time.monotonic() - started:.1f} s", highlight=False)
        elif not dry_run and size is not None and result.documents:
            out.print(
                "the file keeps its size (SQLite reuses the freed pages for new events); --vacuum gives them back",
                highlight=False,
            )


@store_app.command("forget-relay")
def forget_relay(
    target: Annotated[
        str,
        typer.Argument(
            metavar="TARGET",
            help="The pipeline's topic prefix, or its relay checkpoint as `store prune` names it (kafka-relay:PREFIX).",
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be forgotten; change nothing.")] = False,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Forget `produce`'s relay to a Kafka pipeline that is gone for good: its checkpoint would hold every `store
    prune` back at its position for ever. Stop any `produce` to it first: a forgotten target relayed to again gets
    the whole log from the start (consumers drop what they have by id), and one seen moving meanwhile is refused."""
    from watchfloor.producers.relay import ForgetError, forget_target

    url = store or app_config(config).store
    with _retention_store(url, "forget a relay target") as st:
        try:
            name, at = forget_target(st, target, now=datetime.now(UTC), dry_run=dry_run)
        except ForgetError as e:
            raise fail(f"store {redact_url(url)}: {e}") from None
        verb = "would forget" if dry_run else "forgot"
        out.print(
            f"{verb} the relay checkpoint {name} (at log position {at:,}); `store prune` no longer waits for it",
            highlight=False,
        )


@store_app.command("migrate")
def migrate_store(
    store: StoreOpt = None,
    config: ConfigOpt = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Say the store's schema version and the migrations this release would run on it, changing nothing "
            "(read without a lock: processes running on the store are not held up).",
        ),
    ] = False,
) -> None:
    """Bring the store's schema up to this watchfloor's version, as `run` does when it starts (commands that only read,
    `status`, `alerts list`, `dead-letters`, never do). A watchfloor of an older version still running on the store
    goes on; started again, it refuses the store: restart it with this release. On PostgreSQL, take a `pg_dump`
    first: restoring it is the way back."""
    from watchfloor.stream_processors.stores.migrations import latest_version

    from ..wiring import open_store

    url = store or app_config(config).store
    if dry_run:
        _say_migration_plan(url, latest_version())
        return
    st = open_store(url, create=False)  # (the migration, if any, is said in one line as it is done)
    st.close()
    done = "" if getattr(st, "migrated", None) is not None else " (nothing to do)"
    out.print(f"store {redact_url(url)}: schema version {latest_version()}{done}", highlight=False)


def _say_migration_plan(url: str, latest: int) -> None:
    """`store migrate --dry-run`: the store's version and what this release would do to it, in one line each (an
    upgrade's step "is there a schema change?" answered before it is made: outside trial 83, F4)."""
    from watchfloor.stream_processors.stores.sql import migration_plan

    if url.startswith("memory://"):
        out.print(f"store {redact_url(url)}: in this process's memory only; nothing to migrate", highlight=False)
        return
    said, steps = migration_plan(url)
    where = f"store {redact_url(url)}: schema version {said}"
    if not steps:
        newer = said.isdigit() and int(said) > latest
        tail = f", newer than this release's {latest}: this release refuses it" if newer else " (nothing to do)"
        out.print(f"{where}{tail}", highlight=False)
        return
    out.print(
        f"{where}; this release ({latest}) would run {len(steps)} migration(s), nothing done now:", highlight=False
    )
    for step in steps:
        out.print(f"  {step}", highlight=False)


@contextmanager
def _retention_store(url: str, what: str, *, only_reads: bool = False) -> Iterator[Any]:
    """The store at `url`, opened for a `store` command (never made: a wrong path must not create a store), one that
    can do `what` (the DocumentRetention port), closed after."""
    from watchfloor.stream_processors.ports import DocumentRetention

    from ..wiring import open_store

    st = open_store(url, create=False, upgrade=not only_reads)  # (a --dry-run only reads: no migration)
    try:
        if not isinstance(st, DocumentRetention):
            raise fail(f"store {redact_url(url)}: it cannot {what}")
        yield st
    finally:
        st.close()


def _file_size(path: Path | None) -> int | None:
    """A SQLite store's bytes on disk, its WAL's included (None for other stores)."""
    if path is None or not path.exists():
        return None
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


class _bar:
    """A rich bar over log positions on a terminal (as `run`'s and the dispatcher's long reads), nothing elsewhere."""

    def __init__(self, what: str, start: int, end: int) -> None:
        self.bar = progress_bar(err)
        self.task = self.bar.add_task(what, total=max(end - start, 0))
        self.start = start

    def __enter__(self) -> Any:
        self.bar.start()
        return lambda position: self.bar.update(self.task, completed=position - self.start)

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()
