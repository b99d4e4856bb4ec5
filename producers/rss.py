"""RSS / Atom (and JSON Feed) producer: one feed -> Documents and DeadLetters, never an exception.

Where a feed comes from: a local path, a file:// URL or an http(s) URL. HTTP is done by feed_http.py
(urllib, with an overall deadline per fetch and a size cap after decompression, which feedparser's own
fetcher lacks); it sends If-None-Match / If-Modified-Since from the previous poll, and a 304 means
nothing new. feedparser then parses the bytes. JSON Feed (jsonfeed.org, versions 1 and 1.1) is read
directly, since feedparser 6 does not know it.

Choices made here:

* Entry ids: the entry's guid/id when it looks global (it contains ':', as URLs, urn: and tag: ids
  do), a short guid such as "42" prefixed with the configured feed URL (two feeds both numbering
  from 1 must not collide), else the link, else a hash of feed URL + title + body. All are stable
  across polls; entries repeated within one feed are ingested once.
* Dates: published, else updated, else created, as UTC. An entry with no usable date is
  dead-lettered ("entry '<id>' has no valid date"), not given the feed's date or the time of the
  poll: watchfloor's windows run on event time, and an invented time would put it in the wrong one.
  Before giving up, an RFC 822 date with non-English day and month names (Portuguese, Spanish,
  French, German, e.g. "Seg, 24 Set 2018 19:42:40 -0300") is tried; it must carry a zone.
  Dead-letter reasons name the entry by guid, link or title rather than by its position, so the
  same bad entry gives the same dead-letter id on every poll even as new entries push it down.
* Feed-level failures (unreachable, HTTP error, not a feed, too large) are a `FeedError` on the
  result, not dead letters: they are about the source, not about one input record, and they are
  usually transient. `FeedError.to_dead_letter()` converts one for callers who want it logged.
* A feed that is not well-formed but still yields entries (feedparser "bozo") is ingested, with
  a warning on the result and in the log.
"""

from __future__ import annotations

import io
import logging
import re
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import orjson

from watchfloor.schemas.events import DeadLetter, Document, stable_id
from watchfloor.schemas.inputs import (
    DEFAULT_MAX_BODY_CHARS,
    MAX_ID_CHARS,
    InputError,
    parse_document,
    parse_timestamp,
)

