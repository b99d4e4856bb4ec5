"""`watchfloor backtest` read as the live pipeline reads (outside audit of the backtest): repeated ids, a file's
log order, JSON Feed files, event-time reports in a backtest's words, and wrong arguments refused up front.
Fixtures are short news items in our own words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.events import document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.stores import open_store

runner = CliRunner()
SAMPLES = Path(__file__).resolve().parents[1] / "data"


def run(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(app, ["backtest", *map(str, args)])
    return res.exit_code, res.output


def item(id_: str, when: str, title: str, source: str = "Wire") -> dict[str, str]:
    return {"type": "news.article", "id": id_, "published_at": when, "source": source, "title": title}


def write_jsonl(path: Path, items: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in items), encoding="utf-8")
    return path


JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Border Desk",
    "items": [
        {
            "id": "urn:border-desk:1",
            "url": "https://example.org/bd-1",
            "title": "North Korean soldiers killed in fighting in Kursk, Kyiv says",
            "date_published": "2024-11-01T09:00:00Z",
        }
    ],
}


# -- finding 3: JSON Feed files --------------------------------------------------------------------------------


def test_a_json_feed_file_is_read_as_a_feed_by_its_content(tmp_path: Path) -> None:
    feed = tmp_path / "border.json"
    feed.write_text(json.dumps(JSON_FEED, indent=2), encoding="utf-8")
    code, output = run(feed, "--received-at", "2024-12-01T00:00:00Z")
    assert code == 0, output
    assert "1 document, 1 signal, 1 alert" in output


def test_a_json_feed_whose_version_escapes_its_slashes_is_read_as_a_feed(tmp_path: Path) -> None:
    # Outside audit (analyst) MEDIUM-1: PHP's json_encode writes every slash as `\/`, legal JSON that the sniff for
    # a jsonfeed.org version missed, so the feed was read as JSON Lines (a dead letter per line). Mixed here with
    # a JSON Lines file in one run, which --source-kind (one kind for every input) cannot do.
    feed = tmp_path / "border.json"
    feed.write_text(json.dumps(JSON_FEED, indent=2).replace("/", "\\/"), encoding="utf-8")
    assert json.loads(feed.read_text(encoding="utf-8")) == JSON_FEED  # the same feed, written another way
    other = write_jsonl(tmp_path / "wire.jsonl", [item("w-9", "2024-11-02T10:00:00+00:00", "Seoul markets rise")])
    code, output = run(feed, other, "--received-at", "2024-12-01T00:00:00Z")
    assert code == 0, output
    assert "bad records" not in output and "2 documents, 1 signal, 1 alert" in output, output


def test_a_json_feed_version_with_unicode_escapes_is_known(tmp_path: Path) -> None:
    from watchfloor.backtest import source_kind

    feed = tmp_path / "escaped.json"
    feed.write_text(
        '{"version": "https:\\u002f\\u002fjsonfeed.org\\u002fversion\\u002f1", "title": "Desk", "items": []}',
        encoding="utf-8",
    )
    assert source_kind(str(feed)) == "rss"
    record = tmp_path / "record.json"  # a JSON Lines record that merely mentions the address stays a record
    record.write_text(json.dumps(item("r-1", "2024-11-02T10:00:00+00:00", "https://jsonfeed.org/version/1")) + "\n")
    assert source_kind(str(record)) == "jsonl"


def test_the_real_feed_with_escaped_addresses_is_read_as_a_feed(shared_data: Path, tmp_path: Path) -> None:
    feed = shared_data / "rss_samples" / "feedjira" / "json_feed_with_escaped_uris.json"
    if not feed.is_file():
        pytest.skip(f"{feed} not found")
    out = tmp_path / "out.json"
    code, output = run(feed, "--received-at", "2025-01-01T00:00:00Z", "--near-misses", "0", "--json", out)
    assert code == 0, output
    stats = json.loads(out.read_text())["stats"]
    assert stats["dead_letters"] == 0 and stats["documents"] == len(json.loads(feed.read_bytes())["items"]), output


def test_a_feed_read_as_json_lines_hints_at_source_kind(tmp_path: Path) -> None:
    feed = tmp_path / "border.txt"  # no feed name: read as JSON Lines
    feed.write_text(json.dumps(JSON_FEED, indent=2), encoding="utf-8")
    code, output = run(feed)
    assert code == 4 and "--source-kind rss" in output, output


def test_a_feed_without_a_valid_entry_names_the_entry_not_line_none(tmp_path: Path) -> None:
    feed = tmp_path / "empty.xml"  # (an undated or misdated entry is dated when read now: one with no text at all)
    feed.write_text(
        '<rss version="2.0"><channel><title>Desk</title><item><link>https://desk.example/1</link>'
        "<pubDate>Tue, 12 Nov 2024 09:00:00 GMT</pubDate></item></channel></rss>",
        encoding="utf-8",
    )
    code, output = run(feed)
    assert code == 4  # an input that could not be used
    assert "line None" not in output and "no valid event in 1 entry" in output, output


# -- finding 4 and the unit of late reports --------------------------------------------------------------------


def test_late_reports_in_a_backtest_do_not_compare_with_a_backtest(tmp_path: Path) -> None:
    # Log order from a store: a report nine days behind the newest, with a signal, and one without a signal.
    st = open_store(f"sqlite:///{tmp_path / 's.db'}")
    items = [
        item("lr-1", "2024-11-10T08:00:00+00:00", "Seoul markets close higher on chip exports"),
        item("lr-2", "2024-11-01T08:00:00+00:00", "North Korean soldiers killed in fighting in Kursk, Kyiv says"),
        item("lr-3", "2024-11-01T09:00:00+00:00", "Heavy rain floods roads in Busan"),
    ]
    st.append([document_event(parse_document(x)) for x in items])
    st.close()
    out = tmp_path / "out.json"
    code, output = run("--from-store", f"sqlite:///{tmp_path / 's.db'}", "--order", "log", "--json", out)
    assert code == 0, output
    assert "differ from a backtest" not in output and "--order event-time" in output, output
    # The same unit as a file backtest: documents with a signal (lr-3 says nothing a rule can take).
    assert json.loads(out.read_text())["stats"]["late_documents"] == 1
    assert "1 event-time report of documents with a signal" in output
    # lr-3 is passed over, as `run` passes it over: counted, not reported (outside trial 67, MED-4)
    assert json.loads(out.read_text())["stats"]["late_passed_over"] == 1
    assert "1 late document passed over (no detection reads them; --json: stats.late_passed_over)" in output


def test_past_five_event_time_reports_a_backtest_says_how_many_more(tmp_path: Path) -> None:
    """As `run` does past its 20 (outside trial 6): seven reports dated in 2099 print five lines and a count."""
    future = [
        item(f"fu-{n}", f"2099-11-0{n}T08:00:00+00:00", "North Korean soldiers killed in fighting in Kursk, Kyiv says")
        for n in range(1, 8)
    ]
    code, output = run(write_jsonl(tmp_path / "future.jsonl", future), "--received-at", "2024-11-20T00:00:00Z")
    assert code == 0, output
    assert output.count("event time") >= 5 and "… and 2 more (--json counts them" in output, output


# -- finding 5: arguments refused before the replay ------------------------------------------------------------


def test_an_unwritable_report_path_is_refused_before_the_replay(tmp_path: Path) -> None:
    events = write_jsonl(tmp_path / "e.jsonl", [item("w-1", "2024-11-01T09:00:00+00:00", "Troops move")])
    for option, target in (("--html", "/nonexistent/dir/r.html"), ("--json", str(tmp_path))):
        code, output = run(events, option, target)
        assert code == 1
        assert output.strip().splitlines() == [output.strip().splitlines()[0]], output  # one line, no replay
        assert output.startswith(f"error: {option} {target}:"), output


def test_a_missing_spill_dir_is_named_by_its_option_before_the_replay(tmp_path: Path) -> None:
    # Outside audit (analyst) LOW-8: it was "error: DIR/watchfloor-sort-…: No such file or directory", once the
    # replay had spilled (a small input never did, and passed).
    events = write_jsonl(tmp_path / "e.jsonl", [item("w-1", "2024-11-01T09:00:00+00:00", "Troops move")])
    for target, problem in ((tmp_path / "no-such-dir", "no such directory"), (events, "not a directory")):
        code, output = run(events, "--spill-dir", target)
        assert code == 1
        assert output.strip() == f"error: --spill-dir {target}: {problem}", output


def test_a_missing_baseline_rule_file_says_error_and_baseline(tmp_path: Path) -> None:
    events = write_jsonl(tmp_path / "e.jsonl", [item("w-1", "2024-11-01T09:00:00+00:00", "Troops move")])
    code, output = run(events, "--baseline-rules", tmp_path / "nonexist.yaml")
    assert code == 1
    assert output.startswith("error: --baseline-rules (the baseline): ") and "nonexist.yaml" in output, output


# -- finding 1: repeated ids, as the live ingest takes them ----------------------------------------------------


def live_run(tmp_path: Path, *files: Path) -> tuple[str, list[str]]:
    """`watchfloor run --once` over the files: its output, and the rules of the alerts that stand."""
    from watchfloor.stream_processors.current import current_alerts

    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        "\n".join(
            [f"store: sqlite:///{tmp_path / 'live.db'}", "rules: [builtin:dprk_russia]", "sources:"]
            + [f"  - {{kind: jsonl, path: {f}}}" for f in files]
            + ["channels:", f"  - {{type: file, name: file, path: {tmp_path / 'alerts.jsonl'}}}"]
            + ["subscriptions:", "  - {channel: file}"]
        )
        + "\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    store = open_store(f"sqlite:///{tmp_path / 'live.db'}")
    try:
        events = (se.event for se in store.read(types={"detection", "retraction"}, limit=100_000))
        return res.output, sorted(d.rule for d in current_alerts(events).values())
    finally:
        store.close()


def backtest_json(tmp_path: Path, *args: str | Path, received: str | None = "2024-12-01T00:00:00Z") -> tuple[str, dict]:  # type: ignore[type-arg]
    """The backtest's output and JSON; the files received at `received` (None: now, as a live run)."""
    out = tmp_path / "bt.json"
    code, output = run(*args, *(("--received-at", received) if received else ()), "--json", out)
    assert code == 0, output
    return output, json.loads(out.read_text())


