"""A feed that lists one guid twice in one fetch (trial 48, HIGH-1).

The real capture itunes-missing-image.rss gives two podcast episodes one guid; the second was skipped as a repeat
whatever its text: not stored, not counted, not dead-lettered. Now another title or link under a guid already read is
another story, a document of its own; the same title and link with another body is the same story listed twice, a
dead letter naming it; the same entry twice is one document. Every entry is in the summary.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from watchfloor.producers.publish import ingest
from watchfloor.producers.rss import parse_feed
from watchfloor.stream_processors.stores.memory import MemoryStore

URL = "https://desk.example.org/feed.xml"
FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Harbour desk</title>
<item><title>Ferry service resumes across the strait</title><link>https://desk.example.org/ferry</link>
  <guid>https://desk.example.org/shared-guid</guid><pubDate>Mon, 03 Mar 2025 10:00:00 GMT</pubDate>
  <description>The first crossing left at dawn.</description></item>
<item><title>Customs strike closes the container port</title><link>https://desk.example.org/ferry</link>
  <guid>https://desk.example.org/shared-guid</guid><pubDate>Mon, 03 Mar 2025 11:00:00 GMT</pubDate>
  <description>Dockers walked out at noon.</description></item>
<item><title>Ferry service resumes across the strait</title><link>https://desk.example.org/ferry</link>
  <guid>https://desk.example.org/shared-guid</guid><pubDate>Mon, 03 Mar 2025 10:00:00 GMT</pubDate>
  <description>A shorter teaser of the ferry story.</description></item>
<item><title>Customs strike closes the container port</title><link>https://desk.example.org/ferry</link>
  <guid>https://desk.example.org/shared-guid</guid><pubDate>Mon, 03 Mar 2025 11:00:00 GMT</pubDate>
  <description>Dockers walked out at noon.</description></item>
<item><title>Lighthouse keeper retires</title><link>https://desk.example.org/lighthouse</link>
  <guid>https://desk.example.org/lighthouse</guid><pubDate>Mon, 03 Mar 2025 12:00:00 GMT</pubDate>
  <description>After forty years.</description></item>
</channel></rss>
"""
SEEN = datetime(2025, 3, 3, 13, 0, tzinfo=UTC)


def test_a_guid_repeated_under_another_title_is_a_document_of_its_own() -> None:
    result = parse_feed(FEED, feed_url=URL, seen_at=SEEN)
    assert result.ok
    titles = {d.id: d.title for d in result.documents}
    assert titles["https://desk.example.org/shared-guid"] == "Ferry service resumes across the strait"
    assert titles["https://desk.example.org/lighthouse"] == "Lighthouse keeper retires"
    [strike] = [d for d in result.documents if d.title.startswith("Customs strike")]
    assert (
        strike.id.startswith("https://desk.example.org/shared-guid#")
        and strike.id != "https://desk.example.org/shared-guid"
    )
    assert strike.metadata["guid"] == "https://desk.example.org/shared-guid"
    assert len(result.documents) == 3
    # the same title and link with another body: the same story listed again, a dead letter saying so
    [teaser] = result.dead_letters
    assert teaser.field == "id" and teaser.origin == URL
    assert "id repeated in one fetch" in teaser.reason and "the first was kept" in teaser.reason
    assert "shared-guid" in teaser.reason
    # the strike listed a second time, word for word: one document
    assert (result.duplicates, result.repeated) == (1, 2)
    assert any("read as a document of its own" in w for w in result.warnings)


def test_every_entry_is_in_the_summary_and_a_second_poll_adds_nothing() -> None:
    store = MemoryStore()
    first = ingest(store, parse_feed(FEED, feed_url=URL, seen_at=SEEN).items, URL, editions=True)
    assert (first.accepted, first.duplicates, first.dead_lettered, first.editions) == (3, 0, 1, 0)
    again = ingest(store, parse_feed(FEED, feed_url=URL, seen_at=SEEN).items, URL, editions=True)
    # the same ids on every poll: no new document, no edition made of one story by the other
    assert (again.accepted, again.duplicates, again.editions) == (0, 3, 0)


def test_the_real_capture_accounts_for_all_its_entries(shared_data: Path) -> None:
    capture = shared_data / "rss_samples" / "rss-parser" / "itunes-missing-image.rss"
    if not capture.exists():
        pytest.skip("real feed captures not present")
    import feedparser

    entries = len(feedparser.parse(str(capture)).entries)
    result = parse_feed(capture.read_bytes(), feed_url=str(capture), seen_at=SEEN)
    assert entries == 131
    # every entry is a document or a dead letter: none skipped (the two episodes differ in title)
    assert len(result.documents) + len(result.dead_letters) == entries
    guid = "http://taverncast.com/shows/geekistry-2.mp3"
    shared = sorted(d.title for d in result.documents if d.metadata.get("guid") == guid)
    assert len(shared) == 2 and shared[0] != shared[1]
