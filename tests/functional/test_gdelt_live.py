"""Following GDELT live: lastupdate.txt and export zips (our own rows) on a local HTTP server, `kind: gdelt, url:`."""

from __future__ import annotations

import json
import logging
import urllib.parse
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.functional.gdelt_live_server import CREDENTIALS, ROWS, GdeltServer, export_zip, gdelt_server, lastupdate
from watchfloor.cli import app
from watchfloor.producers.feed_http import FetchFailed, fetch_http
from watchfloor.producers.poller import SourcePoller, SourceResult, checkpoint_name
from watchfloor.schemas.config import GdeltSource
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.sql import SqlStore

__all__ = ["gdelt_server"]

T0, T1, T2, T3 = "20241028060000", "20241028061500", "20241028063000", "20241028064500"
FIRST = [ROWS[0], ROWS[1], ROWS[2]]  # gdelt:1194000001..3
SECOND = [ROWS[5], ROWS[6]]  # gdelt:1194000006, 1194000009
THIRD = [ROWS[7], ROWS[8]]  # gdelt:1194000007, 1194000008
PACK = Path(__file__).resolve().parents[2] / "examples" / "gdelt" / "dprk_russia_gdelt.yaml"


def ids(store: MemoryStore | SqlStore) -> set[str]:
    return {se.event.id for se in store.read(types={"news.article"}, limit=10_000)}


def poll(store: MemoryStore | SqlStore, source: GdeltSource) -> SourceResult:
    (result,) = SourcePoller(store, [source]).poll_once().sources
    return result


def source(server: GdeltServer, **options: object) -> GdeltSource:
    return GdeltSource.model_validate({"kind": "gdelt", "url": server.url("/gdeltv2/lastupdate.txt"), **options})


def test_the_first_poll_publishes_the_latest_file_and_an_unchanged_lastupdate_downloads_nothing(
    gdelt_server: GdeltServer,
) -> None:
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0)
    store = MemoryStore()
    first = poll(store, source(gdelt_server))
    assert first.error is None and first.ingested is not None and first.ingested.accepted == 3
    assert ids(store) == {"gdelt:1194000001", "gdelt:1194000002", "gdelt:1194000003"}
    assert gdelt_server.requests == ["/gdeltv2/lastupdate.txt", f"/gdeltv2/{T0}.export.CSV.zip"]
    origin = {se.event.origin for se in store.read(types={"news.article"})}
    assert origin == {gdelt_server.url("/gdeltv2/lastupdate.txt")}  # the source as configured, as for feeds
    checkpoint = store.load_checkpoint(checkpoint_name(gdelt_server.url("/gdeltv2/lastupdate.txt"))).state
    assert checkpoint == {"at": T0, "export": gdelt_server.export_url(T0)}

    gdelt_server.requests.clear()
    again = poll(store, source(gdelt_server))
    assert again.error is None and again.ingested is None and again.not_modified
    assert gdelt_server.requests == ["/gdeltv2/lastupdate.txt"]  # no zip downloaded
    assert len(ids(store)) == 3


def test_a_later_file_brings_the_skipped_slots_oldest_first_passing_over_one_never_published(
    gdelt_server: GdeltServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore()
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0)
    poll(store, source(gdelt_server))
    # 45 minutes later: T1 was published, T2 never was (GDELT has such gaps), T3 is the latest.
    gdelt_server.publish(T1, SECOND)
    gdelt_server.publish(T3, THIRD)
    gdelt_server.announce(T3)
    gdelt_server.requests.clear()
    with caplog.at_level(logging.WARNING, logger="watchfloor.producers.gdelt_live"):
        result = poll(store, source(gdelt_server))
    assert result.error is None, result.error
    assert gdelt_server.zips_fetched() == [T1, T2, T3]
    assert result.ingested is not None and result.ingested.accepted == 4
    assert ids(store) >= {"gdelt:1194000006", "gdelt:1194000009", "gdelt:1194000007", "gdelt:1194000008"}
    assert result.warnings == [f"{T2}.export.CSV.zip: not published by GDELT (not found); passed over"]
    assert f"{T2}.export.CSV.zip: not published by GDELT" in caplog.text
    state = store.load_checkpoint(checkpoint_name(gdelt_server.url("/gdeltv2/lastupdate.txt"))).state
    assert state is not None and state["at"] == T3


