"""A long-running mode's lines carry their UTC time, and a store outage ends at the first write seen going through
between deliveries, not when a long cycle ends (trial 50, LOW-1: "the store reachable again after 120.2s" of a 13 s
PostgreSQL restart, with slow Slack posts, and no line had a time). Injected clocks; a real SQLite store."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watchfloor.cli._common import LOG_TIME_ENV, err, log_times
from watchfloor.cli.health import Heartbeat, between_deliveries
from watchfloor.stream_processors.kafka.clients import Availability
from watchfloor.web.activity import record_start
from watchfloor.wiring import open_store

pytestmark = pytest.mark.functional
AT = datetime(2026, 12, 6, 10, 47, 55, 600_000, tzinfo=UTC)


def test_lines_and_warnings_carry_the_utc_time_while_asked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOG_TIME_ENV, "1")
    with log_times(lambda: AT):
        err.print("polled 1 source: [bold]1 new document[/bold]", highlight=False)
        logging.getLogger("watchfloor.alerts.delivery").warning("alerts: %s attempt 6 failed", "a7d4 -> desk")
    err.print("run stopped", highlight=False)  # (after: as before)
    logging.getLogger("watchfloor.alerts.delivery").warning("after")
    said = capsys.readouterr().err.splitlines()
    assert "2026-12-06T10:47:55Z polled 1 source: 1 new document" in said, said
    assert "2026-12-06T10:47:55Z alerts: a7d4 -> desk attempt 6 failed" in said, said
    assert "run stopped" in said and not any(line.endswith("after") and "Z " in line for line in said), said


@pytest.mark.parametrize("asked", ["0", None])
def test_no_time_when_told_not_to_or_under_a_test_runner(
    asked: str | None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if asked is None:
        monkeypatch.delenv(LOG_TIME_ENV, raising=False)  # (not the `watchfloor` program: tests pin these lines)
    else:
        monkeypatch.setenv(LOG_TIME_ENV, asked)
    with log_times(lambda: AT):
        err.print("polled 1 source", highlight=False)
    assert capsys.readouterr().err.splitlines() == ["polled 1 source"]


def test_a_store_outage_ends_at_the_first_write_seen_between_deliveries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = [0.0]
    watch = Availability("the store", logging.getLogger("watchfloor.test.store"), clock=lambda: now[0])
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        between = between_deliveries(Heartbeat("", clock=lambda: now[0]), watch, store)
        with caplog.at_level(logging.WARNING, logger="watchfloor.test.store"):
            watch.down("cannot connect: Connection refused", lasting=True)
            now[0] = 5.0
            store.write_problem = "cannot connect: Connection refused"  # (as the failed write of a cycle leaves it)
            between()
            assert not watch.available  # no write went through since: still away
            now[0] = 13.0
            record_start(store, AT, {"process": "x", "live": True})  # a write that goes through: the store is back
            between()
            assert watch.available
            now[0] = 120.2  # the long cycle ends: nothing more said
            between()
        said = [r.getMessage() for r in caplog.records]
        assert said[-1] == "the store reachable again after 13.0s", said
        assert sum("reachable again" in line for line in said) == 1, said
    finally:
        store.close()
