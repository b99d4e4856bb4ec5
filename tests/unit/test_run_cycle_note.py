"""`run`'s start note on sources read less often than its cycle (outside trial 23, M3-2)."""

from __future__ import annotations

from datetime import timedelta

from watchfloor.cli.run import slower_sources
from watchfloor.schemas.config import GdeltSource, JsonlSource, RssSource


def test_feeds_slower_than_the_cycle_are_named_with_their_poll() -> None:
    sources = [
        JsonlSource(path="inbox.jsonl"),  # read every cycle
        RssSource(url="feeds/alpha.xml"),
        RssSource(url="feeds/beta.xml"),
        RssSource(url="https://wire.example/rss", poll=timedelta(seconds=1)),
        GdeltSource(path="exports/"),  # a folder: read every cycle
        GdeltSource(url="http://data.gdeltproject.org/gdeltv2/lastupdate.txt"),
    ]
    said = slower_sources(sources, 2)
    assert said == (
        "feeds/alpha.xml, feeds/beta.xml, http://data.gdeltproject.org/gdeltv2/lastupdate.txt "
        "are read at most every 15m"
    )
    assert slower_sources(sources, 900) == ""  # the cycle is as slow as the slowest: nothing to say
    assert slower_sources([RssSource(url="a.xml", poll=timedelta(hours=2))], 60) == "a.xml is read at most every 2h"
