"""A feed entry dated far in the future (a typo dated 2099) dates no edition in a backtest of captures (outside trial
52, MED-2 and HIGH-1). An edition is dated one microsecond after the newest entry read before it; with the 2099 entry
counted, every later edition was dated 2099-01-01T00:00:00.000001, "dated in the future", and a correction and its
restoration fell on one time, taken in id-hash order: the backtest ended with no alert where live had one. Entries
dated more than the event-time skew after the received time (as event time calls them "dated in the future") are
skipped for that date."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()
RECEIVED = "2026-12-06T14:23:32Z"
ITEM = "https://cw.example/x"
CONFIRMED = (
    "North Korea has sent troops to Russia's Kursk region, Seoul confirms",
    "South Korea's spy agency confirmed that North Korean soldiers arrived in the Kursk region.",
)
DENIED = (
    "Officials deny reports that North Korean troops have arrived in Russia's Kursk region",
    "Officials deny reports that North Korean troops have arrived in Russia's Kursk region.",
)


def capture(path: Path, text: tuple[str, str]) -> Path:
    """One capture of the feed: the item (edited from capture to capture), a column dated 2099 by mistake, another."""
    title, body = text
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Coast Wire</title>'
        "<link>https://cw.example/</link><description>x</description>\n"
        f"<item><title>{title}</title><link>{ITEM}</link><guid>{ITEM}</guid><description>{body}</description>"
        "<pubDate>Sun, 06 Dec 2026 11:22:59 +0000</pubDate></item>\n"
        "<item><title>Weekly column: markets</title><link>https://cw.example/f</link><guid>https://cw.example/f</guid>"
        "<description>Markets were calm.</description><pubDate>Thu, 01 Jan 2099 00:00:00 +0000</pubDate></item>\n"
        "<item><title>Grain exports rose</title><link>https://cw.example/y</link><guid>https://cw.example/y</guid>"
        "<description>Grain exports rose this season.</description>"
        "<pubDate>Sun, 06 Dec 2026 10:22:59 +0000</pubDate></item>\n</channel></rss>\n",
        encoding="utf-8",
    )
    return path


def backtest(tmp_path: Path, *texts: tuple[str, str]) -> dict:  # type: ignore[type-arg]
    files = [str(capture(tmp_path / f"c{k}.xml", t)) for k, t in enumerate(texts, 1)]
    out = tmp_path / "bt.json"
    args = ["backtest", *files, "--rules", "builtin:dprk_russia", "--received-at", RECEIVED, "--json", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_an_edit_then_its_restoration_raise_the_alert_again_as_live(tmp_path: Path) -> None:
    got = backtest(tmp_path, CONFIRMED, DENIED, CONFIRMED)
    # Live (trial 52): the confirmation alerts, the denial withdraws it, the restoration raises it again: 1 standing.
    assert len(got["alerts"]) == 1, got["alerts"]
    (evidence,) = got["alerts"][0]["evidence"]
    assert evidence["event_id"].startswith(f"{ITEM}#edition-")
    assert evidence["sentence"] == CONFIRMED[0]


def test_an_edition_is_not_dated_after_a_future_entry(tmp_path: Path) -> None:
    got = backtest(tmp_path, DENIED, CONFIRMED)
    (alert,) = got["alerts"]
    (evidence,) = alert["evidence"]
    assert evidence["event_id"].startswith(f"{ITEM}#edition-")
    # One microsecond after the newest entry dated before the received time (11:22:59), not after the 2099 column.
    assert evidence["published_at"].startswith("2026-12-06T11:22:59.000001")
    assert not alert["fired_at"].startswith("2099")
