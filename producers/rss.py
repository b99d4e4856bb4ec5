"""RSS / Atom (and JSON Feed) producer: one feed -> Documents and DeadLetters, never an exception.

Where a feed comes from: a local path, a file:// URL or an http(s) URL. HTTP is done by feed_http.py
(urllib, with an overall deadline per fetch and a size cap after decompression, which feedparser's own
fetcher lacks); it sends If-None-Match / If-Modified-Since from the previous poll, and a 304 means
nothing new. feedparser then parses the bytes. JSON Feed (jsonfeed.org, versions 1 and 1.1) is read
directly, since feedparser 6 does not know it.

Choices made here:

* Entries (ids, dates, the input contract) are read by feed_entries.py, HTML by feed_text.py. An entry listed
  twice in one fetch (the same id and text) is ingested once. One with the id of an earlier entry but another title
  or link is another story: a document of its own, under the id with a print of its text (feed_entries.repeat_id),
  and a warning; one with the same title and link but another body is the same story listed again: the first is
  kept, and the other is a dead letter saying so. None is dropped without a word (trial 48, HIGH-1).
* Feed-level failures (unreachable, HTTP error, not a feed, too large) are a `FeedError` on the
  result, not dead letters: they are about the source, not about one input record, and they are
  usually transient. `FeedError.to_dead_letter()` converts one for callers who want it logged.
* A feed that is not well-formed but still yields entries (feedparser "bozo") is ingested, with
  a warning on the result and in the log, unless it is cut short (`cut_short`): then it is a `FeedError`.
"""

from __future__ import annotations

import io
import logging
import re
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import feedparser
import orjson

from watchfloor.schemas.events import DeadLetter, Document
from watchfloor.schemas.inputs import DEFAULT_MAX_BODY_CHARS
from watchfloor.schemas.redact import redact_url

