"""Live == backtest whatever order the sources are read in: `watchfloor run --once` against `watchfloor backtest`
over the same files, with feeds in feed order (newest first), a later file read first, a 2099 typo.

`backtest --from-store --order log` replays the live run's log (origins, receive times, CaughtUp marks) and
gives exactly what it raised, revisions included; `--order event-time` gives the alerts that stand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.events import EventType
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "data" / "eventtime"
SAMPLES = REPO / "watchfloor" / "samples"
ALERT_EVENTS = {EventType.DETECTION.value, EventType.RETRACTION.value}


def config(tmp_path: Path, sources: list[str]) -> Path:
    lines = [f"store: sqlite:///{tmp_path / 'wf.db'}", "rules: [builtin:dprk_russia]", "sources:"]
    lines += [f"  - {s}" for s in sources]
    lines += ["channels:", f"  - {{type: file, name: file, path: {tmp_path / 'alerts.jsonl'}}}"]
    lines += ["subscriptions:", "  - {channel: file}"]
    path = tmp_path / "watchfloor.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def key(a: dict[str, Any]) -> tuple[Any, ...]:
    """An alert as the issue compares them: rule, group, severity (and confirmation), evidence."""
    return (
        a["id"],
        a["rule"],
        tuple(sorted(a["group"].items())),
        a["severity"],
        a["confidence"],
        tuple(sorted(e["event_id"] for e in a["evidence"])),
    )


def live_alerts(tmp_path: Path) -> list[tuple[Any, ...]]:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        standing = current_alerts(se.event for se in store.read(types=ALERT_EVENTS, limit=100_000))
        return sorted(key(d.model_dump(mode="json")) for d in standing.values())
    finally:
        store.close()


def backtest(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / f"backtest-{len(list(tmp_path.glob('backtest-*')))}.json"
    res = runner.invoke(app, ["backtest", *args, "--json", str(out)])
    assert res.exit_code == 0, res.output
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def run_once(tmp_path: Path, cfg: Path) -> None:
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output


def check_live_equals_backtests(tmp_path: Path, cfg: Path, files: list[str]) -> list[tuple[Any, ...]]:
    """run --once == backtest of the files == backtest of the store in event-time order; and the store in log
    order replays exactly what the live run raised."""
    run_once(tmp_path, cfg)
    live = live_alerts(tmp_path)
    from_files = backtest(tmp_path, *files)
    assert sorted(map(key, from_files["alerts"])) == live
    store_url = f"sqlite:///{tmp_path / 'wf.db'}"
    in_order = backtest(tmp_path, "--from-store", store_url)
    assert sorted(map(key, in_order["alerts"])) == live
    logged = backtest(tmp_path, "--from-store", store_url, "--order", "log")
    assert sorted(map(key, logged["alerts"])) == live
    store = open_store(store_url)
    try:
        raised = [(se.event.type, se.event.payload) for se in store.read(types=ALERT_EVENTS, limit=100_000)]
    finally:
        store.close()

    def step(entry: dict[str, Any]) -> tuple[str, str, int]:
        if "retraction" in entry:
            return ("retracted", entry["retraction"]["alert_id"], entry["retraction"]["revision"])
        return ("raised", entry["id"], entry.get("revision", 0))

    live_steps = [
        ("retracted", p["alert_id"], p["revision"])
        if t == EventType.RETRACTION.value
        else ("raised", p["id"], p["revision"])
        for t, p in raised
    ]
    assert [step(e) for e in logged.get("raised", logged["alerts"])] == live_steps  # exactly, in order
    return live


def test_the_later_file_read_first_and_feeds_newest_first(tmp_path: Path) -> None:
    """Our own two-source story: the December file listed (so read) first, each file newest first within a day,
    one item mistyped as 2099. The live run raises the backtest's alerts, and a second run adds nothing."""
    files = [str(FIXTURE / "later.jsonl"), str(FIXTURE / "keydays.jsonl")]
    cfg = config(tmp_path, [f"{{kind: jsonl, path: {f}}}" for f in files])
    live = check_live_equals_backtests(tmp_path, cfg, files)
    rules = {k[1] for k in live}
    assert {"treaty-signed", "treaty-ratified-by-both", "ratification-exchange", "troop-engagement"} <= rules
    assert ("troop-engagement", "high", "confirmed") in {(k[1], k[3], k[4]) for k in live}
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        reports = [se.event.payload for se in store.read(types={EventType.DEAD_LETTER.value}, limit=1000)]
    finally:
        store.close()
    assert [(r["stage"], r["origin"]) for r in reports] == [("event-time", str(FIXTURE / "keydays.jsonl"))]
    assert reports[0]["reason"].startswith("dated in the future: document et-2099")
    run_once(tmp_path, cfg)
    assert live_alerts(tmp_path) == live