REUSED = [
    item("dv-1", "2024-11-01T08:00:00+00:00", "Russia and North Korea discuss closer ties in Moscow"),
    item("dv-2", "2024-11-01T08:30:00+00:00", "Seoul markets close higher on chip exports"),
    item("dv-1", "2024-11-01T09:00:00+00:00", "North Korean soldiers killed in fighting in Kursk, Kyiv says"),
]


def test_a_changed_document_under_a_seen_id_is_a_dead_letter_as_live(tmp_path: Path) -> None:
    events = write_jsonl(tmp_path / "reused.jsonl", REUSED)
    live_output, live_rules = live_run(tmp_path, events)
    reason = "id 'dv-1' is already in the log with different content"
    assert f"{events}:3: {reason}" in live_output.replace("\n", "") or reason in live_output, live_output
    assert live_rules == []
    for order in ("event-time", "log", "random"):
        output, data = backtest_json(tmp_path, events, "--order", order)
        assert data["alerts"] == [], order  # the second version (a troop engagement) is never replayed
        assert data["stats"]["documents"] == 2 and data["stats"]["dead_letters"] == 1
        (letter,) = data["dead_letters"]
        assert (letter["origin"], letter["line"], letter["field"]) == (str(events), 3, "id")
        assert letter["reason"].startswith(reason) and "Kursk" in letter["raw"]
        assert f"{events}:3: {reason}" in output


