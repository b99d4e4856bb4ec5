"""An alert id by its first characters (outside trial 81, F2): `alerts ack`, `alerts ack --story`, `alerts list ID`,
`alerts list --story` and `alerts redeliver` take the first 8 or more characters of an alert id that no other alert
id starts with, as git takes a commit's; a prefix that several share is refused naming how many ("ambiguous: N alerts
start with P"), and an id that finds nothing says what an alert id looks like, not only "no alert".

The CLI through typer's CliRunner against a SQLite store on disk, with the detections a run would have written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.functional.delivery_helpers import detection, feed
from watchfloor.cli import app
from watchfloor.schemas.events import Detection
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional
runner = CliRunner()

# Three alerts: two share their first 8 characters, the third's first 8 are its own.
TWINS = ("3f9a0c1e77aa5b2d9e10", "3f9a0c1e11bb6c3e0f21")
LONER = "8d02b4f6a1c3e5d7f9b1"


def alert(n: int, alert_id: str) -> Detection:
    return detection(n, group={"route": f"R{n}"}).model_copy(update={"id": alert_id})


@pytest.fixture
def config(tmp_path: Path) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""
store: sqlite:///{tmp_path / "wf.db"}
sources: []
channels:
  - {{type: file, name: archive, path: {tmp_path / "alerts.jsonl"}}}
subscriptions: []
""",
        encoding="utf-8",
    )
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        feed(store, alert(1, TWINS[0]), alert(2, TWINS[1]), alert(3, LONER))
    finally:
        store.close()
    return cfg


def wf(cfg: Path, *args: str) -> tuple[int, str]:
    res = runner.invoke(app, [*args, "--config", str(cfg)], env={"COLUMNS": "200", "WATCHFLOOR_STORE": ""})
    return res.exit_code, res.output


def test_a_unique_prefix_of_eight_or_more_names_its_alert(config: Path) -> None:
    code, said = wf(config, "alerts", "ack", LONER[:8], "--by", "kim")
    assert code == 0, said
    assert said.startswith(f"acknowledged {LONER} by kim (via cli)"), said
    code, said = wf(config, "alerts", "ack", TWINS[0][:11].upper(), "--by", "lee")  # (hex in either case)
    assert code == 0 and said.startswith(f"acknowledged {TWINS[0]} by lee"), said

    code, listed = wf(config, "alerts", "list", LONER[:9], "--json")
    assert code == 0, listed
    [line] = [json.loads(x) for x in listed.splitlines()]
    assert line["id"] == LONER and [a["by"] for a in line["acknowledged"]] == ["kim"]

    code, said = wf(config, "alerts", "redeliver", LONER[:8])
    assert code == 0 and "no alert or delivery" not in said, said


def test_a_shared_prefix_is_ambiguous_and_names_how_many(config: Path) -> None:
    code, said = wf(config, "alerts", "ack", TWINS[0][:8], "--by", "kim")
    assert code == 1, said
    assert f"ambiguous: 2 alerts start with {TWINS[0][:8]}" in said, said
    assert TWINS[0] in said and TWINS[1] in said, said
    for command in (["alerts", "list", TWINS[1][:8]], ["alerts", "list", "--story", TWINS[1][:8]]):
        code, said = wf(config, *command)
        assert code == 1 and f"ambiguous: 2 alerts start with {TWINS[1][:8]}" in said, said


def test_too_short_or_unknown_says_what_an_alert_id_looks_like(config: Path) -> None:
    for given in (LONER[:7], "0123456789abcdef0123"):  # (7 characters: a prefix is 8 or more)
        code, said = wf(config, "alerts", "ack", given)
        assert code == 1 and f"no alert with the id {given}" in said, said
        assert "20 hex characters" in said and "first 8 or more" in said, said
        code, said = wf(config, "alerts", "list", given)
        assert code == 1 and "20 hex characters" in said, said
        code, said = wf(config, "alerts", "list", "--story", given)
        assert code == 1 and "20 hex characters" in said, said