def test_catch_up_bounds_how_far_back_missed_files_are_fetched_and_says_what_it_skipped(
    gdelt_server: GdeltServer,
) -> None:
    store = MemoryStore()
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0)
    src = source(gdelt_server, catch_up="30m")
    poll(store, src)
    later = "20241028080000"  # two hours on: 7 files missed, the last 2 within 30 minutes
    gdelt_server.publish("20241028074500", SECOND)
    gdelt_server.publish(later, THIRD)
    gdelt_server.announce(later)
    gdelt_server.requests.clear()
    result = poll(store, src)
    assert result.error is None, result.error
    assert gdelt_server.zips_fetched() == ["20241028073000", "20241028074500", later]
    assert result.warnings[0] == (
        "5 export file(s) from 20241028061500 to 20241028071500 skipped: more than catch_up (30m) before the "
        "latest, 20241028080000"
    )
    assert result.ingested is not None and result.ingested.accepted == 4


def test_an_md5_mismatch_fails_the_poll_publishes_nothing_and_the_next_poll_reads_the_right_file(
    gdelt_server: GdeltServer,
) -> None:
    store = MemoryStore()
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0, md5="0" * 32)
    bad = poll(store, source(gdelt_server))
    assert bad.error is not None and bad.ingested is None
    assert bad.error.startswith(f"{T0}.export.CSV.zip: MD5 ") and f"line 1 says {'0' * 32}" in bad.error
    assert ids(store) == set()
    gdelt_server.announce(T0)  # GDELT's copy and its line agree now
    good = poll(store, source(gdelt_server))
    assert good.error is None and good.ingested is not None and good.ingested.accepted == 3


def test_a_first_poll_that_failed_starts_from_its_file_when_lastupdate_has_moved_on(gdelt_server: GdeltServer) -> None:
    store = MemoryStore()
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0, md5="0" * 32)
    assert poll(store, source(gdelt_server)).error is not None
    gdelt_server.publish(T1, SECOND)
    gdelt_server.announce(T1)
    gdelt_server.requests.clear()
    later = poll(store, source(gdelt_server))
    assert later.error is None and gdelt_server.zips_fetched() == [T0, T1]  # T0 is not lost
    assert later.ingested is not None and later.ingested.accepted == 5


def test_a_size_that_is_not_the_lines_fails_the_poll(gdelt_server: GdeltServer) -> None:
    store = MemoryStore()
    data = gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0, size=len(data) - 1)
    bad = poll(store, source(gdelt_server))
    assert bad.error == f"{T0}.export.CSV.zip: {len(data)} bytes, but lastupdate.txt line 1 says {len(data) - 1}"
    assert ids(store) == set()


def test_an_export_over_max_bytes_is_refused_before_and_while_downloading(gdelt_server: GdeltServer) -> None:
    store = MemoryStore()
    data = gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0)
    declared = poll(store, source(gdelt_server, max_bytes=len(data) - 1))
    assert declared.error == (
        f"{T0}.export.CSV.zip: {len(data)} bytes (lastupdate.txt line 1), more than max_bytes ({len(data) - 1})"
    )
    assert gdelt_server.zips_fetched() == []  # said from the line, not downloaded
    # A lastupdate.txt that understates the size: the download itself is capped as a feed's is.
    gdelt_server.announce(T0, size=10)
    gdelt_server.requests.clear()
    capped = poll(store, source(gdelt_server, max_bytes=len(data) - 1))
    assert capped.error is not None and f"larger than {len(data) - 1} bytes" in capped.error
    assert ids(store) == set()


