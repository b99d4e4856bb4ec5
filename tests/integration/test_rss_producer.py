"""RSS/Atom producer: local files, and a real HTTP server on 127.0.0.1 (ETag/304, errors, non-feeds)."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from tests.fixtures.http_server import QuietHandler, serving
from watchfloor.producers.poller import SourcePoller, checkpoint_name
from watchfloor.producers.publish import ingest
from watchfloor.producers.rss import MAX_FEED_MARKUP, FeedResult, feed_markup, fetch_feed, html_to_text, parse_feed
from watchfloor.schemas.config import RssSource
from watchfloor.schemas.events import DeadLetter, Document, EventType
from watchfloor.stream_processors.stores.memory import MemoryStore

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"
RSS2 = FEEDS / "world_rss2.xml"
ATOM = FEEDS / "world_atom.xml"
SLOPPY = FEEDS / "sloppy_rss2.xml"

ETAG = '"wire-v1"'
LAST_MODIFIED = "Tue, 12 Nov 2024 09:00:00 GMT"
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body><h1>Our site</h1><p>Hi.</p></body></html>"


def only_documents(result: FeedResult) -> dict[str, Document]:
    return {d.id: d for d in result.documents}


# --------------------------------------------------------------------------- local files


def test_rss2_file() -> None:
    result = fetch_feed(str(RSS2))
    assert result.ok and result.version == "rss20" and result.title == "Northern Desk Wire"
    assert result.duplicates == 1  # the envoys story is listed twice by guid
    docs = only_documents(result)
    assert set(docs) == {
        "https://wire.example.org/2024/11/envoys-meet",  # guid that is a URL: used as is
        f"{RSS2}#item-7",  # a short guid is scoped to the feed
        "https://wire.example.org/2024/11/white-paper",  # no guid: the link
        "https://wire.example.org/2024/11/boletim",  # Portuguese day and month names
    }
    envoys = docs["https://wire.example.org/2024/11/envoys-meet"]
    assert envoys.type == "news.article"
    assert envoys.published_at == datetime(2024, 11, 11, 23, 15, tzinfo=UTC)  # +0900 as UTC
    assert envoys.title == "Envoys meet at the border crossing"
    assert (
        envoys.body
        == "Two delegations held closed-door talks on Tuesday & agreed to meet again.\n\nNo statement followed."
    )
    assert envoys.source.name == "Northern Desk Wire"
    assert envoys.source.url == str(RSS2) and envoys.source.kind == "feed"
    assert envoys.language == "en-gb"
    assert envoys.metadata["tags"] == ["diplomacy"]

    rail = docs[f"{RSS2}#item-7"]
    assert rail.body.startswith("The freight line between")  # content:encoded wins over the teaser
    assert "Two trains a day" in rail.body and "<" not in rail.body
    assert rail.url == "https://wire.example.org/2024/11/rail-link"
    boletim = docs["https://wire.example.org/2024/11/boletim"]
    assert boletim.published_at == datetime(2024, 11, 11, 22, 42, 40, tzinfo=UTC)

    [undated] = result.dead_letters
    assert undated.field == "published_at"
    assert "has no valid date" in undated.reason and "coast-guard" in undated.reason
    assert undated.origin == str(RSS2) and undated.line is None


def test_atom_file_via_file_url() -> None:
    result = fetch_feed(ATOM.as_uri(), source_name="Observer (configured)")
    assert result.ok and result.version == "atom10"
    docs = only_documents(result)
    accord = docs["tag:observer.example.net,2024:accord-ratified"]
    assert accord.title == "Parliament ratifies the accord"
    assert accord.published_at == datetime(2024, 11, 12, 4, 30, tzinfo=UTC)  # published, not updated
    assert accord.body.endswith("The upper house votes next week — a formality, aides said.")
    assert accord.source.name == "Observer (configured)"
    assert accord.metadata["author"] == "Observer staff"
    works = docs["tag:observer.example.net,2024:harbour-works"]
    assert works.published_at == datetime(2024, 11, 11, 16, 0, tzinfo=UTC)  # only <updated>
    assert works.body == "Storms halted dredging for four days."
    [empty] = result.dead_letters
    assert empty.field == "body" and "needs a title or a body" in empty.reason


def test_sloppy_feed_with_entries_is_ingested_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    result = fetch_feed(str(SLOPPY))
    assert result.ok
    assert len(result.documents) == 2
    assert result.warnings and "not well-formed" in result.warnings[0]
    assert "not well-formed" in caplog.text


def test_missing_file_and_bad_scheme_are_reported() -> None:
    gone = fetch_feed(str(FEEDS / "no_such_feed.xml"))
    assert gone.error is not None and "not found" in gone.error.reason and "no_such_feed.xml" in gone.error.reason
    ftp = fetch_feed("ftp://example.org/feed.xml")
    assert ftp.error is not None and "unsupported URL scheme" in ftp.error.reason


def test_ids_are_stable_across_reads_and_reingest_is_a_noop() -> None:
    store = MemoryStore()
    first = ingest(store, fetch_feed(str(RSS2)).items, str(RSS2))
    assert (first.accepted, first.dead_lettered) == (4, 1)
    count = store.count()
    again = ingest(store, fetch_feed(str(RSS2)).items, str(RSS2))
    assert (again.accepted, again.duplicates) == (0, 4)
    assert store.count() == count


def test_html_to_text() -> None:
    html = "<div>A&nbsp;&amp;&#160;B<script>x()</script><style>p{}</style></div><p>C &lt;D&gt;</p><br/>E"
    assert html_to_text(html) == "A & B\n\nC <D>\n\nE"
    # what html.parser made of constructs that do not close, kept by the linear scanner that replaced it
    assert html_to_text("</" * 1000) == "</" * 1000
    assert html_to_text("a <!-- b") == "a <!-- b"
    assert html_to_text("1 < 2 and a <b") == "1 < 2 and a <b"
    assert html_to_text("<a href='x'>link</a> <img alt='1 > 0' src=x>after") == "link after"


def _rss_item(description: bytes, title: bytes = b"Port talks") -> bytes:
    return (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        b"<item><title>" + title + b"</title><link>https://wire.example/1</link>"
        b"<pubDate>Wed, 19 Jun 2024 15:10:00 GMT</pubDate>"
        b"<description><![CDATA[" + description + b"]]></description></item></channel></rss>"
    )


@pytest.mark.parametrize("title", [b"Port talks", b"Port talks & trade"], ids=["well-formed", "loose"])
def test_rss_html_is_read_by_the_linear_scanner_not_feedparsers_sanitizer(title: bytes) -> None:
    # feedparser's sanitizer swallowed an unclosed "<!--" (and the rest of the description with it), in
    # quadratic time: "<!--" * 40000 took 4.6 s, * 80000 18 s (measured by hand before the change).
    result = parse_feed(_rss_item(b"Talks resume <!--" * 2000, title), feed_url="https://wire.example/feed")
    [doc] = result.documents
    assert doc.body == ("Talks resume <!--" * 2000).strip()
    assert bool(result.warnings) == (b"&" in title)  # the second one went through feedparser's loose parser


def test_an_entry_far_over_the_body_limit_is_refused_unread() -> None:
    huge = "<p>" + "</" * 2600 + "</p>"  # over 5 x the body limit of 1000: never handed to the HTML scanner
    data = orjson.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "items": [
                {"id": "big", "title": "Big", "content_html": huge, "date_published": "2024-06-19T15:10:00Z"},
                {
                    "id": "ok",
                    "title": "Fine",
                    "content_html": "<p>Short.</p>",
                    "date_published": "2024-06-19T15:10:00Z",
                },
            ],
        }
    )
    result = parse_feed(data, feed_url="https://t.example/feed.json", max_body_chars=1000)
    [dl] = result.dead_letters
    assert dl.field == "body"
    assert f"'content_html' is {len(huge)} characters, over 5000 (5 x the body limit): not read" in dl.reason
    assert [d.body for d in result.documents] == ["Short."]

    rss = parse_feed(_rss_item(huge.encode()), feed_url="https://wire.example/feed", max_body_chars=1000)
    [dl] = rss.dead_letters
    assert "'summary' is" in dl.reason and "not read" in dl.reason


def test_json_feed_bytes() -> None:
    data = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "Tiny", "items": ['
        b'{"id": "1", "url": "https://t.example/1", "title": "One", "content_text": "Body one",'
        b' "date_published": "2024-11-01T10:00:00+01:00"},'
        b'{"id": "2", "title": "Two", "content_html": "<p>x</p>"}]}'
    )
    result = parse_feed(data, feed_url="https://t.example/feed.json")
    assert result.ok and result.version == "json11"
    [doc] = result.documents
    assert doc.id == "https://t.example/feed.json#1"
    assert doc.published_at == datetime(2024, 11, 1, 9, 0, tzinfo=UTC)
    [dl] = result.dead_letters
    assert "no valid date" in dl.reason


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty response"),
        (b"just some words", "not a feed"),
        (b'{"hello": "world"}', "not a JSON Feed"),
        (b"{not json", "malformed JSON"),
        (HTML_PAGE, "not a"),
    ],
)
def test_not_a_feed_is_an_error_not_an_exception(data: bytes, expected: str) -> None:
    result = parse_feed(data, feed_url="mem://x")
    assert result.error is not None and expected in result.error.reason
    assert result.items == []


# --------------------------------------------------------------------------- HTTP


@dataclass
class FeedServer:
    base: str
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def headers_for(self, path: str) -> list[dict[str, str]]:
        return [h for p, h in self.requests if p == path]


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    rss = RSS2.read_bytes()
    server_state = FeedServer(base="")

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            server_state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            if self.path == "/feed.xml":
                if self.headers.get("If-None-Match") == ETAG:
                    self.send_response(304)
                    self.send_header("ETag", ETAG)
                    self.end_headers()
                    return
                self._send(200, rss, "application/rss+xml", {"ETag": ETAG, "Last-Modified": LAST_MODIFIED})
            elif self.path == "/modified-only.xml":
                if self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                    self.send_response(304)
                    self.end_headers()
                    return
                self._send(200, rss, "application/rss+xml", {"Last-Modified": LAST_MODIFIED})
            elif self.path == "/gzipped.xml":
                self._send(200, gzip.compress(rss), "application/rss+xml", {"Content-Encoding": "gzip"})
            elif self.path == "/error":
                self._send(500, b"internal trouble", "text/plain", {})
            elif self.path == "/page.html":
                self._send(200, HTML_PAGE, "text/html; charset=utf-8", {})
            else:
                self._send(404, b"no such page", "text/plain", {})

        def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

    with serving(Handler) as base:
        server_state.base = base
        yield server_state


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed.xml"  # nothing listens there now


def test_http_feed_returns_validators_and_honours_304(feed_server: FeedServer) -> None:
    url = feed_server.url("/feed.xml")
    first = fetch_feed(url)
    assert first.ok and first.status == 200 and len(first.documents) == 4
    assert (first.etag, first.modified) == (ETAG, LAST_MODIFIED)
    assert first.documents[0].source.url == url

    second = fetch_feed(url, etag=first.etag, modified=first.modified)
    assert second.not_modified and second.status == 304 and second.items == []
    assert (second.etag, second.modified) == (ETAG, LAST_MODIFIED)
    sent = feed_server.headers_for("/feed.xml")
    assert "if-none-match" not in sent[0]
    assert sent[1]["if-none-match"] == ETAG and sent[1]["if-modified-since"] == LAST_MODIFIED


def test_gzip_response(feed_server: FeedServer) -> None:
    result = fetch_feed(feed_server.url("/gzipped.xml"))
    assert result.ok and len(result.documents) == 4
    assert "gzip" in feed_server.headers_for("/gzipped.xml")[0]["accept-encoding"]


def test_unreachable_feed_is_reported(closed_port_url: str) -> None:
    result = fetch_feed(closed_port_url, timeout=5)
    assert result.error is not None
    assert result.error.url == closed_port_url
    assert result.error.reason.startswith("unreachable")
    assert result.items == []


def test_http_errors_are_reported(feed_server: FeedServer) -> None:
    err = fetch_feed(feed_server.url("/error"))
    assert err.error is not None and err.error.status == 500 and "HTTP 500" in err.error.reason
    assert err.error.url == feed_server.url("/error")
    missing = fetch_feed(feed_server.url("/gone.xml"))
    assert missing.error is not None and "HTTP 404" in missing.error.reason
    dl = err.error.to_dead_letter()
    assert isinstance(dl, DeadLetter) and dl.origin == feed_server.url("/error")


def test_html_page_is_reported_as_not_a_feed(feed_server: FeedServer) -> None:
    result = fetch_feed(feed_server.url("/page.html"))
    assert result.error is not None and result.error.status == 200
    assert "not a" in result.error.reason and "text/html" in result.error.reason
    assert result.etag is None  # a broken response is never cached


def test_poller_keeps_validators_in_the_store_and_ingests_nothing_on_304(feed_server: FeedServer) -> None:
    url = feed_server.url("/feed.xml")
    store = MemoryStore()
    poller = SourcePoller(store, [RssSource(url=url, source_name="Wire (configured)")], max_body_chars=10_000)

    first = poller.poll_once()
    assert (first.accepted, first.dead_lettered, first.errors) == (5, 0, [])  # the undated entry: first seen
    cp = store.load_checkpoint(checkpoint_name(url))
    assert cp.state == {"etag": ETAG, "modified": LAST_MODIFIED}
    docs = store.read(types={EventType.NEWS_ARTICLE.value})
    assert {se.event.payload["source"]["name"] for se in docs} == {"Wire (configured)"}
    count = store.count()

    second = poller.poll_once()
    assert second.sources[0].not_modified
    assert (second.accepted, second.duplicates, second.dead_lettered) == (0, 0, 0)
    assert store.count() == count
    assert feed_server.headers_for("/feed.xml")[1]["if-none-match"] == ETAG

    # a fresh poller on the same store (a restart) still sends the saved validators
    SourcePoller(store, [RssSource(url=url)]).poll_once()
    assert feed_server.headers_for("/feed.xml")[2]["if-none-match"] == ETAG


def test_poller_with_last_modified_only(feed_server: FeedServer) -> None:
    url = feed_server.url("/modified-only.xml")
    store = MemoryStore()
    poller = SourcePoller(store, [RssSource(url=url)])
    assert poller.poll_once().accepted == 5  # the undated entry too, dated when first seen
    assert store.load_checkpoint(checkpoint_name(url)).state == {"etag": None, "modified": LAST_MODIFIED}
    assert poller.poll_once().sources[0].not_modified
    assert feed_server.headers_for("/modified-only.xml")[1]["if-modified-since"] == LAST_MODIFIED


def test_poller_reports_failing_feeds_and_carries_on(feed_server: FeedServer, closed_port_url: str) -> None:
    store = MemoryStore()
    sources = [
        RssSource(url=closed_port_url),
        RssSource(url=feed_server.url("/error")),
        RssSource(url=feed_server.url("/page.html")),
        RssSource(url=str(ATOM)),
    ]
    summary = SourcePoller(store, sources, timeout=5).poll_once()
    assert [s.origin for s in summary.errors] == [s.url for s in sources[:3]]
    assert all(s.error for s in summary.errors)
    assert summary.accepted == 2
    assert store.load_checkpoint(checkpoint_name(feed_server.url("/error"))).state is None  # nothing cached


def test_run_polls_until_stopped(feed_server: FeedServer) -> None:
    store = MemoryStore()
    poller = SourcePoller(store, [RssSource(url=feed_server.url("/feed.xml"), poll=timedelta(seconds=0))])
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(0.05, stop), daemon=True)
    thread.start()
    try:
        # Bounds on a hang (60 s), not a pace: 100 waits of 0.05 s left a loaded machine 5 s for two polls.
        deadline = time.monotonic() + 60
        while len(feed_server.headers_for("/feed.xml")) < 2 and time.monotonic() < deadline:
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()
    assert store.count(types={EventType.NEWS_ARTICLE.value}) == 5  # the undated entry once, though polled again
    assert feed_server.headers_for("/feed.xml")[1]["if-none-match"] == ETAG


def test_an_overlong_character_reference_costs_one_character_not_the_feed() -> None:
    # "&#" and 5,000 digits in a JSON Feed's HTML made html.unescape raise ValueError (int() refuses over 4,300
    # digits since Python 3.11), and the whole feed failed for one item. No code point has more than 7 digits:
    # it reads as U+FFFD, as unescape reads a number too big; leading zeros are no number's digits.
    html = "<p>Talks resume &#" + "1" * 5000 + "; today &#" + "0" * 5000 + "65;</p>"
    item = {"id": "ref", "title": "Refs", "content_html": html, "date_published": "2024-06-19T15:10:00Z"}
    data = orjson.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [item]})
    result = parse_feed(data, feed_url="https://t.example/feed.json")
    assert result.error is None
    [doc] = result.documents
    assert doc.body == "Talks resume \ufffd today A"


def test_a_feed_of_more_markup_than_any_real_one_is_refused_unparsed() -> None:
    # feedparser handles elements one at a time (15-20 µs each, strict or lenient): 20 MiB of "<p>" held the poll
    # cycle for minutes (re-check from outside, audit9). Past MAX_FEED_MARKUP it is refused before parsing.
    hostile = _rss_item(b"]]><p>" + b"<p>" * (MAX_FEED_MARKUP + 1) + b"<![CDATA[")
    result = parse_feed(hostile, feed_url="https://wire.example/feed")
    assert result.error is not None and not result.items
    markup = feed_markup(hostile)
    assert markup > MAX_FEED_MARKUP
    assert result.error.reason.startswith(f"not parsed: {markup:,} elements and entities, over the limit of")


def test_a_large_feed_of_ordinary_markup_is_read() -> None:
    # 2,000 items, each with its markup (elements, an escaped HTML description, a CDATA one): about 30,000 counted.
    item = (
        "<item><title>Port talks &amp; trade {i}</title><link>https://wire.example/{i}</link>"
        "<guid>https://wire.example/{i}</guid><category>Trade</category><category>Ports</category>"
        "<pubDate>Wed, 19 Jun 2024 15:10:00 GMT</pubDate>"
        "<description>&lt;p&gt;Harbour figures for week {i}.&lt;/p&gt;</description>"
        "<content:encoded><![CDATA[<div><p>Harbour <b>figures</b>.</p><ul><li>a</li><li>b</li></ul></div>]]>"
        "</content:encoded></item>"
    )
    data = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>Wire</title>" + "".join(item.format(i=i) for i in range(2000)) + "</channel></rss>"
    ).encode()
    assert 20_000 < feed_markup(data) < MAX_FEED_MARKUP
    result = parse_feed(data, feed_url="https://wire.example/feed")
    assert result.error is None and len(result.documents) == 2000
