"""`watchfloor status` counts what a JSON Lines source holds past the position its poll saved (outside trial 20,
M3: a `run --once` stopped by SIGTERM left thousands of lines unread, and `status` said "caught up", exit 0): the
source is named with what is unread, the verdict is behind (exit 3), and a run that reads it clears it. A last line
still being written (no newline yet) is not unread work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

from .test_event_time_pipeline import config, news, run_once

pytestmark = pytest.mark.functional

runner = CliRunner()


def status(cfg: Path) -> tuple[int, str, dict[str, object]]:
    res = runner.invoke(app, ["status", "--config", str(cfg), "--json"])
    data = json.loads(res.stdout)
    text = runner.invoke(app, ["status", "--config", str(cfg)])
    return text.exit_code, " ".join(text.output.split()), data


def test_status_names_a_json_lines_source_with_lines_not_read_yet(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox.jsonl"
    news(inbox, ("one", 1, "Alphaland closed the border."))
    cfg = config(tmp_path, [f"{{kind: jsonl, path: {inbox}}}"])
    run_once(tmp_path, cfg)
    code, said, data = status(cfg)
    assert code == 0 and "caught up" in said and data["sources_unread"] == {}, said

    read = inbox.stat().st_size
    with inbox.open("a", encoding="utf-8") as f:  # appended after the run: nothing has read it
        f.write(
            json.dumps(
                {
                    "type": "news.article",
                    "id": "two",
                    "published_at": "2025-03-02T00:00:00+00:00",
                    "source": "Wire A",
                    "title": "Betastan shut the border.",
                }
            )
            + "\n"
        )
    code, said, data = status(cfg)
    grown = inbox.stat().st_size - read
    assert code == 3 and data["caught_up"] is False, said
    assert data["sources_unread"] == {str(inbox): f"{grown:,} bytes not read yet (from line 2)"}
    assert f"source {inbox}: not read to its end ({grown:,} bytes not read yet (from line 2))" in said, said
    assert "1 source with lines not read yet" in said, said

    run_once(tmp_path, cfg)
    code, said, data = status(cfg)
    assert code == 0 and data["sources_unread"] == {}, said

    with inbox.open("a", encoding="utf-8") as f:  # a line still being written: not yet a line to read
        f.write('{"type": "news.article", "id": "thr')
    code, said, data = status(cfg)
    assert code == 0 and data["sources_unread"] == {}, said


def test_status_names_a_json_lines_source_the_config_names_and_no_poll_has_read(tmp_path: Path) -> None:
    """Outside trial 50, MED-1: a source added to the config after the `run` started (or named for a `run` that
    cannot write its store) has no saved position at all, and `status --config` said "caught up", exit 0. Its
    lines are unread work; an optional file not there yet, or one with no whole line, is not."""
    inbox = tmp_path / "inbox.jsonl"
    news(inbox, ("one", 1, "Alphaland closed the border."))
    run_once(tmp_path, config(tmp_path, [f"{{kind: jsonl, path: {inbox}}}"]))

    added = tmp_path / "added.jsonl"
    news(added, ("two", 2, "Betastan shut the border."))
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"type": "news.article", "id": "thr', encoding="utf-8")  # no whole line yet
    cfg = config(
        tmp_path,
        [
            f"{{kind: jsonl, path: {inbox}}}",
            "{kind: jsonl, path: added.jsonl}",  # (relative to the config's folder, as `run` reads it)
            f"{{kind: jsonl, path: {empty}}}",
            f"{{kind: jsonl, path: {tmp_path / 'later.jsonl'}, optional: true}}",
        ],
    )
    code, said, data = status(cfg)
    size = added.stat().st_size
    assert code == 3 and data["caught_up"] is False and data["ok"] is False, said
    assert data["sources_unread"] == {str(added): f"never read: {size:,} bytes, no poll has saved a position in it"}
    assert f"source {added}: never read ({size:,} bytes, no poll has saved a position in it)" in said, said
    assert "behind (1 source with lines not read yet)" in said, said

    run_once(tmp_path, cfg)
    code, said, data = status(cfg)
    assert code == 0 and data["sources_unread"] == {} and "caught up" in said, said


def test_status_names_a_feed_the_config_names_and_the_last_run_never_polled(tmp_path: Path) -> None:
    """A feed has no lines to count, but the `run` that wrote the last cycle records every source it polled: a feed
    added to the config since is said as never polled (behind, exit 3) until a run polls it."""
    feeds = Path(__file__).resolve().parents[1] / "data" / "feeds"
    inbox = news(tmp_path / "inbox.jsonl", ("one", 1, "Alphaland closed the border."))
    rss = f"{{kind: rss, url: {feeds / 'world_rss2.xml'}}}"
    run_once(tmp_path, config(tmp_path, [f"{{kind: jsonl, path: {inbox}}}", rss]))
    atom = feeds / "world_atom.xml"
    cfg = config(tmp_path, [f"{{kind: jsonl, path: {inbox}}}", rss, f"{{kind: rss, url: {atom}}}"])
    code, said, data = status(cfg)
    assert code == 3 and data["caught_up"] is False, said
    assert data["sources_unread"] == {str(atom): "never polled by the watchfloor run that wrote the last cycle"}
    assert f"source {atom}: never polled (by the watchfloor run that wrote the last cycle)" in said, said
    assert "behind (1 source never polled)" in said, said

    run_once(tmp_path, cfg)
    code, said, data = status(cfg)
    assert code == 0 and data["sources_unread"] == {} and "caught up" in said, said
