"""A command that migrates a store's schema says so in one line (outside trial 15, L1: `run` on a store of the
previous release migrated it 6 → 7 in silence, and a rollback is refused from then on); the store itself prints
nothing, it reports what it did."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.stores.migrations import current_version, latest_version
from watchfloor.stream_processors.stores.notices import SchemaMigrated, on_schema_migrated
from watchfloor.stream_processors.stores.sql import SqlStore, normalize_url

pytestmark = pytest.mark.functional

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"
runner = CliRunner()


def store_of_schema_9(path: Path | str) -> str:
    """A store (a SQLite file, or a PostgreSQL URL) as the release of schema 9 left it: the ledger's thread index
    on (channel, thread_key), none of migration 10's, its version 9."""
    assert latest_version() == 10  # (a later migration: make this the store of the release before it)
    url = f"sqlite:///{path}" if isinstance(path, Path) else path
    SqlStore(url).close()
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_deliveries_thread_key"))
        conn.execute(text("DROP INDEX ix_deliveries_sent"))
        conn.execute(text("CREATE INDEX ix_deliveries_thread ON deliveries (channel, thread_key)"))
        conn.execute(text("UPDATE watchfloor_schema SET version = 9"))
    engine.dispose()
    return url


def test_the_store_reports_its_migration_and_prints_nothing(tmp_path: Path) -> None:
    quiet = store_of_schema_9(tmp_path / "quiet.db")
    opened = subprocess.run(  # the library alone, without the command line's listener
        [sys.executable, "-c", f"from watchfloor.stream_processors.stores.sql import SqlStore; SqlStore({quiet!r})"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (opened.stdout, opened.stderr) == ("", "")
    url = store_of_schema_9(tmp_path / "old.db")
    heard: list[SchemaMigrated] = []
    stop = on_schema_migrated(heard.append)
    try:
        store = SqlStore(url)
        assert current_version(store.engine) == 10
        assert store.migrated == heard[0] and len(heard) == 1
        assert (heard[0].found, heard[0].to) == (9, 10) and "a thread's rows by its key" in heard[0].steps[0]
        store.close()
        again = SqlStore(url)  # up to date: nothing done, nothing said
        assert again.migrated is None and len(heard) == 1
        again.close()
        fresh = SqlStore(f"sqlite:///{tmp_path / 'new.db'}")  # made, not migrated
        assert fresh.migrated is None and len(heard) == 1
        fresh.close()
    finally:
        stop()


def test_run_on_a_store_of_the_previous_schema_says_it_migrated_it(tmp_path: Path) -> None:
    url = store_of_schema_9(tmp_path / "wf.db")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: {url}\nrules: [builtin:dprk_russia]\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS / 'treaty_story.jsonl'}}}\n",
        encoding="utf-8",
    )
    first = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert first.exit_code == 0, first.output
    line = f"store {url}: schema migrated 9 → 10 (deliveries: a thread's rows by its key"
    assert first.output.count(line) == 1, first.output
    assert "a watchfloor that knows only version 9 refuses it now" in " ".join(first.output.split())
    again = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert again.exit_code == 0 and "schema migrated" not in again.output, again.output


@pytest.mark.integration
def test_a_postgres_store_reports_its_migration_too(pg_url: str) -> None:
    url = store_of_schema_9(pg_url)
    heard: list[SchemaMigrated] = []
    stop = on_schema_migrated(heard.append)
    try:
        store = SqlStore(url)
        store.close()
    finally:
        stop()
    assert [(m.found, m.to) for m in heard] == [(9, 10)]
    assert str(heard[0]).startswith("store postgresql") and "schema migrated 9 → 10" in str(heard[0])