from .feed_entries import (
    RAW_TEXT_FACTOR,
    FeedEntry,
    detail_text,
    entry_id,
    entry_name,
    entry_raw,
    from_feedparser,
    from_json_feed,
    repeat_id,
    text_or_none,
    to_item,
)
from .feed_http import FetchFailed, fetch_http
from .feed_text import html_to_text, normalize_space

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
"""Seconds one fetch may take in all (connect, headers, body), not per read."""
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""Bytes a feed may have, on the wire and after decompression."""

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "FeedError",
    "FeedResult",
    "fetch_feed",
    "html_to_text",
    "normalize_space",
    "parse_feed",
]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FeedError:
    """A feed that could not be read at all: which one, and why."""

    url: str
    reason: str
    status: int | None = None  # the HTTP status, when there was one

    def __str__(self) -> str:
        return f"{redact_url(self.url)}: {self.reason}"

    def to_dead_letter(self) -> DeadLetter:
        return DeadLetter(origin=redact_url(self.url), reason=self.reason, stage="ingest")


@dataclass
class FeedResult:
    """One poll of one feed. Pass `etag` and `modified` to the next poll of the same URL."""

    url: str
    items: list[Document | DeadLetter] = field(default_factory=list)
    error: FeedError | None = None
    status: int | None = None  # HTTP status (None for files)
    not_modified: bool = False  # HTTP 304: nothing new since the previous poll
    etag: str | None = None
    modified: str | None = None
    title: str | None = None
    # The channel's own link (RSS <channel><link>, Atom's alternate link, JSON Feed's home_page_url): with the title,
    # what tells two captures of one feed from two outlets' feeds in a backtest (backtest_live.SeenIds).
    link: str | None = None
    version: str | None = None  # e.g. "rss20", "atom10", "json1"
    warnings: list[str] = field(default_factory=list)
    duplicates: int = 0  # entries skipped because an earlier entry of this fetch had the same id and text
    # Entries whose id an earlier entry of this fetch had, with other text: each read as a document of its own (another
    # title or link) or a dead letter (the same title and link, another body), never skipped.
    repeated: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def documents(self) -> list[Document]:
        return [i for i in self.items if isinstance(i, Document)]

    @property
    def dead_letters(self) -> list[DeadLetter]:
        return [i for i in self.items if isinstance(i, DeadLetter)]


# --------------------------------------------------------------------------- parsing


def _is_json(data: bytes, content_type: str) -> bool:
    return "json" in content_type or data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _default_name(feed_url: str) -> str:
    parts = urllib.parse.urlsplit(feed_url)
    if parts.scheme in ("http", "https") and parts.hostname:
        return parts.hostname
    return Path(parts.path if parts.scheme == "file" else feed_url).name or feed_url


def parse_feed(
    data: bytes,
    *,
    feed_url: str,
    source_name: str | None = None,
    headers: Mapping[str, str] | None = None,
    max_body_chars: int = DEFAULT_MAX_BODY_CHARS,
    seen_at: datetime | None = None,
) -> FeedResult:
    """Parse feed bytes already fetched. `feed_url` is the configured location (used in ids and origins);
    `headers` are the HTTP response headers, lower-cased (content-type, content-location); `seen_at`: when,
    the date of an entry that has none (else it is a dead letter; feed_entries)."""
    result = FeedResult(url=feed_url)
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    content_type = hdrs.get("content-type", "").lower()
    if not data.strip():
        result.error = FeedError(feed_url, "empty response: no feed content")
        return result
    max_raw_chars = RAW_TEXT_FACTOR * max_body_chars
    try:
        if _is_json(data, content_type):
            entries, feed_title = _parse_json_feed(data, feed_url, result, max_raw_chars)
        else:
            entries, feed_title = _parse_xml_feed(data, feed_url, hdrs, result, max_raw_chars)
    except Exception as e:  # the parsers are third-party; a feed must never crash the poller
        log.exception("%s: parser failed", redact_url(feed_url))
        result.error = FeedError(feed_url, f"could not parse the feed: {type(e).__name__}: {e}")
        return result
    if result.error is not None:
        return result
    result.title = feed_title
    name = source_name or feed_title or _default_name(feed_url)
    seen: dict[str, tuple[str, str, str]] = {}  # id -> the title, link and body of the entry read under it
    for number, entry in enumerate(entries, start=1):
        doc_id = entry_id(entry, feed_url)
        text = (entry.title, entry.link or "", entry.body)
        first = seen.get(doc_id)
        if first is not None and first != text:
            if first[:2] == text[:2]:  # the same story (title and link) listed again with another body: one story
                result.repeated += 1
                result.items.append(_repeated_story(entry, number, feed_url))
                continue
            # Another title or link under an id this fetch has read already (trial 48, HIGH-1: two episodes of a
            # podcast under one guid; the second was dropped without a trace): another story, read as its own
            # document, under an id of its own. Not an edition: both are listed now, and neither replaces the other.
            doc_id = repeat_id(doc_id, entry, feed_url)
            first = seen.get(doc_id)
            if first is None:
                result.repeated += 1
                msg = (
                    f"entry {entry_name(entry, number)} (entry {number}) has the id of an earlier entry of this fetch "
                    f"with another title or link: read as a document of its own, {doc_id!r}"
                )
                result.warnings.append(msg)
                log.warning("%s: %s", redact_url(feed_url), msg)
        if first is not None:  # the same entry listed twice: one document
            result.duplicates += 1
            continue
        seen[doc_id] = text
        result.items.append(
            to_item(
                entry,
                number,
                doc_id,
                feed_url=feed_url,
                source_name=name,
                max_body_chars=max_body_chars,
                seen_at=seen_at,
            )
        )
    if result.duplicates:
        log.info("%s: %d entr(ies) listed twice with the same text read once", redact_url(feed_url), result.duplicates)
    return result


def _repeated_story(entry: FeedEntry, number: int, feed_url: str) -> DeadLetter:
    """An entry with the id, title and link of an earlier entry of the same fetch but another body: the feed lists one
    story twice (a teaser and the full text, say). The first is kept; this one is a dead letter saying so, not lost
    without a word (trial 48, HIGH-1), and the same on every poll (named by the entry, not its position)."""
    return DeadLetter(
        origin=redact_url(feed_url),
        field="id",
        reason=(
            f"entry {entry_name(entry, number)}: id repeated in one fetch, with the same title and link but another "
            "body: the first was kept"
        ),
        raw=entry_raw(entry),
    )


# A numeric character reference to a code point that no XML text may hold. feedparser's lenient parser
# (used once the strict one has given up) turns each into chr() and encodes it: a surrogate (&#55296;), a
# code point past U+10FFFF or a number past a C int raises there, and the feed lost every entry for one bad
# character (issue 9 §1). Such references become U+FFFD before parsing; the rest of the entry is kept.
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));")
_REPLACEMENT_REF = b"&#xFFFD;"


def _xml_char(code: int) -> bool:
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def replace_bad_char_refs(data: bytes) -> tuple[bytes, int]:
    """`data` with every reference to a character XML does not allow replaced by U+FFFD, and how many."""
    if b"&#" not in data:
        return data, 0
    bad = 0

    def fix(m: re.Match[bytes]) -> bytes:
        nonlocal bad
        digits = m.group(1) or m.group(2)
        code = int(digits, 16 if m.group(1) else 10) if len(digits) <= 8 else -1
        if _xml_char(code):
            return m.group(0)
        bad += 1
        return _REPLACEMENT_REF

    fixed = _CHAR_REF.sub(fix, data)
    return (fixed, bad) if bad else (data, 0)


# feedparser handles a feed's elements and entities one at a time, at 15-20 µs an element (strict or lenient)
# and 1-3 µs an entity: one feed of 20 MiB of "<p>" held the poll cycle (and the interpreter) for about four
# minutes (re-check from outside, audit9). The 74 real captures hold at most 20,490 (a 1.6 MB podcast feed of
# 730 episodes, parsed in 0.8 s); at the limit, parsing costs a few seconds at most.
MAX_FEED_MARKUP = 200_000


def feed_markup(data: bytes) -> int:
    """What feedparser will handle one by one: the "<" of elements (a CDATA section counts once, whatever HTML it
    holds) and a quarter of the "&" of entities. Linear, in C: counts and finds over the bytes."""
    tags = data.count(b"<")
    start = data.find(b"<![CDATA[")
    while start != -1:
        end = data.find(b"]]>", start + 9)
        end = len(data) if end == -1 else end
        tags -= data.count(b"<", start + 9, end)
        start = data.find(b"<![CDATA[", end)
    return tags + data.count(b"&") // 4


def _parse_xml_feed(
    data: bytes, feed_url: str, headers: dict[str, str], result: FeedResult, max_raw_chars: int
) -> tuple[list[FeedEntry], str | None]:
    markup = feed_markup(data)
    if markup > MAX_FEED_MARKUP:
        reason = (
            f"not parsed: {markup:,} elements and entities, over the limit of {MAX_FEED_MARKUP:,} "
            "(the largest real feed seen holds about 20,000)"
        )
        result.error = FeedError(feed_url, reason, result.status)
        return [], None
    stripped = data.lstrip(b" \t\r\n")
    if stripped.startswith(b"<?xml"):  # blank lines before the XML declaration make a strict parser give up
        data = stripped
    data, bad_refs = replace_bad_char_refs(data)
    if bad_refs:
        msg = f"{bad_refs} character reference(s) to no valid character (e.g. a lone surrogate) read as U+FFFD"
        result.warnings.append(msg)
        log.warning("%s: %s", redact_url(feed_url), msg)
    response_headers = dict(headers)
    response_headers.setdefault("content-type", "application/xml")  # a file: let the XML declaration decide
    response_headers.setdefault("content-location", _location(feed_url))
    # No sanitizing and no resolving of relative links in feed HTML: both run feedparser's sgmllib-based HTML
    # processor, which is quadratic (an RSS description of "<!--" * 80000 took 18 s), and neither changes
    # the text we take from the HTML (feed_text.py drops tags, attributes and script/style; the text of
    # the 74 real captures is the same byte for byte; only <applet> content, which the sanitizer dropped, is
    # now kept as text). No feed HTML is ever shown as HTML.
    d = feedparser.parse(
        io.BytesIO(data), response_headers=response_headers, sanitize_html=False, resolve_relative_uris=False
    )
    version = d.get("version") or ""
    entries = d.get("entries") or []
    problem = d.get("bozo_exception") if d.get("bozo") else None
    cut = cut_short(data) if problem is not None else None  # a well-formed feed is whole by definition
    if cut is not None:
        result.error = FeedError(feed_url, cut, result.status)
        return [], None
    if not entries and (problem is not None or not version):
        ctype = headers.get("content-type")
        what = f" (content-type {ctype})" if ctype else ""
        if problem is not None:
            reason = f"not a feed{what}: {type(problem).__name__}: {problem}"
        else:
            reason = f"not an RSS or Atom feed{what}: no feed root element found"
        result.error = FeedError(feed_url, reason, result.status)
        return [], None
    result.version = version or None
    if problem is not None:
        msg = f"feed is not well-formed ({type(problem).__name__}: {problem}); read leniently"
        result.warnings.append(msg)
        log.warning("%s: %s", redact_url(feed_url), msg)
    feed = d.get("feed") or {}
    title = detail_text(_cut(feed.get("title"), max_raw_chars), feed.get("title_detail")) or None
    lang = text_or_none(feed.get("language"))
    result.link = text_or_none(feed.get("link"))
    return [from_feedparser(e, lang, max_raw_chars) for e in entries], title


# A feed answer cut short (a proxy or the publisher's server stopped mid-body, with a Content-Length that matches):
# feedparser's lenient reading took the entry the cut falls in as whole, with its title and an empty or half body,
# and the whole text came next poll as an "edit" (trial 52, MED-1). Such an answer is a failed fetch: nothing of it is
# read, and its validators are not kept, so the next poll fetches the feed again and reads each entry whole, at its
# own date. Not the `.gz` rule (keep what came before the cut): the answer is the feed's one version of every entry,
# and the next poll reads them all anyway; reading none keeps "failed source: nothing stored" true here, in `run` and
# in a backtest of a capture alike. What counts as cut: an entry (RSS <item>, Atom <entry>) whose end tag never
# comes, or the element that holds the entries (<channel>, Atom <feed>, RSS 1.0 <rdf:RDF>) not closed. A feed that
# is whole but not well-formed (an undefined entity, a stray "&", a wrong encoding declaration, an unbound prefix,
# junk after the end) is still read leniently, and so is one that lacks only </rss> after its </channel> (a real
# capture does: nothing can follow the channel). Found by the tags alone, so an earlier error does not hide a cut.
_FEED_TAG = re.compile(
    rb"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)|<(/?)(?:[A-Za-z_][\w.-]*:)?(item|entry|channel|feed|RDF)(?=[\s/>]|\Z)[^>]*>?",
    re.DOTALL,
)
_CONTAINERS = (b"channel", b"feed", b"RDF")


def cut_short(data: bytes) -> str | None:
    """Why this XML feed is cut short (see above), or None when its entries and the element holding them all close.
    Linear: one regex pass over the bytes. None too when no container element is found (not a feed, or an
    encoding the byte search cannot read): that is for the parser to say."""
    containers_seen = False
    depth = 0  # containers open
    entries = 0
    open_entry = False
    for m in _FEED_TAG.finditer(data):
        name = m.group(2)
        if name is None:  # a CDATA section or a comment: its text is no markup
            continue
        end_tag, self_closed = m.group(1) == b"/", m.group(0).endswith(b"/>")
        if self_closed:
            continue
        if name in _CONTAINERS:
            containers_seen = True
            depth += -1 if end_tag else 1
        elif end_tag:
            open_entry = False
        else:
            entries += 1
            open_entry = True
    if not containers_seen or (depth <= 0 and not open_entry):
        return None
    lines = data.count(b"\n") + 1
    column = len(data.rsplit(b"\n", 1)[-1].decode("utf-8", "replace"))
    where = f"line {lines}, column {column}"
    if open_entry:
        what = f"it ends inside entry {entries}, before the entry's end tag"
    else:
        what = "it ends before the end tag of the element that holds its entries"
    return f"feed cut short at {where}: {what}; nothing of it is read"


def _cut(title: object, max_raw_chars: int) -> object:
    """A feed's own title is only a name: one far too long is cut before it is read, not refused."""
    return title[:max_raw_chars] if isinstance(title, str) else title