@pytest.mark.parametrize(
    ("listing", "message"),
    [
        (b"", "lastupdate.txt: 0 line(s); GDELT's has 3"),
        (b"1 0123456789abcdef0123456789abcdef http://x.example/20241028060000.export.CSV.zip\n", "1 line(s)"),
        (
            b"12x 0123456789abcdef0123456789abcdef http://x.example/20241028060000.export.CSV.zip\n"
            b"1 0123456789abcdef0123456789abcdef http://x.example/20241028060000.mentions.CSV.zip\n"
            b"1 0123456789abcdef0123456789abcdef http://x.example/20241028060000.gkg.csv.zip\n",
            "lastupdate.txt line 1: size '12x' is not a number",
        ),
        (
            b"1 0123456789abcdef0123456789abcdef http://x.example/20241028060000.export.CSV.zip\n"
            b"1 0123456789abcdef0123456789abcdef 20241028060000.mentions.CSV.zip\n"
            b"1 0123456789abcdef0123456789abcdef http://x.example/20241028060000.gkg.csv.zip\n",
            "lastupdate.txt line 2: '20241028060000.mentions.CSV.zip' is not an http(s) or file URL",
        ),
    ],
)
def test_a_malformed_lastupdate_fails_the_poll_naming_its_line(
    gdelt_server: GdeltServer, listing: bytes, message: str
) -> None:
    gdelt_server.files["/gdeltv2/lastupdate.txt"] = listing
    store = MemoryStore()
    result = poll(store, source(gdelt_server))
    assert result.error is not None and message in result.error
    assert gdelt_server.zips_fetched() == [] and ids(store) == set()


def test_a_restart_resumes_from_the_checkpoint(gdelt_server: GdeltServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wf.db'}"
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0)
    store = SqlStore(db)
    try:
        assert poll(store, source(gdelt_server)).error is None
    finally:
        store.close()
    gdelt_server.requests.clear()
    store = SqlStore(db)  # a new process: a new store object and a new poller over the same database
    try:
        unchanged = poll(store, source(gdelt_server))
        assert unchanged.error is None and unchanged.ingested is None
        assert gdelt_server.zips_fetched() == []  # T0 is not read again
        gdelt_server.publish(T1, SECOND)
        gdelt_server.publish(T2, THIRD)
        gdelt_server.announce(T2)
        moved = poll(store, source(gdelt_server))
        assert moved.error is None and moved.ingested is not None and moved.ingested.accepted == 4
        assert gdelt_server.zips_fetched() == [T1, T2]  # none skipped, none read twice
        assert len(ids(store)) == 7
    finally:
        store.close()


def test_a_download_cut_short_fails_the_poll_and_is_fetched_again(gdelt_server: GdeltServer) -> None:
    store = MemoryStore()
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0)
    poll(store, source(gdelt_server))
    gdelt_server.publish(T1, SECOND)
    gdelt_server.publish(T2, THIRD)
    gdelt_server.announce(T2)
    gdelt_server.cut.add(f"/gdeltv2/{T1}.export.CSV.zip")
    gdelt_server.requests.clear()
    cut = poll(store, source(gdelt_server))
    assert cut.error is not None and "cut short" in cut.error, cut.error
    assert gdelt_server.zips_fetched() == [T1]  # nothing after it: the checkpoint stays at T0
    gdelt_server.cut.clear()
    gdelt_server.requests.clear()
    whole = poll(store, source(gdelt_server))
    assert whole.error is None and gdelt_server.zips_fetched() == [T1, T2]
    assert len(ids(store)) == 7


def test_a_missed_file_that_is_no_archive_is_dead_lettered_once_and_passed_over(gdelt_server: GdeltServer) -> None:
    store = MemoryStore()
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0)
    poll(store, source(gdelt_server))
    gdelt_server.files[f"/gdeltv2/{T1}.export.CSV.zip"] = export_zip(SECOND, T1)[:-30] + b"\0" * 30  # damaged
    gdelt_server.publish(T2, THIRD)
    gdelt_server.announce(T2)
    result = poll(store, source(gdelt_server))
    assert result.error is not None, result.error
    assert result.error.startswith(f"{T1}.export.CSV.zip: not a readable zip archive")
    assert result.error.endswith("passed over")
    assert ids(store) >= {"gdelt:1194000007", "gdelt:1194000008"} and "gdelt:1194000006" not in ids(store)
    assert len(list(store.read(types={"dead_letter"}))) == 1


def deflate_damaged(data: bytes) -> bytes:
    """`data` (one deflated member) with 40 bytes of its compressed stream flipped: the central directory, the
    sizes and so the listed MD5 of the copy are GDELT's own, its content unreadable (trial 59, HIGH-2)."""
    start = 30 + int.from_bytes(data[26:28], "little") + int.from_bytes(data[28:30], "little")
    out = bytearray(data)
    for k in range(start + 40, start + 80):
        out[k] ^= 0x5A
    return bytes(out)


