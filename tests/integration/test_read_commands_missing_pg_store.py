"""Commands that only read never make a store: on PostgreSQL, a database (here: a schema) that holds no watchfloor
tables is refused as a missing SQLite file is, and nothing is created in it (outside trial 43, M2: `status` on a
mistyped database made watchfloor's tables there and said "caught up"). Against a real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.integration

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [["status"], ["alerts", "list"], ["dead-letters"], ["backtest", "--from-store"], ["store", "migrate"]],
)
def test_a_read_of_an_empty_database_is_refused_and_creates_nothing(pg_url: str, command: list[str]) -> None:
    args = [*command, pg_url] if command[-1] == "--from-store" else [*command, "--store", pg_url]
    res = runner.invoke(app, args)
    said = " ".join(res.output.split())
    assert res.exit_code == 1, said
    assert (
        "no watchfloor store in this database (it holds no watchfloor tables: check the URL; nothing was created)"
        in said
    )
    engine = create_engine(pg_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_a_store_once_made_is_read(pg_url: str) -> None:
    SqlStore(pg_url).close()  # as `run` makes it
    res = runner.invoke(app, ["alerts", "list", "--store", pg_url])
    assert res.exit_code == 0, res.output
