"""A SQLite store `run` cannot write says why, naming the store, on every line (trial 50, LOW-2: "could not record
the channel checks …: StoreError" and "error: StoreError: store …"); and `status --config` still names the source
that run could not read (MED-1). The store is opened read-only by SQLite itself (`mode=ro`), which holds as root."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.kafka.clients import Availability
from watchfloor.stream_processors.stores.errors import StoreError, store_state

from .test_event_time_pipeline import config, news, run_once

pytestmark = pytest.mark.functional

runner = CliRunner()


def test_a_read_only_store_is_said_with_its_reason_and_the_unread_source_named(tmp_path: Path) -> None:
    inbox = news(tmp_path / "inbox.jsonl", ("one", 1, "Alphaland closed the border."))
    run_once(tmp_path, config(tmp_path, [f"{{kind: jsonl, path: {inbox}}}"]))
    added = news(tmp_path / "added.jsonl", ("two", 2, "Betastan shut the border."))
    cfg = config(tmp_path, [f"{{kind: jsonl, path: {inbox}}}", f"{{kind: jsonl, path: {added}}}"])
    db = tmp_path / "wf.db"
    readonly = f"sqlite:///file:{db}?mode=ro&uri=true"

    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env={"WATCHFLOOR_STORE": readonly})
    lines = [" ".join(line.split()) for line in res.output.splitlines() if line.strip()]
    assert res.exit_code == 1, res.output
    checks = [line for line in lines if line.startswith("could not record the channel checks")]
    assert len(checks) == 1 and str(db) in checks[0] and "the database is read-only" in checks[0], lines
    assert not any(line.rstrip().endswith("StoreError") or "StoreError:" in line for line in lines), lines
    assert lines[-1].startswith("error: store sqlite:///") and str(db) in lines[-1], lines
    assert "the database is read-only" in lines[-1], lines

    res = runner.invoke(app, ["status", "--config", str(cfg), "--json"])
    assert res.exit_code == 3, res.output
    data = json.loads(res.stdout)
    assert list(data["sources_unread"]) == [str(added)] and data["caught_up"] is False, res.output


def test_a_store_that_is_there_but_cannot_be_written_is_not_called_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A live `run`'s store outage line says what the StoreError's kind is: a read-only or full file cannot be
    written, a disk I/O error makes it unusable; only a store not reached is unreachable."""
    url = "sqlite:////var/wf.db"
    assert store_state(StoreError(url, "the database is read-only (attempt to write)", "read-only")) == (
        "cannot be written"
    )
    assert store_state(StoreError(url, "the disk is full", "full")) == "cannot be written"
    assert store_state(StoreError(url, "disk I/O error", "other")) == "cannot be used"
    assert store_state(StoreError(url, "cannot connect: refused", "unreachable")) == "unreachable"
    log = logging.getLogger("watchfloor.test_store_readonly")
    watch = Availability("the store", log, meanwhile="each cycle tries again")
    io = StoreError(url, "disk I/O error", "other")
    with caplog.at_level(logging.WARNING, logger=log.name):
        watch.down(str(io), lasting=True, word=store_state(io))
        watch.down(str(io), lasting=True, word=store_state(io))  # (said once per outage)
        watch.up()
    said = [r.getMessage() for r in caplog.records if r.name == log.name]
    assert said[0] == f"the store cannot be used (store {url}: disk I/O error); each cycle tries again", said
    assert len(said) == 2 and said[1].startswith("the store usable again after"), said