def test_a_latest_file_whose_deflate_stream_is_broken_is_said_dead_lettered_once_and_the_next_read(
    gdelt_server: GdeltServer,
) -> None:
    store = MemoryStore()
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0)
    poll(store, source(gdelt_server))
    gdelt_server.files[f"/gdeltv2/{T1}.export.CSV.zip"] = deflate_damaged(export_zip(SECOND, T1))
    gdelt_server.announce(T1)  # its true size and MD5: GDELT's own copy is the broken one
    broken = poll(store, source(gdelt_server))
    assert broken.error is not None, "a broken latest file must fail the poll (status, run --once)"
    assert broken.error.startswith(f"{T1}.export.CSV.zip: member '{T1}.export.CSV' is damaged (zlib: "), broken.error
    assert ids(store) == {"gdelt:1194000001", "gdelt:1194000002", "gdelt:1194000003"}  # none of its rows
    assert len(list(store.read(types={"dead_letter"}))) == 1
    gdelt_server.publish(T2, THIRD)
    gdelt_server.announce(T2)
    gdelt_server.requests.clear()
    nxt = poll(store, source(gdelt_server))
    assert nxt.error is None, nxt.error
    assert gdelt_server.zips_fetched() == [T2]  # the broken one is not fetched again
    assert ids(store) >= {"gdelt:1194000007", "gdelt:1194000008"}
    assert len(list(store.read(types={"dead_letter"}))) == 1


def test_run_once_with_a_broken_latest_file_exits_4_naming_it(gdelt_server: GdeltServer, tmp_path: Path) -> None:
    gdelt_server.files[f"/gdeltv2/{T1}.export.CSV.zip"] = deflate_damaged(export_zip(SECOND, T1))
    gdelt_server.announce(T1)
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{PACK}]\n"
        f"sources:\n  - {{kind: gdelt, url: {gdelt_server.url('/gdeltv2/lastupdate.txt')!r}}}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 4, res.output
    assert f"{T1}.export.CSV.zip: member '{T1}.export.CSV' is damaged (zlib: " in res.output
    assert "Traceback" not in res.output


def test_the_latest_file_not_found_fails_the_poll(gdelt_server: GdeltServer) -> None:
    gdelt_server.files["/gdeltv2/lastupdate.txt"] = lastupdate(gdelt_server.export_url(T0), b"x")
    result = poll(MemoryStore(), source(gdelt_server))
    assert result.error == f"{T0}.export.CSV.zip: not found, though lastupdate.txt line 1 names it"


def test_a_redirect_within_loopback_is_followed_and_one_to_a_private_address_refused(
    gdelt_server: GdeltServer,
) -> None:
    """As for feeds (tests/faults/test_feed_faults.py): the server is on loopback, so loopback may be reached."""
    store = MemoryStore()
    data = export_zip(FIRST, T0)
    gdelt_server.files["/mirror/moved.zip"] = data
    gdelt_server.files["/gdeltv2/lastupdate.txt"] = lastupdate(gdelt_server.export_url(T0), data)
    gdelt_server.redirects[f"/gdeltv2/{T0}.export.CSV.zip"] = gdelt_server.url("/mirror/moved.zip")
    moved = poll(store, source(gdelt_server))
    assert moved.error is None and moved.ingested is not None and moved.ingested.accepted == 3
    # 10.255.255.1 routes nowhere: a connection would end at the deadline, a refusal comes at once.
    target = f"http://10.255.255.1/gdeltv2/{T1}.export.CSV.zip"
    gdelt_server.files["/gdeltv2/lastupdate.txt"] = lastupdate(gdelt_server.export_url(T1), data)
    gdelt_server.redirects[f"/gdeltv2/{T1}.export.CSV.zip"] = target
    refused = poll(store, source(gdelt_server, timeout="5s"))
    assert refused.error == (
        f"{gdelt_server.export_url(T1)}: redirect to {target} refused: 10.255.255.1 is a private address "
        "(10.255.255.1) and the feed's own URL is not on one"
    )


def test_an_export_listed_at_a_private_address_is_refused_without_connecting(gdelt_server: GdeltServer) -> None:
    """What lastupdate.txt names is held to the address policy of the configured URL, not its own."""
    target = f"http://10.255.255.1/gdeltv2/{T0}.export.CSV.zip"
    gdelt_server.files["/gdeltv2/lastupdate.txt"] = lastupdate(target, b"x")
    result = poll(MemoryStore(), source(gdelt_server, timeout="5s"))
    assert result.error == (
        f"{target}: {target} refused: 10.255.255.1 is a private address (10.255.255.1) and the feed's own URL is "
        "not on one"
    )