def test_the_bundled_samples_give_the_same_alerts_whichever_source_is_listed_first(tmp_path: Path) -> None:
    jsonl = f"{{kind: jsonl, path: {SAMPLES / 'dprk_russia_2024.jsonl'}}}"
    rss = f"{{kind: rss, url: {SAMPLES / 'wire_feed.xml'}}}"
    first = tmp_path / "jsonl-first"
    second = tmp_path / "rss-first"
    first.mkdir()
    second.mkdir()
    files = [str(SAMPLES / "dprk_russia_2024.jsonl"), str(SAMPLES / "wire_feed.xml")]
    a = check_live_equals_backtests(first, config(first, [jsonl, rss]), files)
    b = check_live_equals_backtests(second, config(second, [rss, jsonl]), files)
    assert a == b and len(a) >= 9


def test_an_item_dated_2099_before_the_samples_changes_no_other_alert(tmp_path: Path) -> None:
    typo = {
        "type": "news.article",
        "id": "typo-2099",
        "published_at": "2099-01-01T00:00:00+00:00",
        "source": "Lantern Wire",
        "title": "Markets close higher",
        "body": "A quiet day on the exchanges.",
    }
    path = tmp_path / "with_typo.jsonl"
    path.write_text(json.dumps(typo) + "\n" + (SAMPLES / "dprk_russia_2024.jsonl").read_text(), encoding="utf-8")
    plain = tmp_path / "plain"
    plain.mkdir()
    with_typo = check_live_equals_backtests(tmp_path, config(tmp_path, [f"{{kind: jsonl, path: {path}}}"]), [str(path)])
    samples = str(SAMPLES / "dprk_russia_2024.jsonl")
    without = check_live_equals_backtests(plain, config(plain, [f"{{kind: jsonl, path: {samples}}}"]), [samples])
    assert with_typo == without and without


@pytest.mark.usefixtures("shared_data")
def test_real_key_days_in_feed_order_as_two_sources(tmp_path: Path, shared_data: Path) -> None:
    """The real key-day captures as their feeds list them (newest first within each day), split into the key
    days up to 12 November and a second file of the later items, which is listed (so read) first."""
    lines = (shared_data / "dprk_russia_2024" / "keydays.jsonl").read_text(encoding="utf-8").splitlines()
    later = [ln for ln in lines if json.loads(ln)["published_at"] > "2024-11-13"]
    earlier = [ln for ln in lines if ln not in later]
    assert later and earlier
    (tmp_path / "later.jsonl").write_text("\n".join(later) + "\n", encoding="utf-8")
    (tmp_path / "keydays.jsonl").write_text("\n".join(earlier) + "\n", encoding="utf-8")
    files = [str(tmp_path / "later.jsonl"), str(tmp_path / "keydays.jsonl")]
    live = check_live_equals_backtests(
        tmp_path, config(tmp_path, [f"{{kind: jsonl, path: {f}}}" for f in files]), files
    )
    assert {"treaty-signed", "treaty-ratified", "troops-deployed"} <= {k[1] for k in live}