from .feed_http import FetchFailed, fetch_http

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
"""Seconds one fetch may take in all (connect, headers, body), not per read."""
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""Bytes a feed may have, on the wire and after decompression."""
RAW_LIMIT = 500
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FeedError:
    """A feed that could not be read at all: which one, and why."""

    url: str
    reason: str
    status: int | None = None  # the HTTP status, when there was one

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}"

    def to_dead_letter(self) -> DeadLetter:
        return DeadLetter(origin=self.url, reason=self.reason, stage="ingest")


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
    version: str | None = None  # e.g. "rss20", "atom10", "json1"
    warnings: list[str] = field(default_factory=list)
    duplicates: int = 0  # entries skipped because an earlier entry of this feed had the same id

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def documents(self) -> list[Document]:
        return [i for i in self.items if isinstance(i, Document)]

    @property
    def dead_letters(self) -> list[DeadLetter]:
        return [i for i in self.items if isinstance(i, DeadLetter)]


# --------------------------------------------------------------------------- HTML -> text


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset(
        "p div br li ul ol h1 h2 h3 h4 h5 h6 tr table blockquote pre section article header footer hr dd dt "
        "figure figcaption".split()
    )
    _SKIP = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_space(text: str) -> str:
    """Runs of spaces (incl. no-break spaces) to one; lines trimmed; at most one blank line in a row."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """Tags stripped (script/style dropped, blocks become line breaks), entities unescaped, spaces tidied."""
    if "<" not in html and "&" not in html:
        return normalize_space(html)
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return normalize_space("".join(parser.parts))


# --------------------------------------------------------------------------- dates

_MONTHS = {
    # Portuguese, Spanish, French, German (and Italian where they coincide) -> English
    "fev": "Feb", "abr": "Apr", "mai": "May", "ago": "Aug", "set": "Sep", "out": "Oct", "dez": "Dec",
    "ene": "Jan", "dic": "Dec", "janv": "Jan", "févr": "Feb", "fevr": "Feb", "mars": "Mar", "avr": "Apr",
    "juin": "Jun", "juil": "Jul", "août": "Aug", "aout": "Aug", "sept": "Sep", "déc": "Dec", "okt": "Oct",
    "mär": "Mar", "mrz": "Mar", "gen": "Jan", "mag": "May", "giu": "Jun", "lug": "Jul", "ott": "Oct",
}  # fmt: skip
_LOCAL_RFC822 = re.compile(r"^\s*(?:[^\W\d]+\.?,?\s+)?(\d{1,2})\s+([^\W\d]+)\.?\s+(\d{2,4})\s+(.+)$")


def _to_utc(t: Any) -> datetime | None:
    """feedparser's *_parsed (a UTC struct_time) -> an aware datetime."""
    try:
        return datetime(t[0], t[1], t[2], t[3], t[4], t[5], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def parse_localized_rfc822(text: str) -> datetime | None:
    """'Seg, 24 Set 2018 19:42:40 -0300' and the like -> aware UTC datetime; None if not that, or no zone."""
    m = _LOCAL_RFC822.match(text)
    if not m:
        return None
    day, month, year, rest = m.groups()
    month = _MONTHS.get(month.lower(), month)
    try:
        dt = parsedate_to_datetime(f"{day} {month} {year} {rest}")
    except (TypeError, ValueError, IndexError):
        return None
    if dt.tzinfo is None:  # "-0000" or no zone at all: the offset is unknown
        return None
    return dt.astimezone(UTC)


# --------------------------------------------------------------------------- entries


@dataclass
class _Entry:
    """A feed entry, whatever the format, before the input contract is applied."""

    guid: str | None
    link: str | None
    title: str
    body: str
    published: datetime | None
    date_text: str | None  # the date as written, for the dead-letter reason
    author: str | None = None
    tags: list[str] = field(default_factory=list)
    language: str | None = None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _detail_text(value: Any, detail: Any) -> str:
    """A feedparser text construct to plain text, stripping markup only when it is (X)HTML."""
    if not isinstance(value, str) or not value:
        return ""
    kind = detail.get("type") if isinstance(detail, Mapping) else None
    return html_to_text(value) if kind in _HTML_TYPES or kind is None else normalize_space(value)


def _from_feedparser(e: dict[str, Any], feed_language: str | None) -> _Entry:
    title = _detail_text(e.get("title"), e.get("title_detail"))
    body = ""
    for c in e.get("content") or ():  # the full text, when the feed carries it
        text = _detail_text(c.get("value"), c)
        if len(text) > len(body):
            body = text
    if not body:
        body = _detail_text(e.get("summary"), e.get("summary_detail"))
    # dict.get, not FeedParserDict.get: the latter quietly maps "updated" to "published" (with a warning)
    published = None
    for key in ("published", "updated", "created"):
        published = _to_utc(dict.get(e, f"{key}_parsed"))
        if published is not None:
            break
    date_text = next((t for t in (_text(dict.get(e, k)) for k in ("published", "updated", "created")) if t), None)
    if published is None and date_text:
        published = parse_localized_rfc822(date_text)
    tags = [t for t in (_text(tag.get("term")) for tag in e.get("tags") or () if isinstance(tag, Mapping)) if t]
    detail = e.get("title_detail")
    lang = detail.get("language") if isinstance(detail, Mapping) else None
    return _Entry(
        guid=_text(e.get("id")),
        link=_text(e.get("link")),
        title=title,
        body=body,
        published=published,
        date_text=date_text,
        author=_text(e.get("author")),
        tags=tags,
        language=_text(lang) or feed_language,
    )


def _from_json_feed(item: Mapping[str, Any], feed_language: str | None) -> _Entry:
    title = html_to_text(item["title"]) if isinstance(item.get("title"), str) else ""
    if isinstance(item.get("content_html"), str):
        body = html_to_text(item["content_html"])
    elif isinstance(item.get("content_text"), str):
        body = normalize_space(item["content_text"])
    elif isinstance(item.get("summary"), str):
        body = normalize_space(item["summary"])
    else:
        body = ""
    published = None
    date_text = None
    for key in ("date_published", "date_modified"):
        raw = item.get(key)
        if raw is None:
            continue
        date_text = date_text or str(raw)
        try:
            published = parse_timestamp(raw, key).astimezone(UTC)
            break
        except InputError:
            continue
    authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), Mapping) else [])
    names = [a["name"] for a in authors if isinstance(a, Mapping) and isinstance(a.get("name"), str)]
    tags = [t for t in item.get("tags") or () if isinstance(t, str)]
    guid = item.get("id")
    return _Entry(
        guid=_text(guid) if isinstance(guid, (str, int)) else None,
        link=_text(item.get("url")) or _text(item.get("external_url")),
        title=title,
        body=body,
        published=published,
        date_text=date_text,
        author=", ".join(names) or None,
        tags=tags,
        language=_text(item.get("language")) or feed_language,
    )