def test_a_public_listing_may_not_name_a_file_on_this_host(gdelt_server: GdeltServer) -> None:
    """fetch_http's policy_url: a lastupdate.txt at a public address naming an export on loopback is refused before
    any connection (the server hears nothing), as a public feed's redirect there is."""
    gdelt_server.publish(T0, FIRST)
    with pytest.raises(FetchFailed) as refused:
        fetch_http(
            gdelt_server.export_url(T0),
            etag=None,
            modified=None,
            deadline=5,
            max_bytes=1 << 20,
            policy_url="http://93.184.216.34/gdeltv2/lastupdate.txt",
        )
    assert refused.value.reason == (  # said before connecting: no address it resolves to is tried
        f"{gdelt_server.export_url(T0)} refused: 127.0.0.1 is a loopback address (127.0.0.1) and the feed's own URL "
        "is not on one"
    )
    assert gdelt_server.requests == []


def test_credentials_go_to_the_listings_own_server_only_and_are_never_shown(gdelt_server: GdeltServer) -> None:
    store = MemoryStore()
    data = gdelt_server.publish(T0, FIRST, folder="/private")
    gdelt_server.files["/private/lastupdate.txt"] = lastupdate(gdelt_server.export_url(T0, "/private"), data)
    url = gdelt_server.url("/private/lastupdate.txt").replace("http://", f"http://{CREDENTIALS}@")
    ok = poll(store, GdeltSource(url=url))
    assert ok.error is None and ok.ingested is not None and ok.ingested.accepted == 3
    basic = "Basic cmVhZGVyOnMzY3JldA=="
    assert gdelt_server.authorizations == [basic, basic]
    # Named on another origin (localhost, not 127.0.0.1): no credentials go there.
    elsewhere = gdelt_server.export_url(T1, "/private").replace("127.0.0.1", "localhost")
    gdelt_server.files["/private/lastupdate.txt"] = lastupdate(elsewhere, data)
    refused = poll(store, GdeltSource(url=url))
    assert refused.error is not None and "HTTP 401" in refused.error
    assert gdelt_server.authorizations[-1] is None
    assert "s3cret" not in refused.error


@pytest.mark.parametrize(
    "keys",
    [
        {"username": "reader", "password_env": "GDELT_PW"},
        {"headers_env": {"Authorization": "GDELT_AUTH"}},
    ],
    ids=["username+password_env", "headers_env"],
)
def test_credentials_from_the_environment_go_to_the_listings_origin_only(
    gdelt_server: GdeltServer, keys: dict[str, object]
) -> None:
    basic = "Basic cmVhZGVyOnMzY3JldA=="
    env = {"GDELT_PW": "s3cret", "GDELT_AUTH": basic}
    store = MemoryStore()
    data = gdelt_server.publish(T0, FIRST, folder="/private")
    gdelt_server.files["/private/lastupdate.txt"] = lastupdate(gdelt_server.export_url(T0, "/private"), data)
    url = gdelt_server.url("/private/lastupdate.txt")  # no secret in it: the source's identity
    src = GdeltSource.model_validate({"kind": "gdelt", "url": url, **keys})
    (ok,) = SourcePoller(store, [src], env=env).poll_once().sources
    assert ok.error is None and ok.ingested is not None and ok.ingested.accepted == 3
    assert gdelt_server.authorizations == [basic, basic]  # lastupdate.txt, and the export it lists on its origin
    # Listed on another origin (localhost, not 127.0.0.1; the same server): the export goes without them.
    elsewhere = gdelt_server.export_url(T1, "/private").replace("127.0.0.1", "localhost")
    gdelt_server.files["/private/lastupdate.txt"] = lastupdate(elsewhere, data)
    (refused,) = SourcePoller(store, [src], env=env).poll_once().sources
    assert refused.error is not None and "HTTP 401" in refused.error
    assert "the credentials were not sent to http://localhost:" in refused.error  # held back, not missing
    assert gdelt_server.authorizations[-2:] == [basic, None]
    assert "s3cret" not in refused.error
    # Without the variables, the poll fails saying which one; no request is made.
    before = len(gdelt_server.requests)
    (unset,) = SourcePoller(store, [src], env={}).poll_once().sources
    assert unset.error is not None and "environment variable GDELT_" in unset.error and "is not set" in unset.error
    assert len(gdelt_server.requests) == before