def _parse_json_feed(
    data: bytes, feed_url: str, result: FeedResult, max_raw_chars: int
) -> tuple[list[FeedEntry], str | None]:
    try:
        doc = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as e:
        result.error = FeedError(feed_url, f"not a feed: malformed JSON: {e}", result.status)
        return [], None
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or "jsonfeed.org" not in version:
        reason = "not a feed: a JSON document that is not a JSON Feed (no jsonfeed.org version)"
        result.error = FeedError(feed_url, reason, result.status)
        return [], None
    items = doc.get("items")
    if not isinstance(items, list):
        result.error = FeedError(feed_url, "not a feed: JSON Feed without an 'items' list", result.status)
        return [], None
    result.version = "json" + version.rstrip("/").rsplit("/", 1)[-1].replace("version", "").replace(".", "")
    lang = text_or_none(doc.get("language"))
    title = html_to_text(doc["title"][:max_raw_chars]) if isinstance(doc.get("title"), str) else None
    result.link = doc["home_page_url"].strip() or None if isinstance(doc.get("home_page_url"), str) else None
    return [from_json_feed(i, lang, max_raw_chars) for i in items if isinstance(i, Mapping)], title or None


# --------------------------------------------------------------------------- fetching


def _location(feed_url: str) -> str:
    scheme = urllib.parse.urlsplit(feed_url).scheme
    if scheme in ("http", "https", "file"):
        return feed_url
    return Path(feed_url).expanduser().absolute().as_uri()


