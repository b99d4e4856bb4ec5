"""A command that migrates a store's schema says so in one line (outside trial 15, L1: `run` on a store of the
previous release migrated it 6 → 7 in silence, and a rollback is refused from then on); the store itself prints
nothing, it reports what it did."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.ports import ORDER_LAST
from watchfloor.stream_processors.stores.migrations import current_version, latest_version
from watchfloor.stream_processors.stores.notices import SchemaMigrated, on_schema_migrated
from watchfloor.stream_processors.stores.sql import SqlStore, normalize_url

pytestmark = pytest.mark.functional

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"
runner = CliRunner()


def backlog_row(
    key: str,
    seq: int,
    fired: str | None,
    kind: str = "alert",
    parent: str | None = None,
    status: str = "outstanding",
    **more: str,
) -> str:
    """A ledger row (outstanding unless said) as the version of schema 10 wrote it (the alert in its payload, no
    order_at)."""
    data = {"alert": {"detection": {"fired_at": fired}}, **more}
    payload = "NULL" if fired is None else "'" + json.dumps(data) + "'"
    return (
        "INSERT INTO deliveries (alert_id, channel, status, detail, updated_at, seq, kind, parent_id, payload) "
        f"VALUES ('{key}', 'ops', '{status}', '', '2026-12-01T00:00:00+00:00', {seq}, '{kind}', "
        f"{'NULL' if parent is None else repr(parent)}, {payload})"
    )


def store_of_schema_10(path: Path | str, backlog: bool = False) -> str:
    """A store (a SQLite file, or a PostgreSQL URL) as the release of schema 10 left it: its ledger without the
    claim order (`order_at`, migration 11) and its index (12), one row in it, its events without their line (13), no
    channel backoffs (14), no row revisions (15, and 16's trigger of updates), its version 10."""
    assert latest_version() == 16  # (a later migration: make this the store of the release before it)
    url = f"sqlite:///{path}" if isinstance(path, Path) else path
    SqlStore(url).close()
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_deliveries_claim"))
        conn.execute(text("ALTER TABLE deliveries DROP COLUMN order_at"))
        conn.execute(text("ALTER TABLE events DROP COLUMN line"))
        conn.execute(text("DROP TABLE channel_backoffs"))
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER deliveries_rev_insert"))
            conn.execute(text("DROP TRIGGER deliveries_rev_update"))
            conn.execute(text("DROP TABLE ledger_revision"))
        else:
            conn.execute(text("DROP TRIGGER deliveries_rev ON deliveries"))
            conn.execute(text("DROP TRIGGER deliveries_rev_update ON deliveries"))
            conn.execute(text("DROP FUNCTION deliveries_rev()"))
            conn.execute(text("DROP SEQUENCE deliveries_rev"))
        conn.execute(text("ALTER TABLE deliveries DROP COLUMN rev"))
        conn.execute(
            text(
                "INSERT INTO deliveries (alert_id, channel, status, detail, updated_at, seq) "
                "VALUES ('old', 'ops', 'sent', '', '2026-12-01T00:00:00+00:00', 1)"
            )
        )
        if backlog:  # an outage's backlog, raised newest first (trial 25, F3), and a digest
            conn.execute(text(backlog_row("newer", 2, "2024-11-06T09:00:00+00:00")))
            conn.execute(text(backlog_row("older", 3, "2024-10-24T10:00:00+00:00")))
            conn.execute(text(backlog_row("older-reply", 4, "2024-10-24T08:00:00+00:00", "followup", "older")))
            # its withdrawal: after the reply, which is after its first message (the chain, not one link: review 21)
            conn.execute(text(backlog_row("withdrawal", 5, "2024-10-24T08:00:00+00:00", "retraction", "older-reply")))
            conn.execute(text(backlog_row("digest", 1, None, "digest")))
            # the withdrawal of an alert a throttle summary listed: after the summaries
            conn.execute(text(backlog_row("listed", 6, "2024-10-20T00:00:00+00:00", "retraction", "x", summary="s")))
        conn.execute(text("UPDATE watchfloor_schema SET version = 10"))
    engine.dispose()
    return url


def test_the_store_reports_its_migration_and_prints_nothing(tmp_path: Path) -> None:
    quiet = store_of_schema_10(tmp_path / "quiet.db")
    opened = subprocess.run(  # the library alone, without the command line's listener
        [sys.executable, "-c", f"from watchfloor.stream_processors.stores.sql import SqlStore; SqlStore({quiet!r})"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (opened.stdout, opened.stderr) == ("", "")
    url = store_of_schema_10(tmp_path / "old.db", backlog=True)
    heard: list[SchemaMigrated] = []
    stop = on_schema_migrated(heard.append)
    try:
        store = SqlStore(url)
        assert current_version(store.engine) == 16
        assert store.migrated == heard[0] and len(heard) == 1
        assert (heard[0].found, heard[0].to) == (10, 16) and "order_at" in heard[0].steps[0]
        old = {r.alert_id: r.order_at for r in store.deliveries()}
        assert old["old"] == 0.0  # settled: never claimed again, left as it was
        # The backlog is claimed in event time as this version enqueues it: the reply (fired before its thread's
        # first message) right after it, the digest last.
        claimed = [r.alert_id for r in store.claim_deliveries("p", 2e9, 60, limit=10)]
        assert claimed == ["older", "older-reply", "withdrawal", "newer", "digest", "listed"]
        with store.engine.connect() as conn:  # a claim reads the first due row of its index, not every outstanding one
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT alert_id FROM deliveries WHERE status = 'outstanding' "
                "ORDER BY order_at, seq, alert_id, channel LIMIT 1"
            ).all()
        assert "ix_deliveries_claim" in str(plan) and "TEMP B-TREE" not in str(plan), plan
        store.close()
        again = SqlStore(url)  # up to date: nothing done, nothing said
        assert again.migrated is None and len(heard) == 1
        again.close()
        fresh = SqlStore(f"sqlite:///{tmp_path / 'new.db'}")  # made, not migrated
        assert fresh.migrated is None and len(heard) == 1
        fresh.close()
    finally:
        stop()


def test_migration_11_adds_the_column_and_leaves_the_index_to_migration_12(tmp_path: Path) -> None:
    # Review 21, F2: migration 11 created every ledger index that was missing, the claim index too, so on PostgreSQL
    # it was built in the migration's transaction (every reader and writer of the ledger blocked) and migration 12's
    # concurrent build never ran.
    from watchfloor.stream_processors.stores.migrations import MIGRATIONS

    url = store_of_schema_10(tmp_path / "old.db", backlog=True)
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        [eleven] = [m for m in MIGRATIONS if m.version == 11]
        eleven.apply(conn)
        eleven.apply(conn)  # (idempotent)
        assert "order_at" in {c["name"] for c in inspect(conn).get_columns("deliveries")}
        assert "ix_deliveries_claim" not in {i["name"] for i in inspect(conn).get_indexes("deliveries")}
        got = dict(conn.execute(text("SELECT alert_id, order_at FROM deliveries")).all())
    engine.dispose()
    assert got["older"] == got["older-reply"] == got["withdrawal"] == datetime(2024, 10, 24, 10, tzinfo=UTC).timestamp()
    assert got["digest"] == got["listed"] == ORDER_LAST and got["old"] == 0.0


def test_run_on_a_store_of_the_previous_schema_says_it_migrated_it(tmp_path: Path) -> None:
    url = store_of_schema_10(tmp_path / "wf.db")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: {url}\nrules: [builtin:dprk_russia]\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS / 'treaty_story.jsonl'}}}\n",
        encoding="utf-8",
    )
    first = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert first.exit_code == 0, first.output
    line = f"store {url}: schema migrated 10 → 16 (deliveries: order_at"
    assert first.output.count(line) == 1, first.output
    said = " ".join(first.output.split())
    assert (
        "a watchfloor that knows only version 10 refuses it from its next start (one still running on it goes on: "
        in said
    )
    assert "restart it with this release)" in said
    again = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert again.exit_code == 0 and "schema migrated" not in again.output, again.output