def test_a_key_in_the_query_goes_to_the_listings_origin_only_and_is_never_shown(gdelt_server: GdeltServer) -> None:
    store = MemoryStore()
    data = gdelt_server.publish(T0, FIRST, folder="/keyed")
    gdelt_server.files["/keyed/lastupdate.txt"] = lastupdate(gdelt_server.export_url(T0, "/keyed"), data)
    src = GdeltSource.model_validate(
        {"kind": "gdelt", "url": gdelt_server.url("/keyed/lastupdate.txt"), "query_env": {"key": "GDELT_KEY"}}
    )
    (ok,) = SourcePoller(store, [src], env={"GDELT_KEY": "s3cret"}).poll_once().sources
    assert ok.error is None and ok.ingested is not None and ok.ingested.accepted == 3
    assert gdelt_server.requests == ["/keyed/lastupdate.txt?key=s3cret", f"/keyed/{T0}.export.CSV.zip?key=s3cret"]
    # Listed on another origin (localhost: the same server), the export is asked for without the key.
    elsewhere = gdelt_server.export_url(T1, "/keyed").replace("127.0.0.1", "localhost")
    gdelt_server.files["/keyed/lastupdate.txt"] = lastupdate(elsewhere, data)
    (refused,) = SourcePoller(store, [src], env={"GDELT_KEY": "s3cret"}).poll_once().sources
    assert refused.error is not None and "HTTP 401" in refused.error and "s3cret" not in refused.error
    assert gdelt_server.requests[-1] == f"/keyed/{T1}.export.CSV.zip"


def test_a_lastupdate_source_waits_its_poll_interval(gdelt_server: GdeltServer) -> None:
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0)
    poller = SourcePoller(MemoryStore(), [source(gdelt_server, poll="15m")])
    assert len(poller.poll_due().sources) == 1
    assert poller.poll_due().sources == [] and gdelt_server.requests == [
        "/gdeltv2/lastupdate.txt",
        f"/gdeltv2/{T0}.export.CSV.zip",
    ]


def test_a_local_lastupdate_names_local_files(tmp_path: Path) -> None:
    folder = tmp_path / "gdeltv2"
    folder.mkdir()
    data = export_zip(FIRST, T0)
    (folder / f"{T0}.export.CSV.zip").write_bytes(data)
    (folder / "lastupdate.txt").write_bytes(lastupdate((folder / f"{T0}.export.CSV.zip").as_uri(), data))
    result = poll(MemoryStore(), GdeltSource(url=(folder / "lastupdate.txt").as_uri()))
    assert result.error is None and result.ingested is not None and result.ingested.accepted == 3


def test_run_once_with_a_lastupdate_source_raises_the_example_packs_alerts(
    gdelt_server: GdeltServer, tmp_path: Path
) -> None:
    gdelt_server.publish(T3, ROWS)  # the whole example file as the latest export
    gdelt_server.announce(T3)
    cfg = tmp_path / "watchfloor.yaml"
    lastupdate_url = gdelt_server.url("/gdeltv2/lastupdate.txt")
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{PACK}]\n"
        f"sources:\n  - {{kind: gdelt, url: {lastupdate_url!r}}}\n"
        "channels:\n  - {type: file, name: file, path: alerts.jsonl}\nsubscriptions:\n  - {channel: file}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    sent = {
        (r["detection"]["rule"], r["detection"]["group"].get("party", ""), r["detection"]["severity"]) for r in rows
    }
    assert ("gdelt-dprk-forces-in-combat", "PRK", "high") in sent
    assert ("gdelt-dprk-russia-military-cooperation", "RUS", "high") in sent
    again = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)])
    assert again.exit_code == 0, again.output
    assert gdelt_server.zips_fetched() == [T3]  # the second run found nothing new
    assert urllib.parse.urlsplit(lastupdate_url).path in gdelt_server.requests