def test_an_exact_repeat_is_already_seen_not_replayed_twice(tmp_path: Path) -> None:
    events = write_jsonl(
        tmp_path / "once.jsonl",
        [
            item("ex-1", "2024-11-01T09:00:00+00:00", "North Korean soldiers killed in fighting in Kursk, Kyiv says"),
            item("ex-2", "2024-11-02T09:00:00+00:00", "Seoul markets close higher on chip exports"),
        ],
    )
    _, once = backtest_json(tmp_path, events)
    output, twice = backtest_json(tmp_path, events, events)
    assert twice["alerts"] == once["alerts"] and len(once["alerts"]) == 1
    assert (twice["stats"]["documents"], twice["stats"]["signals"], twice["stats"]["already_seen"]) == (2, 1, 2)
    assert twice["stats"]["dead_letters"] == 0 and "2 already seen" in output


def test_documents_named_by_their_url_repeat_as_their_derived_id(tmp_path: Path) -> None:
    """No `id`: the URL names the document (the log's id is derived from it), also against an explicit id of
    that derived form (an export of the log), and in a JSON Feed."""
    from watchfloor.schemas.inputs import derive_id

    url = "https://example.org/kursk-fighting"
    first = {**item("x", "2024-11-01T08:00:00+00:00", "Russia and North Korea discuss closer ties"), "url": url}
    del first["id"]
    changed = {**first, "title": "North Korean soldiers killed in fighting in Kursk, Kyiv says"}
    a = write_jsonl(tmp_path / "a.jsonl", [first, changed])
    _, data = backtest_json(tmp_path, a)
    assert data["alerts"] == [] and data["stats"]["dead_letters"] == 1
    # An explicit id of the derived form, read after the URL: the same document.
    exported = {**changed, "id": derive_id({"url": url}, "", "", "")}
    b = write_jsonl(tmp_path / "b.jsonl", [first, first, exported])
    _, data = backtest_json(tmp_path, b)
    assert (data["alerts"], data["stats"]["already_seen"], data["stats"]["dead_letters"]) == ([], 1, 1)


