"""Live == backtest whatever order the sources are read in: `watchfloor run --once` against `watchfloor backtest`
over the same files, with feeds in feed order (newest first), a later file read first, a 2099 typo.

`backtest --from-store --order log` replays the live run's log (origins, receive times, CaughtUp marks) and
gives exactly what it raised, revisions included; `--order event-time` gives the alerts that stand.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.config import default_config_path
from watchfloor.schemas.events import EventType
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "data" / "eventtime"
SAMPLES = REPO / "watchfloor" / "samples"
TEST_PACK = REPO / "tests" / "data" / "rules" / "eventtime.yaml"  # lateness 12h, every pattern kind
ALERT_EVENTS = {EventType.DETECTION.value, EventType.RETRACTION.value}


def config(tmp_path: Path, sources: list[str], *, rules: str = "builtin:dprk_russia", extra: str = "") -> Path:
    lines = [f"store: sqlite:///{tmp_path / 'wf.db'}", f"rules: [{rules}]", "sources:"]
    lines += [f"  - {s}" for s in sources]
    lines += ["channels:", f"  - {{type: file, name: file, path: {tmp_path / 'alerts.jsonl'}}}"]
    lines += ["subscriptions:", "  - {channel: file}"]
    lines += [extra] if extra else []
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


def run_once(tmp_path: Path, cfg: Path) -> str:
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    return res.output


def logged(tmp_path: Path, types: set[str]) -> list[Any]:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        return [se.event for se in store.read(types=types, limit=100_000)]
    finally:
        store.close()


def news(path: Path, *items: tuple[str, float, str]) -> Path:
    """A JSON Lines source of our own: (id, hours after 1 Mar 2025, text), in the order given (a feed's)."""
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    lines = [
        json.dumps(
            {
                "type": "news.article",
                "id": doc_id,
                "published_at": (t0 + timedelta(hours=h)).isoformat(),
                "source": "Wire A",
                "title": text,
            }
        )
        for doc_id, h, text in items
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def check_live_equals_backtests(
    tmp_path: Path, cfg: Path, files: list[str], rules: str | None = None
) -> list[tuple[Any, ...]]:
    """run --once == backtest of the files == backtest of the store in event-time order; and the store in log
    order replays exactly what the live run raised. `rules`: a pack other than the bundled one."""
    pack = ["--rules", rules] if rules is not None else []
    run_once(tmp_path, cfg)
    live = live_alerts(tmp_path)
    from_files = backtest(tmp_path, *files, *pack)
    assert sorted(map(key, from_files["alerts"])) == live
    store_url = f"sqlite:///{tmp_path / 'wf.db'}"
    in_order = backtest(tmp_path, "--from-store", store_url, *pack)
    assert sorted(map(key, in_order["alerts"])) == live
    logged = backtest(tmp_path, "--from-store", store_url, "--order", "log", *pack)
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
    # Named by its line, as an ingest dead letter is (trial 30, F7).
    assert [(r["stage"], r["origin"], r["line"]) for r in reports] == [
        ("event-time", str(FIXTURE / "keydays.jsonl"), 4)
    ]
    assert reports[0]["reason"].startswith("dated in the future: document et-2099")
    run_once(tmp_path, cfg)
    assert live_alerts(tmp_path) == live


def bundled_config(tmp_path: Path, *, rss_first: bool) -> Path:
    """The bundled default config as shipped (its store and alert file land under tmp_path/var), or with its RSS
    source listed before its JSON Lines source."""
    text = default_config_path().read_text(encoding="utf-8")
    jsonl = "  - {kind: jsonl, path: builtin:samples/dprk_russia_2024.jsonl}\n"
    rss = "  - {kind: rss, url: builtin:samples/wire_feed.xml}\n"
    assert jsonl + rss in text
    if rss_first:
        text = text.replace(jsonl + rss, rss + jsonl)
    text = text.replace("sqlite:///var/watchfloor.db", "sqlite:///wf.db")  # where live_alerts() looks
    path = tmp_path / "watchfloor.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_samples_give_the_same_alerts_whichever_source_is_listed_first(tmp_path: Path) -> None:
    """The issue's case: the bundled config with its RSS source listed first gave 3 alerts instead of 11."""
    first = tmp_path / "jsonl-first"
    second = tmp_path / "rss-first"
    first.mkdir()
    second.mkdir()
    files = [str(SAMPLES / "dprk_russia_2024.jsonl"), str(SAMPLES / "wire_feed.xml")]
    a = check_live_equals_backtests(first, bundled_config(first, rss_first=False), files)
    b = check_live_equals_backtests(second, bundled_config(second, rss_first=True), files)
    assert a == b and len(a) == 11


def test_the_same_run_twice_raises_the_same_alerts_in_the_same_order(tmp_path: Path) -> None:
    """Deterministic: two fresh stores, the same sources read in feed order (the later file first, one item
    dated 2099): the same detections and retractions, with the same ids, in the same order."""
    runs = []
    for name in ("one", "two"):
        where = tmp_path / name
        where.mkdir()
        files = [str(FIXTURE / "later.jsonl"), str(FIXTURE / "keydays.jsonl")]
        run_once(where, config(where, [f"{{kind: jsonl, path: {f}}}" for f in files]))
        runs.append([(e.type, e.id, as_run(e.payload)) for e in logged(where, ALERT_EVENTS)])
    assert runs[0] == runs[1] and runs[0]


def as_run(payload: dict[str, Any]) -> dict[str, Any]:
    """An alert event of a run, less what the wall clock decides: an alert on a report dated in the future fires
    when that report was received, which is when each run read it."""
    if any(ev["published_at"] >= "2099" for ev in payload.get("evidence", ())):
        return {k: v for k, v in payload.items() if k != "fired_at"}
    return payload


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
    assert with_typo == without and len(without) >= 9  # nothing silenced (live gave 0 before issue 8)
    [clamp] = [e.payload for e in logged(tmp_path, {EventType.DEAD_LETTER.value})]  # the clamp is recorded
    assert (clamp["stage"], clamp["origin"], clamp["line"], clamp["field"]) == (
        "event-time",
        str(path),
        1,
        "published_at",
    )
    assert clamp["reason"].startswith("dated in the future: document typo-2099")
    assert not logged(plain, {EventType.DEAD_LETTER.value})


def test_a_report_beyond_the_lateness_is_kept_processed_and_reported(tmp_path: Path) -> None:
    """Event time has reached 48h when a report of 13h arrives (35h behind, the pack allows 12h): it is in the
    log, raises the alert it can still raise (Betastan's closure), withdraws none raised with a fuller history,
    and is reported: a dead letter of stage event-time naming its source, and a line of `run --once`."""
    inbox = tmp_path / "inbox.jsonl"
    items = [
        ("reopened", 48, "Alphaland reopened the border."),
        ("closed", 23.5, "Alphaland closed the border."),
        ("talks", 9.5, "Talks between Alphaland and Betastan opened."),
    ]
    cfg = config(tmp_path, [f"{{kind: jsonl, path: {inbox}}}"], rules=str(TEST_PACK))
    run_once(tmp_path, config(tmp_path, [f"{{kind: jsonl, path: {news(inbox, *items)}}}"], rules=str(TEST_PACK)))
    before = live_alerts(tmp_path)
    assert {k[1] for k in before} >= {"closure", "closure-and-talks"}

    news(inbox, ("very-late", 13, "Betastan shut the border."), *items)  # the feed lists it first
    output = run_once(tmp_path, cfg)
    docs = {e.payload["id"] for e in logged(tmp_path, {"news.article"})}
    assert "very-late" in docs  # kept
    after = live_alerts(tmp_path)
    assert set(before) < set(after)  # nothing withdrawn
    [new] = [k for k in after if k not in before]
    assert (new[1], new[2], new[5]) == ("closure", (("country", "BETA"),), ("very-late",))  # processed
    assert not logged(tmp_path, {EventType.RETRACTION.value})
    [report] = [e.payload for e in logged(tmp_path, {EventType.DEAD_LETTER.value})]
    assert (report["stage"], report["origin"], report["line"]) == ("event-time", str(inbox), 1)  # counted per source
    assert report["reason"].startswith("late: document very-late")
    assert "1 event-time report" in output and f"{inbox}: 1 late" in output
    assert f"event time {inbox}:1: late: document very-late" in " ".join(output.split())


def test_run_says_how_many_event_time_reports_it_left_out_and_where_they_all_are(tmp_path: Path) -> None:
    """Trial 6 L1: `run` printed 20 event-time lines of 54 and did not say the rest were left out."""
    inbox = tmp_path / "inbox.jsonl"
    cfg = config(tmp_path, [f"{{kind: jsonl, path: {inbox}}}"], rules=str(TEST_PACK))
    run_once(
        tmp_path,
        config(
            tmp_path,
            [f"{{kind: jsonl, path: {news(inbox, ('now', 48, 'Alphaland closed the border.'))}}}"],
            rules=str(TEST_PACK),
        ),
    )
    late = [(f"late-{i}", 10 + i / 10, "Alphaland closed the border.") for i in range(23)]  # 38h behind: 12h allowed
    news(inbox, ("now", 48, "Alphaland closed the border."), *late)
    output = " ".join(run_once(tmp_path, cfg).split())
    assert output.count("event time ") == 20 and "23 event-time reports" in output, output
    # The command as printed can be pasted: it carries the run's --config (outside trial 7, L4).
    assert (
        f"… and 3 more event-time reports: `watchfloor dead-letters --stage event-time --config {cfg}` lists them all"
        in output
    ), output


def test_a_feed_listed_newest_first_raises_each_alert_once_unrevised(tmp_path: Path) -> None:
    """One poll of a source that lists its newest report first (as feeds do), with two reports in the same
    second: each alert is raised once, from its first report, as the backtest raises it, with no revision or
    retraction on the way. Read in feed order, every report after the first is older than the one before it
    and revised the alert it had raised (a reply and a rewrite in the alert's Slack thread, for nothing)."""
    inbox = tmp_path / "inbox.jsonl"
    items = [
        ("closed-3", 5, "Alphaland shut the border again."),
        ("closed-2b", 3, "Betastan closed the border with Alphaland."),
        ("closed-2a", 3, "Alphaland closed the border to trucks."),
        ("closed-1", 1, "Alphaland closed the border."),
        ("talks", 0.5, "Talks between Alphaland and Betastan opened."),
    ]
    cfg = config(tmp_path, [f"{{kind: jsonl, path: {news(inbox, *items)}}}"], rules=str(TEST_PACK))
    live = check_live_equals_backtests(tmp_path, cfg, [str(inbox)], rules=str(TEST_PACK))
    raised = [e.payload for e in logged(tmp_path, ALERT_EVENTS)]
    assert raised and all(p.get("revision", 0) == 0 for p in raised)  # never revised, never retracted
    closures = {p["group"]["country"]: [e["event_id"] for e in p["evidence"]] for p in raised if p["rule"] == "closure"}
    assert closures == {"ALPHA": ["closed-1"], "BETA": ["closed-2b"]}  # the first report of each, once
    assert len(raised) == len(live)
    docs = [e.payload["id"] for e in logged(tmp_path, {"news.article"})]
    assert docs == ["talks", "closed-1", "closed-2a", "closed-2b", "closed-3"]  # the log holds them in event time


def test_an_idle_source_does_not_hold_the_others_back(tmp_path: Path) -> None:
    """`slow` last delivered a report 20h before Alphaland closed its border, so event time waits for it and the
    absence "border still closed" (1 day, lateness 12h) stays open. Once `slow` has been silent for
    event_time.idle_after (1s here, 1h by default) while `fast` keeps delivering, event time follows `fast`
    alone and the absence closes: the alert the backtest of the same files raises."""
    fast, slow = tmp_path / "fast.jsonl", tmp_path / "slow.jsonl"
    news(slow, ("old", -20, "Markets rose."))
    news(fast, ("markets", 40, "Markets rose."), ("closed", 0, "Alphaland closed the border."))
    sources = [f"{{kind: jsonl, path: {fast}}}", f"{{kind: jsonl, path: {slow}}}"]
    # The first run keeps the default idle_after (1h): with 1s, a loaded machine that took more than a second from
    # storing `slow` to the poll's caught-up mark (detection and delivery run in between) made both sources idle
    # at that mark, event time the newest report, and the absence closed in the first run already.
    cfg = config(tmp_path, sources, rules=str(TEST_PACK))
    run_once(tmp_path, cfg)
    assert "closure-not-lifted" not in {k[1] for k in live_alerts(tmp_path)}  # held back by `slow`
    cfg = config(tmp_path, sources, rules=str(TEST_PACK), extra="event_time: {idle_after: 1s}")
    time.sleep(1.5)  # `slow` goes idle (no timing is asserted: only that more than idle_after has passed)
    news(
        fast,
        ("more", 41, "Markets rose."),
        ("markets", 40, "Markets rose."),
        ("closed", 0, "Alphaland closed the border."),
    )
    run_once(tmp_path, cfg)
    live = live_alerts(tmp_path)
    assert ("closure-not-lifted", (("country", "ALPHA"),)) in {(k[1], k[2]) for k in live}
    assert sorted(map(key, backtest(tmp_path, str(fast), str(slow), "--rules", str(TEST_PACK))["alerts"])) == live


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


def test_a_store_replay_out_of_log_order_says_the_live_run_took_reports_late(tmp_path: Path) -> None:
    """Outside trial 20, M2: the live run processed a report beyond the lateness against the state it held; a
    `--from-store` replay in event-time order puts it in its place and may raise other alerts, so it says so
    (and `--order log`, which replays exactly what `run` raised, has nothing to say)."""
    inbox = tmp_path / "inbox.jsonl"
    items = [("reopened", 48, "Alphaland reopened the border."), ("closed", 23.5, "Alphaland closed the border.")]
    cfg = config(tmp_path, [f"{{kind: jsonl, path: {inbox}}}"], rules=str(TEST_PACK))
    run_once(tmp_path, config(tmp_path, [f"{{kind: jsonl, path: {news(inbox, *items)}}}"], rules=str(TEST_PACK)))
    store_url = f"sqlite:///{tmp_path / 'wf.db'}"
    res = runner.invoke(app, ["backtest", "--from-store", store_url, "--rules", str(TEST_PACK)])
    assert res.exit_code == 0 and "beyond the allowed lateness" not in res.output, res.output
    news(inbox, ("very-late", 13, "Betastan shut the border."), *items)
    run_once(tmp_path, cfg)
    res = runner.invoke(app, ["backtest", "--from-store", store_url, "--rules", str(TEST_PACK)])
    flat = " ".join(res.output.split())
    assert res.exit_code == 0 and "processed 1 document beyond the allowed lateness, against" in flat, res.output
    assert "`--order log` replays exactly that" in flat, res.output
    res = runner.invoke(app, ["backtest", "--from-store", store_url, "--rules", str(TEST_PACK), "--order", "log"])
    assert res.exit_code == 0 and "beyond the allowed lateness" not in res.output, res.output