@pytest.mark.parametrize("kind", ["gdelt", "auto"])
def test_ingest_follows_a_lastupdate_url_named_on_the_command_line(
    gdelt_server: GdeltServer, tmp_path: Path, kind: str
) -> None:
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0)
    url = gdelt_server.url("/gdeltv2/lastupdate.txt")
    store = f"sqlite:///{tmp_path / 'wf.db'}"
    res = CliRunner().invoke(app, ["ingest", "--store", store, "--source-kind", kind, url])
    assert res.exit_code == 0, res.output
    assert "3 new documents" in res.output
    again = CliRunner().invoke(app, ["ingest", "--store", store, "--source-kind", kind, url])
    assert again.exit_code == 0 and "0 new documents" in again.output
    assert gdelt_server.zips_fetched() == [T0]  # the checkpoint source:<url>, as a config's url: keeps


def test_a_lastupdate_url_a_config_would_refuse_is_refused_on_the_command_line(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'wf.db'}"
    res = CliRunner().invoke(app, ["ingest", "--store", store, "--source-kind", "gdelt", "http://u:s3cret@/x.txt"])
    assert res.exit_code == 1
    assert "is not an http(s) URL of a lastupdate.txt" in res.output and "s3cret" not in res.output


def test_backtest_says_it_does_not_follow_a_lastupdate_url() -> None:
    res = CliRunner().invoke(app, ["backtest", "--rules", str(PACK), "http://127.0.0.1:9/gdeltv2/lastupdate.txt"])
    assert res.exit_code != 0
    assert "a GDELT lastupdate.txt is followed live by `ingest`, `run` and `produce`" in res.output


def test_a_zip_bomb_is_given_up_on_with_a_dead_letter_and_the_next_file_is_read(gdelt_server: GdeltServer) -> None:
    # Trial 16 (M1): 153 KB that expand to 150 MiB of one row took ~470 MB; here 32 MiB under a 1 MiB cap.
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z, z.open(f"{T0}.export.CSV", "w") as member:
        member.write("".join(r + "\n" for r in FIRST[:1]).encode())
        for _ in range(32):
            member.write(b"1" * (1 << 20))
    gdelt_server.files[f"/gdeltv2/{T0}.export.CSV.zip"] = out.getvalue()
    assert len(out.getvalue()) < 100_000
    gdelt_server.announce(T0)
    store = MemoryStore()
    first = poll(store, source(gdelt_server, max_unzipped_bytes=1 << 20))
    assert first.error is None and first.ingested is not None and first.ingested.accepted == 1
    dead = [se.event.payload for se in store.read(types={"dead_letter"})]
    assert len(dead) == 1 and dead[0]["line"] == 2 and dead[0]["field"] == "max_unzipped_bytes", dead
    assert dead[0]["origin"].endswith(f"{T0}.export.CSV.zip:{T0}.export.CSV")
    assert "the rest of the file is not read" in dead[0]["reason"]
    # Given up on, not tried again: the checkpoint is past it, and the next file is read.
    gdelt_server.publish(T1, SECOND)
    gdelt_server.announce(T1)
    gdelt_server.requests.clear()
    second = poll(store, source(gdelt_server, max_unzipped_bytes=1 << 20))
    assert second.error is None and gdelt_server.zips_fetched() == [T1]
    assert {"gdelt:1194000006", "gdelt:1194000009"} <= ids(store)


def test_an_event_relisted_with_other_counts_is_a_dead_letter_naming_the_export_member_and_line(
    gdelt_server: GdeltServer,
) -> None:
    # Trial 48, MED-2: its dead letter named lastupdate.txt with no line, where every other GDELT dead letter names the
    # export file, its member and the line.
    store = MemoryStore()
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0)
    poll(store, source(gdelt_server))
    fields = ROWS[2].split("\t")  # gdelt:1194000003, listed again 15 minutes later with more mentions
    fields[31] = str(int(fields[31]) + 5)
    gdelt_server.publish(T1, [ROWS[5], "\t".join(fields), ROWS[6]])
    gdelt_server.announce(T1)
    result = poll(store, source(gdelt_server))
    assert result.error is None and result.ingested is not None
    assert (result.ingested.accepted, result.ingested.dead_lettered) == (2, 1)
    [dead] = [se.event.payload for se in store.read(types={"dead_letter"})]
    assert dead["origin"] == f"{gdelt_server.export_url(T1)}:{T1}.export.CSV"
    assert dead["line"] == 2 and dead["field"] == "id"
    assert "'gdelt:1194000003' is already in the log with different content" in dead["reason"]
    # the documents themselves still count as the source's, as configured
    origin = {se.event.origin for se in store.read(types={"news.article"})}
    assert origin == {gdelt_server.url("/gdeltv2/lastupdate.txt")}


