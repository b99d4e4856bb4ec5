"""A store restored from a backup (trial 42, HIGH-1): its sources' checkpoints are older, so the items read since the
backup are read again and their alerts raised again under the same ids. Slack and the file channel are looked in at
start, from the ledger's newest delivery to each: what was posted since is recorded as delivered, not sent again."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.cli import app

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
STORY = REPO / "tests" / "data" / "events" / "treaty_story.jsonl"  # one story: replies in its thread


def _config(tmp_path: Path, store: str, slack: FakeSlack, inbox: Path) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: "{store}"
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {inbox}}}
channels:
  - {{type: file, name: archive, path: {tmp_path / "alerts.jsonl"}}}
  - {{type: slack, name: desk, channel: "#desk", token_env: WF_TEST_SLACK, base_url: "{slack.base_url}",
      broadcast_escalations: false}}  # (its replies are not in the channel's history)
subscriptions:
  - {{channel: archive}}
  - {{channel: desk}}
""",
        encoding="utf-8",
    )
    return cfg


def _sqlite(tmp_path: Path) -> tuple[str, Callable[[], None], Callable[[], None]]:
    """A store on disk; backed up and restored as `sqlite3 SRC ".backup DST"` does (the README's "Backups")."""
    db, copy = tmp_path / "wf.db", tmp_path / "backup.db"

    def clone(src: Path, dst: Path) -> None:
        with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
            a.backup(b)
        a.close()
        b.close()

    return f"sqlite:///{db}", lambda: clone(db, copy), lambda: clone(copy, db)


def _postgres(tmp_path: Path, url: str) -> tuple[str, Callable[[], None], Callable[[], None]]:
    """The test's schema on PostgreSQL; backed up by `pg_dump -Fc`, restored by `pg_restore` into it dropped."""
    parsed = make_url(url)
    schema = str(parsed.query["options"]).rpartition("search_path=")[2].split()[0]
    libpq = parsed.set(drivername="postgresql").set(query={}).render_as_string(hide_password=False)
    dump = tmp_path / "wf.dump"

    def backup() -> None:
        subprocess.run(["pg_dump", "-Fc", "-n", schema, "-f", str(dump), libpq], check=True)

    def restore() -> None:
        engine = create_engine(url.replace(f"-csearch_path={schema}", ""), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
        subprocess.run(["pg_restore", "-d", libpq, str(dump)], check=True)

    return url, backup, restore


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
@pytest.mark.parametrize(("items", "first"), [(SAMPLES, 6), (STORY, 2)], ids=["alerts", "thread"])
def test_a_store_restored_from_a_backup_does_not_post_again_what_slack_and_the_file_have(
    tmp_path: Path,
    slack_server: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
    kind: str,
    items: Path,
    first: int,
) -> None:
    store, backup, restore = (
        _sqlite(tmp_path) if kind == "sqlite" else _postgres(tmp_path, request.getfixturevalue("pg_url"))
    )
    lines = items.read_text(encoding="utf-8").splitlines(keepends=True)
    inbox, archive = tmp_path / "inbox.jsonl", tmp_path / "alerts.jsonl"
    inbox.write_text("".join(lines[:first]), encoding="utf-8")
    cfg = _config(tmp_path, store, slack_server, inbox)
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": "", "COLUMNS": "400"}

    def run() -> str:
        res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
        said = " ".join(res.output.split())
        assert res.exit_code == 0, said
        return said

    run()
    before = len(slack_server.messages)
    assert before, "the first items raise alerts"
    backup()

    with inbox.open("a", encoding="utf-8") as f:  # news after the backup: alert X and the rest
        f.write("".join(lines[first:]))
    run()
    posted = [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.messages]
    assert len(posted) > before, "the items after the backup raise alerts"
    archived = [json.loads(line)["key"] for line in archive.read_text(encoding="utf-8").splitlines()]

    restore()  # older checkpoints, the ledger of before
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="watchfloor.alerts"):
        said = run()

    assert "found already posted, not posted again" in said, said  # raised again, and found
    again = [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.messages]
    assert again == posted, said  # nothing posted again: one message per delivery
    keys = [json.loads(line)["key"] for line in archive.read_text(encoding="utf-8").splitlines()]
    assert keys == archived, said  # one line per delivery
    # One line per channel says how many it found
    for channel in ("archive", "desk"):
        told = [r for r in caplog.records if r.getMessage().startswith(f"alerts: channel {channel}: ")]
        assert len(told) == 1 and told[0].levelno == logging.WARNING, [r.getMessage() for r in caplog.records]
        assert " deliveries found posted there after its newest one in the ledger " in told[0].getMessage()