def _entry_id(entry: _Entry, feed_key: str) -> str:
    if entry.guid:
        ident = entry.guid if ":" in entry.guid else f"{feed_key}#{entry.guid}"
    elif entry.link:
        ident = entry.link
    else:
        return "rss-" + stable_id(feed_key, entry.title, entry.body)
    # An id over the contract's limit (a link with a long tracking query, say) is hashed, still stable.
    return ident if len(ident) <= MAX_ID_CHARS and "\x00" not in ident else "rss-" + stable_id(feed_key, ident)


def _truncate(text: str, limit: int = RAW_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _to_item(
    entry: _Entry, number: int, doc_id: str, *, feed_url: str, source_name: str, max_body_chars: int
) -> Document | DeadLetter:
    # Named by what identifies it, not by its position, so that the dead-letter id is stable across polls.
    name = entry.guid or entry.link or entry.title[:80]
    ident = repr(name) if name else f"#{number}"
    snapshot = {"id": entry.guid, "link": entry.link, "title": entry.title[:200], "date": entry.date_text}
    raw = _truncate(orjson.dumps(snapshot).decode())
    if entry.published is None:
        why = f"unparseable date {entry.date_text!r}" if entry.date_text else "no published or updated date"
        return DeadLetter(
            origin=feed_url, field="published_at", reason=f"entry {ident} has no valid date ({why})", raw=raw
        )
    metadata: dict[str, Any] = {}
    if entry.guid:
        metadata["guid"] = entry.guid
    if entry.author:
        metadata["author"] = entry.author
    if entry.tags:
        metadata["tags"] = entry.tags
    obj: dict[str, Any] = {
        "type": "news.article",
        "id": doc_id,
        "published_at": entry.published.isoformat(),
        "source": {"name": source_name, "url": feed_url, "kind": "feed"},
        "title": entry.title,
        "body": entry.body,
        "metadata": metadata,
    }
    if entry.link and entry.link.startswith(("http://", "https://")):  # not a tag: or urn: id standing in
        obj["url"] = entry.link
    if entry.language:
        obj["language"] = entry.language
    try:
        return parse_document(obj, max_body_chars=max_body_chars)
    except InputError as e:
        reason = f"entry {ident}: " + (f"field '{e.field}': {e.message}" if e.field else e.message)
        return DeadLetter(origin=feed_url, field=e.field, reason=reason, raw=raw)


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
) -> FeedResult:
    """Parse feed bytes already fetched. `feed_url` is the configured location (used in ids and origins);
    `headers` are the HTTP response headers, lower-cased (content-type, content-location)."""
    result = FeedResult(url=feed_url)
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    content_type = hdrs.get("content-type", "").lower()
    if not data.strip():
        result.error = FeedError(feed_url, "empty response: no feed content")
        return result
    try:
        if _is_json(data, content_type):
            entries, feed_title = _parse_json_feed(data, feed_url, result)
        else:
            entries, feed_title = _parse_xml_feed(data, feed_url, hdrs, result)
    except Exception as e:  # the parsers are third-party; a feed must never crash the poller
        log.exception("%s: parser failed", feed_url)
        result.error = FeedError(feed_url, f"could not parse the feed: {type(e).__name__}: {e}")
        return result
    if result.error is not None:
        return result
    result.title = feed_title
    name = source_name or feed_title or _default_name(feed_url)
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        doc_id = _entry_id(entry, feed_url)
        if doc_id in seen:
            result.duplicates += 1
            continue
        seen.add(doc_id)
        result.items.append(
            _to_item(entry, number, doc_id, feed_url=feed_url, source_name=name, max_body_chars=max_body_chars)
        )
    if result.duplicates:
        log.info("%s: %d repeated entr(ies) skipped", feed_url, result.duplicates)
    return result


