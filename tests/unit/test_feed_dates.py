"""A feed entry dated outside the accepted years (a typo such as "3021") is kept, dated when first seen, as an entry
whose date cannot be read (outside trial 23, M2-4: it was dead-lettered, and the news lost, while "2099" or an
unreadable "31/12/2099" were kept). Feeds written for this test, read by feedparser."""

from __future__ import annotations

from datetime import UTC, datetime

import feedparser

from watchfloor.producers.feed_entries import from_feedparser, to_item
from watchfloor.schemas.events import DeadLetter, Document

SEEN = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)
FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link>
<item><title>Troops seen near Kursk</title><link>https://wire.example/1</link>
<pubDate>Fri, 01 Jan 3021 09:00:00 GMT</pubDate></item>
<item><title>Pact ratified</title><link>https://wire.example/2</link>
<pubDate>Tue, 12 Nov 2024 09:00:00 GMT</pubDate></item>
</channel></rss>"""


def documents(seen_at: datetime | None) -> list[Document | DeadLetter]:
    parsed = feedparser.parse(FEED)
    out = []
    for i, e in enumerate(parsed.entries):
        entry = from_feedparser(e, None, 50_000)
        out.append(
            to_item(
                entry,
                i,
                f"doc-{i}",
                feed_url="https://wire.example/rss",
                source_name="Wire",
                max_body_chars=10_000,
                seen_at=seen_at,
            )
        )
    return out


def test_a_date_outside_the_accepted_years_is_dated_when_first_seen_and_says_so() -> None:
    typo, dated = documents(SEEN)
    assert isinstance(typo, Document) and isinstance(dated, Document)
    assert typo.published_at == SEEN
    assert typo.metadata["date"] == "first seen"
    assert "3021" in typo.metadata["date_text"] and "outside the accepted years" in typo.metadata["date_text"]
    assert dated.published_at == datetime(2024, 11, 12, 9, tzinfo=UTC) and "date" not in dated.metadata


def test_without_a_first_seen_time_it_is_still_a_dead_letter() -> None:
    typo, _dated = documents(None)
    assert isinstance(typo, DeadLetter) and "outside the accepted years" in typo.reason
