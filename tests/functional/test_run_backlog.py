"""A backlog in one JSON Lines source is read a slice per cycle by `watchfloor run` (outside trial 18): the other
sources are polled and their alerts delivered between the slices (M1), SIGTERM stops it between slices with nothing
lost or read twice (M2), and a restart delivers what is owed before it reads the backlog (M4)."""

from __future__ import annotations

import functools
import http.server
import json
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.watchfloor_process import WatchfloorProcess, command_env

pytestmark = pytest.mark.functional

RULES = """\
version: 2
name: backlog-desk
language: en
signals:
  conflict_word:
    match:
      any: [missile, strike]
detections:
  - id: conflict-any
    title: "Conflict word in {source}"
    severity: medium
    pattern: {any: conflict_word}
    group_by: [source]
    realert: 1m
"""

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Desk wire</title><link>http://127.0.0.1/</link><description>d</description>
<item><guid>urn:desk:1</guid><title>Breaking: missile strike reported at the harbour</title>
<description>The desk item.</description><pubDate>Mon, 01 Jan 2024 12:00:00 +0000</pubDate></item>
</channel></rss>
"""


def inbox_lines(first: int, n: int) -> str:
    """n documents, each naming an outlet of its own (one alert each: the rule groups by source)."""
    return "".join(
        json.dumps(
            {
                "type": "news.article",
                "id": f"bk-{i}",
                "published_at": f"2024-01-01T{(i // 60) % 24:02d}:{i % 60:02d}:00+00:00",
                "source": f"Outlet {i}",
                "title": f"Report {i}: a missile strike",
                "body": "Backlog line.",
            }
        )
        + "\n"
        for i in range(first, first + n)
    )


@pytest.fixture
def feed_url(tmp_path: Path) -> Iterator[str]:
    """The feed file served over HTTP (feedparser reads it as a real feed)."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "desk.xml").write_text(FEED, encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/desk.xml"
    server.shutdown()


def write_config(
    tmp_path: Path,
    *,
    feed: str | None = None,
    per_poll: int = 50,
    channel_path: str = "alerts.jsonl",
    store: str | None = None,
    backlog_settle: str | None = None,
) -> Path:
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    feed_line = f"  - {{kind: rss, url: '{feed}', poll: 1s}}\n" if feed else ""
    url = store or f"sqlite:///{tmp_path / 'wf.db'}"
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: '{url}'\n"
        + (f"backlog_settle: {backlog_settle}\n" if backlog_settle is not None else "")
        + f"rules: ['{tmp_path / 'rules.yaml'}']\n"
        f"sources:\n  - {{kind: jsonl, path: '{tmp_path / 'inbox.jsonl'}', max_lines_per_poll: {per_poll}}}\n"
        f"{feed_line}"
        f"channels:\n  - {{type: file, name: archive, path: '{tmp_path / channel_path}'}}\n"
        "subscriptions:\n  - {channel: archive}\n",
        encoding="utf-8",
    )
    return cfg


def alert_titles(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["detection"]["title"] for line in lines if line.strip()]


def run_once(cfg: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "watchfloor", "run", "--once", "--config", str(cfg)]
    return subprocess.run(cmd, cwd=cwd, env=command_env(), capture_output=True, text=True, timeout=900)


def inbox_position(db: Path, inbox: Path) -> int:
    """The line the inbox's next poll starts after (its checkpoint), 0 before any."""
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT * FROM checkpoints").fetchall()
    for row in rows:
        if f"source:{inbox}" in row:
            state = next(v for v in row if isinstance(v, str) and '"offset"' in v)
            return int(json.loads(state)["line"])
    return 0


def test_a_feed_is_alerted_before_a_big_inbox_is_finished(tmp_path: Path, feed_url: str) -> None:
    """M1: the feed's item reached the channel before the inbox's backlog was read: alerts of later slices of the
    inbox come after it (before, the whole inbox was read, processed and delivered first). With `backlog_settle: 0s`
    (the default holds a backlog's alerts up to 60 s, below): a backlog longer than that delivers so too."""
    (tmp_path / "inbox.jsonl").write_text(inbox_lines(0, 400), encoding="utf-8")
    cfg = write_config(tmp_path, feed=feed_url, per_poll=50, backlog_settle="0s")
    done = run_once(cfg, tmp_path)
    assert done.returncode == 0, done.stderr
    titles = alert_titles(tmp_path / "alerts.jsonl")
    desk = [i for i, t in enumerate(titles) if "Desk wire" in t]
    inbox = [i for i, t in enumerate(titles) if "Outlet" in t]
    assert len(desk) == 1 and len(inbox) == 400, titles[:5]
    assert len([i for i in inbox if i > desk[0]]) >= 300, (desk, len(inbox))  # most of the backlog came after it
    catching = [line for line in done.stderr.splitlines() if "catching up" in line]
    assert len(catching) >= 7, done.stderr[-2000:]  # a summary line per slice, saying where it is
    assert re.search(r"inbox\.jsonl at line 50\b", catching[0]), catching[0]