def _parse_xml_feed(
    data: bytes, feed_url: str, headers: dict[str, str], result: FeedResult
) -> tuple[list[_Entry], str | None]:
    stripped = data.lstrip(b" \t\r\n")
    if stripped.startswith(b"<?xml"):  # blank lines before the XML declaration make a strict parser give up
        data = stripped
    response_headers = dict(headers)
    response_headers.setdefault("content-type", "application/xml")  # a file: let the XML declaration decide
    response_headers.setdefault("content-location", _location(feed_url))
    d = feedparser.parse(io.BytesIO(data), response_headers=response_headers)
    version = d.get("version") or ""
    entries = d.get("entries") or []
    problem = d.get("bozo_exception") if d.get("bozo") else None
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
        log.warning("%s: %s", feed_url, msg)
    feed = d.get("feed") or {}
    title = _detail_text(feed.get("title"), feed.get("title_detail")) or None
    lang = _text(feed.get("language"))
    return [_from_feedparser(e, lang) for e in entries], title


def _parse_json_feed(data: bytes, feed_url: str, result: FeedResult) -> tuple[list[_Entry], str | None]:
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
    lang = _text(doc.get("language"))
    title = html_to_text(doc["title"]) if isinstance(doc.get("title"), str) else None
    return [_from_json_feed(i, lang) for i in items if isinstance(i, Mapping)], title or None


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
) -> FeedResult:
    """Read one feed from a local path, file:// URL or http(s) URL. Never raises for a bad feed or
    network: look at `result.error`. For HTTP, `etag`/`modified` are the previous poll's values; the
    result carries the values to keep for the next poll (unchanged on 304 unless the server sent new)."""
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
        return parse_feed(data, feed_url=url, source_name=source_name, max_body_chars=max_body_chars)
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        return FeedResult(url=url, error=FeedError(url, f"unsupported URL scheme {scheme!r} (use http, https or file)"))
    return _fetch_http(url, source_name, etag, modified, max_body_chars, timeout, max_bytes)


def _fetch_http(
    url: str,
    source_name: str | None,
    etag: str | None,
    modified: str | None,
    max_body_chars: int,
    timeout: float,
    max_bytes: int,
) -> FeedResult:
    try:
        got = fetch_http(url, etag=etag, modified=modified, deadline=timeout, max_bytes=max_bytes)
    except FetchFailed as e:
        if e.status == 304:
            log.info("%s: not modified", url)
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
    result = parse_feed(got.body, feed_url=url, source_name=source_name, headers=headers, max_body_chars=max_body_chars)
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
        log.info("%s: redirected to %s", url, got.final_url)
    return result
