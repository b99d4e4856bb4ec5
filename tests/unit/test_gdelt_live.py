"""Following GDELT live without a network: lastupdate.txt's lines, which slots a poll fetches, the source's config."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watchfloor.config import ConfigError, load_config
from watchfloor.producers.feed_http import _Credentials
from watchfloor.producers.gdelt import GdeltSourceError
from watchfloor.producers.gdelt_live import (
    ExportLine,
    archive_problem,
    parse_lastupdate,
    parse_stamp,
    plan,
    slot_url,
)

MD5 = "0123456789abcdef0123456789abcdef"
LISTING = "http://data.gdeltproject.org/gdeltv2/lastupdate.txt"
BASE = "http://data.gdeltproject.org/gdeltv2"


def at(stamp: str) -> datetime:
    got = parse_stamp(stamp)
    assert got is not None
    return got


def listing(*lines: str) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


GOOD = (
    f"150383 {MD5} {BASE}/20241028064500.export.CSV.zip",
    f"318084 {MD5} {BASE}/20241028064500.mentions.CSV.zip",
    f"10768507 {MD5} {BASE}/20241028064500.gkg.csv.zip",
)


def test_the_export_line_is_read_and_the_others_ignored() -> None:
    got = parse_lastupdate(listing(*GOOD), LISTING)
    assert got == ExportLine(1, 150383, MD5, f"{BASE}/20241028064500.export.CSV.zip")
    assert got.at == datetime(2024, 10, 28, 6, 45, tzinfo=UTC)
    reordered = parse_lastupdate(listing(GOOD[2], GOOD[1], GOOD[0]) + b"\n\n", LISTING)  # blank lines: not lines
    assert reordered.line == 3


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (GOOD[:2], "lastupdate.txt: 2 line(s); GDELT's has 3"),
        ((*GOOD, GOOD[0]), "lastupdate.txt: 4 line(s)"),
        ((GOOD[0], f"318084 {MD5}", GOOD[2]), "lastupdate.txt line 2: 2 field(s); a line is SIZE MD5 URL"),
        ((GOOD[0], GOOD[1], f"-5 {MD5} {BASE}/x.gkg.csv.zip"), "lastupdate.txt line 3: size '-5' is not a number"),
        ((f"1 nothex {BASE}/20241028064500.export.CSV.zip", *GOOD[1:]), "line 1: 'nothex' is not an MD5"),
        ((f"1 {MD5} ftp://x/20241028064500.export.CSV.zip", *GOOD[1:]), "line 1: 'ftp://x/2024"),
        ((GOOD[1], GOOD[1], GOOD[2]), "lastupdate.txt: no line names an export file"),
        ((GOOD[0], GOOD[0], GOOD[2]), "lastupdate.txt: lines 1 and 2 both name an export file"),
        (
            (f"1 {MD5} {BASE}/latest.export.CSV.zip", *GOOD[1:]),
            "line 1: 'latest.export.CSV.zip' is not named as GDELT names its exports",
        ),
        (
            (f"1 {MD5} file:///etc/20241028064500.export.CSV.zip", *GOOD[1:]),
            "line 1: 'file:///etc/20241028064500.export.CSV.zip' is not fetched: a lastupdate.txt at http URL",
        ),
    ],
)
def test_a_malformed_lastupdate_names_its_line(lines: tuple[str, ...], message: str) -> None:
    with pytest.raises(GdeltSourceError) as failed:
        parse_lastupdate(listing(*lines), LISTING)
    assert message in str(failed.value)


def test_plan_first_poll_reads_only_the_latest() -> None:
    assert plan(at("20241028064500"), None, timedelta(hours=24)).slots == [at("20241028064500")]


def test_plan_nothing_when_the_listing_did_not_move_or_went_back() -> None:
    assert plan(at("20241028064500"), at("20241028064500"), timedelta(hours=24)).slots == []
    assert plan(at("20241028063000"), at("20241028064500"), timedelta(hours=24)).slots == []


def test_plan_fetches_the_missed_slots_oldest_first() -> None:
    got = plan(at("20241028064500"), at("20241028060000"), timedelta(hours=24))
    assert got.slots == [at("20241028061500"), at("20241028063000"), at("20241028064500")]
    assert got.skipped == 0


def test_plan_skips_missed_slots_beyond_catch_up_and_says_which() -> None:
    got = plan(at("20241029000000"), at("20241027000000"), timedelta(hours=24))
    assert len(got.slots) == 97 and got.slots[0] == at("20241028000000")
    assert (got.skipped, got.skipped_from, got.skipped_to) == (95, at("20241027001500"), at("20241027234500"))
    none = plan(at("20241028064500"), at("20241028060000"), timedelta(0))
    assert none.slots == [at("20241028064500")] and none.skipped == 2


def test_plan_steps_back_from_the_latest_when_the_checkpoint_is_off_the_grid() -> None:
    got = plan(at("20241028064500"), at("20241028061000"), timedelta(hours=24))
    assert got.slots == [at("20241028061500"), at("20241028063000"), at("20241028064500")]


def test_a_missed_slots_url_is_beside_the_latest() -> None:
    latest = f"{BASE}/20241028064500.translation.export.CSV.zip"
    assert slot_url(latest, at("20241028060000")) == f"{BASE}/20241028060000.translation.export.CSV.zip"


def test_credentials_are_added_on_the_listings_own_origin_only() -> None:
    grants = _Credentials()
    grants.grant("https://mirror.example/gdeltv2/lastupdate.txt", {"Authorization": "Basic cmVhZGVy", "X-Key": "k"})

    def sent(url: str) -> dict[str, str]:
        req = urllib.request.Request(url)
        grants.apply(req, url)
        return dict(req.unredirected_hdrs)

    same = "https://mirror.example:443/gdeltv2/20241028064500.export.CSV.zip"
    assert sent(same) == {"Authorization": "Basic cmVhZGVy", "X-key": "k"}
    assert sent("https://data.gdeltproject.org/gdeltv2/20241028064500.export.CSV.zip") == {}
    assert sent("http://mirror.example/gdeltv2/20241028064500.export.CSV.zip") == {}  # another scheme
    assert sent("https://mirror.example:8443/gdeltv2/20241028064500.export.CSV.zip") == {}  # another port


def test_archive_problem() -> None:
    assert archive_problem(b"PK\x03\x04 not really") is not None


def _config(tmp_path: Path, source: str) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(f"store: memory://\nsources:\n  - kind: gdelt\n{source}", encoding="utf-8")
    return cfg


@pytest.mark.parametrize(
    ("source", "place", "message"),
    [
        ("    path: inbox/\n    url: http://x.example/lastupdate.txt\n", "5:10", "a path or a url, not both"),
        ("    countries: [PRK]\n", "3:5", "a gdelt source needs a path"),
        ("    url: ftp://reader:pw@x.example/lastupdate.txt\n", "4:10", "'ftp://reader:***@x.example/lastupdate.txt'"),
        ("    url: inbox/lastupdate.txt\n", "4:10", "is not an http(s) URL of a lastupdate.txt"),
        ("    path: inbox/\n    poll: 5m\n", "5:11", "poll is for a gdelt source with a url"),
        ("    path: inbox/\n    catch_up: 2h\n", "5:15", "catch_up is for a gdelt source with a url"),
        ("    url: http://x.example/lastupdate.txt\n    catch_up: 2\n", "5:15", "bad duration"),
    ],
)
def test_config_errors_name_the_field_at_its_place(tmp_path: Path, source: str, place: str, message: str) -> None:
    with pytest.raises(ConfigError) as failed:
        load_config(_config(tmp_path, source))
    text = str(failed.value)
    assert f"watchfloor.yaml:{place}:" in text and message in text, text
    assert "pw@" not in text


def test_a_url_source_loads_with_its_options(tmp_path: Path) -> None:
    cfg = load_config(
        _config(tmp_path, f"    url: {LISTING}\n    poll: 5m\n    catch_up: 6h\n    max_bytes: 1000000\n")
    )
    (src,) = cfg.sources
    assert src.kind == "gdelt" and src.url == LISTING and src.path is None
    assert (src.poll, src.catch_up, src.max_bytes) == (timedelta(minutes=5), timedelta(hours=6), 1000000)
    local = load_config(_config(tmp_path, "    path: inbox/\n")).sources[0]
    assert local.kind == "gdelt" and local.path == str(tmp_path / "inbox") and local.url is None


def test_archive_problem_reads_an_earlier_export_no_further_than_its_cap() -> None:
    # Trial 16 (M1): testzip inflated a zip bomb whole. A damaged member is still found, and a bomb stops at the cap.
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z, z.open("e.export.CSV", "w") as member:
        for _ in range(16):
            member.write(b"1" * (1 << 20))
    bomb = out.getvalue()
    assert archive_problem(bomb) is None  # whole, and no cap
    problem = archive_problem(bomb, 2 << 20)
    assert problem is not None and "max_unzipped_bytes (2,097,152" in problem
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w", zipfile.ZIP_STORED) as z:
        z.writestr("e.export.CSV", b"1\t2\n" * 100)
    data = good.getvalue()
    at = data.index(b"1\t2\n")
    damaged = data[:at] + b"9" + data[at + 1 :]
    assert archive_problem(damaged) == "member 'e.export.CSV' is damaged (its CRC does not match)"
    assert archive_problem(data, 1 << 20) is None