@pytest.mark.integration
def test_a_postgres_store_reports_its_migration_too(pg_url: str) -> None:
    url = store_of_schema_10(pg_url, backlog=True)
    heard: list[SchemaMigrated] = []
    stop = on_schema_migrated(heard.append)
    built: list[str] = []
    say = logging.getLogger("watchfloor.stream_processors.stores.migrations")
    hear_builds = _Heard(built)
    say.addHandler(hear_builds)
    say.setLevel(logging.INFO)
    try:
        store = SqlStore(url)
        claimed = [r.alert_id for r in store.claim_deliveries("p", 2e9, 60, limit=10)]
        store.close()
    finally:
        stop()
        say.removeHandler(hear_builds)
    assert claimed == ["older", "older-reply", "withdrawal", "newer", "digest", "listed"]
    # the claim index is built concurrently, by migration 12, not inside migration 11's transaction (review 21, F2)
    assert any("building index ix_deliveries_claim" in m and "concurrently" in m for m in built), built
    assert [(m.found, m.to) for m in heard] == [(10, 16)]
    assert str(heard[0]).startswith("store postgresql") and "schema migrated 10 → 16" in str(heard[0])


class _Heard(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.INFO)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


def test_a_settled_row_of_the_previous_schema_sent_again_takes_its_place_in_event_time(tmp_path: Path) -> None:
    # Review 21, F7: migration 11 orders only the rows a pass may claim; a sent row of the version before kept order
    # 0, so `alerts redeliver` of it (or of its reply) put it before every due alert, whatever its time.
    url = store_of_schema_10(tmp_path / "old.db", backlog=True)
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(text(backlog_row("sent-alert", 7, "2024-10-30T00:00:00+00:00", status="sent")))
        conn.execute(text(backlog_row("sent-reply", 8, "2024-10-29T00:00:00+00:00", "followup", "sent-alert", "sent")))
    engine.dispose()
    store = SqlStore(url)
    try:
        assert {r.alert_id: r.order_at for r in store.deliveries()}["sent-reply"] == 0.0  # (settled: left as it was)
        assert store.redeliver(2e9, alert_ids={"sent-reply"}, statuses=("sent",)) == 1
        order = {r.alert_id: r.order_at for r in store.deliveries()}
        assert order["sent-reply"] == datetime(2024, 10, 30, tzinfo=UTC).timestamp()  # under its first message
        claimed = [r.alert_id for r in store.claim_deliveries("p", 2e9, 60, limit=10)]
        assert claimed == ["older", "older-reply", "withdrawal", "sent-reply", "newer", "digest", "listed"]
    finally:
        store.close()