def test_a_feed_entry_and_a_json_line_share_the_id_space(tmp_path: Path) -> None:
    feed = tmp_path / "border.json"
    feed.write_text(json.dumps(JSON_FEED), encoding="utf-8")
    lines = write_jsonl(
        tmp_path / "later.jsonl", [item("urn:border-desk:1", "2024-11-01T09:00:00+00:00", "Seoul markets close higher")]
    )
    _, data = backtest_json(tmp_path, feed, lines)
    assert len(data["alerts"]) == 1 and data["stats"]["dead_letters"] == 1  # the feed's version stands


def test_repeats_across_blocks_and_a_spilling_sort(tmp_path: Path) -> None:
    """Many lines (several read blocks), repeats far apart, every order; a sort that spills to disk."""
    filler = [
        item(f"f-{i}", f"2024-10-{1 + i % 28:02d}T{i % 24:02d}:00:00+00:00", f"Harvest report number {i} " + "x" * 600)
        for i in range(12_000)
    ]
    body = [REUSED[0], *filler, REUSED[2], filler[5], REUSED[1]]
    events = write_jsonl(tmp_path / "big.jsonl", body)
    for extra in ((), ("--sort-run", "1000"), ("--order", "log")):
        _, data = backtest_json(tmp_path, events, *extra)
        stats = data["stats"]
        assert data["alerts"] == [], extra
        assert (stats["documents"], stats["already_seen"], stats["dead_letters"]) == (12_002, 1, 1), extra
        assert data["dead_letters"][0]["line"] == 12_002


# -- finding 2: a file's log order is the live runner's --------------------------------------------------------


def live_log_replay(tmp_path: Path, *files: Path) -> dict:  # type: ignore[type-arg]
    """Run the files live (`watchfloor run --once`), then replay its log in log order: what it raised."""
    live_run(tmp_path, *files)
    _, data = backtest_json(tmp_path, "--from-store", f"sqlite:///{tmp_path / 'live.db'}", "--order", "log")
    return data


