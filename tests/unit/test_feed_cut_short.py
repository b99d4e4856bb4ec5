"""Which feed answers are cut short (producers/rss.py cut_short) and which are whole but loose (trial 52, MED-1)."""

from __future__ import annotations

import pytest

from watchfloor.producers.rss import cut_short, parse_feed

ITEM = (
    "<item><title>Ferry {n} back in service</title><link>https://port.example/{n}</link>"
    "<description>The harbour office said ferry {n} sailed again on schedule.</description>"
    "<pubDate>Mon, 0{n} Jan 2024 10:00:00 +0000</pubDate></item>"
)
RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>Port</title>{items}</channel></rss>'
ENTRY = (
    "<entry><title>Ferry {n} back in service</title><id>urn:port:{n}</id><updated>2024-01-0{n}T10:00:00Z</updated>"
    "<summary>The harbour office said ferry {n} sailed again.</summary></entry>"
)
ATOM = '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Port</title>{items}</feed>'
RDF = (
    '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://port.example/"><title>Port</title></channel>'
    "{items}</rdf:RDF>"
)
RDF_ITEM = (
    '<item rdf:about="https://port.example/{n}"><title>Ferry {n}</title><link>https://port.example/{n}</link></item>'
)


def feed(shape: str, item: str, n: int = 2) -> bytes:
    return shape.format(items="".join(item.format(n=i) for i in range(1, n + 1))).encode()


def cut_at(data: bytes, marker: bytes) -> bytes:
    return data[: data.rindex(marker)]


@pytest.mark.parametrize(
    ("data", "inside_entry"),
    [
        (cut_at(feed(RSS, ITEM), b" sailed again"), True),  # inside the last item's description
        (cut_at(feed(RSS, ITEM), b"</item>"), True),  # just before the item's end tag
        (cut_at(feed(RSS, ITEM), b"</ite"), True),
        (cut_at(feed(RSS, ITEM), b"<item>"), False),  # between two items: the second is lost
        (cut_at(feed(ATOM, ENTRY), b"<summary>"), True),
        (cut_at(feed(ATOM, ENTRY), b"<entry>"), False),  # Atom: the root holds the entries
        (cut_at(feed(RDF, RDF_ITEM), b"<item "), False),  # RSS 1.0: items are the root's children too
        (cut_at(feed(RSS, "<item><title>A</title><description><![CDATA[<p>Half a para"), b"para"), True),
        # An earlier error (a stray "&") does not hide the cut: the tags are read, not the parser's first error.
        (cut_at(feed(RSS, ITEM.replace("harbour office", "port & harbour office")), b" sailed again"), True),
    ],
)
def test_a_feed_cut_short_is_a_failed_fetch_with_nothing_read(data: bytes, inside_entry: bool) -> None:
    result = parse_feed(data, feed_url="mem://port")
    assert result.error is not None and result.items == []
    assert result.error.reason.startswith(f"feed cut short at line 1, column {len(data.decode())}: "), result.error
    assert ("inside entry" in result.error.reason) is inside_entry, result.error.reason


@pytest.mark.parametrize(
    "data",
    [
        feed(RSS, ITEM).replace(b"</rss>", b""),  # only </rss> missing after </channel> (a real capture does this)
        feed(RSS, ITEM.replace("harbour office", "port & harbour office")),  # a stray "&"
        feed(RSS, ITEM.replace("harbour office", "harbour&nbsp;office")),  # an entity XML does not define
        feed(RSS, ITEM) + b"<!-- served in 12 ms --><script>x</script>",  # junk after the end
        # latin-1 bytes in a feed that says it is UTF-8
        feed(RSS, ITEM.replace("office", "caf\u00e9")).replace(b"\xc3\xa9", b"\xe9"),
        feed(RSS, ITEM.replace("The harbour", "<![CDATA[</item></channel>]]>The harbour")),
    ],
    ids=["no-rss-end", "stray-amp", "undefined-entity", "junk-after", "bad-encoding", "tags-in-cdata"],
)
def test_a_whole_feed_that_is_not_well_formed_is_still_read_leniently(data: bytes) -> None:
    assert cut_short(data) is None
    result = parse_feed(data, feed_url="mem://port")
    assert result.error is None and result.documents, result


def test_a_well_formed_feed_and_a_non_feed_are_not_cut_short() -> None:
    assert cut_short(feed(RSS, ITEM)) is None and cut_short(feed(ATOM, ENTRY)) is None
    assert cut_short(b"<html><body><p>Our site") is None  # no feed element: "not a feed" is the parser's to say