def test_a_command_that_only_reads_does_not_upgrade_an_older_store_and_store_migrate_does(tmp_path: Path) -> None:
    # Outside trial 25 (side note): `alerts list` of a newly installed watchfloor migrated the store under a `run` of
    # the version before, which then refused it at its next start. Reads now say how to upgrade it instead.
    url = store_of_schema_10(tmp_path / "wf.db")
    engine = create_engine(normalize_url(url))
    for read in (["alerts", "list"], ["dead-letters"], ["status"]):
        got = runner.invoke(app, [*read, "--store", url])
        said = " ".join(got.output.split())
        assert "older than this watchfloor's 16" in said and "watchfloor store migrate" in said, (read, got.output)
        assert "schema migrated" not in said and current_version(engine) == 10, read
        if read != ["status"]:  # (status reports each part's problem and goes on)
            assert got.exit_code == 1, (read, got.output)
    done = runner.invoke(app, ["store", "migrate", "--store", url])
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert f"store {url}: schema migrated 10 → 16" in said and f"store {url}: schema version 16" in said
    assert current_version(engine) == 16 and "(nothing to do)" not in said
    again = runner.invoke(app, ["store", "migrate", "--store", url])
    assert (
        again.exit_code == 0 and "schema version 16 (nothing to do)" in again.output and "migrated" not in again.output
    )
    listed = runner.invoke(app, ["alerts", "list", "--store", url])
    assert listed.exit_code == 0, listed.output
    missing = runner.invoke(app, ["store", "migrate", "--store", f"sqlite:///{tmp_path / 'nosuch.db'}"])
    assert missing.exit_code == 1 and not (tmp_path / "nosuch.db").exists()  # a wrong path makes no store
    engine.dispose()


def test_rows_an_older_process_still_writes_after_the_migration_are_claimed_in_event_time(tmp_path: Path) -> None:
    # Outside trial 26, F4: during an upgrade an old `run` goes on writing deliveries after the new version migrated
    # the store; its rows took the column's default, order 0, and were claimed before everything due (the 25 Oct alerts
    # before the 24 Oct ones, which then said "Sent late").
    url = store_of_schema_10(tmp_path / "old.db", backlog=True)
    store = SqlStore(url)  # the new version migrates it
    try:
        engine = create_engine(normalize_url(url))
        with engine.begin() as conn:  # the old process, still running: its insert names no order_at
            conn.execute(text(backlog_row("old-writer-late", 9, "2024-11-10T00:00:00+00:00")))
            conn.execute(text(backlog_row("old-writer-early", 10, "2024-10-01T00:00:00+00:00")))
            conn.execute(text(backlog_row("no-alert", 11, None)))  # a first version's row: first, as before
        engine.dispose()
        assert {r.alert_id: r.order_at for r in store.deliveries()}["old-writer-late"] == 0.0
        claimed = [r.alert_id for r in store.claim_deliveries("p", 2e9, 60, limit=20)]
        assert claimed == [
            "no-alert",
            "old-writer-early",
            "older",
            "older-reply",
            "withdrawal",
            "newer",
            "old-writer-late",
            "digest",
            "listed",
        ]
        assert {r.alert_id: r.order_at for r in store.deliveries()}["no-alert"] == 1.0  # not looked at again
    finally:
        store.close()