def _local_path(url: str) -> Path | None:
    """The file a local path or file:// URL names; None for anything else."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return Path(urllib.request.url2pathname(parts.path))
    if parts.scheme == "" or (len(parts.scheme) == 1 and url[1:2] == ":"):  # a path, or a Windows drive letter
        return Path(url).expanduser()
    return None


def fetch_feed(
    url: str,
    *,
    source_name: str | None = None,
    etag: str | None = None,
    modified: str | None = None,
    max_body_chars: int = DEFAULT_MAX_BODY_CHARS,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    credentials: Mapping[str, str] | None = None,
    seen_at: datetime | None = None,
    query: Mapping[str, str] | None = None,
) -> FeedResult:
    """Read one feed from a local path, file:// URL or http(s) URL. Never raises for a bad feed or
    network: look at `result.error`. For HTTP, `etag`/`modified` are the previous poll's values; the
    result carries the values to keep for the next poll (unchanged on 304 unless the server sent new);
    `credentials` are headers and `query` query parameters for the URL's own origin (feed_http.fetch_http)."""
    path = _local_path(url)
    if path is not None:
        try:
            if path.stat().st_size > max_bytes:
                return FeedResult(url=url, error=FeedError(url, f"feed file is larger than {max_bytes} bytes"))
            data = path.read_bytes()
        except FileNotFoundError:
            return FeedResult(url=url, error=FeedError(url, f"feed file not found: {path}"))
        except OSError as e:
            return FeedResult(url=url, error=FeedError(url, f"cannot read feed file {path}: {e.strerror or e}"))
        return parse_feed(data, feed_url=url, source_name=source_name, max_body_chars=max_body_chars, seen_at=seen_at)
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        return FeedResult(url=url, error=FeedError(url, f"unsupported URL scheme {scheme!r} (use http, https or file)"))
    return _fetch_http(
        url, source_name, etag, modified, max_body_chars, timeout, max_bytes, credentials, seen_at, query
    )


