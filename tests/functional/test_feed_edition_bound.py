"""A feed item edited at every poll (a live blog) keeps at most its source's `max_editions` editions: later edits
are left out, counted once per text in the poll's summary line, the sources' heartbeat, /metrics and the status page,
and a backtest of the captures leaves out the same ones. The count of an item's editions is the log's, so a new
process (each `run --once` here) goes on from it.

The fixture is our own: seven captures of a "Harbour Desk" feed whose live item takes a new headline at each
(tests/data/feeds/live_blog), and an item that never changes.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from watchfloor.backtest import ReadReport, iter_event_blocks
from watchfloor.cli import app
from watchfloor.config import ConfigError, load_config
from watchfloor.schemas.events import DEFAULT_MAX_EDITIONS, Document
from watchfloor.stream_processors.stores import open_store
from watchfloor.web.activity import heartbeat
from watchfloor.web.build import build_services
from watchfloor.web.server import WebServer, create_app
from watchfloor.wiring import EmbeddedPipeline

pytestmark = pytest.mark.functional

CAPTURES = sorted((Path(__file__).resolve().parents[1] / "data" / "feeds" / "live_blog").glob("capture-*.xml"))
LIVE = "urn:harbour-desk:live:2024-10-18-korea"
STEADY = "urn:harbour-desk:2024-10-18:grain"
runner = CliRunner()


def config(tmp_path: Path, bound: str | None) -> tuple[Path, Path]:
    """A config polling one feed file (rewritten with each capture in turn), with `max_editions: BOUND`."""
    feed = tmp_path / "desk.xml"
    extra = f", max_editions: {bound}" if bound is not None else ""
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\n"
        f"sources:\n  - {{kind: rss, url: {feed}{extra}}}\n"
        f"channels:\n  - {{type: file, name: file, path: {tmp_path / 'alerts.jsonl'}}}\n"
        "subscriptions:\n  - {channel: file}\n",
        encoding="utf-8",
    )
    return cfg, feed


def poll(tmp_path: Path, captures: list[Path], bound: str | None = "3") -> list[str]:
    """`run --once` after each capture is written to the feed's file: each run's output."""
    cfg, feed = config(tmp_path, bound)
    outputs = []
    for capture in captures:
        shutil.copyfile(capture, feed)
        res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
        assert res.exit_code == 0, res.output
        outputs.append(res.output)
    return outputs


def stored(tmp_path: Path) -> list[Document]:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        return [Document.model_validate(se.event.payload) for se in store.read(types={"news.article"}, limit=100)]
    finally:
        store.close()


def live_alerts(tmp_path: Path) -> list[str]:
    sent = tmp_path / "alerts.jsonl"
    lines = sent.read_text().splitlines() if sent.exists() else []
    return sorted(json.loads(line)["detection"]["rule"] for line in lines)


def backtest_documents(captures: list[Path], max_editions: int) -> tuple[list[Document], ReadReport]:
    report = ReadReport()
    blocks = iter_event_blocks(list(map(str, captures)), report=report, max_editions=max_editions)
    return [d for block in blocks for d in block if isinstance(d, Document)], report


def test_a_live_blog_keeps_max_editions_and_says_what_it_leaves_out(tmp_path: Path) -> None:
    outputs = poll(tmp_path, [*CAPTURES, CAPTURES[-1]])
    assert "2 new documents, 0 already seen" in outputs[0]
    for out in outputs[1:4]:
        assert "1 new document (1 edited in place), 1 already seen" in out, out
    for out in outputs[4:7]:  # each new headline past the bound: counted, not read
        assert "0 new documents (1 edit past max_editions left out), 1 already seen" in out, out
    # The last capture polled again: the edit left out is the one the previous poll left out, so it is not counted
    # again (the feed's checkpoint keeps it), and the poll is a quiet one.
    assert "0 new documents, 2 already seen, 0 dead letters" in outputs[7], outputs[7]
    # Which item is said once, when its edits begin to be left out.
    said = [n for n, out in enumerate(outputs) if "edits left out" in out]
    assert said == [4], outputs
    assert f"item {LIVE} has 3 editions (max_editions)" in " ".join(outputs[4].split()), outputs[4]
    docs = stored(tmp_path)
    editions = [d for d in docs if d.metadata.get("edition_of") == LIVE]
    assert len(docs) == 5 and len(editions) == 3
    # The first three headlines after the first, no later one.
    with_titles = {d.title for d in editions}
    assert with_titles == {"Live: " + t for t in _headlines()[1:4]}


def _headlines() -> list[str]:
    return [
        p.read_text(encoding="utf-8").split("<item>\n<title>Live: ", 1)[1].split("</title>", 1)[0] for p in CAPTURES
    ]


def test_what_was_left_out_reaches_metrics_and_the_status_page(tmp_path: Path) -> None:
    poll(tmp_path, [*CAPTURES, CAPTURES[-1]])
    cfg, feed = config(tmp_path, "3")
    with serve(cfg) as url:
        with urllib.request.urlopen(url + "/metrics", timeout=30) as resp:
            metrics = resp.read().decode()
        with urllib.request.urlopen(url + "/", timeout=30) as resp:
            page = resp.read().decode()
    m = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(metrics)
        for s in fam.samples
    }
    assert m[("watchfloor_source_editions_left_out_total", (("source", str(feed)),))] == 3
    row = page.split('id="sources"')[1].split(f'data-source="{feed}"')[1].split("</tr>")[0]
    assert row.rstrip().endswith("<td>3</td>"), row


@contextmanager
def serve(cfg_path: Path) -> Iterator[str]:
    cfg = load_config(cfg_path)
    pipeline = EmbeddedPipeline(cfg, env={})
    services = build_services(cfg, pipeline.store, pipeline.control, pipeline.rules, env={})
    server = WebServer(create_app(services), "127.0.0.1", 0).start()
    try:
        yield server.url
    finally:
        server.stop()
        pipeline.close()


def recent(tmp_path: Path) -> list[Path]:
    """The captures with their items dated a few hours before the test runs: the live poll sees each edit now, so
    it is within the lateness of the item's date, as the backtest of the captures reads it (an edit seen more than
    the lateness after its item's date changes no alert: engine/corrections.py)."""
    start = datetime.now(UTC) - timedelta(hours=3)
    out = []
    for capture in CAPTURES:
        text = capture.read_text(encoding="utf-8")
        for old, hours in (("06:00", 0.5), ("05:30", 0.0)):
            text = text.replace(f"Fri, 18 Oct 2024 {old}:00 GMT", format_datetime(start + timedelta(hours=hours), True))
        out.append(tmp_path / capture.name)
        out[-1].write_text(text, encoding="utf-8")
    return out


