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


def test_a_catching_up_note_names_what_is_behind() -> None:
    # Trial 48, LOW-3: with the engine alone behind (a big feed's poll stored, the rules reading it a slice a cycle),
    # the line read `catching up:  (the engine has more in the log)`, nothing named.
    from watchfloor.cli.run import catching_up_note
    from watchfloor.producers.poller import PollSummary, SourceResult

    quiet = PollSummary(sources=[SourceResult(origin="feeds/alpha.xml", kind="rss")])
    assert catching_up_note(quiet) == ""
    engine = catching_up_note(quiet, engine=True)
    assert engine == " · catching up: the engine (more documents in the log than one cycle reads)"
    inbox = SourceResult(origin="inbox.jsonl", kind="jsonl", behind=True, position=(2001, 0))
    both = catching_up_note(PollSummary(sources=[inbox]), engine=True)
    assert both.startswith(" · catching up: ") and "inbox.jsonl at line 2,001; the engine (" in both
    assert ":  " not in both and ":  " not in engine