def test_sigterm_stops_a_backlog_between_slices_and_a_restart_reads_the_rest_once(tmp_path: Path) -> None:
    """M2: SIGTERM during a backlog ends `run` after the slice in hand (before, it read the whole backlog first);
    the next start reads the rest from the saved position: every line once, no alert twice."""
    inbox = tmp_path / "inbox.jsonl"
    total = 1500
    inbox.write_text(inbox_lines(0, total), encoding="utf-8")
    cfg = write_config(tmp_path, per_poll=20)
    with WatchfloorProcess(["run", "--config", str(cfg), "--interval", "600"], tmp_path) as proc:
        proc.wait_for("catching up")
        code = proc.stop()
    said = proc.rest()
    assert code == 0, said[-3:]
    assert re.fullmatch(r"run stopped \(SIGTERM\) after \d+ cycles?", said[-1]), said[-3:]
    stopped_at = inbox_position(tmp_path / "wf.db", inbox)
    assert 0 < stopped_at < total / 2, stopped_at  # stopped within a few slices of 20, not at the end
    done = run_once(cfg, tmp_path)
    assert done.returncode == 0, done.stderr
    assert inbox_position(tmp_path / "wf.db", inbox) == total
    with sqlite3.connect(tmp_path / "wf.db") as con:
        docs = con.execute("SELECT count(*) FROM events WHERE type = 'news.article'").fetchone()[0]
    assert docs == total
    titles = alert_titles(tmp_path / "alerts.jsonl")
    assert len(titles) == total and len(set(titles)) == total  # every alert once


def test_run_once_stopped_while_catching_up_exits_3_and_says_where(tmp_path: Path) -> None:
    """`run --once` exits 0 only when all went through (README, "Exit status"): one stopped by SIGTERM with a backlog
    left exits 3, as while deliveries are outstanding, and says where the next run goes on (before, it exited 0 or 3
    by its last slice's deliveries alone: a file channel had delivered them, so 0, with most of the inbox unread)."""
    inbox = tmp_path / "inbox.jsonl"
    total = 1500
    inbox.write_text(inbox_lines(0, total), encoding="utf-8")
    cfg = write_config(tmp_path, per_poll=20)
    with WatchfloorProcess(["run", "--once", "--config", str(cfg)], tmp_path) as proc:
        proc.wait_for("catching up")
        code = proc.stop()
    said = proc.rest()
    stopped_at = inbox_position(tmp_path / "wf.db", inbox)
    assert 0 < stopped_at < total / 2, stopped_at
    assert code == 3, said[-4:]
    note = next(line for line in said if line.startswith("not everything was read"))
    assert re.search(r"stopped while catching up \(.*inbox\.jsonl at line [\d,]+\)", note), note
    assert re.fullmatch(r"run stopped \(SIGTERM\) after \d+ cycles?", said[-1]), said[-3:]
    done = run_once(cfg, tmp_path)  # the rest, to the end: all went through
    assert done.returncode == 0, done.stderr
    assert inbox_position(tmp_path / "wf.db", inbox) == total


def test_a_restart_delivers_what_is_owed_before_it_reads_the_backlog(tmp_path: Path) -> None:
    """M4: deliveries left outstanding are sent before the first poll reads a backlog: their delivery events come
    before the backlog's documents in the log (before, the first slice was ingested and processed first)."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(inbox_lines(0, 5), encoding="utf-8")
    # A path under a plain file: every append fails, even by root (a directory at the path is a bad config)
    (tmp_path / "blocked").write_text("", encoding="utf-8")
    cfg = write_config(tmp_path, per_poll=50, channel_path="blocked/alerts.jsonl")
    assert run_once(cfg, tmp_path).returncode == 3  # 5 alerts outstanding
    with sqlite3.connect(tmp_path / "wf.db") as con:
        mark = con.execute("SELECT max(position) FROM events").fetchone()[0]
    with open(inbox, "a", encoding="utf-8") as f:
        f.write(inbox_lines(5, 300))
    cfg = write_config(tmp_path, per_poll=50)  # the channel fixed: the restart owes it 5 deliveries
    done = run_once(cfg, tmp_path)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "wf.db") as con:
        rows = con.execute(
            "SELECT position, type FROM events WHERE type IN ('delivery', 'news.article') AND position > ? "
            "ORDER BY position",
            (mark,),
        ).fetchall()
    backlog = [pos for pos, kind in rows if kind == "news.article"]
    sent = [pos for pos, kind in rows if kind == "delivery"]
    assert len(backlog) == 300 and len(sent) >= 5
    assert sent[4] < backlog[0], (sent[:6], backlog[:3])
    assert alert_titles(tmp_path / "alerts.jsonl")[:5] == [f"Conflict word in Outlet {i}" for i in range(5)]


def test_a_backlog_read_a_slice_per_cycle_is_delivered_in_event_time_once_it_is_read(
    tmp_path: Path, feed_url: str
) -> None:
    """Outside trial 26, F3: delivered after each slice, a sparse source's slice ran ahead of a dense one's in event
    time (44 of 87 posts said "Sent late"). Held while the backlog is read (`backlog_settle`, 60 s by default), the
    feed's later report comes after the inbox's earlier ones, every alert in event time."""
    (tmp_path / "inbox.jsonl").write_text(inbox_lines(0, 400), encoding="utf-8")
    cfg = write_config(tmp_path, feed=feed_url, per_poll=50)
    done = run_once(cfg, tmp_path)
    assert done.returncode == 0, done.stderr
    titles = alert_titles(tmp_path / "alerts.jsonl")
    assert titles == [f"Conflict word in Outlet {i}" for i in range(400)] + ["Conflict word in Desk wire"], titles[:3]
    held = [line for line in done.stderr.splitlines() if "held until the backlog is read" in line]
    assert len(held) >= 6, done.stderr[-2000:]  # said on each slice's line
    lines = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert not any("late" in line for line in lines)  # nothing sent after a later alert of its rule and group