def newest_first(path: Path, items: list[dict[str, str]]) -> Path:
    return write_jsonl(path, sorted(items, key=lambda x: x["published_at"], reverse=True))


def test_a_file_in_log_order_replays_what_the_live_run_raised(tmp_path: Path) -> None:
    """A feed-like file listed newest first, longer than one ingest batch (1,000 lines): live, each batch is
    appended oldest first and event time moves when the read ends. The backtest in log order used to take
    the lines as listed: every older report came 'late' and revised alerts the live run never revised."""
    reports = [
        ("North Korean soldiers killed in fighting in Kursk, Kyiv says", "Kyiv Desk"),
        ("North Korean troops fight Ukrainian forces in Kursk region", "Seoul Wire"),
        ("Pyongyang sends more troops to Russia, Seoul says", "Seoul Wire"),
        ("Russia and North Korea sign a mutual defence treaty", "Moscow Desk"),
        ("Duma ratifies the treaty with North Korea", "Moscow Desk"),
    ]
    items = [
        item(f"lo-{i}", f"2024-{6 + i // 4:02d}-{1 + (i * 7) % 27:02d}T{(i * 5) % 24:02d}:00:00+00:00", t, s)
        for i, (t, s) in enumerate(reports * 4)
    ]
    filler = [
        item(f"fl-{i}", f"2024-{6 + i % 6:02d}-{1 + i % 28:02d}T{i % 24:02d}:30:00+00:00", f"Grain prices, day {i}")
        for i in range(1_150)
    ]
    events = newest_first(tmp_path / "newest_first.jsonl", items + filler)
    live = live_log_replay(tmp_path, events)
    _, replayed = backtest_json(tmp_path, events, "--order", "log")
    assert live["alerts"], "the fixture should raise alerts"
    assert replayed["alerts"] == live["alerts"]
    assert replayed.get("raised") == live.get("raised")  # the same revisions and retractions, or none
    for key in ("documents", "signals", "late_documents", "future_dated", "revisions", "retractions"):
        assert replayed["stats"][key] == live["stats"][key], key
    assert replayed["stats"]["late_documents"] == 0


def test_key_days_newest_first_in_log_order_as_live(tmp_path: Path, shared_data: Path) -> None:
    lines = (shared_data / "dprk_russia_2024" / "keydays.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    events = newest_first(tmp_path / "keydays_newest_first.jsonl", items)
    live = live_log_replay(tmp_path, events)
    output, replayed = backtest_json(tmp_path, events, "--order", "log", received=None)  # received now, as live
    assert replayed["alerts"] == live["alerts"] and len(replayed["alerts"]) == 7
    assert (replayed["stats"]["revisions"], replayed["stats"]["retractions"]) == (0, 0)
    assert "event-time reports" not in output and "revisions and retractions" not in output


# -- memory stays bounded: ids are kept up to --sort-run -----------------------------------------------------


def test_ids_past_the_sort_run_are_kept_too(tmp_path: Path) -> None:
    """The ids a backtest keeps to find repeats are bounded in memory like the external sort (--sort-run); past
    the bound they spill to disk, so a repeat of an id read past it is found as live finds it (before, it was
    not kept, replayed again, and the summary said so)."""
    days = [f"2024-11-0{d}T09:00:00Z" for d in range(1, 7)]
    items = [item(f"doc-{k}", days[k], f"Parliament session number {k} ends") for k in range(5)]
    items += [items[0], items[4]]  # a repeat of the first id and of the fifth (read past the bound of 3)
    path = write_jsonl(tmp_path / "in.jsonl", items)
    out = tmp_path / "out.json"
    for bound in (["--sort-run", "3"], []):  # spilled, and all in memory: the same
        code, output = run(path, *bound, "--json", out)
        assert code == 0, output
        said = " ".join(output.split())
        assert "2 already seen" in said and "not checked" not in said, said
        stats = json.loads(out.read_text())["stats"]
        assert (stats["already_seen"], stats["ids_not_kept"], stats["documents"]) == (2, 0, 5)