def test_a_backtest_of_the_captures_reads_the_documents_polling_them_stored(tmp_path: Path) -> None:
    (tmp_path / "captures").mkdir()
    captures = recent(tmp_path / "captures")
    poll(tmp_path, [*captures, captures[-1]])
    live = stored(tmp_path)
    replayed, report = backtest_documents([*captures, captures[-1]], 3)
    assert sorted(d.id for d in replayed) == sorted(d.id for d in live)
    assert report.editions_left_out == 3
    # Through the command, with the alerts: the same as the live run's.
    out = tmp_path / "bt.json"
    res = runner.invoke(
        app, ["backtest", *map(str, captures), str(captures[-1]), "--max-editions", "3", "--json", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "3 edits past --max-editions (3) left out" in res.output
    stats = json.loads(out.read_text())["stats"]
    assert (stats["editions_left_out"], stats["dead_letters"]) == (3, 0)
    alerts = sorted(a["rule"] for a in json.loads(out.read_text())["alerts"])
    assert alerts == live_alerts(tmp_path) and alerts


def test_the_default_bound_applies_live_and_in_a_backtest(tmp_path: Path) -> None:
    assert DEFAULT_MAX_EDITIONS == 5  # the README and docs say so
    outputs = poll(tmp_path, CAPTURES, bound=None)
    assert "(1 edit past max_editions left out)" in outputs[-1] and "left out" not in "".join(outputs[:-1])
    replayed, report = backtest_documents(CAPTURES, DEFAULT_MAX_EDITIONS)
    assert sorted(d.id for d in replayed) == sorted(d.id for d in stored(tmp_path))
    assert len(replayed) == 2 + DEFAULT_MAX_EDITIONS and report.editions_left_out == 1
    # Unbounded enough: every headline is read.
    replayed, report = backtest_documents(CAPTURES, 100)
    assert len(replayed) == 2 + 6 and report.editions_left_out == 0


def test_max_editions_0_reads_no_edit(tmp_path: Path) -> None:
    outputs = poll(tmp_path, CAPTURES[:3], bound="0")
    assert all("0 new documents (1 edit past max_editions left out)" in out for out in outputs[1:]), outputs
    assert [d.id for d in stored(tmp_path) if d.metadata.get("edition_of")] == []


@pytest.mark.parametrize(("value", "message"), [("-1", "greater than or equal to 0"), ("many", "valid integer")])
def test_a_bad_max_editions_is_refused_at_its_place(tmp_path: Path, value: str, message: str) -> None:
    cfg, _ = config(tmp_path, value)
    with pytest.raises(ConfigError) as failed:
        load_config(cfg)
    text = str(failed.value)
    assert text.startswith(f"{cfg}:4:") and "max_editions" in text and message in text, text


def test_the_checkpoint_keeps_only_the_edits_left_out_by_the_last_poll(tmp_path: Path) -> None:
    """A file feed keeps no checkpoint but its edited items' latest versions until an edit is left out; then the one
    left out too, until a poll leaves none."""
    poll(tmp_path, CAPTURES[:1], bound="1")
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    name = f"source:{tmp_path / 'desk.xml'}"
    try:
        assert store.load_checkpoint(name).state is None  # nothing edited yet
    finally:
        store.close()
    poll(tmp_path, CAPTURES[1:2], bound="1")
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        [edition] = [d.id for d in stored(tmp_path) if d.metadata.get("edition_of") == LIVE]
        latest = {LIVE: [edition, edition.rpartition("-")[2]]}
        assert store.load_checkpoint(name).state == {"editions_latest": latest}
        assert heartbeat(store).sources[str(tmp_path / "desk.xml")].get("editions_left_out", 0) == 0
    finally:
        store.close()
    poll(tmp_path, [CAPTURES[2]], bound="1")
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        held = store.load_checkpoint(name).state
        assert held is not None and list(held["editions_held"]) == [LIVE]
    finally:
        store.close()
    poll(tmp_path, [CAPTURES[1]], bound="1")  # back to the item's latest version: nothing left out
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        assert store.load_checkpoint(name).state == {"editions_latest": latest}
        assert heartbeat(store).sources[str(tmp_path / "desk.xml")]["editions_left_out"] == 1
    finally:
        store.close()


def test_produce_and_ingest_say_what_they_leave_out(tmp_path: Path) -> None:
    """`produce` (distributed) polls with the same poller: its pass line counts the edits left out and its outbox
    store's heartbeat keeps them for a `serve` on it; `ingest` says them too."""
    pytest.importorskip("kafka")
    cfg, feed = config(tmp_path, "1")
    outbox = f"sqlite:///{tmp_path / 'outbox.db'}"
    # No broker: each pass spools its documents (exit 3), which changes nothing here.
    args = ["--broker", "127.0.0.1:1", "--prefix", "editions", "--store", outbox, "--once"]
    said = []
    for capture in CAPTURES[:4]:
        shutil.copyfile(capture, feed)
        res = runner.invoke(app, ["produce", "--config", str(cfg), *args])
        assert res.exit_code == 3, res.output
        said.append(" ".join(res.output.split()))
    # (the feed's other item, unchanged, is counted already seen, as `run` counts it)
    assert "1 new document (1 edited in place), 1 already seen, 0 dead letters" in said[1], said[1]
    for line in said[2:]:
        assert "0 new documents (1 edit past max_editions left out), 1 already seen, 0 dead letters" in line, line
    assert [n for n, line in enumerate(said) if f"item {LIVE} has 1 editions" in line] == [2]
    store = open_store(outbox)
    try:
        assert heartbeat(store).sources[str(feed)]["editions_left_out"] == 2
    finally:
        store.close()
    shutil.copyfile(CAPTURES[4], feed)
    res = runner.invoke(app, ["ingest", str(feed), "--config", str(cfg), "--store", outbox])
    assert res.exit_code == 0, res.output
    # (a feed named on the command line has the default bound: 5 editions, and this item has 1)
    assert "1 new document (1 edited in place), 1 already in the log" in res.output, res.output