def test_a_listed_file_not_found_at_first_is_looked_for_again_and_read_when_it_appears(
    gdelt_server: GdeltServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Trial 59 (HIGH-3): lastupdate.txt listed T1 before the mirror had it; T1 was then passed over as "not published
    by GDELT" when T2 came, and its events lost when it appeared."""
    store = MemoryStore()
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0)
    poll(store, source(gdelt_server))
    t1 = gdelt_server.publish(T1, SECOND)
    gdelt_server.announce(T1)
    del gdelt_server.files[f"/gdeltv2/{T1}.export.CSV.zip"]  # listed, not served yet
    missing = poll(store, source(gdelt_server))
    assert missing.error == f"{T1}.export.CSV.zip: not found, though lastupdate.txt line 1 names it"
    gdelt_server.publish(T2, THIRD)
    gdelt_server.announce(T2)
    with caplog.at_level(logging.WARNING, logger="watchfloor.producers.gdelt_live"):
        later = poll(store, source(gdelt_server))
    assert later.error is None and later.warnings == [], later.warnings  # T1 not "passed over"
    assert ids(store) >= {"gdelt:1194000007", "gdelt:1194000008"}
    gdelt_server.files[f"/gdeltv2/{T1}.export.CSV.zip"] = t1  # it appears
    gdelt_server.requests.clear()
    found = poll(store, source(gdelt_server))
    assert found.error is None, found.error
    assert gdelt_server.zips_fetched() == [T1]
    assert ids(store) >= {"gdelt:1194000006", "gdelt:1194000009"}  # its events read (old code: lost)
    state = store.load_checkpoint(checkpoint_name(gdelt_server.url("/gdeltv2/lastupdate.txt"))).state
    assert state == {"at": T2, "export": gdelt_server.export_url(T2)}  # not moved back, nothing pending
    gdelt_server.requests.clear()
    poll(store, source(gdelt_server))
    assert gdelt_server.zips_fetched() == []  # read once


def test_a_listed_file_still_not_found_six_hours_on_is_passed_over_said_once(gdelt_server: GdeltServer) -> None:
    store = MemoryStore()
    gdelt_server.publish(T0, FIRST)
    gdelt_server.announce(T0)
    poll(store, source(gdelt_server))
    gdelt_server.publish(T1, SECOND)
    gdelt_server.announce(T1)
    del gdelt_server.files[f"/gdeltv2/{T1}.export.CSV.zip"]
    poll(store, source(gdelt_server))
    gdelt_server.publish(T2, THIRD)
    gdelt_server.announce(T2)
    assert poll(store, source(gdelt_server)).warnings == []
    late = "20241028123000"  # 6h15 after T1
    gdelt_server.publish(late, THIRD)
    gdelt_server.announce(late)
    given_up = poll(store, source(gdelt_server))
    assert f"{T1}.export.CSV.zip: listed by lastupdate.txt but still not found 6h later; passed over" in (
        given_up.warnings
    ), given_up.warnings
    gdelt_server.requests.clear()
    again = poll(store, source(gdelt_server))
    assert again.warnings == [] and gdelt_server.zips_fetched() == []  # said once, not looked for again


def test_status_says_the_last_gdelt_export_read_and_its_age(gdelt_server: GdeltServer, tmp_path: Path) -> None:
    """Trial 59 (MED-3): a stalled or stale lastupdate.txt read "caught up", the last export read nowhere said."""
    gdelt_server.publish(T3, ROWS)
    gdelt_server.announce(T3)
    cfg = tmp_path / "watchfloor.yaml"
    lastupdate_url = gdelt_server.url("/gdeltv2/lastupdate.txt")
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{PACK}]\n"
        f"sources:\n  - {{kind: gdelt, url: {lastupdate_url!r}}}\n",
        encoding="utf-8",
    )
    assert CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)]).exit_code == 0
    res = CliRunner().invoke(app, ["status", "--config", str(cfg)])
    assert f"source {lastupdate_url}: last GDELT export read {T3} (" in " ".join(res.output.split()), res.output
    res = CliRunner().invoke(app, ["status", "--config", str(cfg), "--json"])
    told = json.loads(res.stdout)["gdelt_exports_read"][lastupdate_url]
    assert told["last"] == T3 and told["age_seconds"] > 0 and told["pending"] == [], told