def _fetch_http(
    url: str,
    source_name: str | None,
    etag: str | None,
    modified: str | None,
    max_body_chars: int,
    timeout: float,
    max_bytes: int,
    credentials: Mapping[str, str] | None,
    seen_at: datetime | None,
    query: Mapping[str, str] | None,
) -> FeedResult:
    try:
        got = fetch_http(
            url,
            etag=etag,
            modified=modified,
            deadline=timeout,
            max_bytes=max_bytes,
            credentials=credentials,
            query=query,
        )
    except FetchFailed as e:
        if e.status == 304:
            log.info("%s: not modified", redact_url(url))
            return FeedResult(
                url=url,
                status=304,
                not_modified=True,
                etag=e.headers.get("etag") or etag,
                modified=e.headers.get("last-modified") or modified,
            )
        error = FeedError(url, e.reason, e.status)
        return FeedResult(url=url, status=e.status, error=error, etag=etag, modified=modified)
    headers = dict(got.headers)
    headers["content-location"] = got.final_url
    result = parse_feed(
        got.body, feed_url=url, source_name=source_name, headers=headers, max_body_chars=max_body_chars, seen_at=seen_at
    )
    result.status = got.status
    if result.error is not None and result.error.status is None:
        result.error = FeedError(url, result.error.reason, got.status)
    if result.error is None:
        # keep the cache validators only for a feed that was read: a broken response must be re-fetched
        result.etag = headers.get("etag") or None
        result.modified = headers.get("last-modified") or None
    else:
        result.etag, result.modified = etag, modified
    if got.final_url != url:
        log.info("%s: redirected to %s", redact_url(url), redact_url(got.final_url))
    return result