@pytest.mark.parametrize(
    "read",
    [["subscriptions", "list"], ["silences", "list"], ["store", "prune", "--older-than", "90", "--dry-run"]],
)
def test_list_commands_and_a_dry_run_do_not_upgrade_an_older_store_either(tmp_path: Path, read: list[str]) -> None:
    # Review 22, F3: the first change covered status, alerts list, dead-letters and backtest --from-store only.
    url = store_of_schema_10(tmp_path / "wf.db")
    engine = create_engine(normalize_url(url))
    got = runner.invoke(app, [*read, "--store", url])
    assert got.exit_code == 1 and "watchfloor store migrate" in " ".join(got.output.split()), got.output
    assert current_version(engine) == 10
    engine.dispose()


def test_a_store_from_before_schema_versions_is_not_upgraded_by_a_read(tmp_path: Path) -> None:
    url = store_of_schema_10(tmp_path / "wf.db")
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE watchfloor_schema"))
    got = runner.invoke(app, ["alerts", "list", "--store", url])
    said = " ".join(got.output.split())
    assert got.exit_code == 1 and "its schema is version from before schema versions" in said, got.output
    assert "watchfloor_schema" not in inspect(engine).get_table_names()
    engine.dispose()


def test_status_with_a_broker_says_an_older_store_as_it_is_and_is_not_caught_up(tmp_path: Path) -> None:
    # Review 22, F6: it advised "give --store", and nothing pending made the verdict "caught up".
    from watchfloor.cli.status import _other_schema, read_deliveries

    d = read_deliveries(store_of_schema_10(tmp_path / "wf.db"))
    assert d.problem is not None and "older than this watchfloor's 16" in d.problem and _other_schema(d)


def _revisions_migrated(url: str) -> None:
    store = SqlStore(url)  # migrates 10 -> 16
    try:
        first = store.thread_rows("ops", "", {})
        assert first.revisions == {"old": 0}  # a row of the old release: the revision the column starts at
        assert store.redeliver(2e9, alert_ids={"old"}, statuses=("sent",)) == 1  # a write: it moves
        again = store.thread_rows("ops", "", first.revisions)
        assert list(again.rows) == ["old"] and again.rows["old"].status == "outstanding"
        assert again.revisions["old"] > 0
        # a row an older process writes (it knows nothing of the column): the triggers give it one all the same
        with store.engine.begin() as conn:
            conn.execute(text(backlog_row("late", 9, "2024-11-06T09:00:00+00:00")))
        late = store.thread_rows("ops", "", again.revisions)
        assert list(late.rows) == ["late"] and late.revisions["late"] > again.revisions["old"]
    finally:
        store.close()


def test_migration_15_gives_every_row_a_revision_that_each_write_moves(tmp_path: Path) -> None:
    _revisions_migrated(store_of_schema_10(tmp_path / "old.db"))


def test_migration_15_on_postgres(pg_url: str) -> None:
    _revisions_migrated(store_of_schema_10(pg_url))


def test_store_migrate_dry_run_says_the_version_and_the_migrations_it_would_run_and_changes_nothing(
    tmp_path: Path,
) -> None:
    # Outside trial 83, F4: an upgrade's "is there a schema change?" could be answered only by migrating. A dry run
    # reads the store's version and lists what this release would do to it, without a lock and changing nothing.
    url = store_of_schema_10(tmp_path / "wf.db")
    engine = create_engine(normalize_url(url))
    got = runner.invoke(app, ["store", "migrate", "--dry-run", "--store", url])
    said = " ".join(got.output.split())
    assert got.exit_code == 0, got.output
    assert f"store {url}: schema version 10; this release (16) would run 6 migration(s), nothing done now:" in said
    assert all(f" {v}: " in said for v in range(11, 17)) and " 10: " not in said, said
    assert current_version(engine) == 10  # nothing done
    assert runner.invoke(app, ["store", "migrate", "--store", url]).exit_code == 0
    again = " ".join(runner.invoke(app, ["store", "migrate", "--dry-run", "--store", url]).output.split())
    assert f"store {url}: schema version 16 (nothing to do)" in again, again
    missing = runner.invoke(app, ["store", "migrate", "--dry-run", "--store", f"sqlite:///{tmp_path / 'nosuch.db'}"])
    assert missing.exit_code == 1 and "no store at" in missing.output and not (tmp_path / "nosuch.db").exists()
    engine.dispose()
