"""`alerts list` in a narrow terminal (outside trial 81, F1; trial 80): at 80 columns every column was cut ("hi…",
"No…") and the story id lost. The narrow table keeps each alert's id whole, a story column of the story's first
characters (unique in the store: what `alerts list --story` and `alerts ack` take), whether each alert stands (a
withdrawn one says so), and says where the delivery key is; the wide table gains the story and standing columns. A
live `run` of the DPRK–Russia story with `treaty-ratified` threaded by nothing (Russia's and North Korea's
ratifications one story), then North Korea's withdrawn; SQLite on disk."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.functional.test_backtest_stories import EVENTS, pack
from watchfloor.cli import app
from watchfloor.schemas.events import Retraction, retraction_event
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional
runner = CliRunner()


def wf(columns: int, *args: str) -> str:
    res = runner.invoke(app, list(args), env={"COLUMNS": str(columns), "WATCHFLOOR_STORE": ""})
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{pack(tmp_path, threaded=True)}]\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS}}}\n"
        f"channels:\n  - {{type: file, name: desk, path: {tmp_path / 'desk.jsonl'}}}\n"
        "subscriptions:\n  - {channel: desk}\n",
        encoding="utf-8",
    )
    wf(200, "run", "--once", "--config", str(cfg))
    return cfg


def test_at_80_columns_nothing_is_cut_and_the_short_ids_are_taken(cfg: Path) -> None:
    listed = [json.loads(line) for line in wf(200, "alerts", "list", "--json", "--config", str(cfg)).splitlines()]
    russia, korea = [a for a in listed if a["rule"] == "treaty-ratified"]
    assert korea["story"] == russia["story"] == russia["id"]
    store = open_store(f"sqlite:///{cfg.parent / 'wf.db'}")
    try:
        when = datetime(2024, 11, 13, tzinfo=UTC)
        gone = Retraction(
            alert_id=korea["id"], rule=korea["rule"], group=korea["group"], reason="denied", revision=1, at=when
        )
        store.append([retraction_event(gone)])
    finally:
        store.close()

    table = wf(80, "alerts", "list", "--config", str(cfg))
    assert max(len(line) for line in table.splitlines()) <= 80, table
    assert "…" not in table, table  # (no column cut)
    rows = {
        a["id"]: [c.strip() for c in next(line for line in table.splitlines() if f"│ {a['id']} │" in line).split("│")]
        for a in listed
    }  # (each alert's first line: its id whole, what `alerts redeliver` takes)
    assert rows[korea["id"]][2] == rows[russia["id"]][2] == russia["id"][:8], table  # the story column, short
    assert rows[korea["id"]][-2] == "withdrawn" and rows[russia["id"]][-2] == "yes", table  # standing, first
    assert {rows[a["id"]][3] for a in listed} == {a["rule"] for a in listed}, table  # the rule heads the alert
    assert "HIGH: Russia ratified" in table and "2024-10-24 09:00:00 UTC" in table, table
    assert "delivery keys: each alert's is its id (`alerts list --json`: delivery_key)" in table

    # What it shows is what the commands take
    story = wf(200, "alerts", "list", "--story", russia["id"][:8], "--json", "--config", str(cfg))
    assert {json.loads(line)["id"] for line in story.splitlines()} == {russia["id"], korea["id"]}
    said = wf(200, "alerts", "ack", russia["id"][:8], "--by", "kim", "--config", str(cfg))
    assert said.startswith(f"acknowledged {russia['id']} by kim"), said

    wide = wf(250, "alerts", "list", "--config", str(cfg))
    assert all(a["id"] in wide for a in listed) and "standing" in wide and "story" in wide, wide
    assert "withdrawn" in wide
